import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { activateExtension, lineOf, openFixture, openNewFile, waitFor } from './helpers';

function labelOf(hint: vscode.InlayHint): string {
  return typeof hint.label === 'string' ? hint.label : hint.label.map((part) => part.value).join('');
}

/** The labels of the inlay hints on `line`, once the server has answered for the document. */
async function hintsOn(doc: vscode.TextDocument, line: number, accept: (labels: string[]) => boolean): Promise<string[]> {
  const whole = new vscode.Range(0, 0, doc.lineCount, 0);
  let seen: string[] = [];
  return waitFor(`inlay hints on line ${line + 1}`, async () => {
    const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', doc.uri, whole);
    seen = (hints ?? []).filter((h) => h.position.line === line).map(labelOf);
    return accept(seen) ? seen : undefined;
  }, { describe: () => seen.join(' | ') || '(none)' });
}

describe('inlay hints', () => {
  before(activateExtension);

  it('show the state change an event causes', async () => {
    const doc = await openFixture('handshake.tcptrace');
    // The SYN,ACK arrives at the client: SYN_SENT -> ESTABLISHED.
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    const labels = await hintsOn(doc, line, (ls) => ls.length > 0);
    assert.ok(
      labels.some((l) => /client\W+SYN[_-]SENT\s*(->|→)\s*ESTABLISHED/i.test(l)),
      `client SYN_SENT -> ESTABLISHED among: ${labels.join(' | ')}`,
    );
  });

  it('show inferred seq and ack where the trace leaves them out', async () => {
    const doc = await openNewFile(
      'inferred.tcptrace',
      [
        'endpoint client 10.0.0.1:40000',
        'endpoint server 10.0.0.2:80',
        'server: listen',
        'client -> server: SYN seq=1000',
        'server -> client: SYN,ACK seq=5000 ack=1001',
        'client -> server: ACK',
        '',
      ].join('\n'),
    );
    const line = lineOf(doc, 'client -> server: ACK');
    const labels = await hintsOn(doc, line, (ls) => ls.some((l) => /seq=/.test(l)));
    assert.ok(labels.some((l) => /seq=1001\b/.test(l)), `seq=1001 among: ${labels.join(' | ')}`);
    assert.ok(labels.some((l) => /ack=5001\b/.test(l)), `ack=5001 among: ${labels.join(' | ')}`);
  });
});
