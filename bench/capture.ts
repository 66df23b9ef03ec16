/**
 * The capture bench: `tcptrace-cli import` itself (its runImport, bundled as
 * the CLI ships it, with its worker thread: read a pcap, track connections,
 * write one trace file per connection, check each) on a generated capture of
 * at least a million packets, against `tshark -r FILE -q -z expert`
 * (Wireshark's TCP analysis) on the same file. Prints packets per second,
 * CPU time, peak memory, and the ratio; the goal is at least 3x faster than
 * tshark on a capture of at least a million packets (judged at each such
 * size: the ratio grows with the size, as the import's warm-up is a fixed
 * cost and tshark's time per packet grows with the file), with memory that
 * does not grow with the file: the peak RSS at the largest size is set
 * against the size before it, when that is at most half (else an import of
 * twice the largest size is measured for it, without tshark). Sizes up to
 * about 2,000,000 packets are no yardstick for that: there, V8 is still
 * sizing both isolates' heaps, so 2,000,000 against 1,000,000 fell on
 * either side of FLAT_GROWTH from run to run (docs/performance.md, Memory).
 * So the default sizes go to 4,000,000, judged against 2,000,000.
 *
 * The capture is generated (bench/.data, cached by the generator's hash): a
 * busy server seen from its own host, many overlapping connections of mixed
 * sizes (short requests, medium responses, bulk transfers), with losses
 * before the capture point and their fast retransmissions, SACK, delayed
 * ACKs, window scaling and timestamps on every segment (Linux's defaults, in
 * its option layout); whole frames, as tcpdump writes them by default.
 *
 * Each measurement runs in its own plain Node process (peak RSS is its own),
 * as a user runs the CLI: bench/capture-run.ts, bundled.
 * The machine may be shared: CPU time (user + system, both threads) is less
 * noisy than wall time. --runs=N repeats each measurement and keeps the
 * fastest.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type { CaptureRunOutput } from './capture-run';
import { writeTransferCapture } from '../test/support/transfer-capture';
import { DATA_DIR, ROOT, fmtBytes, fmtInt, fmtMs, fmtRate, median, printTable, runNodeJson, type BenchModule, type BenchOptions, type WorkerFailure, type WorkerResult } from './util';

const GOAL_RATIO = 3;
/** The goal holds for captures of at least this many packets. */
const GOAL_MIN_PACKETS = 1_000_000;
const DEFAULT_SIZES = [250_000, 1_000_000, 2_000_000, 4_000_000];
/** Packets of the capture of one long connection (a bulk transfer, headers only). */
const LONG_PACKETS = 3_000_000;
/** Peak RSS at the largest size over peak RSS at a size at most half of it, below which memory counts as flat. */
const FLAT_GROWTH = 1.2;
const SEED = 20240607;


// ---------------------------------------------------------------------------
// The generator (the cached captures are keyed by a hash of the text from
// here to GENERATOR END, so that editing the rest of this file keeps them)
// ---------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole frames, as tcpdump writes by default (its snapshot length is 262144). */
const SNAP = 262144;
const MSS = 1448;

interface Pkt {
  t: number;
  fromClient: boolean;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  win: number;
  syn?: boolean;
  sack?: [number, number][];
}

