/**
 * Table-driven tests of src/core/tcp/rfc9293.ts against RFC 9293 3.10: every
 * state crossed with every kind of arriving segment, every user call, and
 * what a sender may send. The endpoint under test ("me") has ISS 1000; its
 * peer has ISS 5000. Expectations are written from the RFC text, not from the
 * implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, RST, SYN } from '../../src/core/syntax/ast';
import { segmentArrives, sendSegment, userCall, type Ctx, type Seg } from '../../src/core/tcp/rfc9293';
import { Tcb } from '../../src/core/tcp/tcb';
import { SOCKET_NAMES, parseState } from '../../src/core/tcp/states';

const ctx: Ctx = { me: 'me', peer: 'peer', capture: false, num: (_o, v) => String(v), states: 'socket' };
const ref = { line: 0, start: 0, end: 1 };

/** A control block in `state`, with consistent numbers. */
function tcbIn(state: string): Tcb {
  const t = new Tcb();
  const s = parseState(state);
  t.state = s;
  t.used = true;
  if (state === 'CLOSED') return t;
  if (state === 'LISTEN') {
    t.passive = true;
    return t;
  }
  t.iss = 1000;
  t.sndUna = 1000;
  t.sndNxt = 1001;
  if (state === 'SYN_SENT') return t;
  t.irs = 5000;
  t.rcvNxt = 5001;
  if (state === 'SYN_RCVD') {
    t.passive = true;
    t.synAckSent = true;
    return t;
  }
  t.sndUna = 1001;
  const ourFin = ['FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'].includes(state);
  const peerFin = ['CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'].includes(state);
  if (ourFin) {
    t.finSeq = 1001;
    t.sndNxt = 1002;
    // Our FIN is acknowledged in FIN_WAIT_2 and TIME_WAIT.
    if (state === 'FIN_WAIT_2' || state === 'TIME_WAIT') t.sndUna = 1002;
  }
  if (peerFin) {
    t.peerFin = 5001;
    t.rcvNxt = 5002;
  }
  return t;
}

type SegSpec = { name: string; seg: (t: Tcb) => Seg };
const mk = (flags: number, seq: number, ack: number | undefined, len = 0): Seg => ({ flags, seq, ack, len, win: undefined, wscale: undefined, ref });
const nxtOr = (t: Tcb, d: number): number => t.rcvNxt ?? d;

const SEGMENTS: Record<string, SegSpec> = {
  rst: { name: 'RST at RCV.NXT', seg: (t) => mk(RST, nxtOr(t, 5001), undefined) },
  rstAck: { name: 'RST,ACK acceptable', seg: (t) => mk(RST | ACK, nxtOr(t, 5001), t.sndNxt ?? 1001) },
  rstInWin: { name: 'RST in window, not at RCV.NXT', seg: (t) => mk(RST, nxtOr(t, 5001) + 50, undefined) },
  rstOut: { name: 'RST outside the window', seg: (t) => mk(RST, nxtOr(t, 5001) + 200000, undefined) },
  syn: { name: 'SYN seq=5000', seg: () => mk(SYN, 5000, undefined) },
  synNew: { name: 'SYN seq=9000 (new, above RCV.NXT)', seg: () => mk(SYN, 9000, undefined) },
  synAck: { name: 'SYN,ACK acknowledging our SYN', seg: () => mk(SYN | ACK, 5000, 1001) },
  synAckBad: { name: 'SYN,ACK with ack=999', seg: () => mk(SYN | ACK, 5000, 999) },
  ack: { name: 'ACK of everything sent', seg: (t) => mk(ACK, nxtOr(t, 5001), t.sndNxt ?? 1001) },
  ackOld: { name: 'ACK of SND.UNA only', seg: (t) => mk(ACK, nxtOr(t, 5001), t.sndUna ?? 1001) },
  ackUnsent: { name: 'ACK of data never sent', seg: (t) => mk(ACK, nxtOr(t, 5001), (t.sndNxt ?? 1001) + 10) },
  data: { name: 'data in order', seg: (t) => mk(ACK, nxtOr(t, 5001), t.sndNxt ?? 1001, 10) },
  dataOoo: { name: 'data beyond RCV.NXT', seg: (t) => mk(ACK, nxtOr(t, 5001) + 100, t.sndNxt ?? 1001, 10) },
  dataOld: { name: 'old duplicate data', seg: (t) => mk(ACK, nxtOr(t, 5001) - 20, t.sndNxt ?? 1001, 10) },
  fin: { name: 'FIN,ACK at RCV.NXT, acking all', seg: (t) => mk(FIN | ACK, nxtOr(t, 5001), t.sndNxt ?? 1001) },
  finUna: { name: 'FIN,ACK at RCV.NXT, our FIN not acked', seg: (t) => mk(FIN | ACK, nxtOr(t, 5001), t.sndUna ?? 1001) },
  finRetx: { name: 'retransmitted FIN (seq=5001)', seg: (t) => mk(FIN | ACK, 5001, t.sndNxt ?? 1001) },
};

