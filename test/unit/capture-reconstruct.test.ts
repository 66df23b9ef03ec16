/**
 * Far-end reconstruction on small synthetic captures, one rule at a time: each
 * capture is the least that shows the rule, and the test states what the
 * trace must then say (the real captures in test/fixtures/captures show the
 * same rules in context).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../../src/core';
import { importCaptureBytes } from '../../src/core/capture';
import { ethernet, ipPacket, pcap, type Rec } from '../fixtures/captures/synth';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const C = { src: '10.0.0.1', sport: 40000 };
const S = { src: '10.0.0.2', sport: 80 };

/** One segment: from 'c' or 's', at time t (ms), with a SACK block if given. */
type Seg = [from: 'c' | 's', t: number, flags: number, seq: number, ack: number, len: number, sack?: [number, number]];

function capture(segs: Seg[]): Uint8Array {
  const recs: Rec[] = segs.map(([from, t, flags, seq, ack, len, sack]) => {
    const a = from === 'c' ? C : S;
    const b = from === 'c' ? S : C;
    const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    const options = sack ? [1, 1, 5, 10, ...be32(sack[0]), ...be32(sack[1])] : flags & SYN ? [4, 2] : [];
    const us = 1_000_000 + Math.round(t * 1000);
    return { sec: 1_700_000_000 + Math.floor(us / 1e6), frac: us % 1e6, data: ethernet(ipPacket({ src: a.src, dst: b.src, sport: a.sport, dport: b.sport, seq, ack, flags, payload: len, options })) };
  });
  return pcap(1, recs);
}

function trace(segs: Seg[]): string {
  let text = '';
  importCaptureBytes(capture(segs), { captureName: 'c.pcap', onConnection: (_s, t) => (text = t!) });
  return text;
}

const nonInformation = (text: string): string[] =>
  check(text)
    .diagnostics.filter((d) => d.severity !== 'information')
    .map((d) => `${d.code}@${d.line + 1}: ${d.message}`);

const HANDSHAKE: Seg[] = [
  ['c', 0, SYN, 100, 0, 0],
  ['s', 10, SYN | ACK, 1000, 101, 0],
  ['c', 20, ACK, 101, 1001, 0],
];

/** After the handshake, the server sends 1001-1101 and 1101-1201; the client has the second only (SACK). */
const HOLE: Seg[] = [...HANDSHAKE, ['s', 30, ACK, 1001, 101, 100], ['s', 31, ACK, 1101, 101, 100], ['c', 40, ACK, 101, 1001, 0, [1101, 1201]]];

test('a segment resent in part only was not lost when the receiver acknowledges the rest', () => {
  // The server resends 1001-1093 (a resend may be cut shorter, for more SACK blocks), and the client then
  // acknowledges 1201: bytes 1093-1101 came in the first copy, which was late, not lost.
  const text = trace([
    ...HOLE,
    ['s', 50, ACK, 1001, 101, 92],
    ['c', 60, ACK, 101, 1201, 0],
  ]);
  assert.doesNotMatch(text, /^[\d.]+ server -x client/m, text);
  assert.deepEqual(nonInformation(text), [], text);
  // Resent whole, it is lost, as before.
  const whole = trace([
    ...HOLE,
    ['s', 50, ACK, 1001, 101, 100],
    ['c', 60, ACK, 101, 1201, 0],
  ]);
  assert.match(whole, /^[\d.]+ server -x client: ACK seq=1001 ack=101 len=100/m, whole);
  assert.deepEqual(nonInformation(whole), [], whole);
});

test("a segment captured after one of its sender's with a newer acknowledgment was sent before it", () => {
  // Captured at the client: the server's retransmission of 1001 (ack=101) comes after the server's
  // FIN, which acknowledges the client's data (ack=111): it was sent first, and overtaken.
  const text = trace([
    ...HOLE,
    ['c', 41, ACK, 101, 1001, 10, [1101, 1201]],
    ['s', 50, ACK, 1001, 101, 100],
    ['c', 60, ACK, 111, 1201, 0],
    ['c', 61, FIN | ACK, 111, 1201, 0],
    ['s', 70, FIN | ACK, 1201, 112, 0],
    ['s', 71, ACK, 1001, 101, 100],
    ['c', 80, ACK, 112, 1202, 0],
  ]);
  assert.match(text, /^server ~> client: ACK seq=1001 ack=101 len=100 .*as f12 {2}# frame 12, captured at [\d.]+: sent before frame 11, which overtook it$/m, text);
  assert.deepEqual(nonInformation(text), [], text);
});

test('an endpoint in LAST_ACK that still sends had not yet received the ACK of its FIN', () => {
  // The server (LAST_ACK) answers a stale segment with an ACK after the client's last ACK was
  // captured: that ACK reached the server after the answer, or the server would be CLOSED.
  const text = trace([
    ...HANDSHAKE,
    ['c', 30, FIN | ACK, 101, 1001, 0],
    ['s', 40, FIN | ACK, 1001, 102, 0],
    ['c', 50, ACK, 102, 1002, 0],
    ['s', 55, ACK, 1002, 102, 0],
  ]);
  assert.match(text, /^[\d.]+ client ~> server: ACK seq=102 ack=1002 .*as f6 {2}# frame 6\n[\d.]+ server -> client: ACK .*# frame 7\ndeliver f6\n/m, text);
  assert.deepEqual(nonInformation(text), [], text);
});
