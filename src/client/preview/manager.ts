/**
 * The diagram preview in VS Code: commands, the webview panels, following the
 * active editor or staying locked to one file, live updates, two-way cursor
 * sync, export and copy, and restoring panels after a reload.
 *
 * Each panel owns a DiagramSession in the preview worker thread; an edit sends
 * the text there, gets the new layout (a list of chunk keys) back, and posts it
 * to the webview together with the data of the changed chunks near the view.
 * The webview asks for the data of any other chunk when it scrolls to it.
 */
import * as vscode from 'vscode';
import type { ChunkData, HostMessage, LayoutMessage, PersistedState, RenderReport, WebviewMessage } from '../../webview/messages';
import { layoutToPost } from '../../webview/chunkEdit';
import { previewHtml } from './html';
import type { LayoutCore, SessionSettings } from './session';
import { SessionWorker, type SessionClient } from './sessionClient';

export const PREVIEW_VIEW_TYPE = 'tcptrace.preview';
const LANGUAGE_ID = 'tcptrace';
const CONFIG_SECTION = 'tcptrace';

/** Chunks whose data goes with every layout when a trace has no more than this many (small traces: one message). */
const SEND_ALL_CHUNKS = 48;
/** Around the visible chunks, how many more the host sends with a layout without being asked. */
const SEND_AROUND = 3;
/** Above this many items, an export asks first (every chunk has to be drawn: ~5 ms per item). */
const EXPORT_CONFIRM_ITEMS = 3000;
/** Mermaid's default `maxTextSize`: copies above it will not render elsewhere without raising it. */
const MERMAID_DEFAULT_MAX_TEXT = 50_000;

export const COMMANDS = {
  showPreview: 'tcptrace.showPreview',
  showPreviewToSide: 'tcptrace.showPreviewToSide',
  showLockedPreviewToSide: 'tcptrace.showLockedPreviewToSide',
  toggleLock: 'tcptrace.preview.toggleLock',
  showSource: 'tcptrace.preview.showSource',
  exportSvg: 'tcptrace.preview.exportSvg',
  exportPng: 'tcptrace.preview.exportPng',
  copyMermaid: 'tcptrace.preview.copyMermaid',
  copyMarkdown: 'tcptrace.preview.copyMarkdown',
} as const;

/** What the extension exposes about its previews (integration tests read it). */
export interface PreviewInfo {
  readonly resource: string;
  readonly locked: boolean;
  readonly visible: boolean;
  readonly viewColumn: vscode.ViewColumn | undefined;
  readonly lastLayout: LayoutMessage | undefined;
  readonly lastReport: RenderReport | undefined;
}

export interface PreviewApi {
  previews(): PreviewInfo[];
  /** Resolves with the first report of a preview of `resource` that satisfies `test`. */
  waitForReport(resource: vscode.Uri, test: (r: RenderReport, p: PreviewInfo) => boolean, timeoutMs?: number): Promise<RenderReport>;
  /** What the export commands write, without the save dialog: SVG text or base64 PNG. */
  exportDiagram(resource: vscode.Uri, format: 'svg' | 'png', scale?: number): Promise<string>;
  /** What VS Code calls to restore a panel after a reload (the registered WebviewPanelSerializer). */
  revive(panel: vscode.WebviewPanel, state: PersistedState | undefined): Promise<void>;
}

function settingsFor(uri: vscode.Uri): SessionSettings {
  const c = vscode.workspace.getConfiguration(CONFIG_SECTION, uri);
  const severities = c.get<Record<string, 'error' | 'warning' | 'information' | 'hint' | 'off'>>('diagnostics.severity') ?? {};
  const spelling = c.get<string>('states.spelling', 'auto');
  return {
    severities: Object.keys(severities).length > 0 ? severities : undefined,
    spelling: spelling === 'socket' || spelling === 'rfc' ? spelling : undefined,
  };
}

function baseName(uri: vscode.Uri): string {
  const p = uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || uri.toString();
}

