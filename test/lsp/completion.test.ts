import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CompletionItem, CompletionList, TextEdit } from 'vscode-languageserver-protocol';
import { LspClient } from './support/lsp-client';

/** Header and handshake; the line being typed is appended after it. */
const BASE = `endpoint client 10.0.0.1:40000
endpoint server 10.0.0.2:80
server: listen
client -> server: SYN seq=1000
server -> client: SYN,ACK seq=5000 ack=1001
client -> server: ACK seq=1001 ack=5001
client -> server: PSH,ACK seq=1001 ack=5001 len=100
`;
const LINE = BASE.split('\n').length - 1;

describe('completion over LSP', () => {
  let c: LspClient;
  let n = 0;
  before(async () => {
    c = await LspClient.start();
  });
  after(() => c.stop());

  /** Completions at the end of `typed`, written on a new line after `base`. */
  async function complete(typed: string, base = BASE, after = ''): Promise<CompletionItem[]> {
    const uri = `file:///completion-${n++}.tcptrace`;
    await c.open(uri, base + typed + after + '\n');
    const line = base.split('\n').length - 1;
    const r = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line, character: typed.length } });
    return [...r.items].sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label));
  }
  const labels = (items: CompletionItem[]): string[] => items.map((i) => i.label);

  test('the expected next seq and ack are offered first, computed from the sender\'s TCB', async () => {
    // After 100 bytes from the client, the server's next segment: seq=5001 (its SND.NXT), ack=1101 (its RCV.NXT).
    const items = await complete('server -> client: ACK ');
    assert.deepEqual(labels(items).slice(0, 2), ['seq=5001', 'ack=1101']);
    assert.equal(items[0].preselect, true);
    const edit = items[0].textEdit as TextEdit;
    assert.deepEqual(edit.range, { start: { line: LINE, character: 22 }, end: { line: LINE, character: 22 } });
    // The client's next segment starts after its data.
    const fromClient = await complete('client -> server: PSH,ACK ');
    assert.deepEqual(labels(fromClient).slice(0, 2), ['seq=1101', 'ack=5001']);
  });

  test('a value after seq= or ack=: the expected number first, replacing what is typed', async () => {
    const items = await complete('server -> client: ACK seq=5001 ack=11');
    assert.equal(items[0].label, '1101');
    const edit = items[0].textEdit as TextEdit;
    const col = 'server -> client: ACK seq=5001 ack='.length;
    assert.deepEqual(edit.range, { start: { line: LINE, character: col }, end: { line: LINE, character: col + 2 } });
  });

  test('fields already given and ack= without the ACK flag are not offered', async () => {
    const items = await complete('client -> server: FIN seq=1101 ');
    const l = labels(items);
    assert.ok(!l.some((x) => x.startsWith('seq')), l.join(' '));
    assert.ok(!l.some((x) => x.startsWith('ack')), 'no ACK flag, no ack=');
    assert.ok(l.includes('len=') && l.includes('win=') && l.includes('mss=') && l.includes('sackok'));
  });

  test('flags: combinations typical of the sender\'s state first, then single flags', async () => {
    const items = await complete('client -> server: ');
    assert.deepEqual(labels(items).slice(0, 3), ['ACK', 'PSH,ACK', 'FIN,ACK']);
    for (const f of ['SYN', 'URG', 'ECE', 'CWR']) assert.ok(labels(items).includes(f), f);
    // A SYN from a fresh endpoint pair: the client is CLOSED before anything.
    const fresh = await complete('client -> server: ', 'endpoint client\nendpoint server\n');
    assert.equal(fresh[0].label, 'SYN');
    // After a separator: single flags not yet written, appended at the cursor.
    const more = await complete('client -> server: FIN,');
    assert.ok(!labels(more).includes('FIN'));
    assert.ok(labels(more).includes('ACK'));
    const ack = more.find((i) => i.label === 'ACK')!;
    assert.deepEqual((ack.textEdit as TextEdit).range.start, { line: LINE, character: 'client -> server: FIN,'.length });
  });

  test('line starts: endpoint pairs, calls, keywords; header keywords only before the first event', async () => {
    const items = await complete('');
    const l = labels(items);
    for (const x of ['client -> server: ', 'server -> client: ', 'client: ', 'server: ', 'expect', 'note', 'deliver']) assert.ok(l.includes(x), x);
    assert.ok(!l.includes('title') && !l.includes('endpoint'), 'headers are over');
    const pair = items.find((i) => i.label === 'client -> server: ')!;
    assert.equal(pair.command?.command, 'editor.action.triggerSuggest');
    const top = await complete('', '');
    assert.ok(labels(top).includes('title') && labels(top).includes('endpoint') && labels(top).includes('option'));
  });

  test('arrows after a name, the peer after an arrow', async () => {
    assert.deepEqual(labels(await complete('client ')).slice(0, 3), ['-> server: ', '-x server: ', '~> server: ']);
    assert.deepEqual(labels(await complete('client ~> ')), ['server']);
  });

  test('calls ranked by the endpoint\'s state', async () => {
    const established = await complete('client: ');
    assert.equal(established[0].label, 'send');
    const closed = await complete('client: ', 'endpoint client\nendpoint server\n');
    assert.deepEqual(labels(closed).slice(0, 2), ['listen', 'connect']);
    assert.equal(labels(closed).length, 12);
  });

  test('expect: endpoints, then states with the actual one first, in the trace\'s spelling', async () => {
    assert.deepEqual(labels(await complete('expect ')), ['client', 'server']);
    const states = await complete('expect client ');
    assert.equal(states[0].label, 'ESTABLISHED');
    assert.equal(states[0].preselect, true);
    assert.equal(states.length, 11);
    assert.deepEqual(labels(await complete('expect client ESTABLISHED, ')), ['server']);
    const rfc = await complete('expect server ', 'option states=rfc\nserver: listen\n');
    assert.equal(rfc[0].label, 'LISTEN');
    assert.ok(labels(rfc).includes('SYN-RECEIVED'));
  });

  test('deliver: the labels still in flight at this line', async () => {
    const base = BASE + 'client ~> server: ACK len=10 as late\nclient ~> server: ACK seq=1111 len=10 as later\ndeliver later\n';
    assert.deepEqual(labels(await complete('deliver ', base)), ['late']);
  });

  test('a label for an in-flight segment, options and their values', async () => {
    const fresh = await complete('client ~> server: ACK len=10 as ', BASE + 'client ~> server: ACK len=1 as f1\n');
    assert.deepEqual(labels(fresh), ['f2']);
    assert.deepEqual(labels(await complete('option ', '')), ['msl=', 'origin=', 'states=']);
    assert.deepEqual(labels(await complete('option origin=', '')), ['model', 'capture']);
  });

  test('nothing inside a comment or a string', async () => {
    assert.deepEqual(await complete('client -> server: ACK # seq='), []);
    assert.deepEqual(await complete('client -> server: ACK data="seq '), []);
  });
});
