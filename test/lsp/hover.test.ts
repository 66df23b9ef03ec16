import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { LspClient, lineOf, posOf, ROOT } from './support/lsp-client';

const FIRST_EXAMPLE = `# The textbook exchange
title "GET / over TCP"
endpoint client 10.0.0.1:40000
endpoint server 10.0.0.2:80

server: listen
client: connect
client -> server: SYN seq=1000 win=64240 mss=1460
server -> client: SYN,ACK seq=5000 ack=1001 win=65160 mss=1460
client -> server: ACK seq=1001 ack=5001
expect client ESTABLISHED, server ESTABLISHED

client -> server: PSH,ACK len=100
server -> client: ACK
`;

describe('hover over LSP', () => {
  let c: LspClient;
  const uri = 'file:///hover.tcptrace';
  const sym = 'file:///symbolic.tcptrace';
  const symText = readFileSync(join(ROOT, 'examples/symbolic.tcptrace'), 'utf8');
  before(async () => {
    c = await LspClient.start();
    await c.open(uri, FIRST_EXAMPLE);
    await c.open(sym, symText);
  });
  after(() => c.stop());

  const hover = async (u: string, pos: { line: number; character: number }): Promise<string> => {
    const h = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri: u }, position: pos });
    assert.ok(h, `a hover at ${JSON.stringify(pos)}`);
    return (h.contents as MarkupContent).value;
  };

  test('on an event: both endpoints\' states and control blocks after it', async () => {
    const line = lineOf(FIRST_EXAMPLE, 'SYN,ACK seq=5000');
    const v = await hover(uri, posOf(FIRST_EXAMPLE, line, 'seq=5000'));
    assert.match(v, /\| +\| `client` \| `server` \|/);
    assert.match(v, /\| state \| SYN_SENT → \*\*ESTABLISHED\*\* \| SYN_RCVD \|/);
    // The server's TCB: ISS 5000, SND.NXT 5001 (ISS+1), RCV.NXT 1001 (IRS+1).
    assert.match(v, /\| SND\.NXT \| 1001 \(ISS\+1\) \| 5001 \(ISS\+1\) \|/);
    assert.match(v, /\| RCV\.NXT \| 5001 \(IRS\+1\) \| 1001 \(IRS\+1\) \|/);
    assert.match(v, /\| ISS \| 1000 \| 5000 \|/);
    assert.match(v, /SND\.UNA/);
    assert.match(v, /RCV\.WND/);
  });

  test('inferred numbers are shown as inferred', async () => {
    const line = lineOf(FIRST_EXAMPLE, 'PSH,ACK len=100');
    const v = await hover(uri, { line, character: 0 });
    assert.match(v, /seq=1001 \*\(inferred\)\*/);
    assert.match(v, /ack=5001 \*\(inferred\)\*/);
    assert.match(v, /next seq=1101/);
    const v2 = await hover(uri, { line: line + 1, character: 2 });
    assert.match(v2, /ack=1101 \*\(inferred\)\*/);
  });

  test('on a flag, a field, an option, a call, a state, a keyword, an arrow: what it means', async () => {
    const cases: [string, string, RegExp][] = [
      ['SYN,ACK seq=5000', 'SYN', /\*\*`SYN`\*\* — Synchronize sequence numbers/],
      ['SYN,ACK seq=5000', 'ACK', /\*\*`ACK`\*\* — The acknowledgment field/],
      ['SYN,ACK seq=5000', 'seq=', /\*\*`seq`\*\* — Sequence number/],
      ['SYN,ACK seq=5000', 'mss=', /Maximum Segment Size/],
      ['SYN,ACK seq=5000', 'win=', /Receive window as sent/],
      ['client: connect', 'connect', /Active OPEN/],
      ['server: listen', 'listen', /CLOSED -> LISTEN/],
      ['expect client', 'ESTABLISHED', /State `ESTABLISHED`/],
      ['expect client', 'expect', /Asserts states/],
      ['endpoint client', 'endpoint', /Declares an endpoint/],
      ['title', 'title', /diagram title/],
      ['client -> server: SYN seq=1000', '->', /Sent and received at this point/],
    ];
    for (const [lineNeedle, word, re] of cases) {
      const line = lineOf(FIRST_EXAMPLE, lineNeedle);
      const v = await hover(uri, posOf(FIRST_EXAMPLE, line, word, 1));
      assert.match(v, re, `${word} on '${lineNeedle}'`);
    }
  });

  test('the hover range is the word under the cursor', async () => {
    const line = lineOf(FIRST_EXAMPLE, 'SYN,ACK seq=5000');
    const pos = posOf(FIRST_EXAMPLE, line, 'ACK', 1);
    const h = await c.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos });
    assert.deepEqual(h.range, { start: { line, character: pos.character - 1 }, end: { line, character: pos.character + 2 } });
  });

  test('on an expect line: the actual states there', async () => {
    const line = lineOf(FIRST_EXAMPLE, 'expect client ESTABLISHED');
    const v = await hover(uri, posOf(FIRST_EXAMPLE, line, 'server'));
    assert.match(v, /Actual states here/);
    assert.match(v, /\| state \| ESTABLISHED \| SYN_RCVD → \*\*ESTABLISHED\*\* \|/, "the previous event's change");
  });

  test('on an endpoint name: its address', async () => {
    const line = lineOf(FIRST_EXAMPLE, 'endpoint server');
    const v = await hover(uri, posOf(FIRST_EXAMPLE, line, 'server', 2));
    assert.match(v, /Endpoint `server`\*\* · address `10\.0\.0\.2:80`/);
  });

  test('symbolic trace: symbols\' values, numbers in the trace\'s terms, the trace\'s state spelling', async () => {
    const line = lineOf(symText, 'FIN,ACK seq=u');
    const onU = await hover(sym, posOf(symText, line, 'seq=u', 4));
    // u is bound to the client's SND.NXT, x+1.
    assert.match(onU, /Symbol `u`\*\* = \d+ \(x\+1\)/);
    const v = await hover(sym, { line, character: 0 });
    assert.match(v, /Symbols: `u` = \d+/);
    assert.match(v, /ESTABLISHED → \*\*FIN-WAIT-1\*\*/, 'option states=rfc is followed');
    assert.match(v, /\| SND\.NXT \| x\+2 = \d+ \|/);
    const onX = await hover(sym, posOf(symText, lineOf(symText, 'SYN seq=x'), 'seq=x', 4));
    assert.match(onX, /Symbol `x`\*\* = \d+ — client's initial sequence number/);
  });

  test('on a comment or a blank line: nothing', async () => {
    const h = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 3 } });
    assert.equal(h, null);
    const h2 = await c.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 4, character: 0 } });
    assert.equal(h2, null);
  });
});