/** One connection's packets as the server's host sees them (times relative to its start). */
function conversation(r: () => number): Pkt[] {
  const out: Pkt[] = [];
  const rtt = 0.002 + r() * 0.05;
  const cIsn = Math.floor(r() * 4294967296);
  const sIsn = Math.floor(r() * 4294967296);
  let t = 0;
  let c = cIsn; // client SND.NXT
  let s = sIsn; // server SND.NXT
  const add = (p: Pkt): void => {
    out.push(p);
  };
  add({ t, fromClient: true, flags: 0x02, seq: c, ack: 0, len: 0, win: 64240, syn: true });
  c = (c + 1) >>> 0;
  add({ t: (t += 0.00002), fromClient: false, flags: 0x12, seq: s, ack: c, len: 0, win: 65160, syn: true });
  s = (s + 1) >>> 0;
  add({ t: (t += rtt), fromClient: true, flags: 0x10, seq: c, ack: s, len: 0, win: 65535 });
  const kind = r();
  const requests = kind < 0.7 ? 1 : 1 + Math.floor(r() * 4);
  for (let q = 0; q < requests; q++) {
    const req = 200 + Math.floor(r() * 600);
    add({ t: (t += 0.00001), fromClient: true, flags: 0x18, seq: c, ack: s, len: req, win: 65535 });
    c = (c + req) >>> 0;
    // Response: short, medium or bulk.
    const size = kind < 0.6 ? 500 + Math.floor(r() * 4000) : kind < 0.95 ? 20000 + Math.floor(r() * 100000) : 500000 + Math.floor(r() * 1500000);
    const segs = Math.ceil(size / MSS);
    add({ t: (t += 0.0003), fromClient: false, flags: 0x10, seq: s, ack: c, len: 0, win: 509 });
    let acked = s;
    // The server sends as its congestion window (W segments in flight) allows; the client acknowledges
    // every second segment (delayed ACKs). A loss between this host and the client: the segment is
    // captured (it left this host), the client SACKs what follows, and the third duplicate ACK brings
    // the fast retransmission.
    const W = 16 + Math.floor(r() * 48);
    const sendAt: number[] = [];
    const ackAt: number[] = [];
    const seqOf: number[] = [];
    let lost = -1; // index of the lost segment
    let dup = 0;
    let retransAt = Infinity;
    let tt = t;
    const resolve = (upTo: number): void => {
      // The retransmission, then one cumulative ACK for everything sent so far.
      const L = lost;
      const lostLen = L === segs - 1 ? size - MSS * (segs - 1) : MSS;
      add({ t: retransAt, fromClient: false, flags: 0x10, seq: seqOf[L], ack: c, len: lostLen, win: 509 });
      // Everything sent so far (up to segment upTo) has arrived once the retransmission has.
      add({ t: retransAt + rtt, fromClient: true, flags: 0x10, seq: c, ack: s, len: 0, win: 65535 });
      for (let k = L; k <= upTo; k++) ackAt[k] = retransAt + rtt;
      acked = s;
      lost = -1;
      retransAt = Infinity;
    };
    for (let i = 0; i < segs; i++) {
      const len = i === segs - 1 ? size - MSS * (segs - 1) : MSS;
      let ready = i >= W ? ackAt[i - W] : 0;
      if (ready === undefined && lost >= 0) {
        // The window is full behind the loss: nothing more goes out until the retransmission is acknowledged.
        if (retransAt === Infinity) retransAt = tt + 3 * rtt; // too few duplicate ACKs: a timeout
        resolve(i - 1);
        ready = ackAt[i - W];
      }
      tt = Math.max(tt + 0.000012, ready ?? tt);
      if (lost >= 0 && tt >= retransAt) resolve(i - 1);
      sendAt[i] = tt;
      seqOf[i] = s;
      s = (s + len) >>> 0;
      add({ t: tt, fromClient: false, flags: i === segs - 1 ? 0x18 : 0x10, seq: seqOf[i], ack: c, len, win: 509 });
      if (lost < 0 && segs > 20 && i < segs - 5 && r() < 0.001) {
        lost = i;
        dup = 0;
        continue;
      }
      if (lost >= 0) {
        const lostEnd = (seqOf[lost] + MSS) >>> 0;
        add({ t: tt + rtt, fromClient: true, flags: 0x10, seq: c, ack: seqOf[lost], len: 0, win: 65535, sack: [[lostEnd, s]] });
        if (++dup === 3) retransAt = tt + rtt + 0.00001;
        continue;
      }
      // Delayed ACKs: one for every two segments.
      if (i % 2 === 1 || i === segs - 1) {
        add({ t: tt + rtt, fromClient: true, flags: 0x10, seq: c, ack: s, len: 0, win: 65535 });
        ackAt[i] = tt + rtt;
        if (i > 0 && ackAt[i - 1] === undefined) ackAt[i - 1] = tt + rtt;
        acked = s;
      }
    }
    if (lost >= 0) {
      if (retransAt === Infinity) retransAt = tt + 3 * rtt; // too few segments after it: a timeout
      resolve(segs - 1);
    }
    t = Math.max(tt, ...ackAt.slice(-2).filter((x) => x !== undefined)) + rtt;
    if (acked !== s) add({ t: (t += rtt), fromClient: true, flags: 0x10, seq: c, ack: s, len: 0, win: 65535 });
    t += rtt + r() * 0.01;
  }
  // The client closes first.
  add({ t: (t += 0.001), fromClient: true, flags: 0x11, seq: c, ack: s, len: 0, win: 65535 });
  c = (c + 1) >>> 0;
  add({ t: (t += 0.0001), fromClient: false, flags: 0x11, seq: s, ack: c, len: 0, win: 509 });
  s = (s + 1) >>> 0;
  add({ t: (t += rtt), fromClient: true, flags: 0x10, seq: c, ack: s, len: 0, win: 65535 });
  // Acks come back an RTT later: keep the capture order by time. A client never takes an ACK back.
  out.sort((a, b) => a.t - b.t);
  let high = -1;
  for (const p of out) {
    if (!p.fromClient || !(p.flags & 0x10)) continue;
    if (high >= 0 && ((p.ack - high) | 0) < 0) p.ack = high;
    high = p.ack;
  }
  return out;
}

