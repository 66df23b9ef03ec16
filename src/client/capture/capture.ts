/**
 * Captures in VS Code: the "TCP Trace: Import Capture..." command (pick a
 * pcap/pcapng file, pick one of its TCP connections, get the checked trace
 * and its preview) and a read-only custom editor that lists the connections
 * of a capture, each with a button that opens it as a trace.
 *
 * Files are streamed (src/core/capture reads chunks), so a large capture is
 * listed without being loaded whole; only the connection asked for gets its
 * trace written.
 */
import * as vscode from 'vscode';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LINK_TYPE_NAMES, importCaptureAsync, importCaptureBytes, type ConnectionSummary, type ImportOptions, type ImportReport } from '../../core/capture';

export const IMPORT_COMMAND = 'tcptrace.importCapture';
export const CAPTURE_VIEW_TYPE = 'tcptrace.captureViewer';
const PREVIEW_TO_SIDE = 'tcptrace.showPreviewToSide';
const CAPTURE_FILTERS = { 'Packet captures': ['pcap', 'pcapng', 'cap', 'dmp'], 'All files': ['*'] };

export function registerCapture(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    // From a menu: (uri, selected uris). From code: (uri, { saveTo }), which writes the trace there instead of asking.
    vscode.commands.registerCommand(IMPORT_COMMAND, (uri?: unknown, options?: unknown) =>
      importCommand(uri instanceof vscode.Uri ? uri : undefined, saveToOf(options)),
    ),
    vscode.window.registerCustomEditorProvider(CAPTURE_VIEW_TYPE, new CaptureEditorProvider(), {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    }),
  );
}

/** Runs the import over a file, streaming local files; `want` picks the connections that get text. */
async function runImport(uri: vscode.Uri, options: Omit<ImportOptions, 'captureName'>, token?: vscode.CancellationToken): Promise<ImportReport> {
  const captureName = uri.path.split('/').pop() ?? 'capture';
  if (uri.scheme === 'file') {
    const fh = await open(uri.fsPath, 'r');
    try {
      return await importCaptureAsync(
        async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead,
        { ...options, captureName },
        () => token?.isCancellationRequested ?? false,
      );
    } finally {
      await fh.close();
    }
  }
  // Another file system (remote, virtual): read it through VS Code.
  return importCaptureBytes(await vscode.workspace.fs.readFile(uri), { ...options, captureName });
}

export interface CaptureListing {
  report: ImportReport;
  connections: ConnectionSummary[];
}

export async function listConnections(uri: vscode.Uri, token?: vscode.CancellationToken): Promise<CaptureListing> {
  const connections: ConnectionSummary[] = [];
  const report = await runImport(uri, { want: () => false, onConnection: (s) => connections.push(s) }, token);
  connections.sort((a, b) => a.id - b.id);
  return { report, connections };
}

/** The trace of a connection: its text when it fits in an editor, else a temporary file that holds it (the caller removes it). */
export type Trace = { text: string; file?: undefined; bytes: number } | { text?: undefined; file: string; bytes: number };

/**
 * The trace of one connection, or undefined when the capture has no such
 * connection. It is written a few megabytes at a time; past EDITOR_LIMIT it
 * goes to a temporary file, so that memory stays bounded however long the
 * connection.
 */
export async function traceOf(uri: vscode.Uri, id: number): Promise<Trace | undefined> {
  const spool = new TraceSpool(EDITOR_LIMIT);
  let found = false;
  try {
    await runImport(uri, {
      want: (n) => n === id,
      stream: { packets: 0, chunk: (_s, bytes) => spool.add(bytes) },
      onConnectionBytes: (s, bytes) => {
        if (s.id !== id || bytes === undefined) return;
        spool.add(bytes);
        found = true;
      },
    });
    return found ? spool.done() : undefined;
  } finally {
    if (!found) spool.discard();
  }
}

/** The temporary directories of traces too long to hold (removed once the trace is saved or dropped). */
export const SPOOL_PREFIX = 'tcptrace-spool-';

/** Bytes held in memory up to `limit`; beyond it, all of them in a temporary file. */
class TraceSpool {
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private fd = -1;
  private path = '';

