/**
 * The extension: starts the language server (dist/server.js, its own Node
 * process over IPC), shows both endpoints' states at the cursor in the status
 * bar, and offers a restart command. Everything else — diagnostics, hovers,
 * hints, completion, fixes, formatting — comes from the server.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { CONFIG_SECTION, LANGUAGE_ID, statesAt, type InitializationOptions, type StatesAtResult, type TypedRequest } from '../protocol';
import type MarkdownIt from 'markdown-it';
import { PreviewManager, type PreviewApi } from './preview/manager';
import { tcptraceMarkdownPlugin } from './markdown/plugin';
import { registerCapture } from './capture/capture';

/** What `activate` returns: lets integration tests reach the running client. */
export interface TcptraceApi {
  readonly client: LanguageClient;
  /** Both endpoints' states at a position, as the status bar shows them. */
  statesAt(document: vscode.TextDocument, position: vscode.Position): Promise<StatesAtResult | null>;
  /** The diagram previews (src/client/preview). */
  readonly preview: PreviewApi;
  /** Called by VS Code's Markdown preview (`markdown.markdownItPlugins`): draws `tcptrace` blocks. */
  extendMarkdownIt(md: MarkdownIt): MarkdownIt;
}

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TcptraceApi> {
  // Before the server starts: the preview works without it, and restored panels need their serializer now.
  const previews = new PreviewManager(context.extensionUri);
  context.subscriptions.push(previews);
  // Capture import (command and .pcap/.pcapng viewer): needs neither the server nor an open trace.
  registerCapture(context);
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const initializationOptions: InitializationOptions = { docsBaseUrl: defaultDocsBaseUrl(context) };
  const clientOptions: LanguageClientOptions = {
    // Every scheme: the server needs only the text, so virtual workspaces work too.
    documentSelector: [{ language: LANGUAGE_ID }],
    initializationOptions,
  };
  const c = new LanguageClient('tcptrace', 'TCP Trace Language Server', serverOptions, clientOptions);
  client = c;
  await c.start();

  context.subscriptions.push(
    vscode.commands.registerCommand('tcptrace.restartServer', async () => {
      await c.restart();
      void vscode.window.setStatusBarMessage('TCP Trace: language server restarted', 3000);
    }),
  );

  const status = new StateStatusBar(c);
  context.subscriptions.push(status);

  return {
    client: c,
    statesAt: (document, position) => request(c, statesAt, { textDocument: { uri: document.uri.toString() }, position: { line: position.line, character: position.character } }),
    preview: previews.api(),
    extendMarkdownIt: tcptraceMarkdownPlugin,
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

function request<P, R>(c: LanguageClient, req: TypedRequest<P, R>, params: P, token?: vscode.CancellationToken): Promise<R> {
  return c.sendRequest(req.method, params, token) as Promise<R>;
}

/**
 * Where the diagnostic codes' documentation lives when the user sets no
 * `tcptrace.docs.baseUrl`: the project's repository when package.json names
 * one, else the copy of docs/language.md shipped inside the extension.
 */
function defaultDocsBaseUrl(context: vscode.ExtensionContext): string {
  const pkg = context.extension.packageJSON as { repository?: string | { url?: string } };
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const m = repo ? /github\.com[/:]([^/]+)\/([^/.]+?)(?:\.git)?\/?$/.exec(repo) : null;
  if (m) return `https://github.com/${m[1]}/${m[2]}/blob/HEAD/`;
  return context.extensionUri.toString() + '/';
}

/**
 * A status bar item with both endpoints' states after the event at (or
 * before) the cursor: `client ESTABLISHED · server CLOSE_WAIT`. Updated on
 * cursor moves and when the document's diagnostics change (i.e. after the
 * server re-checked an edit); stale answers are dropped.
 */
class StateStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tcptrace.states', vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  private cancel: vscode.CancellationTokenSource | undefined;

  constructor(private readonly client: LanguageClient) {
    this.item.name = 'TCP Trace: endpoint states';
    this.item.command = 'editor.action.showHover';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule(50);
      }),
      vscode.languages.onDidChangeDiagnostics((e) => {
        const doc = vscode.window.activeTextEditor?.document;
        if (doc && e.uris.some((u) => u.toString() === doc.uri.toString())) this.schedule(0);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${CONFIG_SECTION}.statusBar`) || e.affectsConfiguration(`${CONFIG_SECTION}.states`)) this.schedule(0);
      }),
    );
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), delay);
  }

  private async update(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const enabled = vscode.workspace.getConfiguration(CONFIG_SECTION, editor?.document ?? null).get<boolean>('statusBar.enabled', true);
    if (!editor || editor.document.languageId !== LANGUAGE_ID || !enabled) {
      this.item.hide();
      return;
    }
    const generation = ++this.generation;
    this.cancel?.cancel();
    this.cancel = new vscode.CancellationTokenSource();
    const pos = editor.selection.active;
    let result: StatesAtResult | null;
    try {
      result = await request(
        this.client,
        statesAt,
        { textDocument: { uri: editor.document.uri.toString() }, position: { line: pos.line, character: pos.character } },
        this.cancel.token,
      );
    } catch {
      return; // Cancelled by a newer request, or the server is restarting.
    }
    if (generation !== this.generation) return;
    if (!result || result.endpoints.length === 0) {
      this.item.hide();
      return;
    }
    this.item.text = `$(arrow-swap) ${result.endpoints.map((e) => `${e.name} ${e.state}`).join(' · ')}`;
    const where = result.eventLine === null ? 'before the first event' : `after the event on line ${result.eventLine + 1}`;
    const tip = new vscode.MarkdownString(`**TCP states ${where}**\n\n`);
    for (const e of result.endpoints) tip.appendMarkdown(`- \`${e.name}\`: ${e.state}${e.changed ? ' (changed by this event)' : ''}\n`);
    tip.appendMarkdown('\nClick for the control blocks (hover).');
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: `TCP states ${where}: ${result.endpoints.map((e) => `${e.name} ${e.state}`).join(', ')}` };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.cancel?.cancel();
    for (const d of this.disposables) d.dispose();
  }
}