/** Writes a pcap of about `packets` packets (streamed) and returns how many it wrote. */
export function writeCapture(path: string, packets: number, seed: number): { packets: number; connections: number } {
  const r = rng(seed);
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  let at = 0;
  const flush = (): void => {
    writeSync(fd, buf, 0, at);
    at = 0;
  };
  // pcap header: little-endian, microseconds, Ethernet, snap length SNAP (whole frames).
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(0, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(SNAP, 16);
  buf.writeUInt32LE(1, 20);
  at = 24;
  // Active connections, merged by time: each is a queue of packets with absolute times.
  interface Live {
    pkts: Pkt[];
    i: number;
    start: number;
    client: number;
    port: number;
    /** Each side's timestamp clock (1 kHz, from a random start) and the last value the capture saw from it (RFC 7323). */
    clock: [number, number];
    seen: [number, number];
  }
  const live: Live[] = [];
  let written = 0;
  let conns = 0;
  let now = 0;
  const epoch = 1_700_000_000;
  const frame = Buffer.alloc(2048);
  while (written < packets) {
    // Keep about 40 connections open; a new one starts every few milliseconds.
    while (live.length < 40) {
      now += r() * 0.004;
      const pkts = conversation(r);
      conns++;
      const clock: [number, number] = [Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)];
      live.push({ pkts, i: 0, start: now, client: (10 << 24) | (1 << 16) | Math.floor(r() * 65000), port: 32768 + (conns % 28000), clock, seen: [0, 0] });
    }
    let best = 0;
    for (let k = 1; k < live.length; k++) if (live[k].start + live[k].pkts[live[k].i].t < live[best].start + live[best].pkts[live[best].i].t) best = k;
    const L = live[best];
    const p = L.pkts[L.i++];
    const t = L.start + p.t;
    if (L.i === L.pkts.length) live.splice(best, 1);
    // Ethernet + IPv4 + TCP (+ options, laid out as Linux does).
    const side = p.fromClient ? 0 : 1;
    const tsVal = (L.clock[side] + Math.floor(t * 1000)) >>> 0;
    // The echo: the peer's latest value the capture saw (none on a first SYN).
    const tsEcr = p.syn && !(p.flags & 0x10) ? 0 : L.seen[1 - side];
    L.seen[side] = tsVal;
    const ts = [8, 10, tsVal >>> 24, (tsVal >>> 16) & 255, (tsVal >>> 8) & 255, tsVal & 255, tsEcr >>> 24, (tsEcr >>> 16) & 255, (tsEcr >>> 8) & 255, tsEcr & 255];
    const opts: number[] = [];
    if (p.syn) opts.push(2, 4, MSS >> 8, MSS & 255, 4, 2, ...ts, 1, 3, 3, 7);
    else opts.push(1, 1, ...ts);
    if (p.sack) {
      opts.push(1, 1, 5, 2 + 8 * p.sack.length);
      for (const [lft, rgt] of p.sack) opts.push(lft >>> 24, (lft >>> 16) & 255, (lft >>> 8) & 255, lft & 255, rgt >>> 24, (rgt >>> 16) & 255, (rgt >>> 8) & 255, rgt & 255);
    }
    while (opts.length % 4) opts.push(1);
    const tcpLen = 20 + opts.length;
    const ipLen = 20 + tcpLen + p.len;
    frame.fill(0, 0, 14);
    frame[12] = 0x08;
    frame.writeUInt8(0x45, 14);
    frame.writeUInt8(0, 15);
    frame.writeUInt16BE(ipLen, 16);
    frame.writeUInt16BE(0, 18);
    frame.writeUInt16BE(0x4000, 20);
    frame.writeUInt8(64, 22);
    frame.writeUInt8(6, 23);
    frame.writeUInt16BE(0, 24);
    const server = (10 << 24) | 1;
    frame.writeUInt32BE((p.fromClient ? L.client : server) >>> 0, 26);
    frame.writeUInt32BE((p.fromClient ? server : L.client) >>> 0, 30);
    frame.writeUInt16BE(p.fromClient ? L.port : 443, 34);
    frame.writeUInt16BE(p.fromClient ? 443 : L.port, 36);
    frame.writeUInt32BE(p.seq >>> 0, 38);
    frame.writeUInt32BE(p.ack >>> 0, 42);
    frame.writeUInt8((tcpLen / 4) << 4, 46);
    frame.writeUInt8(p.flags, 47);
    frame.writeUInt16BE(p.win, 48);
    frame.writeUInt32BE(0, 50);
    for (let k = 0; k < opts.length; k++) frame[54 + k] = opts[k];
    const full = 14 + ipLen;
    frame.fill(0, 54 + opts.length, full); // the payload
    const incl = Math.min(SNAP, full);
    if (at + 16 + incl > buf.length) flush();
    const whole = Math.floor(t);
    buf.writeUInt32LE(epoch + whole, at);
    buf.writeUInt32LE(Math.floor((t - whole) * 1e6), at + 4);
    buf.writeUInt32LE(incl, at + 8);
    buf.writeUInt32LE(full, at + 12);
    frame.copy(buf, at + 16, 0, incl);
    at += 16 + incl;
    written++;
  }
  flush();
  closeSync(fd);
  return { packets: written, connections: conns };
}

