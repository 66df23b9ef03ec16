/**
 * A minimal LSP client for the protocol tests: starts the BUILT server
 * (`node dist/server.js --stdio`) as a child process and speaks real JSON-RPC
 * over its stdin/stdout, answering the server's own requests
 * (`workspace/configuration`, capability registration, refreshes) like an
 * editor would.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type {
  InitializeResult,
  PublishDiagnosticsParams,
  Range,
  TextDocumentContentChangeEvent,
  TextEdit,
} from 'vscode-languageserver-protocol';

export const ROOT = join(__dirname, '..', '..', '..');
const SERVER = join(ROOT, 'dist', 'server.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ when it is missing or older than src/. Test files run in
 * parallel processes, so the build is serialised with a lock directory.
 */
export function ensureBuilt(): void {
  const stale = (): boolean => {
    try {
      return statSync(SERVER).mtimeMs < newestMtime(join(ROOT, 'src'));
    } catch {
      return true;
    }
  };
  if (!stale()) return;
  const lock = join(ROOT, 'dist', '.build-lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than any build is left over from a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmdirSync(lock);
      } catch {
        // Gone meanwhile: the next mkdir decides.
      }
      if (Date.now() > deadline) throw new Error(`could not take ${lock}; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (stale()) {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface StartOptions {
  /** The `tcptrace` settings section the client reports (mutable later with `setSettings`). */
  settings?: Record<string, unknown>;
  initializationOptions?: Record<string, unknown>;
  /** Declare `workspace.configuration` support (default true). */
  pullConfiguration?: boolean;
}

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: { uri: string; pred: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  readonly versions = new Map<string, number>();
  readonly texts = new Map<string, string>();
  settings: Record<string, unknown>;
  initializeResult!: InitializeResult;
  stderr = '';
  readonly refreshes: string[] = [];

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly conn: MessageConnection,
    settings: Record<string, unknown>,
  ) {
    this.settings = settings;
  }

  static async start(opts: StartOptions = {}): Promise<LspClient> {
    ensureBuilt();
    const child = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: 'pipe' });
    const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, conn, opts.settings ?? {});
    child.stderr.on('data', (d: Buffer) => (client.stderr += d.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => client.onDiagnostics(p));
    conn.onNotification('window/logMessage', () => undefined);
    conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) =>
      p.items.map((i) => (i.section === 'tcptrace' ? client.settings : null)),
    );
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('workspace/inlayHint/refresh', () => {
      client.refreshes.push('inlayHint');
      return null;
    });
    conn.onRequest('workspace/semanticTokens/refresh', () => {
      client.refreshes.push('semanticTokens');
      return null;
    });
    conn.listen();
    const pull = opts.pullConfiguration ?? true;
    client.initializeResult = await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: {
          configuration: pull,
          didChangeConfiguration: { dynamicRegistration: true },
          inlayHint: { refreshSupport: true },
          semanticTokens: { refreshSupport: true },
        },
        textDocument: {
          synchronization: { dynamicRegistration: false },
          publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          completion: { completionItem: { snippetSupport: true } },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } },
          rename: { prepareSupport: true },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        },
      },
      initializationOptions: opts.initializationOptions ?? {},
    });
    await conn.sendNotification('initialized', {});
    return client;
  }

  private onDiagnostics(p: PublishDiagnosticsParams): void {
    const list = this.diagnostics.get(p.uri) ?? [];
    list.push(p);
    this.diagnostics.set(p.uri, list);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w.uri === p.uri && w.pred(p)) {
        this.waiters.splice(i, 1);
        w.resolve(p);
      }
    }
  }

  /** The next (or an already received) publication for `uri` at the document's current version. */
  waitForDiagnostics(uri: string, timeoutMs = 10_000): Promise<PublishDiagnosticsParams> {
    const version = this.versions.get(uri);
    const pred = (p: PublishDiagnosticsParams): boolean => p.version === undefined || p.version === version;
    const got = (this.diagnostics.get(uri) ?? []).filter(pred);
    if (got.length > 0) return Promise.resolve(got[got.length - 1]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms\n${this.stderr}`)), timeoutMs);
      timer.unref();
      this.waiters.push({
        uri,
        pred,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      });
    });
  }

  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'tcptrace', version: 1, text } });
  }

  /** Sends incremental changes and applies them to the client's copy of the text. */
  async change(uri: string, changes: { range: Range; text: string }[]): Promise<void> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    let text = this.texts.get(uri) ?? '';
    for (const c of changes) text = applyTextEdits(text, [{ range: c.range, newText: c.text }]);
    this.texts.set(uri, text);
    const contentChanges: TextDocumentContentChangeEvent[] = changes.map((c) => ({ range: c.range, text: c.text }));
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  /** Applies edits (as a server returns them) to the document, as an editor would, and sends them as one change. */
  async applyEdits(uri: string, edits: TextEdit[]): Promise<void> {
    // Send from the bottom up so that each range is still valid when it applies.
    const sorted = [...edits].sort((x, y) => cmp(y.range.start, x.range.start));
    await this.change(
      uri,
      sorted.map((e) => ({ range: e.range, text: e.newText })),
    );
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest(method, params) as Promise<R>;
  }

  async setSettings(settings: Record<string, unknown>): Promise<void> {
    this.settings = settings;
    await this.conn.sendNotification('workspace/didChangeConfiguration', { settings: { tcptrace: settings } });
  }

  async stop(): Promise<void> {
    // Unreferenced timers: a pending timeout must not keep the test process alive.
    const timeout = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), timeout(2000)]);
      await this.conn.sendNotification('exit');
    } catch {
      // The server may already be gone; the kill below makes sure.
    }
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    await Promise.race([exited, timeout(2000)]);
    if (this.child.exitCode === null) this.child.kill();
    this.conn.dispose();
  }
}

function cmp(a: { line: number; character: number }, b: { line: number; character: number }): number {
  return a.line - b.line || a.character - b.character;
}

/** Applies LSP text edits (non-overlapping, any order) to a text. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const offsets = lineOffsets(text);
  const at = (p: { line: number; character: number }): number =>
    p.line >= offsets.length ? text.length : Math.min(offsets[p.line] + p.character, p.line + 1 < offsets.length ? offsets[p.line + 1] : text.length);
  const sorted = [...edits].sort((x, y) => cmp(y.range.start, x.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, at(e.range.start)) + e.newText + out.slice(at(e.range.end));
  return out;
}

function lineOffsets(text: string): number[] {
  const o = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) o.push(i + 1);
  return o;
}

/** Decodes LSP semantic token data into absolute tokens. */
export function decodeSemanticTokens(data: number[], legend: { tokenTypes: string[]; tokenModifiers: string[] }): { line: number; start: number; length: number; type: string; modifiers: string[] }[] {
  const out = [];
  let line = 0;
  let start = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    start = data[i] === 0 ? start + data[i + 1] : data[i + 1];
    const mods = legend.tokenModifiers.filter((_, b) => data[i + 4] & (1 << b));
    out.push({ line, start, length: data[i + 2], type: legend.tokenTypes[data[i + 3]], modifiers: mods });
  }
  return out;
}

/** The position of the first occurrence of `needle` on line `line` (plus `offset` characters). */
export function posOf(text: string, line: number, needle: string, offset = 0): { line: number; character: number } {
  const l = text.split('\n')[line];
  const i = l.indexOf(needle);
  if (i < 0) throw new Error(`'${needle}' not on line ${line}: ${l}`);
  return { line, character: i + offset };
}

/** The 0-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`'${needle}' not in text`);
  return i;
}
