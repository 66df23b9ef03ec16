import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { LANGUAGE_ID, openFixture } from './helpers';

describe('language registration', () => {
  it('gives .tcptrace files the language id tcptrace', async () => {
    for (const fixture of ['handshake.tcptrace', 'mistakes/syn-ack-off-by-one.tcptrace']) {
      const doc = await openFixture(fixture);
      assert.equal(doc.languageId, LANGUAGE_ID, fixture);
    }
  });

  it('gives every example under examples/ the language id tcptrace', async () => {
    const examples = await vscode.workspace.findFiles('examples/**/*.tcptrace');
    for (const uri of examples) {
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, LANGUAGE_ID, vscode.workspace.asRelativePath(uri));
    }
  });

  it('activates the extension without error', async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'tcptrace');
    assert.ok(ext, 'the extension under development is loaded');
    await ext.activate();
    assert.equal(ext.isActive, true);
  });
});