// GENERATOR END

function generatorHash(): string {
  const src = readFileSync(__filename, 'utf8');
  const from = src.indexOf('// The generator');
  const to = src.indexOf('// GENERATOR END', from);
  const transfer = readFileSync(resolve(__dirname, '../test/support/transfer-capture.ts'), 'utf8');
  return createHash('sha256').update(src.slice(from, to)).update(transfer).update(String(SEED)).digest('hex').slice(0, 10);
}

/** The capture of `packets` packets (many connections, or one long one), generated once and kept. */
function ensureCapture(packets: number, long = false): { path: string; connections: number } {
  mkdirSync(DATA_DIR, { recursive: true });
  const prefix = `${long ? 'long' : 'capture'}-${packets}-`;
  const path = resolve(DATA_DIR, `${prefix}${generatorHash()}.pcap`);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta)) return { path, connections: (JSON.parse(readFileSync(meta, 'utf8')) as { connections: number }).connections };
  for (const f of readdirSync(DATA_DIR)) if (f.startsWith(prefix)) unlinkSync(resolve(DATA_DIR, f));
  process.stdout.write(`  generating a capture of ${fmtInt(packets)} packets${long ? ' (one connection)' : ''} ... `);
  const t0 = performance.now();
  const tmp = `${path}.tmp`;
  let info = { packets, connections: 1 };
  if (long) writeTransferCapture(tmp, packets);
  else info = writeCapture(tmp, packets, SEED);
  renameSync(tmp, path);
  require('node:fs').writeFileSync(meta, JSON.stringify(info));
  console.log(`${fmtMs(performance.now() - t0)}, ${fmtBytes(statSync(path).size)}`);
  return { path, connections: info.connections };
}

