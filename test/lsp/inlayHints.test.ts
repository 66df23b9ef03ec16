import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InlayHint } from 'vscode-languageserver-protocol';
import { LspClient, lineOf, ROOT } from './support/lsp-client';

const TEXT = `server: listen
client: connect
client -> server: SYN seq=1000
server -> client: SYN,ACK seq=5000 ack=1001
client -> server: ACK    # both numbers inferred
client -> server: PSH,ACK seq=1001 len=10
`;

const ALL = { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } };

describe('inlay hints over LSP', () => {
  let c: LspClient;
  const uri = 'file:///hints.tcptrace';
  before(async () => {
    c = await LspClient.start({ settings: {} });
    await c.open(uri, TEXT);
  });
  after(() => c.stop());

  const hints = (u = uri, range = ALL): Promise<InlayHint[]> => c.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: u }, range });
  const labelsOn = (hs: InlayHint[], line: number): string[] => hs.filter((h) => h.position.line === line).map((h) => String(h.label));

  test('state changes at the end of the event\'s line (before nothing, after the comment)', async () => {
    const hs = await hints();
    assert.deepEqual(labelsOn(hs, 0), ['server CLOSED → LISTEN']);
    assert.deepEqual(labelsOn(hs, 1), ['client CLOSED → SYN_SENT']);
    assert.deepEqual(labelsOn(hs, 2), ['server LISTEN → SYN_RCVD']);
    assert.deepEqual(labelsOn(hs, 3), ['client SYN_SENT → ESTABLISHED']);
    const l4 = hs.filter((h) => h.position.line === 4 && String(h.label).includes('→'));
    assert.equal(l4.length, 1);
    assert.equal(l4[0].label, 'server SYN_RCVD → ESTABLISHED');
    assert.equal(l4[0].position.character, TEXT.split('\n')[4].length);
    assert.equal(l4[0].paddingLeft, true);
  });

  test('inferred seq and ack where the fields would be written', async () => {
    const hs = await hints();
    const line = 4;
    const text = TEXT.split('\n')[line];
    const nums = hs.filter((h) => h.position.line === line && !String(h.label).includes('→'));
    assert.deepEqual(
      nums.map((h) => [h.label, h.position.character]),
      [
        ['seq=1001', text.indexOf('ACK') + 3],
        ['ack=5001', text.indexOf('ACK') + 3],
      ],
    );
    // Only the missing one: seq is given on the data segment, its ack is inferred after it.
    const l5 = TEXT.split('\n')[5];
    const on5 = hs.filter((h) => h.position.line === 5);
    assert.deepEqual(
      on5.map((h) => [h.label, h.position.character]),
      [['ack=5001', l5.indexOf('seq=1001') + 'seq=1001'.length]],
    );
  });

  test('only the requested range', async () => {
    const hs = await hints(uri, { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } });
    assert.deepEqual([...new Set(hs.map((h) => h.position.line))], [2, 3]);
  });

  test('a symbolic trace: inferred numbers in symbols, and the values symbols are bound to', async () => {
    const text = readFileSync(join(ROOT, 'examples/symbolic.tcptrace'), 'utf8');
    const u = 'file:///symbolic-hints.tcptrace';
    await c.open(u, text);
    const hs = await hints(u);
    const finLine = lineOf(text, 'FIN,ACK seq=u ');
    assert.ok(labelsOn(hs, finLine).includes('= x+1'), labelsOn(hs, finLine).join(' | '));
    const ackLine = lineOf(text, 'server -> client: ACK ack=u+1');
    assert.ok(labelsOn(hs, ackLine).includes('seq=y+1'), labelsOn(hs, ackLine).join(' | '));
    // States in the trace's own spelling (option states=rfc).
    assert.ok(labelsOn(hs, finLine).includes('client ESTABLISHED → FIN-WAIT-1, server ESTABLISHED → CLOSE-WAIT'), labelsOn(hs, finLine).join(' | '));
  });

  test('each kind can be switched off, and the spelling set, in settings', async () => {
    await c.setSettings({ inlayHints: { stateChanges: false }, states: { spelling: 'rfc' } });
    let hs = await hints();
    assert.ok(hs.length > 0);
    assert.ok(hs.every((h) => !String(h.label).includes('→')));
    await c.setSettings({ inlayHints: { inferredNumbers: false } });
    hs = await hints();
    assert.ok(hs.every((h) => String(h.label).includes('→')));
    await c.setSettings({ states: { spelling: 'rfc' } });
    hs = await hints();
    assert.ok(labelsOn(hs, 2).includes('server LISTEN → SYN-RECEIVED'));
    await c.setSettings({ inlayHints: { stateChanges: false, inferredNumbers: false } });
    assert.deepEqual(await hints(), []);
  });
});
