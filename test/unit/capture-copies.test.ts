/**
 * Copies: one packet seen more than once by the capture (on each interface a
 * bridged or forwarded packet passes, in a capture on `any` or a pcapng of
 * several interfaces; twice on one, from a mirror port). Each is written once;
 * a retransmission or a duplicate ACK, which is a new packet, is not a copy.
 * The real captures copies-*.pcap* in test/fixtures/captures show it in context.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../../src/core';
import { copiesText, importCaptureBytes, type ConnectionSummary, type ImportReport } from '../../src/core/capture';
import { Pcapng, ethernet, ipPacket, pcap, sll2 } from '../fixtures/captures/synth';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

/** A packet: from 'c' or 's', at t ms, on interface `itf`, with the IPv4 identification `id` (0: none). */
interface Pkt {
  from: 'c' | 's';
  t: number;
  flags: number;
  seq: number;
  ack: number;
  len?: number;
  itf?: number;
  id: number;
}

const HANDSHAKE_AND_CLOSE: Omit<Pkt, 'id'>[] = [
  { from: 'c', t: 0, flags: SYN, seq: 100, ack: 0 },
  { from: 's', t: 1, flags: SYN | ACK, seq: 500, ack: 101 },
  { from: 'c', t: 2, flags: ACK, seq: 101, ack: 501 },
  { from: 'c', t: 3, flags: ACK, seq: 101, ack: 501, len: 10 },
  { from: 's', t: 4, flags: ACK, seq: 501, ack: 111 },
  { from: 'c', t: 4.5, flags: ACK, seq: 111, ack: 501, len: 10 },
  { from: 'c', t: 4.6, flags: ACK, seq: 121, ack: 501, len: 10 },
  { from: 'c', t: 4.7, flags: ACK, seq: 131, ack: 501, len: 10 },
  { from: 's', t: 4.8, flags: ACK, seq: 501, ack: 141 },
  { from: 'c', t: 5, flags: FIN | ACK, seq: 141, ack: 501 },
  { from: 's', t: 6, flags: FIN | ACK, seq: 501, ack: 142 },
  { from: 'c', t: 7, flags: ACK, seq: 142, ack: 502 },
];

function ip(p: Pkt, v6 = false): number[] {
  const c = { src: v6 ? '2001:db8::1' : '10.0.0.1', sport: 40000 };
  const s = { src: v6 ? '2001:db8::2' : '10.0.0.2', sport: 80 };
  const [a, b] = p.from === 'c' ? [c, s] : [s, c];
  return ipPacket({ src: a.src, dst: b.src, sport: a.sport, dport: b.sport, seq: p.seq, ack: p.ack, flags: p.flags, payload: p.len ?? 0, id: p.id });
}

const stamp = (t: number): { sec: number; frac: number } => ({ sec: 1_700_000_000 + Math.floor(t / 1000), frac: Math.round((t % 1000) * 1000) });

function pcapOf(pkts: Pkt[], v6 = false): Uint8Array {
  return pcap(
    1,
    pkts.map((p) => ({ ...stamp(p.t), data: ethernet(ip(p, v6)) })),
  );
}

/** A capture on `any`: Linux cooked v2, each frame naming its interface. */
function anyOf(pkts: Pkt[], v6 = false): Uint8Array {
  return pcap(
    276,
    pkts.map((p) => ({ ...stamp(p.t), data: sll2(ip(p, v6), 2 + (p.itf ?? 0)) })),
  );
}

function pcapngOf(pkts: Pkt[], v6 = false): Uint8Array {
  const ng = new Pcapng().shb().idb(1).idb(1);
  for (const p of pkts) {
    const us = Math.round(1_700_000_000_000_000 + p.t * 1000);
    ng.epb(p.itf ?? 0, [Math.floor(us / 2 ** 32), us % 2 ** 32], ethernet(ip(p, v6)));
  }
  return ng.bytes();
}

function imported(bytes: Uint8Array): { report: ImportReport; summary: ConnectionSummary; text: string } {
  const got: { summary: ConnectionSummary; text: string }[] = [];
  const report = importCaptureBytes(bytes, { captureName: 'c.pcap', onConnection: (summary, text) => got.push({ summary, text: text! }) });
  assert.equal(got.length, 1, 'one connection');
  return { report, ...got[0] };
}

