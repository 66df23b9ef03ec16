/**
 * The TCP Trace language server: wiring only. Every feature lives in its own
 * module under ./features and reads the document's Analysis (one `check()`
 * per version); this file connects them to LSP.
 *
 * Started by the extension over IPC, or by any LSP client with `--stdio`.
 */
import {
  CodeActionKind,
  createConnection,
  DidChangeConfigurationNotification,
  ProposedFeatures,
  TextDocumentSyncKind,
  type CancellationToken,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { CONFIG_SECTION, statesAt, type InitializationOptions, type TcptraceSettings, type TypedRequest } from '../protocol';
import type { Analysis } from './analysis';
import { DocumentStore } from './documents';
import { computeCodeActions, FIX_ALL_KIND } from './features/codeActions';
import { COMPLETION_TRIGGERS, computeCompletion } from './features/completion';
import { computeDiagnostics } from './features/diagnostics';
import { formatDocument } from './features/formatting';
import { computeHover } from './features/hover';
import { computeInlayHints } from './features/inlayHints';
import { computeDefinition, computeHighlights, computeReferences, computeRename, prepareRename } from './features/names';
import { computeDocumentSymbols, computeFoldingRanges } from './features/outline';
import { computeSemanticTokens, LEGEND } from './features/semanticTokens';
import { computeStatesAt } from './features/statesAt';
import { Settings } from './settings';

const connection = createConnection(ProposedFeatures.all);
const store = new DocumentStore();
const settings = new Settings(connection, false);
let initOptions: InitializationOptions = {};
let canRefreshInlayHints = false;
let canRefreshSemanticTokens = false;
let canRegisterConfiguration = false;

connection.onInitialize((params): InitializeResult => {
  const caps = params.capabilities;
  initOptions = (params.initializationOptions ?? {}) as InitializationOptions;
  settings.setPull(caps.workspace?.configuration === true);
  canRefreshInlayHints = caps.workspace?.inlayHint?.refreshSupport === true;
  canRefreshSemanticTokens = caps.workspace?.semanticTokens?.refreshSupport === true;
  canRegisterConfiguration = caps.workspace?.didChangeConfiguration?.dynamicRegistration === true;
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      completionProvider: { triggerCharacters: COMPLETION_TRIGGERS },
      inlayHintProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      documentSymbolProvider: { label: 'TCP Trace' },
      foldingRangeProvider: true,
      semanticTokensProvider: { legend: LEGEND, full: true, range: true },
      documentFormattingProvider: true,
      documentRangeFormattingProvider: true,
      renameProvider: { prepareProvider: true },
      referencesProvider: true,
      definitionProvider: true,
      documentHighlightProvider: true,
    },
    serverInfo: { name: 'tcptrace-language-server', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  if (canRegisterConfiguration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: CONFIG_SECTION });
  }
});

// ---- documents and diagnostics ----

const pending = new Map<string, ReturnType<typeof setTimeout>>();
/** A check faster than this is not worth delaying to coalesce keystrokes. */
const QUICK_CHECK_MS = 30;

/**
 * Publishes diagnostics after a pause that adapts to the document: when the
 * last check was quick (small traces, and edits re-checked incrementally) at
 * once; when it took long, as long as it took (up to 300 ms), so that fast
 * typing coalesces into one check.
 */
function scheduleDiagnostics(uri: string): void {
  const t = pending.get(uri);
  if (t) clearTimeout(t);
  const last = store.lastCheckMs(uri);
  const delay = last < QUICK_CHECK_MS ? 0 : Math.min(300, Math.round(last));
  pending.set(
    uri,
    setTimeout(() => {
      pending.delete(uri);
      void publishDiagnostics(uri);
    }, delay),
  );
}

function docsBaseUrl(s: TcptraceSettings): string | undefined {
  return s.docs.baseUrl || initOptions.docsBaseUrl || undefined;
}