class TracePreview implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly session: SessionClient;
  private seq = 0;
  private sent = new Set<string>();
  private visible = { from: 0, to: 0 };
  private updating = false;
  private dirty = false;
  private ready = false;
  private exportId = 0;
  private readonly exports = new Map<number, { resolve: (data: string) => void; reject: (e: Error) => void }>();
  lastLayout: LayoutMessage | undefined;
  /** The last layout the page received (whole or as an edit), which the next one may be sent as an edit of. */
  private posted: LayoutMessage | undefined;
  lastReport: RenderReport | undefined;
  private readonly onReportEmitter = new vscode.EventEmitter<RenderReport>();
  readonly onReport = this.onReportEmitter.event;
  private readonly onDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDispose = this.onDisposeEmitter.event;
  private disposed = false;

  constructor(
    private readonly manager: PreviewManager,
    readonly panel: vscode.WebviewPanel,
    public resource: vscode.Uri,
    public locked: boolean,
    session: SessionClient,
  ) {
    this.session = session;
    const media = vscode.Uri.joinPath(manager.extensionUri, 'media');
    const webviewDist = vscode.Uri.joinPath(media, 'dist');
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [media] };
    panel.iconPath = vscode.Uri.joinPath(media, 'icons', 'tcptrace-file.svg');
    this.updateTitle();
    const w = panel.webview;
    w.html = previewHtml({
      cspSource: w.cspSource,
      mermaidUri: w.asWebviewUri(vscode.Uri.joinPath(webviewDist, 'mermaid.js')).toString(),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(webviewDist, 'preview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(media, 'preview.css')).toString(),
      title: this.panel.title,
    });
    this.disposables.push(
      w.onDidReceiveMessage((m: WebviewMessage) => void this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) manager.setActive(this);
        // A hidden webview is torn down (no retained context); it asks again with `ready` when shown.
        if (e.webviewPanel.visible && this.dirty && !this.updating) void this.update();
      }),
      this.onReportEmitter,
      this.onDisposeEmitter,
    );
  }

  private updateTitle(): void {
    const name = baseName(this.resource);
    this.panel.title = this.locked ? `[Preview] ${name}` : `Preview ${name}`;
  }

  setLocked(locked: boolean): void {
    this.locked = locked;
    this.updateTitle();
    void this.update();
  }

  /** Shows another document (a preview that follows the active editor). */
  setResource(uri: vscode.Uri): void {
    if (uri.toString() === this.resource.toString()) return;
    this.resource = uri;
    this.sent.clear();
    this.lastLayout = undefined;
    this.lastReport = undefined;
    this.updateTitle();
    void this.session.reset().then(() => this.update());
  }

  post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async document(): Promise<vscode.TextDocument | undefined> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.resource.toString());
    if (open) return open;
    try {
      return await vscode.workspace.openTextDocument(this.resource);
    } catch {
      return undefined;
    }
  }

  /** Re-checks the document and sends the new layout; coalesces: one update runs at a time, the last text wins. */
  async update(): Promise<void> {
    if (this.disposed) return;
    if (this.updating || !this.panel.visible) {
      this.dirty = true;
      return;
    }
    this.updating = true;
    try {
      do {
        this.dirty = false;
        const doc = await this.document();
        if (!doc || this.disposed) {
          this.post({ type: 'status', text: `Cannot open ${this.resource.toString(true)}.` });
          return;
        }
        const resource = this.resource.toString();
        let core: LayoutCore;
        try {
          core = await this.session.update(doc.getText(), doc.version, settingsFor(doc.uri));
        } catch (err) {
          this.post({ type: 'status', text: `The preview failed: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        if (this.disposed || resource !== this.resource.toString()) {
          this.dirty = true;
          continue;
        }
        const layout: LayoutMessage = { type: 'layout', seq: ++this.seq, resource, fileName: baseName(this.resource), locked: this.locked, ...core };
        this.lastLayout = layout;
        if (this.ready) await this.sendLayout(layout);
      } while (this.dirty && this.panel.visible && !this.disposed);
    } finally {
      this.updating = false;
    }
  }

  /** The layout, then the data of new chunks the webview is about to draw (it asks for the rest). */
  private async sendLayout(layout: LayoutMessage): Promise<void> {
    // Mostly unchanged after an edit: sent as an edit of the chunk list the page holds.
    this.post(layoutToPost(this.posted, layout));
    this.posted = layout;
    const chunks = layout.chunks;
    let keys: string[];
    if (chunks.length <= SEND_ALL_CHUNKS) keys = chunks.map((c) => c.key);
    else {
      const from = Math.max(0, this.visible.from - SEND_AROUND);
      const to = Math.min(chunks.length, this.visible.to + SEND_AROUND + 1);
      keys = chunks.slice(from, to).map((c) => c.key);
    }
    keys = keys.filter((k) => !this.sent.has(k));
    if (keys.length > 0) await this.sendChunks(keys);
  }

  private async sendChunks(keys: readonly string[]): Promise<void> {
    let data: ChunkData[];
    try {
      data = await this.session.chunks(keys);
    } catch {
      return;
    }
    if (data.length === 0) return;
    for (const d of data) this.sent.add(d.key);
    this.post({ type: 'chunks', data });
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'resync':
        // The page does not hold the layout an edit was made against (it should not happen): the whole one.
        this.posted = undefined;
        if (this.lastLayout) {
          this.lastLayout = { ...this.lastLayout, seq: ++this.seq };
          await this.sendLayout(this.lastLayout);
        }
        break;
      case 'ready':
        // A new page (first load, shown again, reloaded): it has nothing yet.
        this.ready = true;
        this.sent.clear();
        this.posted = undefined;
        if (this.lastLayout && !this.dirty && !this.updating) {
          this.lastLayout = { ...this.lastLayout, seq: ++this.seq };
          await this.sendLayout(this.lastLayout);
        } else await this.update();
        this.manager.sendCursor(this, true);
        break;
      case 'need':
        // The webview drops data it no longer needs; what it asks for is sent again.
        for (const k of m.keys) this.sent.delete(k);
        await this.sendChunks(m.keys);
        break;
      case 'visible':
        this.visible = { from: m.from, to: m.to };
        break;
      case 'reveal':
        await this.manager.revealLine(this, m.line);
        break;
      case 'rendered':
        this.lastReport = m.report;
        this.onReportEmitter.fire(m.report);
        break;
      case 'exported': {
        const p = this.exports.get(m.id);
        this.exports.delete(m.id);
        p?.resolve(m.data);
        break;
      }
      case 'exportFailed': {
        const p = this.exports.get(m.id);
        this.exports.delete(m.id);
        p?.reject(new Error(m.message));
        break;
      }
      case 'command':
        await this.manager.runFor(this, m.command);
        break;
    }
  }

  /** Resolves once the webview has drawn a first diagram (a preview just opened cannot export yet). */
  private drawn(): Promise<void> {
    if (this.lastReport) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sub = this.onReport(() => {
        sub.dispose();
        resolve();
      });
      this.onDispose(() => reject(new Error('the preview was closed')));
    });
  }

  /** Asks the webview to draw the whole diagram; resolves with SVG text or base64 PNG. */
  async exportDiagram(format: 'svg' | 'png', scale: number): Promise<string> {
    await this.drawn();
    const id = ++this.exportId;
    return new Promise<string>((resolve, reject) => {
      this.exports.set(id, { resolve, reject });
      this.post({ type: 'export', id, format, scale });
    });
  }

  mermaid(): Promise<string | undefined> {
    return this.session.mermaid();
  }

  info(): PreviewInfo {
    return {
      resource: this.resource.toString(),
      locked: this.locked,
      visible: this.panel.visible,
      viewColumn: this.panel.viewColumn,
      lastLayout: this.lastLayout,
      lastReport: this.lastReport,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.exports.values()) p.reject(new Error('the preview was closed'));
    this.exports.clear();
    this.onDisposeEmitter.fire();
    this.session.dispose();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

export class PreviewManager implements vscode.WebviewPanelSerializer<PersistedState>, vscode.Disposable {
  private readonly previews = new Set<TracePreview>();
  /** The unlocked preview, which follows the active trace editor. */
  private dynamic: TracePreview | undefined;
  private active: TracePreview | undefined;
  private readonly worker: SessionWorker;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly cursorTimers = new Map<TracePreview, ReturnType<typeof setTimeout>>();

  constructor(readonly extensionUri: vscode.Uri) {
    this.worker = new SessionWorker(vscode.Uri.joinPath(extensionUri, 'dist', 'preview-worker.js').fsPath);
    const reg = (id: string, fn: (...args: unknown[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    reg(COMMANDS.showPreview, (uri) => this.open(uriArg(uri), { side: false, locked: false }));
    reg(COMMANDS.showPreviewToSide, (uri) => this.open(uriArg(uri), { side: true, locked: false }));
    reg(COMMANDS.showLockedPreviewToSide, (uri) => this.open(uriArg(uri), { side: true, locked: true }));
    reg(COMMANDS.toggleLock, () => this.toggleLock());
    reg(COMMANDS.showSource, () => this.showSource());
    reg(COMMANDS.exportSvg, (uri) => this.exportCommand(uriArg(uri), 'svg'));
    reg(COMMANDS.exportPng, (uri) => this.exportCommand(uriArg(uri), 'png'));
    reg(COMMANDS.copyMermaid, (uri) => this.copy(uriArg(uri), false));
    reg(COMMANDS.copyMarkdown, (uri) => this.copy(uriArg(uri), true));
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, this),
      vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        for (const p of this.previewsOf(e.document.uri)) void p.update();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        for (const p of this.previewsOf(e.textEditor.document.uri)) this.scheduleCursor(p, e.textEditor);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${CONFIG_SECTION}.diagnostics`) && !e.affectsConfiguration(`${CONFIG_SECTION}.states`)) return;
        for (const p of this.previews) void p.update();
      }),
    );
  }

  private previewsOf(uri: vscode.Uri): TracePreview[] {
    const key = uri.toString();
    return [...this.previews].filter((p) => p.resource.toString() === key);
  }

  setActive(p: TracePreview): void {
    this.active = p;
  }

  /** The preview a command applies to: the focused one, else one of the active editor's document. */
  private target(uri?: vscode.Uri): TracePreview | undefined {
    if (uri) return this.previewsOf(uri)[0];
    if (this.active?.panel.active) return this.active;
    const doc = vscode.window.activeTextEditor?.document;
    if (doc) return this.previewsOf(doc.uri)[0];
    return undefined;
  }

  private resourceFor(uri?: vscode.Uri): vscode.Uri | undefined {
    if (uri) return uri;
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.languageId === LANGUAGE_ID) return editor.document.uri;
    if (this.active?.panel.active) return this.active.resource;
    return undefined;
  }

  async open(uri: vscode.Uri | undefined, opts: { side: boolean; locked: boolean }): Promise<void> {
    const resource = this.resourceFor(uri);
    if (!resource) {
      void vscode.window.showInformationMessage('Open a .tcptrace file to preview its diagram.');
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const column = opts.side ? vscode.ViewColumn.Beside : (editor?.viewColumn ?? vscode.ViewColumn.Active);
    // Reuse: the dynamic preview (moved to this file), or a locked preview of this file.
    const existing = opts.locked ? this.previewsOf(resource).find((p) => p.locked) : this.dynamic;
    if (existing) {
      existing.setResource(resource);
      existing.panel.reveal(existing.panel.viewColumn ?? column, opts.side);
      return;
    }
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, `Preview ${baseName(resource)}`, { viewColumn: column, preserveFocus: opts.side }, {
      enableScripts: true,
      enableFindWidget: true,
      retainContextWhenHidden: false,
    });
    this.add(panel, resource, opts.locked);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PersistedState | undefined): Promise<void> {
    if (!state?.resource) {
      panel.dispose();
      return;
    }
    const resource = vscode.Uri.parse(state.resource);
    // A second unlocked preview restored next to another one becomes locked rather than fight over the active editor.
    this.add(panel, resource, state.locked || this.dynamic !== undefined);
  }

  private add(panel: vscode.WebviewPanel, resource: vscode.Uri, locked: boolean): TracePreview {
    const p = new TracePreview(this, panel, resource, locked, this.worker.client());
    this.previews.add(p);
    if (!locked) this.dynamic = p;
    if (panel.active) this.active = p;
    p.onDispose(() => {
      this.previews.delete(p);
      if (this.dynamic === p) this.dynamic = undefined;
      if (this.active === p) this.active = undefined;
      const t = this.cursorTimers.get(p);
      if (t) clearTimeout(t);
      this.cursorTimers.delete(p);
    });
    void p.update();
    return p;
  }

  private onActiveEditor(editor: vscode.TextEditor | undefined): void {
    if (!editor || editor.document.languageId !== LANGUAGE_ID) return;
    const d = this.dynamic;
    if (d && !d.locked && d.resource.toString() !== editor.document.uri.toString()) d.setResource(editor.document.uri);
  }

  private toggleLock(): void {
    const p = this.target();
    if (!p) return;
    if (p.locked) {
      // Unlocking: this becomes the preview that follows; an older follower is locked to its file.
      if (this.dynamic && this.dynamic !== p) this.dynamic.setLocked(true);
      this.dynamic = p;
      p.setLocked(false);
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId === LANGUAGE_ID) p.setResource(editor.document.uri);
    } else {
      if (this.dynamic === p) this.dynamic = undefined;
      p.setLocked(true);
    }
  }

  private async showSource(): Promise<void> {
    const p = this.target();
    if (!p) return;
    const doc = await vscode.workspace.openTextDocument(p.resource);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    await vscode.window.showTextDocument(doc, visible?.viewColumn ?? vscode.ViewColumn.One);
  }

  private scheduleCursor(p: TracePreview, editor: vscode.TextEditor): void {
    // Cursor moves come in bursts (typing, holding an arrow key): send the last one.
    const old = this.cursorTimers.get(p);
    if (old) clearTimeout(old);
    this.cursorTimers.set(
      p,
      setTimeout(() => {
        this.cursorTimers.delete(p);
        p.post({ type: 'cursor', line: editor.selection.active.line, reveal: true });
      }, 30),
    );
  }

  /** Sends the cursor of the editor showing the preview's document, if any. */
  sendCursor(p: TracePreview, reveal: boolean): void {
    const editor =
      vscode.window.activeTextEditor?.document.uri.toString() === p.resource.toString()
        ? vscode.window.activeTextEditor
        : vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === p.resource.toString());
    if (editor) p.post({ type: 'cursor', line: editor.selection.active.line, reveal });
  }

  /** A click on an arrow or a note: select its line in an editor of the document, opening one when none shows it. */
  async revealLine(p: TracePreview, line: number): Promise<void> {
    let editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === p.resource.toString());
    if (!editor) {
      const doc = await vscode.workspace.openTextDocument(p.resource);
      const column = p.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
      editor = await vscode.window.showTextDocument(doc, { viewColumn: column, preserveFocus: true });
    }
    const l = Math.max(0, Math.min(line, editor.document.lineCount - 1));
    const text = editor.document.lineAt(l);
    const pos = new vscode.Position(l, text.firstNonWhitespaceCharacterIndex);
    editor.selection = new vscode.Selection(pos, new vscode.Position(l, text.range.end.character));
    editor.revealRange(text.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** A toolbar button in a webview. */
  async runFor(p: TracePreview, command: Extract<WebviewMessage, { type: 'command' }>['command']): Promise<void> {
    switch (command) {
      case 'exportSvg':
        return this.exportFrom(p, 'svg');
      case 'exportPng':
        return this.exportFrom(p, 'png');
      case 'copyMermaid':
        return this.copyFrom(p, false);
      case 'copyMarkdown':
        return this.copyFrom(p, true);
      case 'showSource':
        this.active = p;
        return this.showSource();
      case 'toggleLock':
        this.active = p;
        return this.toggleLock();
    }
  }

  private async previewFor(uri: vscode.Uri | undefined): Promise<TracePreview | undefined> {
    const existing = this.target(uri);
    if (existing) return existing;
    const resource = this.resourceFor(uri);
    if (!resource) {
      void vscode.window.showInformationMessage('Open a .tcptrace file or its preview first.');
      return undefined;
    }
    await this.open(resource, { side: true, locked: false });
    return this.previewsOf(resource)[0];
  }

  private async exportCommand(uri: vscode.Uri | undefined, format: 'svg' | 'png'): Promise<void> {
    const p = await this.previewFor(uri);
    if (p) await this.exportFrom(p, format);
  }

  private async exportFrom(p: TracePreview, format: 'svg' | 'png'): Promise<void> {
    let scale = 1;
    if (format === 'png') {
      const pick = await vscode.window.showQuickPick(
        [
          { label: '1x', description: 'as shown at 100%', scale: 1 },
          { label: '2x', description: 'sharp on high-density screens and in slides', scale: 2 },
          { label: '3x', scale: 3 },
          { label: '4x', description: 'print', scale: 4 },
        ],
        { title: 'PNG scale', placeHolder: 'Scale of the exported image' },
      );
      if (!pick) return;
      scale = pick.scale;
    }
    const items = p.lastLayout?.counts.items ?? 0;
    if (items > EXPORT_CONFIRM_ITEMS) {
      const seconds = Math.ceil((items * 5) / 1000);
      const go = await vscode.window.showWarningMessage(
        `This diagram has ${items.toLocaleString('en-US')} items; drawing all of them takes about ${seconds} s.`,
        { modal: true },
        'Export',
      );
      if (go !== 'Export') return;
    }
    const ext = format;
    const base = p.resource.scheme === 'untitled' ? undefined : p.resource.with({ path: p.resource.path.replace(/\.tcptrace$/i, '') + '.' + ext });
    const target = await vscode.window.showSaveDialog({
      defaultUri: base,
      filters: format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
      title: `Export the diagram as ${format.toUpperCase()}`,
    });
    if (!target) return;
    try {
      const data = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Exporting the diagram as ${format.toUpperCase()}…` },
        () => p.exportDiagram(format, scale),
      );
      const bytes = format === 'svg' ? new TextEncoder().encode(data) : Buffer.from(data, 'base64');
      await vscode.workspace.fs.writeFile(target, bytes);
      void vscode.window.setStatusBarMessage(`TCP Trace: diagram exported to ${baseName(target)}`, 5000);
    } catch (err) {
      void vscode.window.showErrorMessage(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async copy(uri: vscode.Uri | undefined, markdown: boolean): Promise<void> {
    const p = await this.previewFor(uri);
    if (p) await this.copyFrom(p, markdown);
  }

  private async copyFrom(p: TracePreview, markdown: boolean): Promise<void> {
    const text = await p.mermaid();
    if (text === undefined) return;
    if (text.length > MERMAID_DEFAULT_MAX_TEXT) {
      const go = await vscode.window.showWarningMessage(
        `The whole diagram is ${text.length.toLocaleString('en-US')} characters of Mermaid: over Mermaid's default limit (maxTextSize, 50,000), most viewers show "Maximum text size in diagram exceeded" instead.`,
        { modal: true },
        'Copy Anyway',
      );
      if (go !== 'Copy Anyway') return;
    }
    await vscode.env.clipboard.writeText(markdown ? '```mermaid\n' + text + '```\n' : text);
    void vscode.window.setStatusBarMessage(`TCP Trace: diagram copied as ${markdown ? 'a Markdown block' : 'Mermaid source'}`, 4000);
  }

  api(): PreviewApi {
    return {
      previews: () => [...this.previews].map((p) => p.info()),
      waitForReport: (resource, test, timeoutMs = 30_000) =>
        new Promise<RenderReport>((resolve, reject) => {
          const key = resource.toString();
          const deadline = Date.now() + timeoutMs;
          // Polls: reports arrive from webviews at their own pace, previews open and close meanwhile.
          const tick = () => {
            for (const p of this.previews) {
              if (p.resource.toString() === key && p.lastReport && test(p.lastReport, p.info())) return resolve(p.lastReport);
            }
            if (Date.now() > deadline) {
              const seen = [...this.previews].map((p) => `${p.resource.toString()}: ${JSON.stringify(p.lastReport)}`).join('; ');
              return reject(new Error(`no matching preview report within ${timeoutMs} ms (last: ${seen || 'no preview'})`));
            }
            setTimeout(tick, 50);
          };
          tick();
        }),
      exportDiagram: async (resource, format, scale = 1) => {
        const p = this.previewsOf(resource)[0];
        if (!p) throw new Error(`no preview of ${resource.toString()}`);
        return p.exportDiagram(format, scale);
      },
      revive: (panel, state) => this.deserializeWebviewPanel(panel, state),
    };
  }

  dispose(): void {
    for (const p of [...this.previews]) p.dispose();
    for (const t of this.cursorTimers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    this.worker.dispose();
  }
}

function uriArg(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri ? arg : undefined;
}