/**
 * [state, segment, next state, codes reported, answer owed].
 * Owed: 'rst' (a reset must follow), 'ack' (an acknowledgment must follow), '' (nothing).
 */
type Row = [string, keyof typeof SEGMENTS, string, string[], '' | 'rst' | 'ack'];
const ARRIVALS: Row[] = [
  // 3.10.7.1 CLOSED: a RST is discarded; anything else draws a RST.
  ['CLOSED', 'rst', 'CLOSED', [], ''],
  ['CLOSED', 'syn', 'CLOSED', ['TT202'], 'rst'],
  ['CLOSED', 'synAck', 'CLOSED', ['TT202'], 'rst'],
  ['CLOSED', 'ack', 'CLOSED', ['TT202'], 'rst'],
  ['CLOSED', 'data', 'CLOSED', ['TT202'], 'rst'],
  ['CLOSED', 'fin', 'CLOSED', ['TT202'], 'rst'],
  // 3.10.7.2 LISTEN: RST ignored; any ACK draws a RST; SYN -> SYN-RECEIVED; else dropped.
  ['LISTEN', 'rst', 'LISTEN', [], ''],
  ['LISTEN', 'rstAck', 'LISTEN', [], ''],
  ['LISTEN', 'ack', 'LISTEN', [], 'rst'],
  ['LISTEN', 'synAck', 'LISTEN', [], 'rst'],
  ['LISTEN', 'data', 'LISTEN', [], 'rst'],
  ['LISTEN', 'fin', 'LISTEN', [], 'rst'],
  ['LISTEN', 'syn', 'SYN_RCVD', [], ''],
  // 3.10.7.3 SYN-SENT.
  ['SYN_SENT', 'synAck', 'ESTABLISHED', [], ''],
  ['SYN_SENT', 'syn', 'SYN_RCVD', [], ''],
  ['SYN_SENT', 'synAckBad', 'SYN_SENT', [], 'rst'],
  ['SYN_SENT', 'ackUnsent', 'SYN_SENT', [], 'rst'],
  ['SYN_SENT', 'rstAck', 'CLOSED', [], ''],
  ['SYN_SENT', 'rst', 'SYN_SENT', [], ''],
  ['SYN_SENT', 'ack', 'SYN_SENT', [], ''],
  ['SYN_SENT', 'data', 'SYN_SENT', [], ''],
  ['SYN_SENT', 'fin', 'SYN_SENT', [], ''],
  // 3.10.7.4 SYN-RECEIVED (passive open).
  ['SYN_RCVD', 'ack', 'ESTABLISHED', [], ''],
  ['SYN_RCVD', 'ackUnsent', 'SYN_RCVD', [], 'rst'],
  ['SYN_RCVD', 'ackOld', 'SYN_RCVD', [], 'rst'],
  ['SYN_RCVD', 'data', 'ESTABLISHED', [], 'ack'],
  ['SYN_RCVD', 'fin', 'CLOSE_WAIT', [], 'ack'],
  ['SYN_RCVD', 'rst', 'LISTEN', [], ''],
  ['SYN_RCVD', 'rstInWin', 'SYN_RCVD', ['TT404'], 'ack'],
  ['SYN_RCVD', 'syn', 'SYN_RCVD', [], 'ack'], // the client's SYN again: its SYN,ACK was lost
  ['SYN_RCVD', 'synNew', 'SYN_RCVD', ['TT404'], 'ack'],
  // ESTABLISHED.
  ['ESTABLISHED', 'ack', 'ESTABLISHED', [], ''],
  ['ESTABLISHED', 'ackUnsent', 'ESTABLISHED', [], 'ack'],
  ['ESTABLISHED', 'data', 'ESTABLISHED', [], 'ack'],
  ['ESTABLISHED', 'dataOoo', 'ESTABLISHED', ['TT305'], 'ack'],
  ['ESTABLISHED', 'dataOld', 'ESTABLISHED', [], 'ack'],
  ['ESTABLISHED', 'fin', 'CLOSE_WAIT', [], 'ack'],
  ['ESTABLISHED', 'rst', 'CLOSED', [], ''],
  ['ESTABLISHED', 'rstAck', 'CLOSED', [], ''],
  ['ESTABLISHED', 'rstInWin', 'ESTABLISHED', ['TT404'], 'ack'],
  ['ESTABLISHED', 'rstOut', 'ESTABLISHED', ['TT404'], ''],
  // An exact copy of the SYN or SYN,ACK that opened the connection: acknowledged again, no warning.
  ['ESTABLISHED', 'syn', 'ESTABLISHED', [], 'ack'],
  ['ESTABLISHED', 'synAck', 'ESTABLISHED', [], 'ack'],
  ['ESTABLISHED', 'synAckBad', 'ESTABLISHED', ['TT404'], 'ack'],
  ['ESTABLISHED', 'synNew', 'ESTABLISHED', ['TT404'], 'ack'],
  // FIN-WAIT-1: the ACK of our FIN -> FIN-WAIT-2; a FIN -> CLOSING, or TIME-WAIT when it also acks ours.
  ['FIN_WAIT_1', 'ack', 'FIN_WAIT_2', [], ''],
  ['FIN_WAIT_1', 'ackOld', 'FIN_WAIT_1', [], ''],
  ['FIN_WAIT_1', 'finUna', 'CLOSING', [], 'ack'],
  ['FIN_WAIT_1', 'fin', 'TIME_WAIT', [], 'ack'],
  ['FIN_WAIT_1', 'data', 'FIN_WAIT_2', [], 'ack'],
  ['FIN_WAIT_1', 'rst', 'CLOSED', [], ''],
  ['FIN_WAIT_1', 'syn', 'FIN_WAIT_1', [], 'ack'],
  ['FIN_WAIT_1', 'synNew', 'FIN_WAIT_1', ['TT404'], 'ack'],
  // FIN-WAIT-2.
  ['FIN_WAIT_2', 'fin', 'TIME_WAIT', [], 'ack'],
  ['FIN_WAIT_2', 'data', 'FIN_WAIT_2', [], 'ack'],
  ['FIN_WAIT_2', 'ack', 'FIN_WAIT_2', [], ''],
  ['FIN_WAIT_2', 'rst', 'CLOSED', [], ''],
  ['FIN_WAIT_2', 'rstInWin', 'FIN_WAIT_2', ['TT404'], 'ack'],
  // CLOSE-WAIT: the peer's FIN is in; a retransmission of it draws an ACK.
  ['CLOSE_WAIT', 'ack', 'CLOSE_WAIT', [], ''],
  ['CLOSE_WAIT', 'finRetx', 'CLOSE_WAIT', [], 'ack'],
  ['CLOSE_WAIT', 'rst', 'CLOSED', [], ''],
  ['CLOSE_WAIT', 'synNew', 'CLOSE_WAIT', ['TT404'], 'ack'],
  // CLOSING: the ACK of our FIN -> TIME-WAIT.
  ['CLOSING', 'ack', 'TIME_WAIT', [], ''],
  ['CLOSING', 'ackOld', 'CLOSING', [], ''],
  ['CLOSING', 'rst', 'CLOSED', [], ''],
  // LAST-ACK: the ACK of our FIN -> CLOSED.
  ['LAST_ACK', 'ack', 'CLOSED', [], ''],
  ['LAST_ACK', 'ackOld', 'LAST_ACK', [], ''],
  ['LAST_ACK', 'rst', 'CLOSED', [], ''],
  // TIME-WAIT: a retransmitted FIN is acknowledged again (and restarts 2MSL); RFC 6191 reuse.
  ['TIME_WAIT', 'finRetx', 'TIME_WAIT', [], 'ack'],
  ['TIME_WAIT', 'ack', 'TIME_WAIT', [], ''],
  ['TIME_WAIT', 'rst', 'CLOSED', [], ''],
  ['TIME_WAIT', 'synNew', 'SYN_RCVD', ['TT208'], ''],
  ['TIME_WAIT', 'syn', 'TIME_WAIT', [], 'ack'],
];

