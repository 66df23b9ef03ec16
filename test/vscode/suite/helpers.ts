// Shared helpers for the in-VS-Code tests. Everything the language server produces
// arrives asynchronously, so assertions on it poll with a deadline and, on timeout,
// say what was there instead.
import * as vscode from 'vscode';

export const LANGUAGE_ID = 'tcptrace';

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need a workspace folder (test/vscode/fixtures copied by the runner)');
  return folder.uri;
}

let activation: Promise<vscode.Extension<unknown>> | undefined;

/**
 * The extension under test, activated. Activation errors surface here, once in full
 * (10-language.test.ts) and then as one short line per suite rather than as timeouts.
 */
export function activateExtension(): Promise<vscode.Extension<unknown>> {
  activation ??= (async () => {
    const ext = vscode.extensions.all.find(
      (e) => e.packageJSON?.name === 'tcptrace' && e.packageJSON?.publisher === 'tcptrace',
    );
    if (!ext) throw new Error('the tcptrace extension is not loaded (extensionDevelopmentPath?)');
    await ext.activate();
    return ext;
  })();
  return activation.catch((err: unknown) => {
    const short = new Error(`the extension did not activate: ${String(err).split('\n')[0]}`);
    short.stack = short.message;
    throw short;
  });
}

export async function openFixture(relativePath: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), relativePath));
  await vscode.window.showTextDocument(doc);
  return doc;
}

/** Writes `content` to a new file under the workspace's scratch/ folder and opens it. */
export async function openNewFile(name: string, content: string): Promise<vscode.TextDocument> {
  const uri = vscode.Uri.joinPath(workspaceRoot(), 'scratch', name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  return doc;
}

export async function readFixture(relativePath: string): Promise<string> {
  const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(workspaceRoot(), relativePath));
  return new TextDecoder().decode(bytes);
}

/** The 0-based index of the only line containing `needle`. */
export function lineOf(doc: vscode.TextDocument, needle: string): number {
  const lines = doc.getText().split(/\r?\n/);
  const found = lines.flatMap((text, i) => (text.includes(needle) ? [i] : []));
  if (found.length !== 1) throw new Error(`expected one line containing ${JSON.stringify(needle)}, found ${found.length}`);
  return found[0]!;
}

/** The range of `needle` on line `line`. */
export function rangeOf(doc: vscode.TextDocument, line: number, needle: string): vscode.Range {
  const start = doc.lineAt(line).text.indexOf(needle);
  if (start < 0) throw new Error(`line ${line + 1} does not contain ${JSON.stringify(needle)}`);
  return new vscode.Range(line, start, line, start + needle.length);
}

/** A diagnostic's code as a string, whether given plainly or with a documentation link. */
export function codeOf(d: vscode.Diagnostic): string | undefined {
  const code = typeof d.code === 'object' && d.code !== null ? d.code.value : d.code;
  return code === undefined ? undefined : String(code);
}

const severityName = ['error', 'warning', 'information', 'hint'];

export function describeDiagnostics(diagnostics: readonly vscode.Diagnostic[]): string {
  if (diagnostics.length === 0) return '  (none)';
  return diagnostics
    .map(
      (d) =>
        `  ${codeOf(d) ?? '-'} ${severityName[d.severity]} ` +
        `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1} ${d.message}`,
    )
    .join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than undefined, or throws after
 * `timeoutMs` with `describe()` (what was seen last) in the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = options.describe ? `\nlast seen:\n${options.describe()}` : '';
      const error = lastError ? `\nlast error: ${String(lastError)}` : '';
      throw new Error(`timed out waiting for ${what}${seen}${error}`);
    }
    await sleep(50);
  }
}

/** Waits until the diagnostics of `doc` satisfy `accept`, and returns them. */
export function waitForDiagnostics(
  doc: vscode.TextDocument,
  what: string,
  accept: (diagnostics: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 30_000,
): Promise<readonly vscode.Diagnostic[]> {
  return waitFor(
    `${what} in ${vscode.workspace.asRelativePath(doc.uri)}`,
    () => {
      const diagnostics = vscode.languages.getDiagnostics(doc.uri);
      return accept(diagnostics) ? diagnostics : undefined;
    },
    { timeoutMs, describe: () => describeDiagnostics(vscode.languages.getDiagnostics(doc.uri)) },
  );
}

export function errorsOf(diagnostics: readonly vscode.Diagnostic[]): vscode.Diagnostic[] {
  return diagnostics.filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
}

/** Replaces `oldText` on `line` with `newText` the way typing does: an unsaved edit. */
export async function replaceOnLine(doc: vscode.TextDocument, line: number, oldText: string, newText: string) {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, rangeOf(doc, line, oldText), newText);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`could not edit line ${line + 1}`);
}

/** Discards unsaved changes of `doc`, so that later tests (and shutdown) see the file as it was. */
export async function revert(doc: vscode.TextDocument): Promise<void> {
  if (!doc.isDirty) return;
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.files.revert');
}

/** The plain text of hover contents, whatever form each part takes. */
export function hoverText(hovers: readonly vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n---\n');
}

/** Everything a completion item could show or insert, for matching. */
export function completionText(item: vscode.CompletionItem): string {
  const label = typeof item.label === 'string' ? item.label : item.label.label;
  const insert = item.insertText === undefined ? '' : typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
  return `${label} ${insert}`;
}
