import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { TextEdit } from 'vscode-languageserver-protocol';
import { check, parse } from '../../src/core';
import { formatDocument } from '../../src/server/features/formatting';
import { applyTextEdits, LspClient, ROOT } from './support/lsp-client';

const MESSY = `  title   "Messy"     # keep me
endpoint   client    10.0.0.1:40000   as  "Laptop"
OPTION  States=rfc
  ==   Open ==
server:    LISTEN   backlog=8
0.5   client   ->   server :  syn   seq=0x3e8   win=100   mss=1460
+10ms server -> client: ack + syn ack=1001 seq=5000 sackok mss=1460
client -X server: [.] ack=5001 seq=1001
client ~>server: psh , ack len=3 seq=1001 data="abc" as   f1
deliver    f1
expect   client   established ,  server  SYN_RECV
note   over client ,server :   free text   # trailing
client -> server: BOGUS seq=1
\t
`;

const FORMATTED = `title "Messy" # keep me
endpoint client 10.0.0.1:40000 as "Laptop"
option states=rfc
== Open ==
server: listen backlog=8
0.5 client -> server: SYN seq=0x3e8 win=100 mss=1460
+10ms server -> client: SYN,ACK seq=5000 ack=1001 mss=1460 sackok
client -x server: ACK seq=1001 ack=5001
client ~> server: PSH,ACK seq=1001 len=3 data="abc" as f1
deliver f1
expect client ESTABLISHED, server SYN-RECEIVED
note over client, server: free text # trailing
client -> server: BOGUS seq=1

`;

const opts = { tcpdumpFlags: 'convert' as const };
const format = (text: string, o: { tcpdumpFlags: 'convert' | 'keep' } = opts): string => applyTextEdits(text, formatDocument(text, o));

/** The parsed statements without positions and spelling (what a formatter may change). */
function contentOf(text: string): string {
  const drop = new Set(['start', 'end', 'valueStart', 'line', 'tcpdumpFlags', 'stateTok', 'keyword', 'callTok', 'flagsTok', 'arrowTok']);
  return JSON.stringify(parse(text).statements, function (this: Record<string, unknown>, k: string, v: unknown) {
    if (drop.has(k)) return undefined;
    // Option names are case-insensitive keywords.
    if (k === 'key' && this.kind === 'option') return (v as { name: string }).name.toLowerCase();
    // Fields and options may be reordered: compare objects key by key.
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)));
    return v;
  });
}

/** What a document says, without positions: statements' kinds and the checker's verdict. */
function meaning(text: string): unknown {
  const r = check(text);
  return {
    statements: r.parsed.statements.map((s) => s.kind),
    diagnostics: r.diagnostics.map((d) => [d.code, d.line]),
    states: Array.from({ length: r.timeline.length }, (_, i) => [r.timeline.state(i, 0), r.timeline.state(i, 1), r.timeline.segment(i)]),
  };
}