async function publishDiagnostics(uri: string): Promise<void> {
  try {
    const s = await settings.forDocument(uri);
    const a = store.analysis(uri, s);
    if (!a) return;
    await connection.sendDiagnostics({ uri, version: a.version, diagnostics: computeDiagnostics(a, docsBaseUrl(s)) });
  } catch (e) {
    connection.console.error(`tcptrace: checking ${uri} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

connection.onDidOpenTextDocument((p) => {
  store.open(p);
  scheduleDiagnostics(p.textDocument.uri);
});

connection.onDidChangeTextDocument((p) => {
  store.change(p);
  scheduleDiagnostics(p.textDocument.uri);
});

connection.onDidCloseTextDocument((p) => {
  const uri = p.textDocument.uri;
  const t = pending.get(uri);
  if (t) clearTimeout(t);
  pending.delete(uri);
  store.close(uri);
  settings.forget(uri);
  void connection.sendDiagnostics({ uri, diagnostics: [] });
});

connection.onDidChangeConfiguration((p) => {
  settings.setGlobal(p.settings);
  store.invalidate();
  for (const uri of store.uris()) scheduleDiagnostics(uri);
  if (canRefreshInlayHints) void connection.languages.inlayHint.refresh();
  if (canRefreshSemanticTokens) connection.languages.semanticTokens.refresh();
});

// ---- features ----

/** Runs a feature on the document's analysis; null when the document is not open. */
function withAnalysis<R>(uri: string, f: (a: Analysis, s: TcptraceSettings) => R): Promise<R | null> {
  return settings.forDocument(uri).then((s) => {
    const a = store.analysis(uri, s);
    return a ? f(a, s) : null;
  });
}

connection.onHover((p) => withAnalysis(p.textDocument.uri, (a) => computeHover(a, p.position)));
connection.onCompletion((p) => withAnalysis(p.textDocument.uri, (a) => computeCompletion(a, p.position)));
connection.languages.inlayHint.on((p) => withAnalysis(p.textDocument.uri, (a) => computeInlayHints(a, p.range)));
connection.onCodeAction((p) => withAnalysis(p.textDocument.uri, (a, s) => computeCodeActions(a, p, docsBaseUrl(s))));
connection.onDocumentSymbol((p) => withAnalysis(p.textDocument.uri, (a) => computeDocumentSymbols(a)));
connection.onFoldingRanges((p) => withAnalysis(p.textDocument.uri, (a) => computeFoldingRanges(a)));
connection.languages.semanticTokens.on((p) => withAnalysis(p.textDocument.uri, (a) => computeSemanticTokens(a)).then((r) => r ?? { data: [] }));
connection.languages.semanticTokens.onRange((p) => withAnalysis(p.textDocument.uri, (a) => computeSemanticTokens(a, p.range)).then((r) => r ?? { data: [] }));
connection.onReferences((p) => withAnalysis(p.textDocument.uri, (a) => computeReferences(a, p.position, p.context.includeDeclaration)));
connection.onDocumentHighlight((p) => withAnalysis(p.textDocument.uri, (a) => computeHighlights(a, p.position)));
connection.onDefinition((p) => withAnalysis(p.textDocument.uri, (a) => computeDefinition(a, p.position)));
connection.onPrepareRename((p) => withAnalysis(p.textDocument.uri, (a) => prepareRename(a, p.position)));
connection.onRenameRequest((p) => withAnalysis(p.textDocument.uri, (a) => computeRename(a, p.position, p.newName)));

// Formatting reuses the analysis' syntax tree (the text is parsed once per version).
connection.onDocumentFormatting((p) => withAnalysis(p.textDocument.uri, (a, s) => formatDocument(a.text, s.format, 0, a.lines.length, a.result.parsed)));

connection.onDocumentRangeFormatting((p) =>
  withAnalysis(p.textDocument.uri, (a, s) => {
    // A range that ends at column 0 does not include that line.
    const last = p.range.end.character === 0 && p.range.end.line > p.range.start.line ? p.range.end.line - 1 : p.range.end.line;
    return formatDocument(a.text, s.format, p.range.start.line, last, a.result.parsed);
  }),
);

onRequest(connection, statesAt, (p) => withAnalysis(p.textDocument.uri, (a) => computeStatesAt(a, p.position)));

/** Registers a handler for a request declared in ../protocol, typed on both ends. */
function onRequest<P, R>(conn: Connection, req: TypedRequest<P, R>, handler: (params: P, token: CancellationToken) => R | Promise<R>): void {
  conn.onRequest(req.method, async (params: unknown, token: CancellationToken): Promise<unknown> => handler(params as P, token));
}

connection.listen();
