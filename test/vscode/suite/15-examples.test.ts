// Every shipped example, opened as a person would, through the extension and its server.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { activateExtension, describeDiagnostics, errorsOf, revert, waitForDiagnostics } from './helpers';

async function examples(pattern: string): Promise<vscode.Uri[]> {
  const uris = await vscode.workspace.findFiles(pattern);
  return uris.sort((a, b) => a.path.localeCompare(b.path));
}

describe('examples', () => {
  before(activateExtension);
  after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('every example outside mistakes/ is free of errors', async function () {
    const uris = await examples('examples/*.tcptrace');
    if (uris.length === 0) this.skip();
    const problems: string[] = [];
    for (const uri of uris) {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      // A correct file publishes no diagnostics, which looks the same as "not checked yet".
      // So append a line the server must reject, wait for exactly that, and take it back.
      const probeLine = doc.lineCount;
      const edit = new vscode.WorkspaceEdit();
      edit.insert(uri, doc.lineAt(doc.lineCount - 1).range.end, '\nthis is not a statement');
      assert.equal(await vscode.workspace.applyEdit(edit), true);
      const ds = await waitForDiagnostics(doc, 'the probe line to be reported', (all) =>
        errorsOf(all).some((d) => d.range.start.line === probeLine),
      );
      const others = errorsOf(ds).filter((d) => d.range.start.line !== probeLine);
      if (others.length > 0) problems.push(`${vscode.workspace.asRelativePath(uri)}:\n${describeDiagnostics(others)}`);
      await revert(doc);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('every example under mistakes/ shows a diagnostic', async function () {
    const uris = await examples('examples/mistakes/*.tcptrace');
    if (uris.length === 0) this.skip();
    for (const uri of uris) {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      await waitForDiagnostics(doc, 'a diagnostic', (all) => all.length > 0, 15_000);
    }
  });
});