  constructor(private readonly limit: number) {}

  add(b: Uint8Array): void {
    this.bytes += b.length;
    if (this.fd < 0 && this.bytes > this.limit) {
      this.path = join(mkdtempSync(join(tmpdir(), SPOOL_PREFIX)), 'trace.tcptrace');
      this.fd = openSync(this.path, 'w');
      for (const p of this.parts) writeAll(this.fd, p);
      this.parts = [];
    }
    if (this.fd >= 0) writeAll(this.fd, b);
    // The caller reuses its buffer.
    else this.parts.push(b.slice());
  }

  done(): Trace {
    if (this.fd < 0) {
      const decoder = new TextDecoder();
      // Every part ends a line: no character is split between two.
      return { text: this.parts.map((p) => decoder.decode(p)).join(''), bytes: this.bytes };
    }
    closeSync(this.fd);
    this.fd = -1;
    return { file: this.path, bytes: this.bytes };
  }

  discard(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.path) removeTrace(this.path);
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let at = 0; at < b.length; ) at += writeSync(fd, b, at, b.length - at);
}

/** Removes a trace's temporary file and its directory. */
function removeTrace(path: string): void {
  rmSync(dirname(path), { recursive: true, force: true });
}

/**
 * VS Code hands extensions no document of more than 50 MiB (its
 * TextModel._MODEL_SYNC_LIMIT): a longer trace could not even be opened as
 * an untitled document ("Files above 50MB cannot be synchronized with
 * extensions"), let alone checked or previewed.
 */
export const EDITOR_LIMIT = 50 * 1024 * 1024;

/**
 * Opens the trace of a connection in an untitled editor, with its preview
 * beside it; with `saveTo`, writes it there and opens that file. A trace too
 * long for an editor (EDITOR_LIMIT) is saved to a file instead, where the user
 * says (or `saveTo`), and not opened.
 */
export async function openTrace(uri: vscode.Uri, id: number, saveTo?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
  let trace: Trace | undefined;
  try {
    trace = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `TCP Trace: importing connection ${id}…` }, () => traceOf(uri, id));
  } catch (e) {
    void vscode.window.showErrorMessage(`TCP Trace: cannot import connection ${id}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (trace === undefined) {
    void vscode.window.showErrorMessage(`TCP Trace: the capture has no connection ${id}.`);
    return undefined;
  }
  try {
    const tooLong = trace.file !== undefined;
    const target = saveTo ?? (tooLong ? await askWhereToSave(uri, id, trace.bytes) : undefined);
    let doc: vscode.TextDocument;
    if (target !== undefined) {
      try {
        if (trace.file !== undefined) await vscode.workspace.fs.copy(vscode.Uri.file(trace.file), target, { overwrite: true });
        else await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(trace.text));
      } catch (e) {
        void vscode.window.showErrorMessage(`TCP Trace: cannot write ${target.fsPath || target.toString()}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
      if (tooLong) {
        void vscode.window.showInformationMessage(
          `TCP Trace: saved the trace of connection ${id} to ${target.fsPath || target.toString()} (${megabytes(trace.bytes)}). Check it with tcptrace-cli check.`,
        );
        return undefined;
      }
      doc = await vscode.workspace.openTextDocument(target);
    } else if (trace.file !== undefined) return undefined;
    else doc = await vscode.workspace.openTextDocument({ language: 'tcptrace', content: trace.text });
    await vscode.window.showTextDocument(doc, { preview: false });
    if ((await vscode.commands.getCommands(true)).includes(PREVIEW_TO_SIDE)) await vscode.commands.executeCommand(PREVIEW_TO_SIDE, doc.uri);
    return doc;
  } finally {
    if (trace.file !== undefined) removeTrace(trace.file);
  }
}

