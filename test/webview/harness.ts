/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Runs the preview webview (media/dist/preview.js with the real Mermaid
 * bundle) in headless Debian Chromium, under the page and Content-Security-
 * Policy the extension serves (src/client/preview/html.ts), with a fake of
 * VS Code's webview API. The host side is the real DiagramSession, answering
 * the webview's requests as the extension does. Shared by the webview tests
 * and the webview benchmark.
 *
 * Every request the page makes to anything but this harness's own server is
 * refused and recorded, so a test can assert that nothing reached out.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../src/cli/svg';
import { makeNonce, previewHtml } from '../../src/client/preview/html';
import { DiagramSession, type SessionSettings } from '../../src/client/preview/session';
import type { SessionClient } from '../../src/client/preview/sessionClient';
import type { HostMessage, LayoutMessage, PersistedState, RenderReport, WebviewMessage } from '../../src/webview/messages';
import { layoutToPost } from '../../src/webview/chunkEdit';

export const ROOT = resolve(__dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export { CHROMIUM_ARGS };

const BUNDLES = ['media/dist/mermaid.js', 'media/dist/preview.js', 'media/preview.css'];

/** Why the harness cannot run, or undefined when it can. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (run \`npm run setup:vscode\`, or set CHROMIUM_PATH)`;
  for (const b of BUNDLES) if (!existsSync(join(ROOT, b))) return `${b} is missing (run \`npm run build\`)`;
  return undefined;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

export type Theme = 'vscode-light' | 'vscode-dark' | 'vscode-high-contrast' | 'vscode-high-contrast-light';

/** VS Code's theme variables the preview reads, per theme (a small subset of what VS Code sets). */
const THEME_VARS: Record<Theme, string> = {
  'vscode-light': '--vscode-editor-background:#ffffff;--vscode-editor-foreground:#000000;',
  'vscode-dark': '--vscode-editor-background:#1e1e1e;--vscode-editor-foreground:#d4d4d4;',
  'vscode-high-contrast': '--vscode-editor-background:#000000;--vscode-editor-foreground:#ffffff;--vscode-contrastBorder:#6fc3df;--vscode-contrastActiveBorder:#f38518;',
  'vscode-high-contrast-light':
    '--vscode-editor-background:#ffffff;--vscode-editor-foreground:#292929;--vscode-contrastBorder:#0f4a85;--vscode-contrastActiveBorder:#006bbd;',
};

export interface HarnessOptions {
  theme?: Theme;
  width?: number;
  height?: number;
  /** State restored into the webview (as after a reload). */
  state?: PersistedState;
  /** The host side's session (default: one in this thread); the benchmark passes the extension's worker thread. */
  client?: SessionClient;
}

/** Like the extension (src/client/preview/manager.ts): the data of new chunks near the view goes with the layout. */
const SEND_ALL_CHUNKS = 48;
const SEND_AROUND = 3;

export class Harness {
  readonly posted: WebviewMessage[] = [];
  readonly reports: RenderReport[] = [];
  readonly blocked: string[] = [];
  readonly pageErrors: string[] = [];
  readonly session = new DiagramSession();
  /** The host side: `session` wrapped, or the client given to `start`. */
  private client: SessionClient;
  private readonly sent = new Set<string>();
  private visible = { from: 0, to: 0 };
  private seq = 0;
  private version = 0;
  private waiters: Array<() => void> = [];
  private text = '';
  private settings: SessionSettings = {};
  /** When set, `need` requests are answered only after this promise (to test waiting). */
  exported: Array<Extract<WebviewMessage, { type: 'exported' | 'exportFailed' }>> = [];
  layout: LayoutMessage | undefined;
  /** The last layout the page received (whole or as an edit). */
  private pageLayout: LayoutMessage | undefined;
  ready = false;

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly server: Server,
    readonly origin: string,
    client: SessionClient | undefined,
  ) {
    const session = this.session;
    this.client = client ?? {
      update: (text, version, settings) => Promise.resolve(session.update(text, version, settings)),
      chunks: (keys) => Promise.resolve(session.chunks(keys)),
      mermaid: () => Promise.resolve(session.mermaid()),
      reset: () => Promise.resolve(session.reset()),
      dispose: () => undefined,
    };
  }

  static async start(opts: HarnessOptions = {}): Promise<Harness> {
    const nonce = makeNonce();
    const theme = opts.theme ?? 'vscode-light';
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        const origin = `http://${req.headers.host}`;
        let html = previewHtml({
          cspSource: origin,
          mermaidUri: `${origin}/media/dist/mermaid.js`,
          scriptUri: `${origin}/media/dist/preview.js`,
          styleUri: `${origin}/media/preview.css`,
          title: 'Preview',
          nonce,
        });
        // What VS Code's webview host provides: the API, the theme class and variables, the saved state.
        const state = url.searchParams.get('state');
        const fake = `<script nonce="${nonce}">
(() => {
  let state = ${state ? state : 'undefined'};
  const api = {
    postMessage: (m) => window.__toHost(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = s; window.__state = s; },
  };
  window.acquireVsCodeApi = () => api;
})();
</script>`;
        html = html.replace('<body>', `<body class="${theme}" style="${THEME_VARS[theme]}">\n${fake}`);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(html);
        return;
      }
      const file = join(ROOT, url.pathname);
      if (!file.startsWith(ROOT + '/') || !BUNDLES.some((b) => url.pathname === '/' + b) || !existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 } });
    const h = new Harness(browser, page, server, origin, opts.client);
    page.on('pageerror', (e) => h.pageErrors.push(e.message));
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(origin + '/') || u.startsWith('data:')) return route.continue();
      h.blocked.push(u);
      return route.abort();
    });
    await page.exposeFunction('__toHost', (m: WebviewMessage) => h.onMessage(m));
    await h.load(opts.state);
    return h;
  }

  /** (Re)loads the page, as VS Code does when a panel is restored; `state` is what the webview saved. */
  async load(state?: PersistedState): Promise<void> {
    this.ready = false;
    const q = state ? `?state=${encodeURIComponent(JSON.stringify(state))}` : '';
    await this.page.goto(`${this.origin}/${q}`);
    await this.until(() => this.ready, 10_000, 'the webview to say it is ready');
  }

  private onMessage(m: WebviewMessage): void {
    this.posted.push(m);
    switch (m.type) {
      case 'ready':
      case 'resync':
        // A new page has nothing yet; a page that could not apply an edit asks for the whole layout (as manager.ts).
        if (m.type === 'ready') {
          this.ready = true;
          this.sent.clear();
        }
        this.pageLayout = this.layout;
        if (this.layout) this.send(this.layout).catch((err: unknown) => this.pageErrors.push(String(err)));
        break;
      case 'need':
        for (const k of m.keys) this.sent.add(k);
        this.client
          .chunks(m.keys)
          .then((data) => this.send({ type: 'chunks', data }))
          .catch((err: unknown) => this.pageErrors.push(String(err)));
        break;
      case 'visible':
        this.visible = { from: m.from, to: m.to };
        break;
      case 'rendered':
        this.reports.push(m.report);
        break;
      case 'exported':
      case 'exportFailed':
        this.exported.push(m);
        break;
      default:
        break;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  async send(m: HostMessage): Promise<void> {
    if (this.closed) return;
    // As JSON text, parsed in the page (as VS Code's webview messaging does): Playwright's own
    // argument serialization is ten times slower for a large layout and would dominate the timings.
    await this.page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m)).catch((err: unknown) => {
      if (!this.closed) throw err;
    });
  }

  /** Checks `text` with the real session and sends the layout, as the extension does on an edit. */
  async show(text: string, settings: SessionSettings = this.settings, resource = 'file:///test/trace.tcptrace'): Promise<LayoutMessage> {
    // Another document: a new session, as the extension does when a preview switches files.
    if (this.layout && this.layout.resource !== resource) {
      await this.client.reset();
      this.sent.clear();
    }
    this.text = text;
    this.settings = settings;
    const core = await this.client.update(text, ++this.version, settings);
    const layout: LayoutMessage = { type: 'layout', seq: ++this.seq, resource, fileName: resource.slice(resource.lastIndexOf('/') + 1), locked: false, ...core };
    this.layout = layout;
    // As the extension posts it: an edit of the chunk list the page holds when most of it is unchanged.
    const posted = layoutToPost(this.pageLayout, layout);
    this.pageLayout = layout;
    await this.send(posted);
    const chunks = layout.chunks;
    const near =
      chunks.length <= SEND_ALL_CHUNKS
        ? chunks
        : chunks.slice(Math.max(0, this.visible.from - SEND_AROUND), Math.min(chunks.length, this.visible.to + SEND_AROUND + 1));
    const keys = near.map((c) => c.key).filter((k) => !this.sent.has(k));
    if (keys.length > 0) {
      for (const k of keys) this.sent.add(k);
      await this.send({ type: 'chunks', data: await this.client.chunks(keys) });
    }
    return layout;
  }

  /** Waits for the webview's report that layout `seq` is drawn where visible. */
  async rendered(seq = this.seq, timeoutMs = 30_000, extra?: (r: RenderReport) => boolean): Promise<RenderReport> {
    let found: RenderReport | undefined;
    await this.until(
      () => {
        found = [...this.reports].reverse().find((r) => r.seq >= seq && (!extra || extra(r)));
        return found !== undefined;
      },
      timeoutMs,
      `a render report for layout ${seq}`,
    );
    return found!;
  }

  get currentText(): string {
    return this.text;
  }

  async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.pageErrors.length ? `; page errors: ${this.pageErrors.join(' | ')}` : ''}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Draws every chunk: scrolls the column through (the preview draws what comes into view). */
  async renderAll(): Promise<RenderReport> {
    const seq = this.seq;
    for (;;) {
      const done = await this.page.evaluate(() => {
        const s = document.getElementById('scroller')!;
        const pending = [...document.querySelectorAll('.tt-chunk.tt-pending')] as HTMLElement[];
        if (pending.length === 0) return true;
        s.scrollTop = pending[0].offsetTop;
        return false;
      });
      if (done) break;
      await new Promise((r) => setTimeout(r, 60));
      await this.rendered(seq);
    }
    const n = this.layout?.chunks.length ?? 0;
    return this.rendered(seq, 30_000, (r) => r.live >= n);
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    await this.browser.close().catch(() => undefined);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