test('every state is covered by the arrival table', () => {
  const covered = new Set(ARRIVALS.map((r) => r[0]));
  assert.deepEqual([...covered].sort(), [...SOCKET_NAMES].sort());
});

for (const [state, segKey, next, codes, owed] of ARRIVALS) {
  test(`${state} + ${SEGMENTS[segKey].name} -> ${next}${codes.length ? ` (${codes.join(', ')})` : ''}`, () => {
    const t = tcbIn(state);
    const seg = SEGMENTS[segKey].seg(t);
    const out = segmentArrives(t, seg, ctx, undefined);
    assert.equal(SOCKET_NAMES[t.state], next, 'next state');
    assert.deepEqual(out.findings.map((f) => f.code), codes, 'codes');
    const actuallyOwed = t.owedRst ? 'rst' : t.owedAck ? 'ack' : '';
    assert.equal(actuallyOwed, owed, 'answer owed');
  });
}

test('TIME_WAIT: a retransmitted FIN restarts the 2MSL timer', () => {
  const t = tcbIn('TIME_WAIT');
  t.timeWaitSince = 5;
  segmentArrives(t, SEGMENTS.finRetx.seg(t), ctx, undefined);
  assert.equal(t.timeWaitSince, undefined, 'the checker re-stamps it with the current time');
});