/** Asks whether (and where) to save a trace too long for an editor; undefined: not saved. */
async function askWhereToSave(capture: vscode.Uri, id: number, length: number): Promise<vscode.Uri | undefined> {
  const save = 'Save to a File…';
  const choice = await vscode.window.showWarningMessage(
    `The trace of connection ${id} is ${megabytes(length)}: VS Code gives extensions no document over 50 MB, so it cannot be opened, checked or previewed in an editor.`,
    { modal: true, detail: 'Save it to a file, and check it with `tcptrace-cli check`; `tcptrace-cli import` also writes the traces of a whole capture.' },
    save,
  );
  if (choice !== save) return undefined;
  const stem = capture.path.split('/').pop()!.replace(/\.[^.]*$/, '') || 'capture';
  return vscode.window.showSaveDialog({
    title: `TCP Trace: save the trace of connection ${id}`,
    defaultUri: vscode.Uri.joinPath(capture, '..', `${stem}-${id}.tcptrace`),
    filters: { 'TCP traces': ['tcptrace'] },
  });
}

function megabytes(length: number): string {
  return `${(length / (1024 * 1024)).toFixed(0)} MB`;
}

export function fmtDuration(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(1)} ms`;
  return `${(s * 1e6).toFixed(0)} µs`;
}

function plural(n: number, w: string): string {
  return `${n.toLocaleString('en-US')} ${w}${n === 1 ? '' : 's'}`;
}

function damageText(report: ImportReport): string | undefined {
  const e = report.error;
  if (!e) return undefined;
  return `damaged at byte ${e.offset}: ${e.message} The ${plural(report.connections, 'connection')} read before it ${report.connections === 1 ? 'is' : 'are'} listed.`;
}

interface ConnectionItem extends vscode.QuickPickItem {
  id: number;
}

function saveToOf(options: unknown): vscode.Uri | undefined {
  const saveTo = typeof options === 'object' && options !== null && !Array.isArray(options) ? (options as { saveTo?: unknown }).saveTo : undefined;
  return saveTo instanceof vscode.Uri ? saveTo : undefined;
}

async function importCommand(given: vscode.Uri | undefined, saveTo?: vscode.Uri): Promise<void> {
  const uri =
    given ??
    (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Import', title: 'TCP Trace: Import Capture', filters: CAPTURE_FILTERS }))?.[0];
  if (!uri) return;
  let listing: CaptureListing;
  try {
    listing = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TCP Trace: reading the capture…', cancellable: true },
      (_p, token) => listConnections(uri, token),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`TCP Trace: cannot read ${uri.fsPath || uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const damage = damageText(listing.report);
  if (damage) void vscode.window.showWarningMessage(`TCP Trace: the capture is ${damage}`);
  if (listing.connections.length === 0) {
    if (!damage) void vscode.window.showInformationMessage(`TCP Trace: no TCP connection in this capture (${plural(listing.report.packets, 'packet')}).`);
    return;
  }
  let id = listing.connections[0].id;
  if (listing.connections.length > 1) {
    const items: ConnectionItem[] = listing.connections.map((c) => ({
      id: c.id,
      label: `#${c.id}  ${c.endpoints[0].text} → ${c.endpoints[1].text}`,
      description: `${plural(c.packets, 'packet')}, ${fmtDuration(c.duration)}`,
      detail: `${c.names[0]} → ${c.names[1]}: ${c.ended}${c.opening === 'mid' ? ' (starts mid-connection)' : ''}`,
    }));
    const pick = await vscode.window.showQuickPick(items, {
      title: `TCP Trace: ${plural(items.length, 'connection')} in ${uri.path.split('/').pop()}`,
      placeHolder: 'Choose the connection to import',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!pick) return;
    id = pick.id;
  }
  await openTrace(uri, id, saveTo);
}

/** The custom editor's document: just the file; the listing is made when an editor opens. */
class CaptureDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

class CaptureEditorProvider implements vscode.CustomReadonlyEditorProvider<CaptureDocument> {
  openCustomDocument(uri: vscode.Uri): CaptureDocument {
    return new CaptureDocument(uri);
  }

  async resolveCustomEditor(document: CaptureDocument, panel: vscode.WebviewPanel, token: vscode.CancellationToken): Promise<void> {
    const nonce = makeNonce();
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    panel.webview.html = page(panel.webview, nonce, '<p class="muted">Reading the capture…</p>');
    panel.webview.onDidReceiveMessage((m: unknown) => {
      const msg = m as { type?: string; id?: number };
      if (msg.type === 'open' && typeof msg.id === 'number') void openTrace(document.uri, msg.id);
    });
    await this.fill(document, panel, nonce, token);
  }

  private async fill(document: CaptureDocument, panel: vscode.WebviewPanel, nonce: string, token: vscode.CancellationToken): Promise<void> {
    let body: string;
    try {
      const listing = await listConnections(document.uri, token);
      body = listingHtml(listing);
    } catch (e) {
      body = `<p class="error">Cannot read the file: ${escapeHtml(e instanceof Error ? e.message : String(e))}</p>`;
    }
    if (!token.isCancellationRequested) panel.webview.html = page(panel.webview, nonce, body);
  }
}

function listingHtml({ report, connections }: CaptureListing): string {
  const links = report.linkTypes.map((t) => LINK_TYPE_NAMES[t] ?? `link type ${t}`).join(', ');
  const other = report.packets - report.segments;
  const parts: string[] = [];
  parts.push(
    `<p class="summary">${escapeHtml(report.format ?? 'unknown format')}${links ? ` (${escapeHtml(links)})` : ''} · ${plural(report.packets, 'packet')} · ${plural(
      report.segments,
      'TCP segment',
    )}${other > 0 ? ` · ${plural(other, 'other packet')} skipped` : ''} · ${plural(connections.length, 'connection')}</p>`,
  );
  const damage = damageText(report);
  if (damage) parts.push(`<p class="error" role="alert">The capture is ${escapeHtml(damage)}</p>`);
  if (connections.length === 0) {
    parts.push('<p class="muted">No TCP connection in this capture.</p>');
    return parts.join('\n');
  }
  parts.push(
    '<table><thead><tr><th scope="col">#</th><th scope="col">From</th><th scope="col">To</th><th scope="col" class="num">Packets</th><th scope="col" class="num">Bytes</th><th scope="col" class="num">Start</th><th scope="col" class="num">Duration</th><th scope="col">How it ended</th><th scope="col"><span class="sr">Open</span></th></tr></thead><tbody>',
  );
  for (const c of connections) {
    parts.push(
      `<tr><td class="num">${c.id}</td><td>${escapeHtml(c.names[0])} <code>${escapeHtml(c.endpoints[0].text)}</code></td><td>${escapeHtml(c.names[1])} <code>${escapeHtml(
        c.endpoints[1].text,
      )}</code></td><td class="num">${c.packets.toLocaleString('en-US')}</td><td class="num">${c.bytes[0].toLocaleString('en-US')} / ${c.bytes[1].toLocaleString(
        'en-US',
      )}</td><td class="num">${c.start.toFixed(3)} s</td><td class="num">${escapeHtml(fmtDuration(c.duration))}</td><td>${escapeHtml(c.ended)}${
        c.opening === 'mid' ? ' <span class="muted">(starts mid-connection)</span>' : ''
      }${c.reuses !== undefined ? ` <span class="muted">(reuses #${c.reuses}'s 4-tuple)</span>` : ''}</td><td><button data-id="${c.id}" title="Open connection ${c.id} as a .tcptrace with its diagram">Open trace</button></td></tr>`,
    );
  }
  parts.push('</tbody></table>');
  return parts.join('\n');
}

function page(webview: vscode.Webview, nonce: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--vscode-editorWidget-border, rgba(128,128,128,.35)); vertical-align: baseline; }
th { font-weight: 600; position: sticky; top: 0; background: var(--vscode-editor-background); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: var(--vscode-list-hoverBackground); }
code { font-family: var(--vscode-editor-font-family); }
.muted { color: var(--vscode-descriptionForeground); }
.error { color: var(--vscode-errorForeground); }
.summary { color: var(--vscode-descriptionForeground); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; cursor: pointer; border-radius: 2px; }
button:hover { background: var(--vscode-button-hoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
</style></head>
<body>
${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.addEventListener('click', (e) => {
  const b = e.target instanceof Element ? e.target.closest('button[data-id]') : null;
  if (b) vscode.postMessage({ type: 'open', id: Number(b.getAttribute('data-id')) });
});
</script>
</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}
