/**
 * Random captures that stress the connection tracker: reused, reset and
 * colliding 4-tuples, late segments, clock steps back, TCP options, IPv4 and
 * IPv6 (for the capture property tests).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { writeCapture } from '../../bench/capture';
import { Pcapng, ethernet, ipPacket, pcap, sll2 } from '../fixtures/captures/synth';

/** Property-test parameters: the seed fixed under CI (`ciSeed`), random locally; FC_SEED and FC_RUNS override. */
export function propertyParams(ciSeed: number): (runs: number) => fc.Parameters<unknown> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? ciSeed : Date.now() % 0x7fffffff;
  const scale = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 1;
  return (runs) => ({ seed, numRuns: Math.max(1, Math.round(runs * scale)) });
}

/** The capture fixtures (test/fixtures/captures), damaged ones too, by name. */
export function captureFixtures(): { name: string; bytes: Uint8Array }[] {
  const dir = resolve(__dirname, '../fixtures/captures');
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)$/.test(f))
    .sort()
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

/** The small fixtures with up to eight bytes after the file header overwritten (damage anywhere). */
export function mutatedFixtureArb(fixtures: readonly { name: string; bytes: Uint8Array }[]): fc.Arbitrary<{ name: string; bytes: Uint8Array }> {
  const small = fixtures.filter((f) => f.bytes.length < 8000);
  return fc.tuple(fc.constantFrom(...small), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 })).map(([f, muts]) => {
    const b = f.bytes.slice();
    for (const [at, v] of muts) b[24 + (at % Math.max(1, b.length - 24))] = v;
    return { name: `mutated ${f.name}`, bytes: b };
  });
}

