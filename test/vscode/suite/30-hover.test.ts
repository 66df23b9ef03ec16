import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { activateExtension, hoverText, lineOf, openFixture, rangeOf, waitFor } from './helpers';

/** Hovers at the arrow of the event on the line containing `needle`, once the server answers. */
async function hoverOnEvent(doc: vscode.TextDocument, needle: string): Promise<string> {
  const line = lineOf(doc, needle);
  const at = rangeOf(doc, line, '->').start.translate(0, 1);
  return waitFor(`a hover on line ${line + 1}`, async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at);
    const text = hoverText(hovers ?? []);
    return text.trim() ? text : undefined;
  });
}

describe('hover', () => {
  before(activateExtension);

  it('on an event names both endpoints and their states after it', async () => {
    const doc = await openFixture('handshake.tcptrace');
    // After the SYN the two endpoints are in different states, so each must be named.
    const text = await hoverOnEvent(doc, 'client -> server: SYN seq=1000');
    assert.match(text, /client/);
    assert.match(text, /server/);
    assert.match(text, /SYN[_-]SENT/i, 'client is SYN_SENT');
    assert.match(text, /SYN[_-](RCVD|RECV|RECEIVED)/i, 'server is SYN_RCVD');
  });

  it('on an event shows the control block (SND.UNA, SND.NXT, RCV.NXT)', async () => {
    const doc = await openFixture('handshake.tcptrace');
    const text = await hoverOnEvent(doc, 'client -> server: ACK seq=1001 ack=5001');
    assert.match(text, /ESTABLISHED/);
    for (const variable of ['SND.UNA', 'SND.NXT', 'RCV.NXT']) assert.ok(text.includes(variable), variable);
    // After the handshake the client's SND.NXT is 1001 and its RCV.NXT is 5001.
    assert.match(text, /1001/);
    assert.match(text, /5001/);
  });
});
