/**
 * The diagram model and its Mermaid text (spec section 7), checked against
 * real check() results: exact output for small traces, structural invariants
 * read back from the timeline, self-contained chunks, and escaping of any
 * user text (fast-check).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { check, stateName, type CheckResult } from '../../src/core/index';
import { buildDiagram, itemAtOrBefore, statesBefore } from '../../src/core/diagram/model';
import { toMermaid, renderMermaid, chunkRanges, LINE_GRAMMAR, HIGHLIGHT } from '../../src/core/diagram/mermaid';
import { escapeText, encode, truncate, visible, ESCAPED_TEXT, ELLIPSIS } from '../../src/core/diagram/escape';

const GRAMMAR = Object.values(LINE_GRAMMAR);
const MESSAGE = LINE_GRAMMAR.message;
const STATE_NAMES = new Set<string>();
for (let s = 0; s <= 10; s++) {
  STATE_NAMES.add(stateName(s, 'socket'));
  STATE_NAMES.add(stateName(s, 'rfc'));
}

function lines(mermaid: string): string[] {
  assert.ok(mermaid.endsWith('\n'), 'output ends with a newline');
  return mermaid.slice(0, -1).split('\n');
}

/** Every line matches one statement kind, and nothing Mermaid could interpret is left raw. */
function assertWellFormed(mermaid: string): void {
  for (const l of lines(mermaid)) {
    assert.ok(
      GRAMMAR.some((re) => re.test(l)),
      `line does not match the grammar: ${JSON.stringify(l)}`,
    );
    // Entity codes are the only use of `#` and `;`.
    const bare = l.replace(/#\d+;/g, '').replace(/^(\s*)E[01](?:->>|-x|-\)|--\))E[01]: /, '$1');
    assert.doesNotMatch(bare, /[#;<>"`{}$%\\]/, `raw special character in ${JSON.stringify(l)}`);
  }
  assert.ok(!mermaid.includes('%%'), 'no %% anywhere');
  assert.ok(!/[\r\u2028\u2029]/.test(mermaid), 'no other line breaks');
}

/** The `Note over ID: STATE` lines of a body, as [id, state] pairs. */
function stateNotes(ls: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const l of ls) {
    const m = /^\s*Note over (E[01]): (\S+)$/.exec(l);
    if (m && STATE_NAMES.has(m[2])) out.push([m[1], m[2]]);
  }
  return out;
}

const HANDSHAKE = `# The textbook exchange: handshake, one request, active close by the client.
title "GET / over TCP"
endpoint client 10.0.0.1:40000
endpoint server 10.0.0.2:80

server: listen
client: connect
client -> server: SYN seq=1000 win=64240 mss=1460
server -> client: SYN,ACK seq=5000 ack=1001 win=65160 mss=1460
client -> server: ACK seq=1001 ack=5001
expect client ESTABLISHED, server ESTABLISHED

client -> server: PSH,ACK seq=1001 ack=5001 len=100
server -> client: ACK seq=5001 ack=1101

client: close
client -> server: FIN,ACK seq=1101 ack=5001
server -> client: ACK seq=5001 ack=1102
server: close
server -> client: FIN,ACK seq=5001 ack=1102
client -> server: ACK seq=1102 ack=5002
expect client TIME_WAIT, server CLOSED
client: timeout
`;

describe('diagram: expected Mermaid for small traces', () => {
  test('the textbook exchange', () => {
    const r = check(HANDSHAKE);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(
      renderMermaid(r),
      `sequenceDiagram
title GET / over TCP
participant E0 as client 10.0.0.1#58;40000
participant E1 as server 10.0.0.2#58;80
Note over E0: CLOSED
Note over E1: CLOSED
Note over E1: listen()
Note over E1: LISTEN
Note over E0: connect()
Note over E0: SYN_SENT
E0->>E1: SYN seq=1000 win=64240 mss=1460
Note over E1: SYN_RCVD
E1->>E0: SYN,ACK seq=5000 ack=1001 win=65160 mss=1460
Note over E0: ESTABLISHED
E0->>E1: ACK seq=1001 ack=5001
Note over E1: ESTABLISHED
E0->>E1: PSH,ACK seq=1001 ack=5001 len=100
E1->>E0: ACK seq=5001 ack=1101
Note over E0: close()
Note over E0: FIN_WAIT_1
E0->>E1: FIN,ACK seq=1101 ack=5001
Note over E1: CLOSE_WAIT
E1->>E0: ACK seq=5001 ack=1102
Note over E0: FIN_WAIT_2
Note over E1: close()
Note over E1: LAST_ACK
E1->>E0: FIN,ACK seq=5001 ack=1102
Note over E0: TIME_WAIT
E0->>E1: ACK seq=1102 ack=5002
Note over E1: CLOSED
Note over E0: timeout (2MSL)
Note over E0: CLOSED
`,
    );
  });

  test('a lost segment is a -x arrow, its retransmission a normal one', () => {
    const r = check(`endpoint a
endpoint b
b: listen
a -> b: SYN seq=0
b -> a: SYN,ACK seq=0 ack=1
a -> b: ACK seq=1 ack=1
a -x b: PSH,ACK seq=1 ack=1 len=10
a: rto
a -> b: PSH,ACK seq=1 ack=1 len=10
b -> a: ACK seq=1 ack=11
`);
    const out = lines(renderMermaid(r, { minSeverity: 'warning' }));
    const tail = out.slice(out.indexOf('E0->>E1: ACK seq=1 ack=1'));
    assert.deepEqual(tail, [
      'E0->>E1: ACK seq=1 ack=1',
      'Note over E1: ESTABLISHED',
      'E0-xE1: PSH,ACK seq=1 ack=1 len=10',
      'Note over E0: rto (retransmission timeout)',
      'E0->>E1: PSH,ACK seq=1 ack=1 len=10',
      'E1->>E0: ACK seq=1 ack=11',
    ]);
  });

  test('an in-flight segment shows where it leaves and where it arrives', () => {
    const r = check(`endpoint client
endpoint server
server: listen
client -> server: SYN seq=100
server ~> client: SYN,ACK seq=300 ack=101 as synack
note client: still waiting
deliver synack
client -> server: ACK seq=101 ack=301
`);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity !== 'information'), []);
    const out = lines(renderMermaid(r, { minSeverity: 'warning' }));
    assert.deepEqual(out.slice(out.indexOf('Note over E1: SYN_RCVD')), [
      'Note over E1: SYN_RCVD',
      'E1-)E0: [synack sent] SYN,ACK seq=300 ack=101',
      'Note over E0: still waiting',
      'E1--)E0: [synack arrives] SYN,ACK seq=300 ack=101',
      'Note over E0: ESTABLISHED',
      'E0->>E1: ACK seq=101 ack=301',
      'Note over E1: ESTABLISHED',
    ]);
    const m = buildDiagram(r);
    const arrival = m.items.find((i) => i.kind === 'segment' && i.arrow === 'delivered-later');
    assert.ok(arrival && arrival.kind === 'segment');
    assert.equal(arrival.sentLine, 4);
    assert.equal(arrival.line, 6);
    assert.equal(arrival.flight, 'synack');
  });

  test('an event with an error is highlighted with its code and message', () => {
    const r = check(`endpoint client
endpoint server
server: listen
client -> server: SYN seq=1000
server -> client: SYN,ACK seq=5000 ack=1000
`);
    const d = r.diagnostics.find((x) => x.code === 'TT302');
    assert.ok(d, 'the checker reports the off-by-one');
    const out = lines(renderMermaid(r));
    const at = out.indexOf(`rect ${HIGHLIGHT.error}`);
    assert.ok(at > 0, 'a red highlight');
    assert.equal(out[at + 1], '  E1->>E0: SYN,ACK seq=5000 ack=1000');
    assert.equal(out[at + 2], `  Note over E0,E1: wrap:${escapeText(`error TT302: ${d.message}`, 300)}`);
    assert.match(out[at + 2], /^  Note over E0,E1: wrap:error TT302#58; /);
    const end = out.indexOf('end', at);
    assert.ok(end > at + 2, 'the highlight is closed');
    // State notes follow the highlight, so it frames just the event and its messages.
    assert.ok(out.slice(end + 1).every((l) => !l.startsWith('  ')));
  });

  test('warnings and information get their own tints; minSeverity filters them', () => {
    const r = check(`endpoint a
endpoint b
b: listen
a -> b: SYN seq=0
b -> a: SYN,ACK seq=0 ack=1
a -> b: ACK seq=1 ack=1
a -> b: ACK seq=1 ack=1
`);
    const infos = r.diagnostics.filter((d) => d.severity === 'information');
    assert.ok(infos.length > 0, `expected information diagnostics, got ${JSON.stringify(r.diagnostics.map((d) => d.code))}`);
    const all = renderMermaid(r);
    assert.ok(all.includes(`rect ${HIGHLIGHT.information}`));
    const errorsOnly = renderMermaid(r, { minSeverity: 'error' });
    assert.ok(!errorsOnly.includes('rect '));
    assert.ok(!errorsOnly.includes('wrap:'));
  });

  test('inferred numbers are in parentheses, given ones are not', () => {
    const r = check(`endpoint client
endpoint server
server: listen
client -> server: SYN seq=1000
server -> client: SYN,ACK seq=5000
client -> server: ACK
client -> server: PSH,ACK seq=1001 len=5
`);
    const msgs = lines(renderMermaid(r, { minSeverity: 'error' })).filter((l) => MESSAGE.test(l));
    assert.deepEqual(msgs, [
      'E0->>E1: SYN seq=1000',
      'E1->>E0: SYN,ACK seq=5000 (ack=1001)',
      'E0->>E1: ACK (seq=1001) (ack=5001)',
      'E0->>E1: PSH,ACK seq=1001 (ack=5001) len=5',
    ]);
  });

  test('a symbolic trace shows inferred numbers relative to the nearest symbol', () => {
    const r = check(`server: listen
client -> server: SYN seq=x
server -> client: SYN,ACK seq=y ack=x+1
client -> server: ACK seq=x+1 ack=y+1
client -> server: FIN,ACK seq=u
server -> client: ACK ack=u+1
`);
    const msgs = lines(renderMermaid(r, { minSeverity: 'error' })).filter((l) => MESSAGE.test(l));
    assert.deepEqual(msgs, [
      'E1->>E0: SYN seq=x',
      'E0->>E1: SYN,ACK seq=y ack=x+1',
      'E1->>E0: ACK seq=x+1 ack=y+1',
      'E1->>E0: FIN,ACK seq=u (ack=y+1)',
      'E0->>E1: ACK (seq=y+1) ack=u+1',
    ]);
  });

  test('option states=rfc spells states the RFC way; the option can override it', () => {
    const r = check(`option states=rfc
endpoint client
endpoint server
server: listen
client -> server: SYN seq=0
server -> client: SYN,ACK seq=0 ack=1
client -> server: ACK seq=1 ack=1
client: close
client -> server: FIN,ACK seq=1 ack=1
`);
    const notes = stateNotes(lines(renderMermaid(r, { minSeverity: 'error' })));
    assert.deepEqual(notes, [
      ['E0', 'CLOSED'],
      ['E1', 'CLOSED'],
      ['E1', 'LISTEN'],
      ['E0', 'SYN-SENT'],
      ['E1', 'SYN-RECEIVED'],
      ['E0', 'ESTABLISHED'],
      ['E1', 'ESTABLISHED'],
      ['E0', 'FIN-WAIT-1'],
      ['E1', 'CLOSE-WAIT'],
    ]);
    const socket = stateNotes(lines(renderMermaid(r, { states: 'socket', minSeverity: 'error' })));
    assert.deepEqual(
      socket.map((n) => n[1]),
      ['CLOSED', 'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'ESTABLISHED', 'FIN_WAIT_1', 'CLOSE_WAIT'],
    );
  });

  test('tcpdump flags, data, window and options in short form', () => {
    const r = check(`endpoint c 10.0.0.1:1
endpoint s as "Web server"
s: listen
c -> s: [S] seq=0 win=1024 mss=1460 wscale=7 sackok ts=10:0
s -> c: [S.] seq=0 ack=1 mss=1400 sackok
c -> s: [.] seq=1 ack=1
c -> s: [P.] seq=1 ack=1 data="GET / HTTP/1.1\\nHost: example.org\\n\\n"
`);
    const out = lines(renderMermaid(r, { minSeverity: 'error' }));
    assert.equal(out[2], 'participant E1 as Web server (s)');
    const msgs = out.filter((l) => MESSAGE.test(l));
    assert.deepEqual(msgs, [
      'E0->>E1: [S] seq=0 win=1024 mss=1460 ws=7 sackOK ts=10#58;0',
      'E1->>E0: [S.] seq=0 ack=1 mss=1400 sackOK',
      'E0->>E1: [.] seq=1 ack=1',
      'E0->>E1: [P.] seq=1 ack=1 len=34 #34;GET / HTTP/1.1#92;nHost#58; e#8230;#34;',
    ]);
  });

  test('user notes, sections and calls', () => {
    const r = check(`endpoint a
endpoint b
== Opening ==
b: listen backlog=5
note b: waits for a SYN
note over a, b: both sides
note b, a: reversed
b: send "hi"
`);
    const out = lines(renderMermaid(r, { minSeverity: 'error' }));
    assert.deepEqual(out.slice(5), [
      'Note over E0,E1: == Opening ==',
      'Note over E1: listen(backlog=5)',
      'Note over E1: LISTEN',
      'Note over E1: waits for a SYN',
      'Note over E0,E1: both sides',
      'Note over E0,E1: reversed',
      'Note over E1: send(#34;hi#34;)',
    ]);
  });

  test('a problem on a header line is shown at its place, before the events', () => {
    const r = check(`title "one"
title "two"
endpoint a
endpoint b
b: listen
`);
    const d = r.diagnostics.find((x) => x.line === 1);
    assert.ok(d, 'a diagnostic on the second title');
    const m = buildDiagram(r);
    assert.equal(m.items[0].kind, 'problem');
    assert.equal(m.items[0].line, 1);
    const out = lines(toMermaid(m));
    assert.equal(out[1], 'title one');
    assert.equal(out[6], `rect ${HIGHLIGHT[d.severity]}`);
  });

  test('a segment from a third endpoint cannot be an arrow: it is shown as written, with its error', () => {
    const r = check(`endpoint client
endpoint server
server: listen
attacker -> server: RST seq=7
`);
    const d = r.diagnostics.find((x) => x.code === 'TT105');
    assert.ok(d);
    const out = lines(renderMermaid(r));
    assert.deepEqual(out.slice(out.indexOf(`rect ${HIGHLIGHT.error}`)), [
      `rect ${HIGHLIGHT.error}`,
      '  Note over E0,E1: attacker -#62; server#58; RST seq=7',
      `  Note over E0,E1: wrap:${escapeText(`error TT105: ${d.message}`, 300)}`,
      'end',
    ]);
    assert.equal(out.filter((l) => MESSAGE.test(l)).length, 0);
  });

  test('an empty trace is an empty diagram; a trace without endpoints still shows its problems', () => {
    assert.equal(renderMermaid(check('')), 'sequenceDiagram\n');
    const out = renderMermaid(check('title "x"\nbogus statement\n'));
    assert.ok(out.startsWith('sequenceDiagram\ntitle x\nparticipant E0 as (no endpoints)\n'), out);
    assert.ok(out.includes('wrap:error TT100'));
    assertWellFormed(out);
  });
});

// ---- invariants read back from the timeline ----

const CORPUS: string[] = [
  HANDSHAKE,
  `server: listen
client -> server: SYN seq=x
server -> client: SYN,ACK seq=y ack=x+1
client -> server: ACK seq=x+1 ack=y+1
client -> server: FIN,ACK seq=u
server -> client: ACK ack=u+1
server -> client: FIN,ACK seq=w ack=u+1
client -> server: ACK seq=u+1 ack=w+1
`,
  // Simultaneous close with crossing FINs in flight, a loss and an error.
  `endpoint a 10.0.0.1:1000
endpoint b 10.0.0.2:2000
b: listen
a -> b: SYN seq=0
b -> a: SYN,ACK seq=0 ack=1
a -> b: ACK seq=1 ack=1
a -x b: PSH,ACK seq=1 ack=1 len=10
a -> b: PSH,ACK seq=1 ack=1 len=10
b -> a: ACK seq=1 ack=12
a ~> b: FIN,ACK seq=11 ack=1 as fa
b ~> a: FIN,ACK seq=1 ack=11 as fb
deliver fa
deliver fb
a -> b: ACK seq=12 ack=2
b -> a: ACK seq=2 ack=12
a: timeout
b: timeout
`,
  // Errors everywhere: a missing listen, an unknown delivery, a bad field.
  `endpoint a
endpoint b
a -> b: SYN
b -> a: SYN,ACK
deliver nowhere
a -> b: ACK bogus=1
a: close
expect a CLOSED
`,
];

function segmentsAndArrivals(r: CheckResult): number {
  let n = 0;
  const pending = new Set<string>();
  for (const st of r.parsed.statements) {
    if (st.kind === 'segment') {
      n++;
      if (st.arrow === '~>' && st.label) pending.add(st.label.name);
    } else if (st.kind === 'deliver' && pending.delete(st.label.name)) n++;
  }
  return n;
}

describe('diagram: invariants', () => {
  test('one arrow per segment, plus one per arrival of an in-flight segment', () => {
    for (const text of CORPUS) {
      const r = check(text);
      const arrows = lines(renderMermaid(r)).filter((l) => MESSAGE.test(l)).length;
      assert.equal(arrows, segmentsAndArrivals(r), text);
    }
  });

  test('a state note appears exactly where a state changes, with the new state', () => {
    for (const text of CORPUS) {
      const r = check(text);
      const m = buildDiagram(r);
      const tl = r.timeline;
      const n = m.participants.length;
      for (let k = 0; k < m.items.length; k++) {
        const it = m.items[k];
        const chunk = lines(toMermaid(m, { range: { from: k, to: k + 1 }, minSeverity: 'hint' }));
        // The chunk's head: sequenceDiagram, participants, one state note each.
        const body = chunk.slice(1 + (m.title && k === 0 ? 1 : 0) + 2 * n);
        const expected: Array<[string, string]> = [];
        if (it.timelineIndex >= 0) {
          for (let e = 0; e < n; e++) {
            if (tl.state(it.timelineIndex, e) !== tl.stateBefore(it.timelineIndex, e)) {
              expected.push([`E${e}`, stateName(tl.state(it.timelineIndex, e), r.options.states)]);
            }
          }
        }
        // Same set, and the body has no other state-looking note (calls and notes here are not state names).
        const got = stateNotes(body.filter((l) => !l.startsWith('  ')));
        assert.deepEqual(
          [...got].sort(),
          [...expected].sort(),
          `item ${k} (line ${it.line + 1}) of:\n${text}`,
        );
      }
    }
  });

  test('every diagnostic is attached to exactly one item, the one on its line', () => {
    for (const text of CORPUS) {
      const r = check(text);
      const m = buildDiagram(r);
      const attached = m.items.flatMap((it) => it.diagnostics.map((d) => ({ d, line: it.line })));
      assert.equal(attached.length, r.diagnostics.length, text);
      for (const a of attached) assert.equal(a.d.line, a.line);
      const lineSet = m.items.map((i) => i.line);
      assert.deepEqual(lineSet, [...lineSet].sort((a, b) => a - b), 'items in source order');
    }
  });

  test('chunks are self-contained: they start with both states and together give the whole diagram', () => {
    for (const text of CORPUS) {
      const r = check(text);
      const m = buildDiagram(r);
      const n = m.participants.length;
      const whole = lines(toMermaid(m));
      const head = 1 + (m.title ? 1 : 0) + 2 * n;
      for (const size of [1, 2, 3, 5, 1000]) {
        const body: string[] = [];
        for (const range of chunkRanges(m, size)) {
          const chunk = lines(toMermaid(m, { range }));
          assertWellFormed(chunk.join('\n') + '\n');
          const h = 1 + (m.title && range.from === 0 ? 1 : 0) + 2 * n;
          // The chunk's own state notes: the states just before its first item, read from the timeline.
          const first = m.items[range.from];
          const tlBefore = r.timeline.indexAtOrBefore(first.line - 1);
          const expected = [0, 1].slice(0, n).map((e) => [`E${e}`, stateName(tlBefore < 0 ? r.timeline.initialStates[e] : r.timeline.state(tlBefore, e), r.options.states)]);
          assert.deepEqual(stateNotes(chunk.slice(0, h)), expected, `chunk ${range.from} of:\n${text}`);
          assert.deepEqual(chunk.slice(0, h).filter((l) => l.startsWith('participant')), whole.slice(0, head).filter((l) => l.startsWith('participant')));
          body.push(...chunk.slice(h));
        }
        assert.deepEqual(body, whole.slice(head), `chunks of ${size}`);
      }
    }
  });

  test('statesBefore and itemAtOrBefore', () => {
    const r = check(HANDSHAKE);
    const m = buildDiagram(r);
    assert.deepEqual(statesBefore(m, 0), m.initialStates);
    assert.deepEqual(statesBefore(m, m.items.length), m.items[m.items.length - 1].states);
    assert.equal(itemAtOrBefore(m, 0), -1);
    const k = itemAtOrBefore(m, 9);
    assert.equal(m.items[k].line, 9);
    // Line 4 is blank: the item before it (line 3, `endpoint` draws nothing, so `server: listen` on line 5 is first).
    assert.equal(itemAtOrBefore(m, 4), -1);
    assert.equal(m.items[itemAtOrBefore(m, 6)].line, 6);
    assert.equal(m.items[itemAtOrBefore(m, 1000)].line, m.items[m.items.length - 1].line);
  });

  test('times are shown on request', () => {
    const r = check(`endpoint a
endpoint b
0 b: listen
0.25 a -> b: SYN seq=0
+10ms b -> a: SYN,ACK seq=0 ack=1
`);
    const msgs = lines(renderMermaid(r, { times: true, minSeverity: 'error' })).filter((l) => MESSAGE.test(l));
    assert.deepEqual(msgs, ['E0->>E1: [0.25s] SYN seq=0', 'E1->>E0: [0.26s] SYN,ACK seq=0 ack=1']);
    assert.ok(!renderMermaid(r).includes('0.25s'));
  });

  test('the 100,000-event trace builds its model in well under a second', () => {
    const parts = ['endpoint client 10.0.0.1:40000', 'endpoint server 10.0.0.2:80', 'server: listen', 'client -> server: SYN seq=1000', 'server -> client: SYN,ACK seq=5000 ack=1001', 'client -> server: ACK seq=1001 ack=5001'];
    for (let i = 0; i < 50_000; i++) parts.push('client -> server: PSH,ACK len=100', 'server -> client: ACK');
    const r = check(parts.join('\n'));
    assert.ok(r.timeline.length >= 100_000);
    // Best of three: the first call also compiles, and a shared 2-core machine is noisy (about 0.1 s when idle).
    let ms = Infinity;
    let m = buildDiagram(r);
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      m = buildDiagram(r);
      ms = Math.min(ms, performance.now() - t0);
    }
    assert.equal(m.items.length, r.timeline.length);
    assert.ok(ms < 1000, `buildDiagram took ${ms.toFixed(0)} ms`);
    // A chunk costs in proportion to its size, not to the trace.
    const t1 = performance.now();
    const chunk = toMermaid(m, { range: { from: 90_000, to: 90_200 } });
    assert.ok(performance.now() - t1 < 50);
    assert.equal(lines(chunk).filter((l) => MESSAGE.test(l)).length, 200);
  });
});

// ---- escaping ----

describe('diagram: escaping', () => {
  test('special characters become entity codes', () => {
    assert.equal(encode('a;b#c%d<e>f"g`h{i}j$k:l&m\\n'), 'a#59;b#35;c#37;d#60;e#62;f#34;g#96;h#123;i#125;j#36;k#58;l#38;m#92;n');
    assert.equal(encode('%%{init: {"theme":"dark"}}%%'), '#37;#37;#123;init#58; #123;#34;theme#34;#58;#34;dark#34;#125;#125;#37;#37;');
    assert.equal(encode('<br/>'), '#60;br/#62;');
    assert.equal(encode('Grüße, 世界'), 'Grü#223;e, 世界');
    assert.equal(encode('😀'), '#128512;');
    assert.equal(encode('\ufb02°¶'), '#64258;#176;#182;');
    assert.equal(encode('\u202eevil'), '#8238;evil');
  });

  test('newlines and control characters are visible escapes', () => {
    assert.equal(visible('a\nb\r\tc\x00\u2028'), 'a\\nb\\r\\tc\\x00\\u2028');
    assert.equal(escapeText('line1\nend'), 'line1#92;nend');
  });

  test('labels are bounded with an ellipsis, never splitting a character', () => {
    assert.equal(truncate('abcdef', 6), 'abcdef');
    assert.equal(truncate('abcdefg', 6), 'abcde' + ELLIPSIS);
    assert.equal(truncate('😀😀😀😀', 3), '😀😀' + ELLIPSIS);
    assert.equal(truncate('😀😀😀', 3), '😀😀😀');
    assert.equal(escapeText('x'.repeat(500), 10), 'xxxxxxxxx#8230;');
    const r = check(`title "${'long '.repeat(100)}"\nendpoint a\nendpoint b\nnote a: ${'<br>'.repeat(5000)}\n`);
    const out = renderMermaid(r, { maxLabel: 40 });
    for (const l of lines(out)) assert.ok([...l.replace(/#\d+;/g, '.')].length < 80, l);
  });

  test('blank text stays a valid statement', () => {
    assert.equal(escapeText(''), '#160;');
    assert.equal(escapeText('   '), '#160;');
    assert.match(escapeText(' wrap:x'), /^wrap#58;x$/);
  });

  /** Text for a `"..."` string of the trace language. */
  function quoted(s: string): string {
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      if (ch === '"' || ch === '\\') out += '\\' + ch;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\t') out += '\\t';
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
      else out += ch;
    }
    return out + '"';
  }

  function traceWith(t: { title: string; l1: string; l2: string; note: string; note2: string; section: string; data: string }): string {
    // Free text (a section) cannot hold a line break or a comment; an empty title and
    // empty data are different traces (a syntax error, a segment without payload).
    const section = t.section.replace(/[\r\n#\u2028\u2029]/g, ' ').trim() || 'x';
    const data = t.data || 'x';
    return [
      `title ${quoted(t.title || 'x')}`,
      `endpoint client 10.0.0.1:1000 as ${quoted(t.l1)}`,
      `endpoint server [2001:db8::1]:80 as ${quoted(t.l2)}`,
      `== ${section} ==`,
      'server: listen',
      'client -> server: SYN',
      'server -> client: SYN,ACK',
      'client -> server: ACK',
      `note client: ${quoted(t.note)}`,
      `note over client, server: ${quoted(t.note2)}`,
      `client -> server: PSH,ACK data=${quoted(data)}`,
      'server -> client: ACK',
      `client ~> server: PSH,ACK data=${quoted(data)} as f1`,
      'deliver f1',
      `client -x server: PSH,ACK data=${quoted(data)}`,
      `client: send ${quoted(data)}`,
      'server -> client: ACK',
    ].join('\n');
  }

  const DANGEROUS = [';', '#', '%%', '%%{init: {"theme":"forest"}}%%', '<br>', '<script>alert(1)</script>', '"', '`', '{', '}', '$$', '\n', '\r\n', 'end', 'wrap:', 'style x:#fff;', 'participant X', '-->>', 'Note over', '&lt;', '#59;', 'ﬂ°°', '¶ß', '\u2028', '\\', ':'];
  const userText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.array(fc.constantFrom(...DANGEROUS), { maxLength: 8 }).map((a) => a.join('')),
    fc.array(fc.oneof(fc.constantFrom(...DANGEROUS), fc.string({ maxLength: 5 })), { maxLength: 10 }).map((a) => a.join('')),
    fc.string({ minLength: 150, maxLength: 400 }),
  );

  test('property: any user text yields well-formed lines, and as many as a harmless text', () => {
    const harmless = { title: 'x', l1: 'x', l2: 'x', note: 'x', note2: 'x', section: 'x', data: 'x' };
    const baseline = renderMermaid(check(traceWith(harmless)));
    assertWellFormed(baseline);
    const baseLines = lines(baseline).length;
    fc.assert(
      fc.property(
        fc.record({ title: userText, l1: userText, l2: userText, note: userText, note2: userText, section: userText, data: userText }),
        (t) => {
          const r = check(traceWith(t));
          const out = renderMermaid(r);
          assertWellFormed(out);
          assert.equal(lines(out).length, baseLines, out);
          for (const mode of [{ states: 'rfc' as const, times: true }, { maxLabel: 5, maxMessage: 5 }]) assertWellFormed(renderMermaid(r, mode));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: arbitrary trace text (garbage lines, unknown names, bad fields) never breaks the output', () => {
    const lineArb = fc.oneof(
      fc.constantFrom(
        'endpoint a',
        'endpoint b 10.0.0.2:80',
        'b: listen',
        'a -> b: SYN',
        'b -> a: SYN,ACK',
        'a -> b: ACK',
        'a ~> b: PSH,ACK len=5 as p',
        'deliver p',
        'a -x b: FIN,ACK',
        'a: close',
        'b: timeout',
        'c -> a: RST',
        'expect a ESTABLISHED',
        'option states=rfc',
      ),
      userText.map((s) => s.replace(/[\n\r]/g, ' ')),
      fc.tuple(fc.constantFrom('note a: ', 'a -> b: ACK ', '== ', 'title ', 'deliver ', 'a: send ', 'a -> '), userText).map(([a, b]) => a + b.replace(/[\n\r]/g, ' ')),
    );
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 25 }), (ls) => {
        const r = check(ls.join('\n'));
        const m = buildDiagram(r);
        assertWellFormed(toMermaid(m));
        for (const range of chunkRanges(m, 3)) assertWellFormed(toMermaid(m, { range }));
      }),
      { numRuns: 300 },
    );
  });

  test('every escaped text matches the text pattern of the grammar', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 1, max: 300 }), (s, max) => {
        const e = escapeText(s, max);
        assert.match(e, ESCAPED_TEXT);
        // Bounded: the decoded text has at most `max` code points.
        const decoded = e.replace(/#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)));
        assert.ok([...decoded].length <= max, `${decoded.length} > ${max}`);
      }),
      { numRuns: 500 },
    );
  });
});