/** A capture from the bench's generator (many connections, losses, SACK, ports reused), in a file removed afterwards. */
export function withGeneratedCapture<T>(packets: number, seed: number, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-gen-'));
  try {
    const path = join(dir, 'gen.pcap');
    writeCapture(path, packets, seed);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.1.7', '2001:db8::1', '2001:db8::2'];
const PORTS = [80, 443, 40000, 40001, 51000];

const FLAG_CHOICES = [0x02, 0x12, 0x10, 0x18, 0x11, 0x19, 0x04, 0x14, 0x01, 0x00, 0x30, 0x52, 0xc2, 0x29, 0x16];

export interface RandSeg {
  tuple: number; // index into a tuple list
  flip: boolean;
  flags: number;
  seqDelta: number;
  ackDelta: number;
  len: number;
  dt: number; // seconds since the previous packet (negative: a clock step back)
  opts: number; // which TCP options
}

export const segArb = fc.record({
  tuple: fc.nat({ max: 40 }),
  flip: fc.boolean(),
  flags: fc.constantFrom(...FLAG_CHOICES),
  seqDelta: fc.oneof(fc.constantFrom(0, 1, 100, 1448, -1448), fc.integer({ min: -5000, max: 70000 }), fc.constant(2 ** 31)),
  ackDelta: fc.oneof(fc.constantFrom(0, 1, 100, 1448), fc.integer({ min: -5000, max: 70000 })),
  len: fc.oneof(fc.constant(0), fc.constantFrom(1, 100, 1448), fc.nat({ max: 3000 })),
  dt: fc.oneof(fc.constantFrom(0, 0.000001, 0.001, 0.002, 20), fc.double({ min: -0.01, max: 1, noNaN: true })),
  opts: fc.nat({ max: 7 }),
});

function tupleList(): { src: string; dst: string; sport: number; dport: number }[] {
  const out: { src: string; dst: string; sport: number; dport: number }[] = [];
  const v4 = HOSTS.filter((h) => !h.includes(':'));
  for (let i = 0; i < v4.length; i++)
    for (let j = 0; j < v4.length; j++) if (i !== j) for (const p of PORTS.slice(0, 3)) out.push({ src: v4[i], dst: v4[j], sport: p === 80 ? 40000 : p + 7, dport: p });
  out.push({ src: HOSTS[4], dst: HOSTS[5], sport: 40000, dport: 443 });
  out.push({ src: HOSTS[5], dst: HOSTS[4], sport: 51000, dport: 80 });
  out.push({ src: HOSTS[0], dst: HOSTS[1], sport: 5000, dport: 5000 }); // same port both sides
  out.push({ src: HOSTS[1], dst: HOSTS[0], sport: 5000, dport: 5000 });
  return out;
}
const TUPLES = tupleList();

export function buildCapture(segs: RandSeg[]): Uint8Array {
  return pcap(1, packetsOf(segs).map((p) => ({ ...stamp(p.t), data: ethernet(p.ip) })));
}

/** The IP packets of `segs`, and their times; `zeroIds`: IPv4 identification 0 on every packet (as some stacks send). */
function packetsOf(segs: RandSeg[], zeroIds = false): { t: number; ip: number[] }[] {
  const out: { t: number; ip: number[] }[] = [];
  const seq = new Map<string, number>();
  let t = 1_700_000_000;
  for (const s of segs) {
    const tu = TUPLES[s.tuple % TUPLES.length];
    const fwd = !s.flip;
    const src = fwd ? tu.src : tu.dst;
    const dst = fwd ? tu.dst : tu.src;
    const sport = fwd ? tu.sport : tu.dport;
    const dport = fwd ? tu.dport : tu.sport;
    const me = `${src}:${sport}>${dst}:${dport}`;
    const peer = `${dst}:${dport}>${src}:${sport}`;
    const mySeq = ((seq.get(me) ?? (s.tuple * 7919 * 1000) >>> 0) + s.seqDelta) >>> 0;
    seq.set(me, (mySeq + s.len) >>> 0);
    const ack = ((seq.get(peer) ?? 5000) + s.ackDelta) >>> 0;
    const options: number[] = [];
    if (s.opts & 1) options.push(2, 4, 5, 0xb4, 3, 3, 7); // MSS, wscale
    if (s.opts & 2) options.push(4, 2, 8, 10, 0, 0, 1, 0, 0, 0, 0, 9); // SACK-permitted, timestamps
    if (s.opts & 4) options.push(1, 1, 5, 10, ...be32(ack), ...be32((ack + 1448) >>> 0)); // one SACK block
    t += s.dt;
    out.push({ t, ip: ipPacket({ src, dst, sport, dport, seq: mySeq, ack, flags: s.flags, payload: s.len, options, id: zeroIds ? 0 : undefined }) });
  }
  return out;
}

function stamp(t: number): { sec: number; frac: number } {
  const whole = Math.floor(t);
  return { sec: whole, frac: Math.floor((t - whole) * 1e6) };
}

/** Copies of one packet: how many, on which interface, how much later, and how many packets later in the file. */
export interface CopySpec {
  /** The interface the packet itself is on. */
  home: number;
  n: number;
  itf: number;
  delay: number;
  defer: number;
}

export const copyArb: fc.Arbitrary<CopySpec> = fc.record({
  home: fc.oneof(fc.constant(0), fc.nat({ max: 2 })),
  n: fc.oneof(fc.constant(0), fc.nat({ max: 2 })),
  itf: fc.nat({ max: 2 }),
  delay: fc.constantFrom(0, 0.000001, 0.0005, 1.5),
  defer: fc.oneof(fc.constant(0), fc.nat({ max: 3 }), fc.nat({ max: 80 })),
});

/**
 * A capture of `segs` in which packets are seen more than once (copies[i]
 * for the i-th, which also says the packet's own interface): a pcapng with three Ethernet interfaces, or a pcap of Linux
 * cooked v2 frames naming three interface indexes (a capture on `any`). A
 * copy is the same bytes, on an interface, `delay` seconds later, `defer`
 * packets later in the file (a pcapng written per interface in bursts).
 */
export function buildCopiesCapture(segs: RandSeg[], copies: CopySpec[], opts: { zeroIds: boolean; format: 'pcapng' | 'sll2' }): Uint8Array {
  const events: { key: number; t: number; itf: number; ip: number[] }[] = [];
  packetsOf(segs, opts.zeroIds).forEach((p, i) => {
    const c = copies[i % Math.max(1, copies.length)];
    events.push({ key: i * 4, t: p.t, itf: c?.home ?? 0, ip: p.ip });
    if (c === undefined) return;
    for (let k = 0; k < c.n; k++) events.push({ key: (i + c.defer) * 4 + k + 1, t: p.t + c.delay * (k + 1), itf: (c.itf + k) % 3, ip: p.ip });
  });
  events.sort((a, b) => a.key - b.key);
  if (opts.format === 'sll2') return pcap(276, events.map((e) => ({ ...stamp(e.t), data: sll2(e.ip, 2 + e.itf) })));
  const ng = new Pcapng().shb().idb(1).idb(1).idb(1);
  for (const e of events) {
    const us = Math.round(e.t * 1e6);
    ng.epb(e.itf, [Math.floor(us / 2 ** 32), us % 2 ** 32], ethernet(e.ip));
  }
  return ng.bytes();
}

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