/** The trace's lines from its title on, without the frame comments (copies change the numbering). */
const body = (text: string): string =>
  text
    .slice(text.indexOf('title '))
    .replace(/ {2}# frame \d+.*$/gm, '')
    .replace(/\bf\d+\b/g, 'fN');

const numbered = (pkts: Omit<Pkt, 'id'>[]): Pkt[] => pkts.map((p, i) => ({ ...p, id: i + 1 }));
const PLAIN = numbered(HANDSHAKE_AND_CLOSE);

test('each packet seen on two interfaces (right after, or the second interface later in the file): written once', () => {
  const once = imported(pcapngOf(PLAIN));
  assert.equal(once.report.copies, 0);
  const twiceInTurn = PLAIN.flatMap((p) => [p, { ...p, t: p.t + 0.01, itf: 1 }]);
  // As dumpcap writes several interfaces: each one's packets in a burst.
  const inBursts = [...PLAIN, ...PLAIN.map((p) => ({ ...p, t: p.t + 0.01, itf: 1 }))];
  for (const [what, pkts] of [
    ['in turn', twiceInTurn],
    ['in bursts', inBursts],
  ] as const) {
    const r = imported(pcapngOf(pkts));
    assert.equal(body(r.text), body(once.text), what);
    assert.equal(r.report.copies, 12, what);
    assert.equal(r.summary.packets, 24, `${what}: packets count copies, as Wireshark does`);
    assert.equal(r.summary.copies, 12, what);
    assert.match(r.text, /^# Imported from c\.pcap: connection 1, frames 1-24 \(12 packets, and 12 copies\), /m, what);
    assert.match(r.text, /^# 12 packets were copies of another, seen again by the capture/m, what);
    assert.deepEqual(check(r.text).diagnostics.filter((d) => d.code === 'TT303'), [], `${what}: no retransmission`);
  }
  assert.doesNotMatch(once.text, /copies|copy/);
});

test('IPv4: the same identification is a copy (a mirror port, one interface); a new one is a retransmission', () => {
  const data = PLAIN[3];
  const mirrored = imported(pcapOf([...PLAIN.slice(0, 4), { ...data, t: 3.001 }, ...PLAIN.slice(4)]));
  assert.equal(mirrored.summary.packets, PLAIN.length + 1);
  assert.equal(copiesText(mirrored.summary.copies), 'one of them a copy');
  assert.match(mirrored.text, /^# Imported from c\.pcap: connection 1, frames 1-\d+ \(\d+ packets, and a copy\), /m);
  assert.match(mirrored.text, /^# A packet was a copy of another, seen again by the capture/m);
  assert.equal(mirrored.report.copies, 1);
  assert.equal(body(mirrored.text), body(imported(pcapOf(PLAIN)).text));
  const resent = imported(pcapOf([...PLAIN.slice(0, 4), { ...data, t: 3.001, id: 99 }, ...PLAIN.slice(4)]));
  assert.equal(resent.report.copies, 0);
  assert.equal(resent.summary.packets, PLAIN.length + 1);
  assert.equal(check(resent.text).diagnostics.filter((d) => d.code === 'TT303').length, 1, 'the retransmission is reported');
});

test('no identification (IPv6, or IPv4 with 0): a copy is on another interface, and a packet passes each interface once', () => {
  for (const v6 of [true, false]) {
    const what = v6 ? 'IPv6' : 'IPv4 with identification 0';
    const zero = PLAIN.map((p) => ({ ...p, id: 0 }));
    // Three identical duplicate ACKs from the server, each seen on interface 0 and then on interface 1.
    const dup = { from: 's' as const, t: 4.1, flags: ACK, seq: 501, ack: 111, id: 0 };
    const dups = [0, 1, 2].flatMap((k) => [{ ...dup, t: 4.1 + k * 0.1 }, { ...dup, t: 4.1 + k * 0.1 + 0.01, itf: 1 }]);
    const pkts = [...zero.slice(0, 5), ...dups, ...zero.slice(5)];
    const r = imported(anyOf(pkts, v6));
    assert.equal(r.report.copies, 3, `${what}: each duplicate ACK's copy`);
    assert.equal(r.text.match(/^[\d.]+ server -> client: ACK seq=501 ack=111 win=65535 {2}# frame/gm)?.length, 4, `${what}: the ACK and its three duplicates stay`);
    // The same packets all on one interface: nothing says they are copies.
    assert.equal(imported(anyOf(pkts.map((p) => ({ ...p, itf: 0 })), v6)).report.copies, 0, `${what}: one interface`);
  }
});

test('a packet more than a second after one like it is not its copy', () => {
  const late = imported(pcapngOf([...PLAIN.slice(0, 3), { ...PLAIN[2], t: 1500, itf: 1 }]));
  assert.equal(late.report.copies, 0);
  const soon = imported(pcapngOf([...PLAIN.slice(0, 3), { ...PLAIN[2], t: 900, itf: 1 }]));
  assert.equal(soon.report.copies, 1);
});
