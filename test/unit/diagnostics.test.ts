/**
 * Every diagnostic code of spec section 6: a minimal trace that triggers it,
 * the token its range covers, its severity, and — where the spec asks for a
 * quick fix — that applying the fix makes the diagnostic go away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODES, check, stateName, type Diagnostic, type TextEdit } from '../../src/core';

const HS = 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101\nclient -> server: ACK seq=101 ack=301\n';

interface Case {
  code: string;
  text: string;
  /** 1-based line of the diagnostic. */
  line: number;
  /** The text its range covers. */
  token: string;
  severity?: string;
  /** The quick fix must remove this code. */
  fix?: boolean;
  /** Check options. */
  capture?: boolean;
}

const CASES: Case[] = [
  { code: 'TT100', text: 'client server SYN\nserver: listen\n', line: 1, token: 'client' },
  { code: 'TT100', text: 'client -> server SYN\n', line: 1, token: 'SYN' },
  { code: 'TT101', text: 'client -> server: SYNACK\n', line: 1, token: 'SYNACK' },
  { code: 'TT101', text: 'client -> server: SYN bogus=1\n', line: 1, token: 'bogus=1' },
  { code: 'TT101', text: 'client -> server: [SX]\n', line: 1, token: 'X' },
  { code: 'TT102', text: 'client -> server: SYN seq=4294967296\n', line: 1, token: 'seq=4294967296' },
  { code: 'TT102', text: 'client -> server: SYN win=70000\n', line: 1, token: 'win=70000' },
  { code: 'TT102', text: 'endpoint client 10.0.0.300:80\n', line: 1, token: '10.0.0.300:80' },
  { code: 'TT103', text: 'client -> server: SYN seq=1 seq=2\n', line: 1, token: 'seq=2' },
  { code: 'TT105', text: 'a -> b: SYN\nc -> a: RST\n', line: 2, token: 'c' },
  { code: 'TT105', text: 'a -> a: SYN\n', line: 1, token: 'a' },
  { code: 'TT106', text: 'server: listen\nexpect server LISTENING\n', line: 2, token: 'LISTENING' },
  { code: 'TT107', text: 'server: listen\ntitle "late"\n', line: 2, token: 'title' },
  { code: 'TT107', text: 'title "a"\ntitle "b"\n', line: 2, token: 'title' },
  { code: 'TT108', text: 'server: lisen\n', line: 1, token: 'lisen' },
  { code: 'TT108', text: 'server: listen 5\n', line: 1, token: '5' },
  { code: 'TT110', text: 'deliver f1\n', line: 1, token: 'f1' },
  { code: 'TT110', text: 'server: listen\nclient ~> server: SYN seq=1 as f1\n', line: 2, token: 'f1', severity: 'warning' },
  { code: 'TT110', text: 'server: listen\nclient ~> server: SYN seq=1 as f1\ndeliver f1\ndeliver f1\n', line: 4, token: 'f1' },
  { code: 'TT111', text: 'server: listen\nclient -> server: SYN seq=1 ack=5\n', line: 2, token: 'ack=5', fix: true },
  { code: 'TT111', text: 'server: listen\nclient -> server: SYN seq=1 len=3 data="ab"\n', line: 2, token: 'len=3', fix: true },
  { code: 'TT112', text: '1.0 server: listen\n0.5 client: connect\n', line: 2, token: '0.5' },
  { code: 'TT200', text: 'client -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101\n', line: 2, token: 'SYN,ACK', fix: true },
  { code: 'TT200', text: 'client: connect\nclient -> server: ACK seq=1 ack=1\n', line: 2, token: 'ACK' },
  { code: 'TT201', text: 'server: listen\nserver: listen\n', line: 2, token: 'listen' },
  { code: 'TT202', text: 'client -> server: SYN seq=100\nserver -> client: RST,ACK seq=0 ack=101\n', line: 1, token: 'SYN', severity: 'information' },
  { code: 'TT203', text: HS + 'client -> server: PSH seq=101 len=10\n', line: 5, token: 'PSH', fix: true },
  { code: 'TT204', text: HS + 'client -> server: FIN,ACK seq=101 ack=301\nclient -> server: PSH,ACK seq=102 ack=301 len=5\n', line: 6, token: 'len=5' },
  { code: 'TT206', text: HS + 'expect client SYN_SENT\n', line: 5, token: 'SYN_SENT', fix: true },
  {
    code: 'TT207',
    text: 'option msl=30s\n' + HS.split('\n').filter(Boolean).map((l) => `0 ${l}`).join('\n') + '\n0 client -> server: FIN,ACK seq=101 ack=301\n0 server -> client: FIN,ACK seq=301 ack=102\n0 client -> server: ACK seq=102 ack=302\n10 client: timeout\n',
    line: 9,
    token: 'timeout',
    severity: 'warning',
  },
  {
    code: 'TT208',
    text: HS + 'server -> client: FIN,ACK seq=301 ack=101\nclient -> server: ACK seq=101 ack=302\nclient -> server: FIN,ACK seq=101 ack=302\nserver -> client: ACK seq=302 ack=102\nclient -> server: SYN seq=90000\n',
    line: 9,
    token: 'SYN',
    severity: 'information',
  },
  { code: 'TT209', text: HS, line: 4, token: 'client', severity: 'information' },
  { code: 'TT210', text: 'client: connect\n', line: 1, token: 'connect', severity: 'warning' },
  { code: 'TT210', text: 'server: listen\nclient -> server: SYN seq=100\n', line: 2, token: 'SYN', severity: 'warning' },
  { code: 'TT300', text: HS + 'client -> server: PSH,ACK seq=111 ack=301 len=10\n', line: 5, token: 'seq=111', fix: true },
  { code: 'TT300', text: HS + 'client -> server: PSH,ACK seq=111 ack=301 len=10\n', line: 5, token: 'seq=111', severity: 'warning', capture: true },
  { code: 'TT301', text: HS + 'client -> server: ACK seq=101 ack=400\n', line: 5, token: 'ack=400', fix: true },
  { code: 'TT302', text: 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=100\n', line: 3, token: 'ack=100', fix: true },
  { code: 'TT302', text: HS + 'client -> server: FIN,ACK seq=101 ack=301\nserver -> client: ACK seq=301 ack=101\n', line: 6, token: 'ack=101', fix: true },
  { code: 'TT303', text: HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nclient -> server: PSH,ACK seq=101 ack=301 len=10\n', line: 6, token: 'seq=101', severity: 'information' },
  {
    code: 'TT304',
    text: HS + 'client -x server: PSH,ACK seq=101 ack=301 len=10\nclient -> server: PSH,ACK seq=111 ack=301 len=10\nserver -> client: ACK seq=301 ack=101\nclient -> server: PSH,ACK seq=121 ack=301 len=10\nserver -> client: ACK seq=301 ack=101\n',
    line: 9,
    token: 'ack=101',
    severity: 'information',
  },
  { code: 'TT305', text: HS + 'client -x server: PSH,ACK seq=101 ack=301 len=10\nclient -> server: PSH,ACK seq=111 ack=301 len=10\n', line: 6, token: 'PSH,ACK', severity: 'information' },
  { code: 'TT306', text: HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=111\nserver -> client: ACK seq=301 ack=105\n', line: 7, token: 'ack=105', severity: 'warning', fix: true },
  { code: 'TT307', text: 'client -x server: SYN seq=100\nclient -> server: SYN seq=200\n', line: 2, token: 'seq=200', fix: true },
  { code: 'TT308', text: HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=105\n', line: 6, token: 'ack=105', fix: true },
  { code: 'TT400', text: 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101 win=10\nclient -> server: ACK seq=101 ack=301\nclient -> server: PSH,ACK seq=101 ack=301 len=20\n', line: 5, token: 'len=20', severity: 'warning' },
  { code: 'TT401', text: HS + 'server -> client: ACK seq=301 ack=101 win=0\n', line: 5, token: 'win=0', severity: 'information' },
  { code: 'TT402', text: HS + 'server -> client: ACK seq=301 ack=101 win=0\nclient -> server: PSH,ACK seq=101 ack=301 len=1\n', line: 6, token: 'seq=101', severity: 'information' },
  { code: 'TT404', text: HS + 'client -> server: RST seq=150\n', line: 5, token: 'RST', severity: 'warning' },
  { code: 'TT405', text: HS + 'client -> server: ACK seq=100 ack=301\n', line: 5, token: 'seq=100', severity: 'information' },
];

/** Applies single-line edits (each on the original text) from the last to the first. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const sorted = [...edits].sort((a, b) => b.line - a.line || b.start - a.start);
  for (const e of sorted) {
    const l = lines[e.line] ?? '';
    lines[e.line] = l.slice(0, e.start) + e.newText + l.slice(e.end);
  }
  return lines.join('\n');
}

function find(ds: Diagnostic[], c: Case): Diagnostic | undefined {
  return ds.find((d) => d.code === c.code && d.line === c.line - 1);
}

test('every code in the table has a case', () => {
  const covered = new Set(CASES.map((c) => c.code));
  for (const code of Object.keys(CODES)) assert.ok(covered.has(code), `no case for ${code}`);
});

for (const c of CASES) {
  test(`${c.code}${c.capture ? ' (capture)' : ''}: ${JSON.stringify(c.token)} on line ${c.line}`, () => {
    const text = c.capture ? `option origin=capture\n${c.text}` : c.text;
    const line = c.capture ? c.line + 1 : c.line;
    const r = check(text);
    const d = find(r.diagnostics, { ...c, line });
    assert.ok(d, `expected ${c.code} on line ${line}; got ${r.diagnostics.map((x) => `${x.code}@${x.line + 1}`).join(', ')}`);
    const src = text.split('\n')[d.line];
    assert.equal(src.slice(d.start, d.end), c.token, 'the range covers the offending token');
    assert.equal(d.severity, c.severity ?? 'error');
    assert.ok(d.message.length > 20 && /[.)]$/.test(d.message), `a sentence that teaches: ${d.message}`);
    if (c.fix) {
      assert.ok(d.fixes.length > 0, 'a quick fix is attached');
      const fixed = applyEdits(text, d.fixes[0].edits);
      const again = check(fixed);
      assert.equal(
        again.diagnostics.filter((x) => x.code === c.code).length,
        r.diagnostics.filter((x) => x.code === c.code).length - 1,
        `the fix removes the diagnostic:\n${fixed}`,
      );
    }
  });
}

test('severity overrides per code, including off', () => {
  const text = HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nclient -> server: PSH,ACK seq=101 ack=301 len=10\n';
  assert.equal(check(text, { severities: { TT303: 'warning' } }).diagnostics.find((d) => d.code === 'TT303')?.severity, 'warning');
  assert.equal(check(text, { severities: { TT303: 'off' } }).diagnostics.some((d) => d.code === 'TT303'), false);
  assert.equal(check(text, { severities: { TT100: 'off' } }).diagnostics.some((d) => d.code === 'TT303'), true);
});

test('capture origin: TT308 is not reported, TT301 is a warning', () => {
  const t308 = HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=105\n';
  assert.equal(check(t308).diagnostics.some((d) => d.code === 'TT308'), true);
  assert.equal(check(`option origin=capture\n${t308}`).diagnostics.some((d) => d.code === 'TT308'), false);
  const t301 = HS + 'client -> server: ACK seq=101 ack=400\n';
  assert.equal(check(`option origin=capture\n${t301}`).diagnostics.find((d) => d.code === 'TT301')?.severity, 'warning');
});

test('capture origin: TT210 at the end says the capture may have stopped first, not that the endpoint never answers', () => {
  const tt210 = (text: string): string[] => check(text).diagnostics.filter((d) => d.code === 'TT210').map((d) => `${d.severity} ${d.line + 1}: ${d.message}`);
  const data = HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\n';
  assert.deepEqual(tt210(data), ['warning 5: server never answers this data: what arrives is acknowledged (ack=111).']);
  assert.deepEqual(tt210(`option origin=capture\n${data}`), [
    'warning 6: The capture ends before server answers this data (ack=111): it stopped first, or the answer was lost or not captured.',
  ]);
  const fin = HS + 'client -> server: FIN,ACK seq=101 ack=301\n';
  assert.match(tt210(`option origin=capture\n${fin}`).join(), /^warning 6: The capture ends before server answers this FIN \(ack=102\)/);
  // A SYN left unanswered is what the capture shows, stopped or not.
  const syn = 'server: listen\nclient -> server: SYN seq=100\n';
  assert.deepEqual(tt210(`option origin=capture\n${syn}`), ['warning 3: server never answers this SYN: a SYN is answered with SYN,ACK (or a RST) (ack=101).']);
  // A segment lost on its way that nothing ever acknowledges.
  const lost = 'client -x server: SYN seq=100\n';
  assert.deepEqual(tt210(lost), [
    'warning 1: This segment of client is never acknowledged: by the end of the trace server has not acknowledged 100 onward (the segment or its answer was lost), so client keeps retransmitting or gives up.',
  ]);
  assert.deepEqual(tt210(`option origin=capture\n${lost}`), [
    'warning 2: This segment of client is not acknowledged by the end of the capture: server has not acknowledged 100 onward (the capture stopped first, or the segment or its answer was lost).',
  ]);
});

test('TT210: data lost at the end is never acknowledged, though the peer acknowledged what came before it', () => {
  const tt210 = (text: string): string[] => check(text).diagnostics.filter((d) => d.code === 'TT210').map((d) => `${d.line + 1}: ${d.message}`);
  // The server's ACK of the handshake (ack=101) ends where the lost data starts: it answers none of it.
  const first = HS + 'client -x server: PSH,ACK seq=101 ack=301 len=10\n';
  assert.deepEqual(tt210(first), [
    '5: This segment of client is never acknowledged: by the end of the trace server has not acknowledged 101 onward (the segment or its answer was lost), so client keeps retransmitting or gives up.',
  ]);
  const later = HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=111\nclient -x server: PSH,ACK seq=111 ack=301 len=10\n';
  assert.deepEqual(tt210(later), [
    '7: This segment of client is never acknowledged: by the end of the trace server has not acknowledged 111 onward (the segment or its answer was lost), so client keeps retransmitting or gives up.',
  ]);
  // Acknowledged in part: the peer did answer, and the rest is the sender's to send again.
  assert.deepEqual(tt210(HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=105\n').filter((m) => m.includes('never acknowledged')), []);
  // Data that arrives and goes unanswered is one story, told once, on the segment the receiver owes an answer.
  const burst = HS + 'client -> server: PSH,ACK seq=101 ack=301 len=10\nclient -> server: PSH,ACK seq=111 ack=301 len=10\n';
  assert.deepEqual(tt210(burst), ['6: server never answers this data: what arrives is acknowledged (ack=121).']);
  assert.deepEqual(tt210(`option origin=capture\n${burst}`), [
    '7: The capture ends before server answers this data (ack=121): it stopped first, or the answer was lost or not captured.',
  ]);
});

test('data on the SYN: accepted by the SYN,ACK (TCP Fast Open: the server may send before the handshake completes) or declined and sent again', () => {
  const codes = (text: string): string[] => check(text).diagnostics.filter((d) => d.severity !== 'information').map((d) => `${d.code}@${d.line + 1}`);
  const syn = 'server: listen\nclient -> server: SYN seq=100 len=10\n';
  // Accepted: the SYN,ACK acknowledges the data too; data from SYN_RCVD is then allowed.
  const accepted = syn + 'server -> client: SYN,ACK seq=300 ack=111\nserver -> client: PSH,ACK seq=301 ack=111 len=1000\nclient -> server: ACK seq=111 ack=1301\n';
  assert.deepEqual(codes(accepted), []);
  assert.equal(stateName(check(accepted).timeline.state(3, 0)), 'SYN_RCVD', 'the server (declared first) sends from SYN_RCVD');
  // Data on the SYN,ACK too (RFC 7413 allows it): it follows the SYN in the server's sequence space.
  assert.deepEqual(codes(syn + 'server -> client: SYN,ACK seq=300 ack=111 len=20\nserver -> client: PSH,ACK seq=321 ack=111 len=100\nclient -> server: ACK seq=111 ack=421\n'), []);
  // Declined (RFC 9293 queues SYN text; Linux drops it without a valid cookie): the SYN,ACK acknowledges the SYN alone.
  const declined = syn + 'server -> client: SYN,ACK seq=300 ack=101\nclient -> server: PSH,ACK seq=101 ack=301 len=10\nserver -> client: ACK seq=301 ack=111\n';
  assert.deepEqual(codes(declined), []);
  const d = check(declined);
  assert.deepEqual([stateName(d.timeline.state(d.timeline.length - 1, 0)), stateName(d.timeline.state(d.timeline.length - 1, 1))], ['ESTABLISHED', 'ESTABLISHED']);
  assert.ok(d.diagnostics.some((x) => x.code === 'TT303' && x.line === 3), 'the data sent again is a retransmission');
  // Only a server that accepted data on the SYN may send before the handshake completes.
  const tt200 = (text: string): string[] => codes(text).filter((c) => c.startsWith('TT200'));
  assert.deepEqual(tt200(syn + 'server -> client: SYN,ACK seq=300 ack=101\nserver -> client: PSH,ACK seq=301 ack=101 len=10\n'), ['TT200@4']);
  assert.deepEqual(tt200(HS.replace('client -> server: ACK seq=101 ack=301\n', '') + 'server -> client: PSH,ACK seq=301 ack=101 len=10\n'), ['TT200@4']);
});

test('one bad line gives one diagnostic and the rest is still checked', () => {
  const text = 'server: listen\nclient -> server SYN seq=100\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=100\n';
  const codes = check(text).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line + 1}`);
  assert.deepEqual(codes, ['TT100@2', 'TT302@4']);
});

test('a consequence names its cause (relatedInformation)', () => {
  const text = 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=100\nclient -> server: ACK seq=101 ack=301\n';
  const d = check(text).diagnostics.find((x) => x.code === 'TT200');
  assert.ok(d, 'the ACK from SYN_SENT is impossible');
  assert.equal(d.related[0]?.line, 2, 'it points at the SYN,ACK that was refused');
});

test('the missing-listen fix inserts the call before the first event', () => {
  const text = 'title "x"\n\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101\nclient -> server: ACK seq=101 ack=301\n';
  const r = check(text);
  const d = r.diagnostics.find((x) => x.code === 'TT200')!;
  assert.deepEqual(r.diagnostics.filter((x) => x.severity === 'error').map((x) => x.code), ['TT200'], 'no TT202 cascade for the same mistake');
  const fixed = applyEdits(text, d.fixes[0].edits);
  assert.match(fixed, /^title "x"\n\nserver: listen\nclient -> server: SYN/);
  assert.deepEqual(check(fixed).diagnostics.filter((x) => x.severity !== 'information').map((x) => x.code), []);
});

test('messages name both endpoints even when the first event names only one (implicit endpoints)', () => {
  const text = 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101\nclient -> server: ACK seq=101 ack=301\nserver -> client: ACK seq=301 ack=500\n';
  const d = check(text).diagnostics.find((x) => x.code === 'TT301');
  assert.ok(d);
  assert.match(d.message, /data client never sent/);
  assert.doesNotMatch(d.message, /the peer/);
});