describe('formatting', () => {
  test('canonical spelling, spacing and field order; comments kept; a line with an error left as written', () => {
    assert.equal(format(MESSY), FORMATTED);
  });

  test('idempotent and meaning-preserving on every example', () => {
    for (const dir of ['examples', 'examples/mistakes']) {
      for (const f of readdirSync(join(ROOT, dir)).filter((x) => x.endsWith('.tcptrace'))) {
        const text = readFileSync(join(ROOT, dir, f), 'utf8');
        const once = format(text);
        assert.deepEqual(formatDocument(once, opts), [], `${f}: formatting twice changes nothing`);
        assert.deepEqual(meaning(once), meaning(text), f);
      }
    }
  });

  test('tcpdump letters: converted to words, or kept when asked', () => {
    const t = 'client -> server:   [S.]  seq=1\n';
    assert.equal(format(t), 'client -> server: SYN,ACK seq=1\n');
    assert.equal(format(t, { tcpdumpFlags: 'keep' }), 'client -> server: [S.] seq=1\n');
  });

  test('aligned trailing comments stay aligned; a lone one follows its code after one space', () => {
    assert.equal(format('client:   connect        # lone\n'), 'client: connect # lone\n');
    assert.equal(format('client:connect# tight\n'), 'client: connect # tight\n');
    assert.equal(format('   # indented comment\n'), '# indented comment\n');
    const aligned = 'client:  connect    # one\nserver:   listen    # two\n# a comment line ends the block\nclient: close # three\n';
    assert.equal(format(aligned), 'client: connect     # one\nserver: listen      # two\n# a comment line ends the block\nclient: close # three\n');
    // Code that grows past the block's column pushes the whole block right.
    const grows = 'c -> s: [S.] # a\nc:   close   # b\n';
    assert.equal(format(grows), 'c -> s: SYN,ACK # a\nc: close        # b\n');
  });

  test('CRLF line ends are kept', () => {
    assert.equal(format('client:  connect\r\nserver:  listen\r\n'), 'client: connect\r\nserver: listen\r\n');
  });

  test('property: any generated statement, spelled any way, formats to the same meaning, idempotently', () => {
    const ws = fc.constantFrom(' ', '  ', '\t', ' \t ');
    const sp = (parts: string[], gaps: string[]): string => parts.map((p, i) => p + (i < parts.length - 1 ? gaps[i % gaps.length] : '')).join('');
    const caseOf = (w: string, upper: boolean[]): string => [...w].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch.toLowerCase())).join('');
    const name = fc.constantFrom('client', 'server', 'a', 'B_2');
    const flagsArb = fc.subarray(['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'], { minLength: 1 });
    const num = fc.oneof(fc.nat(0xffffffff).map(String), fc.nat(0xffff).map((n) => '0x' + n.toString(16)), fc.constantFrom('x', 'y+1', 'u-2'));
    const field = fc.oneof(
      num.map((v) => `seq=${v}`),
      num.map((v) => `ack=${v}`),
      fc.nat(1000).map((v) => `len=${v}`),
      fc.nat(65535).map((v) => `win=${v}`),
      fc.nat(1460).map((v) => `mss=${v}`),
      fc.nat(14).map((v) => `wscale=${v}`),
      fc.constant('sackok'),
      fc.constant('data="a#b\\"c"'),
      fc.constant('ts=1:2'),
      fc.constant('sack=1-2,3-4'),
    );
    const segment = fc
      .record({
        time: fc.option(fc.constantFrom('0.5', '+10ms', '1s', '+2MSL'), { nil: undefined }),
        from: name,
        to: name,
        arrow: fc.constantFrom('->', '-x', '-X', '~>'),
        flags: flagsArb,
        sep: fc.constantFrom(',', '+', ' , '),
        fields: fc.uniqueArray(field, { selector: (f) => f.split('=')[0], maxLength: 5 }),
        upper: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        gaps: fc.array(ws, { minLength: 1, maxLength: 3 }),
        comment: fc.option(fc.constantFrom('# c', '#', '# x = "y"'), { nil: undefined }),
      })
      .map((r) => {
        const head = `${r.time ? r.time + ' ' : ''}${r.from}${r.gaps[0]}${r.arrow}${r.gaps[0]}${r.to}:`;
        const flags = r.flags.map((f) => caseOf(f, r.upper)).join(r.sep);
        const label = r.arrow === '~>' ? ['as', 'f1'] : [];
        return sp([head, flags, ...r.fields, ...label], r.gaps) + (r.comment ? r.gaps[0] + r.comment : '');
      });
    const other = fc.oneof(
      fc.record({ n: name, call: fc.constantFrom('connect', 'LISTEN backlog=5', 'send 10', 'send "x y"', 'bind 0.0.0.0:80', 'Close') , g: ws }).map((r) => `${r.n}:${r.g}${r.call}`),
      fc.record({ n: name, s: fc.constantFrom('syn-received', 'ESTAB', 'fin_wait1', 'TIME-WAIT', 'closed'), g: ws }).map((r) => `expect${r.g}${r.n}${r.g}${r.s}`),
      fc.record({ g: ws, t: fc.constantFrom('hello', '"quoted # not a comment"') }).map((r) => `note${r.g}over client,${r.g}server:${r.g}${r.t}`),
      fc.record({ g: ws }).map((r) => `${r.g}==${r.g}Section${r.g}==`),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(segment, other), { minLength: 1, maxLength: 6 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const once = format(text);
        assert.equal(format(once), once, 'idempotent');
        // Same statements with the same content, and the same checker verdict.
        assert.equal(contentOf(once), contentOf(text));
        assert.equal(parse(once).diagnostics.length, parse(text).diagnostics.length);
        assert.deepEqual(meaning(once), meaning(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('formatting over LSP', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start();
  });
  after(() => c.stop());

  test('textDocument/formatting returns the edits that give the canonical text', async () => {
    const uri = 'file:///messy.tcptrace';
    await c.open(uri, MESSY);
    const edits = await c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    await c.applyEdits(uri, edits);
    assert.equal(c.texts.get(uri), FORMATTED);
    const again = await c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    assert.deepEqual(again, []);
  });

  test('range formatting touches only the selected lines', async () => {
    const uri = 'file:///range.tcptrace';
    await c.open(uri, MESSY);
    const edits = await c.request<TextEdit[]>('textDocument/rangeFormatting', {
      textDocument: { uri },
      range: { start: { line: 4, character: 3 }, end: { line: 6, character: 0 } },
      options: { tabSize: 2, insertSpaces: true },
    });
    assert.deepEqual(
      edits.map((e) => e.range.start.line),
      [4, 5],
    );
  });

  test('the tcpdumpFlags setting reaches the formatter', async () => {
    await c.setSettings({ format: { tcpdumpFlags: 'keep' } });
    const uri = 'file:///keep.tcptrace';
    await c.open(uri, 'client  ->  server: [S.] seq=1\n');
    const edits = await c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    assert.equal(applyTextEdits('client  ->  server: [S.] seq=1\n', edits), 'client -> server: [S.] seq=1\n');
  });
});
