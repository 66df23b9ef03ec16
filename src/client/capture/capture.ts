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
import { captureStem, copiesText, importCaptureAsync, type ConnectionSummary, type ImportOptions, type ImportReport } from '../../core/capture';
import { escapeHtml, makeNonce } from '../preview/html';
import { damageText, fmtDuration, listingHtml, plural, viewerPage } from './viewer';

export const IMPORT_COMMAND = 'tcptrace.importCapture';
export const CAPTURE_VIEW_TYPE = 'tcptrace.captureViewer';
const PREVIEW_TO_SIDE = 'tcptrace.showPreviewToSide';
// gz: captures kept gzip-compressed (day.pcap.gz), decompressed as they are read.
const CAPTURE_FILTERS = { 'Packet captures': ['pcap', 'pcapng', 'cap', 'dmp', 'gz'], 'All files': ['*'] };

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
  // Another file system (remote, virtual): read it through VS Code, then from memory (decompressed if need be).
  const bytes = await vscode.workspace.fs.readFile(uri);
  return importCaptureAsync(
    async (buf, position) => {
      const n = Math.max(0, Math.min(buf.length, bytes.length - position));
      buf.set(bytes.subarray(position, position + n));
      return n;
    },
    { ...options, captureName },
    () => token?.isCancellationRequested ?? false,
  );
}

export interface CaptureListing {
  report: ImportReport;
  connections: ConnectionSummary[];
}

/** The connections of a capture, or undefined when `token` cancelled the reading (a listing cut short is not one). */
export async function listConnections(uri: vscode.Uri, token?: vscode.CancellationToken): Promise<CaptureListing | undefined> {
  const connections: ConnectionSummary[] = [];
  const report = await runImport(uri, { want: () => false, onConnection: (s) => connections.push(s) }, token);
  if (token?.isCancellationRequested) return undefined;
  connections.sort((a, b) => a.id - b.id);
  return { report, connections };
}

/** The trace of a connection: its text when it fits in an editor, else a temporary file that holds it (the caller removes it). */
export type Trace = { text: string; file?: undefined; bytes: number } | { text?: undefined; file: string; bytes: number };

/**
 * The trace of one connection, or undefined when the capture has no such
 * connection or `token` cancelled the import (a trace cut short is dropped,
 * never handed on as if whole). It is written a few megabytes at a time;
 * past EDITOR_LIMIT it goes to a temporary file, so that memory stays
 * bounded however long the connection.
 */
export async function traceOf(uri: vscode.Uri, id: number, token?: vscode.CancellationToken): Promise<Trace | undefined> {
  const spool = new TraceSpool(EDITOR_LIMIT);
  let found = false;
  let trace: Trace | undefined;
  try {
    await runImport(
      uri,
      {
        want: (n) => n === id,
        stream: { packets: 0, chunk: (_s, bytes) => spool.add(bytes) },
        onConnectionBytes: (s, bytes) => {
          if (s.id !== id || bytes === undefined) return;
          spool.add(bytes);
          found = true;
        },
      },
      token,
    );
    if (found && !token?.isCancellationRequested) trace = spool.done();
    return trace;
  } finally {
    if (trace === undefined) spool.discard();
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
  let cancelled = false;
  try {
    trace = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `TCP Trace: importing connection ${id}…`, cancellable: true },
      async (_p, token) => {
        const t = await traceOf(uri, id, token);
        cancelled = token.isCancellationRequested;
        return t;
      },
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`TCP Trace: cannot import connection ${id}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (cancelled) return undefined;
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
  const stem = captureStem(capture.path);
  return vscode.window.showSaveDialog({
    title: `TCP Trace: save the trace of connection ${id}`,
    defaultUri: vscode.Uri.joinPath(capture, '..', `${stem}-${id}.tcptrace`),
    filters: { 'TCP traces': ['tcptrace'] },
  });
}

function megabytes(length: number): string {
  return `${(length / (1024 * 1024)).toFixed(0)} MB`;
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
  let listing: CaptureListing | undefined;
  try {
    listing = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TCP Trace: reading the capture…', cancellable: true },
      (_p, token) => listConnections(uri, token),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`TCP Trace: cannot read ${uri.fsPath || uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  // Cancelled: nothing more.
  if (listing === undefined) return;
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
      description: `${plural(c.packets, 'packet')}${c.copies > 0 ? ` (${copiesText(c.copies)})` : ''}, ${fmtDuration(c.duration)}`,
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
    panel.webview.html = viewerPage(panel.webview.cspSource, nonce, '<p class="muted">Reading the capture…</p>');
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
      if (listing === undefined) return;
      body = listingHtml(listing);
    } catch (e) {
      body = `<p class="error">Cannot read the file: ${escapeHtml(e instanceof Error ? e.message : String(e))}</p>`;
    }
    if (!token.isCancellationRequested) panel.webview.html = viewerPage(panel.webview.cspSource, nonce, body);
  }
}