/**
 * The measurement (bench/capture-run.ts, which calls the CLI's runImport) and
 * the CLI's worker, bundled as scripts/build.mjs bundles the CLI (the worker
 * is found next to the bundle, as in dist/).
 */
function bundle(): string {
  const dir = resolve(DATA_DIR, 'cli');
  mkdirSync(dir, { recursive: true });
  const common = { absWorkingDir: ROOT, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'warning' } as const;
  buildSync({ ...common, entryPoints: ['bench/capture-run.ts'], outfile: resolve(dir, 'run.cjs') });
  buildSync({ ...common, entryPoints: ['src/cli/check-worker.ts'], outfile: resolve(dir, 'check-worker.js') });
  return resolve(dir, 'run.cjs');
}

/** Runs one measurement in a fresh plain Node process (its peak RSS is its own) and parses its JSON line. */
function measure(runner: string, file: string, outDir: string, opts: BenchOptions): WorkerResult<CaptureRunOutput> | WorkerFailure {
  return runNodeJson<CaptureRunOutput>([runner, file, outDir], opts, 'the run');
}

interface TsharkResult {
  ok: boolean;
  ms: number;
  cpuMs: number;
  maxRss: number;
  reason: string;
}

function tshark(file: string, timeoutS: number): TsharkResult {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', 'tshark', '-r', file, '-q', '-z', 'expert'], { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.error) return { ok: false, ms, cpuMs: NaN, maxRss: NaN, reason: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? '/usr/bin/time or tshark missing (apt-get install time tshark)' : String(r.error) };
  if (r.status !== 0) return { ok: false, ms, cpuMs: NaN, maxRss: NaN, reason: `exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-2).join(' | ')}` };
  const [kb, user, sys] = (r.stderr || '').trim().split('\n').pop()!.split(' ').map(Number);
  return { ok: true, ms, cpuMs: (user + sys) * 1000, maxRss: kb * 1024, reason: '' };
}

function fastest<T extends { ms: number; cpuMs: number }>(a: T | undefined, b: T): T {
  if (a === undefined) return b;
  return { ...(b.ms < a.ms ? b : a), cpuMs: Math.min(a.cpuMs, b.cpuMs) };
}

/**
 * Where the runs write their traces: a new directory for every run, under a
 * root that is removed only once every run is done. Removing a run's 4,600
 * files just before the next run would make that run's file creation up to
 * ten times slower on some file systems (ext4 without a journal, as on this
 * project's VM, skips inodes freed in the last minute or so when it allocates
 * new ones, reading the inode table for each), a cost of the bench's own
 * clean-up, not of the import.
 */
class RunDirs {
  private n = 0;
  private constructor(readonly root: string) {}

  /** A root under `parent`, or undefined when `parent` is not a writable directory. */
  static under(parent: string, name: string): RunDirs | undefined {
    try {
      if (!statSync(parent).isDirectory()) return undefined;
      const root = resolve(parent, name);
      rmSync(root, { recursive: true, force: true }); // left by an interrupted bench
      mkdirSync(root, { recursive: true });
      return new RunDirs(root);
    } catch {
      return undefined;
    }
  }

