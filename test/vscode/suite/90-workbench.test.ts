// Leaves the workbench as a person would see it with a mistake open, and asks the runner
// (test/vscode/run.ts) to check what is rendered (squiggle, Problems entry, status bar) and
// photograph it.
import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { requestWorkbenchChecks } from './channel';
import { activateExtension, codeOf, openNewFile, readFixture, waitForDiagnostics } from './helpers';

describe('workbench', () => {
  before(activateExtension);

  it('shows a mistake: squiggle, Problems entry, states at the cursor in the status bar', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // One mistake, one diagnostic: a clear picture (an off-by-one ACK of a SYN is followed
    // by the consequences of the client refusing it).
    const doc = await openNewFile('shown.tcptrace', await readFixture('mistakes/fin-ack-off-by-one.tcptrace'));
    const ds = await waitForDiagnostics(doc, 'TT302', (all) => all.some((d) => codeOf(d) === 'TT302'));
    const line = ds.find((d) => codeOf(d) === 'TT302')!.range.start.line;
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), doc.uri.toString());
    // Cursor on the mistake: the status bar shows both endpoints' states there.
    const at = new vscode.Position(line, doc.lineAt(line).text.indexOf('ack='));
    editor!.selection = new vscode.Selection(at, at);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    // Files other tests opened keep their diagnostics while VS Code keeps their models: show
    // this file's only ("Show Active File Only", off in a fresh profile).
    await vscode.commands.executeCommand('workbench.actions.workbench.panel.markers.view.toggleActiveFile');
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    requestWorkbenchChecks(
      { kind: 'squiggle', severity: 'error' },
      { kind: 'problem', text: 'TT302' },
      // After the wrong ACK the client's FIN is still unacknowledged; the server got it.
      { kind: 'statusbar', text: 'FIN_WAIT_1' },
      { kind: 'statusbar', text: 'CLOSE_WAIT' },
    );
  });
});
