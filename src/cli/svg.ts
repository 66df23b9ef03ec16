/**
 * `tcptrace-cli render --format svg`: the preview's diagram as one SVG file,
 * drawn outside VS Code by the same code (src/webview/render.ts, bundled as
 * media/dist/render.js) and the same Mermaid bundle, in a locally installed
 * Chromium or Chrome driven by playwright-core. Nothing is downloaded: without
 * a browser (or without playwright-core) the error says what to install.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Severity } from '../core/check/types';
import { DiagramSession } from '../client/preview/session';
import type { ThemeKind } from '../webview/render';
import type { StandaloneInput } from '../webview/standalone';

export interface SvgOptions {
  /** Colours of the diagram (default light). */
  theme?: ThemeKind;
  /** Background colour; default the theme's (white or VS Code's dark grey), `null` for transparent. */
  background?: string | null;
  /** Chromium or Chrome executable; default: $TCPTRACE_CHROMIUM, $CHROMIUM_PATH, then the usual install places. */
  chromium?: string;
  /** State spelling; default the trace's `option states=`. */
  states?: 'socket' | 'rfc';
  /** Per-code severity overrides, as in the `tcptrace.diagnostics.severity` setting. */
  severities?: Readonly<Record<string, Severity | 'off'>>;
  /** Where media/dist is (the Mermaid and renderer bundles); default: found next to this program. */
  bundleDir?: string;
  /** Bound on the whole rendering, ms (default 10 minutes: a long trace has thousands of parts to draw). */
  timeoutMs?: number;
}

/**
 * Flags for headless Chromium on a machine without a display or an outside network: without the
 * networking ones it keeps trying to reach Google's hosts. The tests launch it the same way.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A failure with a message meant for the user (no stack needed). */
export class SvgRenderError extends Error {}

const BACKGROUNDS: Readonly<Record<ThemeKind, string>> = {
  light: '#ffffff',
  dark: '#1e1e1e',
  'high-contrast': '#000000',
  'high-contrast-light': '#ffffff',
};

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome', 'microsoft-edge'];
const CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
  'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
];

/** The first Chromium-family browser found: the environment's choice, then the usual places, then PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const v of [env.TCPTRACE_CHROMIUM, env.CHROMIUM_PATH]) if (v && existsSync(v)) return v;
  for (const p of CHROMIUM_PATHS) if (existsSync(p)) return p;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const n of CHROMIUM_NAMES) {
      const p = join(dir, n);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

function findBundles(dir: string | undefined): { mermaid: string; render: string } {
  const candidates = dir ? [dir] : [join(__dirname, '..', 'media', 'dist'), join(__dirname, '..', '..', 'media', 'dist')];
  for (const d of candidates) {
    const mermaid = join(d, 'mermaid.js');
    const render = join(d, 'render.js');
    if (existsSync(mermaid) && existsSync(render)) return { mermaid, render };
  }
  throw new SvgRenderError(`the diagram renderer is missing (media/dist/mermaid.js and render.js; looked in ${candidates.join(', ')}): run \`npm run build\``);
}

type Playwright = typeof import('playwright-core');

function loadPlaywright(): Playwright {
  try {
    // A plain require: the CLI bundle leaves playwright-core out (scripts/build.mjs), it is found at run time.
    return require('playwright-core') as Playwright;
  } catch {
    throw new SvgRenderError('`render --format svg` drives a local Chromium with the npm package playwright-core, which is not installed: `npm install playwright-core` (no browser download needed), or use `--format mermaid`.');
  }
}

/** Renders a trace as one SVG document (text). */
export async function renderSvg(text: string, options: SvgOptions = {}): Promise<string> {
  const theme = options.theme ?? 'light';
  const session = new DiagramSession();
  const layout = session.update(text, 0, { severities: options.severities, spelling: options.states });
  const bundles = findBundles(options.bundleDir);
  const executablePath = options.chromium ?? findChromium();
  if (!executablePath) {
    throw new SvgRenderError(
      '`render --format svg` needs Chromium or Google Chrome installed locally, and none was found. Install one (Debian/Ubuntu: `apt install chromium`) or point TCPTRACE_CHROMIUM at its executable; `--format mermaid` needs no browser.',
    );
  }
  if (!existsSync(executablePath)) throw new SvgRenderError(`no browser at ${executablePath}`);
  const { chromium } = loadPlaywright();
  const input: StandaloneInput = {
    chunks: session.chunks(layout.chunks.map((c) => c.key)),
    participants: layout.participants.length,
    spacers: layout.spacers,
    theme,
    background: options.background === null ? '' : (options.background ?? BACKGROUNDS[theme]),
  };
  let browser: Awaited<ReturnType<Playwright['chromium']['launch']>>;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (err) {
    throw new SvgRenderError(`could not start ${executablePath}: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`);
  }
  try {
    const page = await browser.newPage();
    // Nothing may leave the page: the bundles are injected, not fetched.
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    const cls = theme === 'light' ? 'vscode-light' : theme === 'dark' ? 'vscode-dark' : theme === 'high-contrast' ? 'vscode-high-contrast' : 'vscode-high-contrast-light';
    await page.setContent(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body class="${cls}"></body></html>`);
    await page.addScriptTag({ path: bundles.mermaid });
    await page.addScriptTag({ path: bundles.render });
    page.setDefaultTimeout(options.timeoutMs ?? 600_000);
    return await page.evaluate(
      (arg) => (globalThis as unknown as { tcptraceRender: { renderAll(i: StandaloneInput): Promise<string> } }).tcptraceRender.renderAll(arg),
      input,
    );
  } catch (err) {
    if (err instanceof SvgRenderError) throw err;
    throw new SvgRenderError(`drawing the diagram failed: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`);
  } finally {
    await browser.close().catch(() => undefined);
  }
}
