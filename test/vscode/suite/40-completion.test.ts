import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { activateExtension, completionText, openNewFile, waitFor } from './helpers';

// Everything up to the client's third segment of the handshake, cursor after its flags.
const PARTIAL = [
  'endpoint client 10.0.0.1:40000',
  'endpoint server 10.0.0.2:80',
  'server: listen',
  'client -> server: SYN seq=1000',
  'server -> client: SYN,ACK seq=5000 ack=1001',
  'client -> server: ACK ',
].join('\n');

async function completionsAtEnd(doc: vscode.TextDocument): Promise<vscode.CompletionItem[]> {
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  return waitFor('completion items', async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      doc.uri,
      end,
    );
    // Word-based suggestions may answer before the server; wait for the server's fields.
    return list?.items.some((i) => /^(seq|ack)=/.test(completionText(i))) ? list.items : undefined;
  });
}

describe('completion', () => {
  before(activateExtension);

  it('at a field position offers seq= and ack=', async () => {
    const doc = await openNewFile('completion-fields.tcptrace', PARTIAL);
    const texts = (await completionsAtEnd(doc)).map(completionText);
    assert.ok(texts.some((t) => t.startsWith('seq=')), `seq= among ${texts.join(' | ')}`);
    assert.ok(texts.some((t) => t.startsWith('ack=')), `ack= among ${texts.join(' | ')}`);
  });

  it('offers the expected next seq and ack', async () => {
    const doc = await openNewFile('completion-next.tcptrace', PARTIAL);
    const texts = (await completionsAtEnd(doc)).map(completionText);
    assert.ok(texts.some((t) => t.includes('seq=1001')), `seq=1001 among ${texts.join(' | ')}`);
    assert.ok(texts.some((t) => t.includes('ack=5001')), `ack=5001 among ${texts.join(' | ')}`);
  });
});