test('ESTABLISHED: out-of-order data is queued and delivered when the gap fills', () => {
  const t = tcbIn('ESTABLISHED');
  segmentArrives(t, mk(ACK, 5011, 1001, 10), ctx, undefined);
  assert.equal(t.rcvNxt, 5001);
  segmentArrives(t, mk(ACK, 5001, 1001, 10), ctx, undefined);
  assert.equal(t.rcvNxt, 5021, 'RCV.NXT jumps over the queued bytes');
});

test('ESTABLISHED: an out-of-order FIN takes effect once the gap fills', () => {
  const t = tcbIn('ESTABLISHED');
  segmentArrives(t, mk(FIN | ACK, 5011, 1001), ctx, undefined);
  assert.equal(SOCKET_NAMES[t.state], 'ESTABLISHED');
  segmentArrives(t, mk(ACK, 5001, 1001, 10), ctx, undefined);
  assert.equal(SOCKET_NAMES[t.state], 'CLOSE_WAIT');
  assert.equal(t.rcvNxt, 5012);
});

test('window: data partly beyond RCV.WND is trimmed (TT400)', () => {
  const t = tcbIn('ESTABLISHED');
  t.advWin = 100;
  t.advAt = 5001;
  const out = segmentArrives(t, mk(ACK, 5001, 1001, 150), ctx, undefined);
  assert.deepEqual(out.findings.map((f) => f.code), ['TT400']);
  assert.equal(t.rcvNxt, 5101);
});

