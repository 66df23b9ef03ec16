import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentSymbol, FoldingRange, SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver-protocol';
import type { StatesAtResult } from '../../src/protocol';
import { decodeSemanticTokens, LspClient, lineOf, ROOT } from './support/lsp-client';

interface Shape {
  name: string;
  lines: [number, number];
  children?: Shape[];
}
const shape = (s: DocumentSymbol): Shape => ({
  name: s.name,
  lines: [s.range.start.line, s.range.end.line],
  ...(s.children && s.children.length > 0 ? { children: s.children.map(shape) } : {}),
});

/** No sections: the phases come from the states alone. */
const PLAIN = `# comment one
# comment two
server: listen
client -> server: SYN seq=1
server -> client: SYN,ACK seq=9 ack=2
client -> server: ACK seq=2 ack=10
expect client ESTABLISHED
client -> server: PSH,ACK seq=2 ack=10 len=5
server -> client: ACK seq=10 ack=7
client -> server: FIN,ACK seq=7 ack=10
server -> client: FIN,ACK seq=10 ack=8
client -> server: ACK seq=8 ack=11
client: timeout
`;

describe('document symbols, folding, semantic tokens, states at a position', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start();
  });
  after(() => c.stop());

  test('phases from the timeline: handshake, data transfer, teardown', async () => {
    const uri = 'file:///plain.tcptrace';
    await c.open(uri, PLAIN);
    const symbols = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(symbols.map(shape), [
      { name: 'Handshake', lines: [2, 6] },
      { name: 'Data transfer', lines: [7, 8] },
      { name: 'Teardown', lines: [9, 12] },
    ]);
    assert.equal(symbols[0].detail, '4 events, lines 3-7');
  });

  test('title, endpoints and sections with their phases', async () => {
    const text = readFileSync(join(ROOT, 'examples/close-by-client.tcptrace'), 'utf8');
    const uri = 'file:///sections.tcptrace';
    await c.open(uri, text);
    const symbols = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    const at = (needle: string): number => lineOf(text, needle);
    const lastBefore = (needle: string): number => at(needle) - 2; // a blank line separates sections
    const end = text.trimEnd().split('\n').length - 1;
    assert.deepEqual(symbols.map(shape), [
      { name: 'Four-way close started by the client', lines: [at('title'), at('title')] },
      { name: 'client', lines: [at('endpoint client'), at('endpoint client')] },
      { name: 'server', lines: [at('endpoint server'), at('endpoint server')] },
      {
        name: 'Handshake and a little data',
        lines: [at('== Handshake'), lastBefore('== The client closes')],
        children: [
          { name: 'Handshake', lines: [at('server: listen'), at('client -> server: [.] seq=3001 ack=7001')] },
          { name: 'Data transfer', lines: [at('[P.] seq=3001'), lastBefore('== The client closes')] },
        ],
      },
      { name: 'The client closes', lines: [at('== The client closes'), lastBefore('== The server closes')], children: [{ name: 'Teardown', lines: [at('client: close'), lastBefore('== The server closes')] }] },
      { name: 'The server closes', lines: [at('== The server closes'), end], children: [{ name: 'Teardown', lines: [at('server: close'), end] }] },
    ]);
    // Endpoints show their address and label.
    assert.equal(symbols[1].detail, '172.16.0.10:50312 "ssh client"');
  });

  test('folding: sections, phases and comment blocks', async () => {
    const uri = 'file:///plain.tcptrace';
    const ranges = await c.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.deepEqual(
      ranges.map((r) => [r.startLine, r.endLine, r.kind]),
      [
        [0, 1, 'comment'],
        [2, 6, 'region'],
        [7, 8, 'region'],
        [9, 12, 'region'],
      ],
    );
  });

  test('semantic tokens: endpoints, labels and symbols told apart; declarations marked', async () => {
    const legend = c.initializeResult.capabilities.semanticTokensProvider!.legend as SemanticTokensLegend;
    const text = 'endpoint client\nclient ~> server: SYN,ACK seq=x ack=y+1 mss=1460 as f1 # note\ndeliver f1\nexpect client SYN_SENT\n';
    const uri = 'file:///tokens.tcptrace';
    await c.open(uri, text);
    const r = await c.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
    const tokens = decodeSemanticTokens(r.data, legend).map((t) => [t.line, text.split('\n')[t.line].slice(t.start, t.start + t.length), t.type, t.modifiers.join()]);
    assert.deepEqual(tokens, [
      [0, 'endpoint', 'keyword', ''],
      [0, 'client', 'variable', 'declaration'],
      [1, 'client', 'variable', ''],
      [1, '~>', 'operator', ''],
      [1, 'server', 'variable', ''],
      [1, 'SYN', 'enumMember', ''],
      [1, 'ACK', 'enumMember', ''],
      [1, 'seq', 'property', ''],
      [1, 'x', 'parameter', 'declaration'],
      [1, 'ack', 'property', ''],
      [1, 'y', 'parameter', 'declaration'], // unbound until here: ack=y+1 binds it
      [1, '1', 'number', ''],
      [1, 'mss', 'property', ''],
      [1, '1460', 'number', ''],
      [1, 'as', 'keyword', ''],
      [1, 'f1', 'label', 'declaration'],
      [2, 'deliver', 'keyword', ''],
      [2, 'f1', 'label', ''],
      [3, 'expect', 'keyword', ''],
      [3, 'client', 'variable', ''],
      [3, 'SYN_SENT', 'type', ''],
    ]);
    const ranged = await c.request<SemanticTokens>('textDocument/semanticTokens/range', {
      textDocument: { uri },
      range: { start: { line: 2, character: 0 }, end: { line: 2, character: 10 } },
    });
    assert.deepEqual(
      decodeSemanticTokens(ranged.data, legend).map((t) => [t.line, t.start, t.type]),
      [
        [2, 0, 'keyword'],
        [2, 8, 'label'],
      ],
    );
  });

  test('tcptrace/statesAt: both endpoints\' states after the event at or before the cursor', async () => {
    const uri = 'file:///plain.tcptrace';
    const at = (line: number, character = 0): Promise<StatesAtResult> =>
      c.request<StatesAtResult>('tcptrace/statesAt', { textDocument: { uri }, position: { line, character } });
    assert.deepEqual(await at(0), {
      endpoints: [
        { name: 'server', state: 'CLOSED', changed: false },
        { name: 'client', state: 'CLOSED', changed: false },
      ],
      eventLine: null,
    });
    assert.deepEqual(await at(3, 5), {
      endpoints: [
        { name: 'server', state: 'SYN_RCVD', changed: true },
        { name: 'client', state: 'SYN_SENT', changed: true },
      ],
      eventLine: 3,
    });
    // On the expect line: the states after the ACK above it, unchanged by this line.
    assert.deepEqual(await at(6), {
      endpoints: [
        { name: 'server', state: 'ESTABLISHED', changed: false },
        { name: 'client', state: 'ESTABLISHED', changed: false },
      ],
      eventLine: 5,
    });
    const last = await at(12);
    assert.deepEqual(
      last.endpoints.map((e) => e.state),
      ['CLOSED', 'CLOSED'],
    );
    await c.setSettings({ states: { spelling: 'rfc' } });
    assert.deepEqual(
      (await at(3)).endpoints.map((e) => e.state),
      ['SYN-RECEIVED', 'SYN-SENT'],
    );
    assert.equal(await c.request('tcptrace/statesAt', { textDocument: { uri: 'file:///not-open.tcptrace' }, position: { line: 0, character: 0 } }), null);
  });
});