  next(): string {
    return resolve(this.root, `run-${++this.n}`);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function run(opts: BenchOptions): Promise<void> {
  const runs = Math.max(1, opts.runs ?? 1);
  console.log(`capture: tcptrace-cli import (read, write the traces, check them) of a generated pcap, against tshark -r FILE -q -z expert${runs > 1 ? `; fastest of ${runs} runs` : ''}`);
  const lib = bundle();
  const disk = RunDirs.under(DATA_DIR, 'out');
  if (!disk) throw new Error(`cannot write traces under ${DATA_DIR}`);
  // The second measurement writes its traces to a memory file system (/dev/shm on Linux): the importer's own time, without the disk.
  const mem = RunDirs.under('/dev/shm', `tcptrace-bench-${process.pid}`);
  try {
    await runSizes(opts, lib, disk, mem);
  } finally {
    disk.remove();
    mem?.remove();
  }
}

async function runSizes(opts: BenchOptions, lib: string, disk: RunDirs, mem: RunDirs | undefined): Promise<void> {
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const runs = Math.max(1, opts.runs ?? 1);
  const rows: string[][] = [];
  const memRatios: string[] = [];
  const roundRatios: string[] = [];
  const notes: string[] = [];
  /** Per size (not the long connection): the peak RSS, and the ratio to tshark. */
  const bySize: { n: number; rss: number; ratio: number }[] = [];
  // The sizes, then one long connection: memory and speed when one connection is most of the capture.
  const targets = [...sizes.map((n) => ({ n, long: false })), ...(LONG_PACKETS > 0 ? [{ n: LONG_PACKETS, long: true }] : [])];
  for (const { n, long } of targets) {
    const cap = ensureCapture(n, long);
    process.stdout.write(`  measuring ${fmtInt(n)} packets${long ? ' (one connection)' : ''}:`);
    let o: CaptureRunOutput | undefined;
    let om: CaptureRunOutput | undefined;
    let ts: TsharkResult | undefined;
    let failed = false;
    // Each round's tshark time over its import time: the two ran back to back, so a slow spell of a
    // shared machine slows both.
    const rounds: number[] = [];
    for (let r = 0; r < runs && !failed; r++) {
      process.stdout.write(' import');
      const w = measure(lib, cap.path, disk.next(), opts);
      if (mem && !long) {
        process.stdout.write(', import to memory');
        const m = measure(lib, cap.path, mem.next(), opts);
        if (m.ok) om = fastest(om, m.value);
      }
      // tshark takes long on the long connection, and its time varies little there: once is enough.
      const t = long && r > 0 && ts !== undefined ? ts : tshark(cap.path, opts.timeout);
      if (t !== ts) process.stdout.write(', tshark;');
      if (!w.ok) {
        notes.push(`${fmtInt(n)} packets: import failed: ${w.reason}`);
        failed = true;
        break;
      }
      if (t.ok && t !== ts) rounds.push(t.ms / w.value.ms);
      // The fastest run, and the least CPU time of any run (each is the least disturbed by other load).
      o = fastest(o, w.value);
      ts = ts === undefined || !t.ok ? t : ts.ok ? fastest(ts, t) : ts;
    }
    console.log(' done');
    if (!o || !ts) continue;
    if (o.error) notes.push(`${fmtInt(n)} packets: the import ${o.error}`);
    if ((o.diagnostics.error ?? 0) > 0) notes.push(`${fmtInt(n)} packets: the checker reports ${o.diagnostics.error} errors on these correct conversations`);
    if (!ts.ok) notes.push(`${fmtInt(n)} packets: tshark: ${ts.reason}`);
    const ratio = ts.ok ? ts.ms / o.ms : NaN;
    if (om && ts.ok) memRatios.push(`${fmtInt(n)} packets ${fmtMs(om.ms)} (CPU ${fmtMs(om.cpuMs)}), ${(ts.ms / om.ms).toFixed(2)}x tshark`);
    if (!long) bySize.push({ n, rss: o.maxRss, ratio });
    if (rounds.length > 1) roundRatios.push(`${fmtInt(n)} packets ${rounds.map((x) => `${x.toFixed(2)}x`).join(', ')} (median ${median(rounds).toFixed(2)}x)`);
    rows.push([
      fmtInt(o.packets),
      fmtInt(o.connections),
      fmtBytes(statSync(cap.path).size),
      fmtMs(o.ms),
      fmtMs(o.cpuMs),
      fmtRate((o.packets * 1000) / o.ms),
      fmtBytes(o.maxRss),
      fmtBytes(o.traceBytes),
      `${o.diagnostics.error ?? 0}/${o.diagnostics.warning ?? 0}/${o.diagnostics.information ?? 0}`,
      ts.ok ? fmtMs(ts.ms) : '-',
      ts.ok ? fmtMs(ts.cpuMs) : '-',
      ts.ok ? fmtBytes(ts.maxRss) : '-',
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-',
    ]);
  }
  // Memory against the length of the file: the largest size against one at most half of it, or else an import
  // of twice the largest size, once, peak RSS only.
  const memory = bySize.filter((r) => Number.isFinite(r.rss));
  const largest = sizes[sizes.length - 1];
  const top = memory.length === sizes.length ? memory[memory.length - 1] : undefined;
  const prev = memory.length > 1 ? memory[memory.length - 2] : undefined;
  let pair: { below: { n: number; rss: number }; above: { n: number; rss: number } } | undefined = top && prev && 2 * prev.n <= top.n ? { below: prev, above: top } : undefined;
  if (top && !pair) {
    const cap = ensureCapture(2 * largest);
    process.stdout.write(`  measuring ${fmtInt(2 * largest)} packets (peak memory only): import`);
    const w = measure(lib, cap.path, disk.next(), opts);
    console.log(' done');
    if (w.ok && !w.value.error) pair = { below: top, above: { n: w.value.packets, rss: w.value.maxRss } };
    else notes.push(`${fmtInt(2 * largest)} packets: import failed: ${w.ok ? w.value.error : w.reason}`);
  }
  console.log('');
  printTable(['packets', 'connections', 'file', 'import', 'CPU', 'packets/s', 'peak RSS', 'traces', 'err/warn/info', 'tshark', 'tshark CPU', 'tshark RSS', 'ratio'], rows);
  console.log('  import: tcptrace-cli import FILE -o DIR, wall time (traces written and checked); CPU: user + system, all threads');
  if (LONG_PACKETS > 0) console.log(`  the last row: one bulk transfer of ${fmtInt(LONG_PACKETS)} packets, captured with headers only (-s 96); not counted for the goal`);
  if (memRatios.length > 0) console.log(`  import with the traces written to memory (/dev/shm): ${memRatios.join("; ")}`);
  if (roundRatios.length > 0) console.log(`  ratio in each round (tshark run in the same round as the import): ${roundRatios.join('; ')}`);
  for (const note of notes) console.log(`  note: ${note}`);
  const judged = bySize.filter((r) => r.n >= GOAL_MIN_PACKETS && Number.isFinite(r.ratio));
  if (judged.length > 0) {
    const each = judged.map((r) => `${fmtInt(r.n)} packets ${r.ratio >= GOAL_RATIO ? 'met' : 'NOT met'} (${r.ratio.toFixed(2)}x)`).join(', ');
    console.log(`  goal: at least ${GOAL_RATIO}x faster than tshark on ${fmtInt(GOAL_MIN_PACKETS)} packets or more: ${each}`);
  }
  if (pair) {
    const { below, above } = pair;
    const growth = above.rss / below.rss;
    const curve = [...memory.filter((r) => r.n < above.n), above].map((r) => `${fmtInt(r.n)} ${fmtBytes(r.rss)}`).join(', ');
    const times = above.n / below.n;
    console.log(`  memory: peak RSS ${curve}: x${growth.toFixed(2)} for x${times.toFixed(times % 1 === 0 ? 0 : 1)} the packets past ${fmtInt(below.n)} (${growth < FLAT_GROWTH ? 'flat' : 'GROWS with the file'})`);
  }
}

export const capture: BenchModule = {
  name: 'capture',
  description: 'tcptrace-cli import of generated 250K- to 4M-packet pcaps vs tshark -z expert (packets/s, CPU, peak RSS, ratio)',
  run,
};