test('window: a 1-byte probe into a zero window is not TT400', () => {
  const t = tcbIn('ESTABLISHED');
  t.advWin = 0;
  t.advAt = 5001;
  const out = segmentArrives(t, mk(ACK, 5001, 1001, 1), ctx, undefined);
  assert.deepEqual(out.findings.map((f) => f.code), []);
  assert.equal(t.rcvNxt, 5001);
  assert.equal(t.owedAck, true);
});

test('sequence numbers wrap modulo 2^32', () => {
  const t = tcbIn('ESTABLISHED');
  t.irs = 0xfffffff0;
  t.rcvNxt = 0xfffffff1;
  segmentArrives(t, mk(ACK, 0xfffffff1, 1001, 32), ctx, undefined);
  assert.equal(t.rcvNxt, 0x11);
});

// ---- user calls (3.10.1-3.10.6) ----

/** [call, state, next state or 'TT201', a RST must follow (abort)]. */
const CALLS: [string, string, string, boolean?][] = [];
const ALL = SOCKET_NAMES as readonly string[];
for (const s of ALL) {
  CALLS.push(['listen', s, s === 'CLOSED' ? 'LISTEN' : 'TT201']);
  CALLS.push(['connect', s, s === 'CLOSED' ? 'SYN_SENT' : 'TT201']);
  const close: Record<string, string> = {
    CLOSED: 'TT201',
    LISTEN: 'CLOSED',
    SYN_SENT: 'CLOSED',
    SYN_RCVD: 'FIN_WAIT_1',
    ESTABLISHED: 'FIN_WAIT_1',
    CLOSE_WAIT: 'LAST_ACK',
  };
  CALLS.push(['close', s, close[s] ?? 'TT201']);
  CALLS.push(['shutdown', s, close[s] ?? 'TT201']);
  const rst = ['SYN_RCVD', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT'].includes(s);
  CALLS.push(['abort', s, s === 'CLOSED' ? 'TT201' : 'CLOSED', rst]);
  CALLS.push(['timeout', s, s === 'CLOSED' ? 'TT201' : 'CLOSED']);
  const sendOk = ['LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'CLOSE_WAIT'].includes(s);
  CALLS.push(['send', s, sendOk ? s : 'TT201']);
  CALLS.push(['recv', s, s === 'CLOSED' || s === 'LISTEN' ? 'TT201' : s]);
  CALLS.push(['accept', s, s === 'CLOSED' || s === 'LISTEN' || s === 'SYN_SENT' || s === 'SYN_RCVD' ? 'TT201' : s]);
}

for (const [call, state, next, rst] of CALLS) {
  test(`call ${call} in ${state} -> ${next}${rst ? ' (RST follows)' : ''}`, () => {
    const t = tcbIn(state);
    t.passive = state !== 'SYN_SENT'; // accept needs a passive open
    const r = userCall(t, call, ctx, ref, { bytes: 10 });
    if (next === 'TT201') {
      assert.equal(r.ok, false);
      assert.equal(SOCKET_NAMES[t.state], state, 'a refused call changes nothing');
    } else {
      assert.equal(r.ok, true, r.ok ? '' : r.message);
      assert.equal(SOCKET_NAMES[t.state], next);
      if (call === 'abort') assert.equal(t.abortRst !== undefined && !t.abortRst.optional, rst === true, 'a RST must follow');
    }
  });
}

// ---- what a sender may send ----

/** [state, flags, len, codes, next state]. */
const SENDS: [string, number, number, string[], string][] = [
  ['CLOSED', SYN, 0, [], 'SYN_SENT'],
  ['CLOSED', ACK, 0, ['TT200'], 'CLOSED'],
  ['CLOSED', RST, 0, ['TT200'], 'CLOSED'],
  ['LISTEN', SYN | ACK, 0, ['TT200'], 'LISTEN'],
  ['LISTEN', RST, 0, ['TT200'], 'LISTEN'],
  ['SYN_SENT', ACK, 0, ['TT200'], 'SYN_SENT'],
  ['SYN_SENT', ACK, 10, ['TT200'], 'SYN_SENT'],
  ['SYN_RCVD', ACK, 10, ['TT200'], 'SYN_RCVD'],
  ['SYN_RCVD', FIN | ACK, 0, [], 'FIN_WAIT_1'],
  ['SYN_RCVD', RST, 0, [], 'CLOSED'],
  ['ESTABLISHED', ACK, 10, [], 'ESTABLISHED'],
  ['ESTABLISHED', 0, 10, ['TT203'], 'ESTABLISHED'],
  ['ESTABLISHED', SYN, 0, ['TT200'], 'ESTABLISHED'],
  ['ESTABLISHED', FIN | ACK, 0, [], 'FIN_WAIT_1'],
  ['ESTABLISHED', RST, 0, [], 'CLOSED'],
  ['CLOSE_WAIT', FIN | ACK, 0, [], 'LAST_ACK'],
  ['CLOSE_WAIT', ACK, 10, [], 'CLOSE_WAIT'],
  ['FIN_WAIT_2', ACK, 10, ['TT204'], 'FIN_WAIT_2'],
  ['LAST_ACK', ACK, 10, ['TT204'], 'LAST_ACK'],
  ['TIME_WAIT', ACK, 0, [], 'TIME_WAIT'],
];

for (const [state, flags, len, codes, next] of SENDS) {
  test(`${state} sends ${flags ? [SYN, FIN, RST, ACK].filter((f) => flags & f).map((f) => ({ [SYN]: 'SYN', [FIN]: 'FIN', [RST]: 'RST', [ACK]: 'ACK' })[f]).join(',') : 'no flags'}${len ? ` with ${len} bytes` : ''} -> ${next}`, () => {
    const t = tcbIn(state);
    const peer = tcbIn('ESTABLISHED');
    peer.sndNxt = 5001;
    const seq = flags & SYN && state === 'CLOSED' ? 1000 : (t.sndNxt ?? 0);
    const seg = mk(flags, seq, flags & ACK ? t.rcvNxt : undefined, len);
    const out = sendSegment(t, peer, seg, ctx);
    assert.deepEqual(out.findings.map((f) => f.code), codes);
    assert.equal(SOCKET_NAMES[t.state], next);
  });
}

test('reassembly: segments arriving in any order, overlapping or repeated, end with RCV.NXT past them all', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 30 }),
      fc.array(fc.tuple(fc.nat({ max: 299 }), fc.integer({ min: 1, max: 40 })), { maxLength: 10 }),
      fc.infiniteStream(fc.nat()),
      (cuts, extras, rnd) => {
        // Pieces that partition [0, 300) exactly, plus overlapping extras inside it, in a random order.
        const points = [0, ...cuts.sort((a, b) => a - b), 300];
        const pieces: [number, number][] = [];
        for (let i = 0; i + 1 < points.length; i++) pieces.push([points[i], points[i + 1] - points[i]]);
        for (const [o, l] of extras) pieces.push([o, Math.min(l, 300 - o)]);
        const order = pieces.map((p, i) => ({ p, k: rnd.next().value * 1000 + i })).sort((a, b) => a.k - b.k).map((x) => x.p);
        const t = tcbIn('ESTABLISHED');
        t.advWin = 1 << 20;
        t.advAt = 5001;
        for (const [off, len] of order) segmentArrives(t, mk(ACK, 5001 + off, 1001, len), ctx, undefined);
        assert.equal(t.rcvNxt, 5301);
        assert.deepEqual(t.ooo, []);
      },
    ),
    { numRuns: 500, seed: 11 },
  );
});
