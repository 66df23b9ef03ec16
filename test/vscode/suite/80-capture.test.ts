// Capture import inside a real VS Code (proposed for test/vscode/suite/, by the capture engineer):
// the command imports a capture's connection into an untitled trace, and .pcap/.pcapng files open
// in the read-only connection list.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceRoot } from './helpers';

describe('capture import', () => {
  let root: string;

  before(async () => {
    await activateExtension();
    root = join(workspaceRoot().fsPath, 'captures');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('imports the connection of a capture as an untitled trace', async () => {
    const capture = vscode.Uri.file(join(root, 'refused.pcapng'));
    await vscode.commands.executeCommand('tcptrace.importCapture', capture);
    const expected = readFileSync(join(root, 'expected/refused-1.tcptrace'), 'utf8');
    const doc = await waitFor('an untitled tcptrace document with the imported trace', () =>
      vscode.workspace.textDocuments.find((d) => d.isUntitled && d.languageId === 'tcptrace' && d.getText() === expected),
    );
    assert.equal(doc.getText(), expected);
  });

  it('opens .pcap files in the connection list', async () => {
    const capture = vscode.Uri.file(join(root, 'port-reuse.pcap'));
    await vscode.commands.executeCommand('vscode.open', capture);
    const tab = await waitFor('a tab with the capture in a custom editor', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === capture.toString()),
    );
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'tcptrace.captureViewer');
  });
});
