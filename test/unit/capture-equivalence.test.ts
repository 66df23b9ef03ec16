/**
 * The optimized capture import (src/core/capture: a hash table of numbers
 * for the 4-tuples, traces written as bytes, ...) against a frozen copy of
 * the import before those changes (test/reference/capture): the same
 * summaries, the same trace texts byte for byte, the same report, on every
 * fixture, on random captures built to stress connection tracking (4-tuple
 * reuse, resets, late segments, hash collisions, table growth), on mutated
 * fixtures, and on a capture from the bench's generator. Also the digit
 * writers (ByteSink.num, ByteSink.time) against String and toFixed.
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ByteSink, importCaptureBytes, type ImportReport } from '../../src/core/capture';
import { importCaptureBytes as referenceImport, type ImportReport as ReferenceReport } from '../reference/capture/import';
import { Pcapng, ethernet, ipPacket, pcap, type Rec } from '../fixtures/captures/synth';
import { buildCapture, buildCopiesCapture, captureFixtures, copyArb, mutatedFixtureArb, propertyParams, segArb, withGeneratedCapture, type RandSeg } from '../support/random-captures';

const params = propertyParams(0x0e9a1);
const FIXTURES = captureFixtures();

interface Outcome {
  report: Omit<ImportReport, 'error'> & { error: string | undefined };
  summaries: unknown[];
  texts: (string | undefined)[];
}

function plain(r: ImportReport | ReferenceReport): Outcome['report'] {
  // The reference predates compressed captures: it reads none.
  return { compression: undefined, ...r, error: r.error ? `${r.error.offset}: ${r.error.message}` : undefined };
}

function viaReference(bytes: Uint8Array, linger?: number, want?: (id: number) => boolean): Outcome {
  const summaries: unknown[] = [];
  const texts: (string | undefined)[] = [];
  const report = referenceImport(bytes, {
    captureName: 'c.pcap',
    linger,
    want,
    onConnection: (s, t) => {
      summaries.push(s);
      texts.push(t);
    },
  });
  return { report: plain(report), summaries, texts };
}

function viaText(bytes: Uint8Array, linger?: number, want?: (id: number) => boolean): Outcome {
  const summaries: unknown[] = [];
  const texts: (string | undefined)[] = [];
  const report = importCaptureBytes(bytes, {
    captureName: 'c.pcap',
    linger,
    want,
    onConnection: (s, t) => {
      summaries.push(s);
      texts.push(t);
    },
  });
  return { report: plain(report), summaries, texts };
}

const decoder = new TextDecoder();

function viaBytes(bytes: Uint8Array, linger?: number, want?: (id: number) => boolean): Outcome {
  const summaries: unknown[] = [];
  const texts: (string | undefined)[] = [];
  const report = importCaptureBytes(bytes, {
    captureName: 'c.pcap',
    linger,
    want,
    onConnectionBytes: (s, b) => {
      summaries.push(s);
      texts.push(b === undefined ? undefined : decoder.decode(b));
    },
  });
  return { report: plain(report), summaries, texts };
}

function assertSame(bytes: Uint8Array, linger?: number, want?: (id: number) => boolean, what = ''): void {
  let ref: Outcome;
  try {
    ref = viaReference(bytes, linger, want);
  } catch (e) {
    // The old import threw on a first packet beyond the dates a Date holds (fixed since): the new one must not.
    assert.match(String(e), /Invalid time value/, what);
    viaText(bytes, linger, want);
    viaBytes(bytes, linger, want);
    return;
  }
  const text = viaText(bytes, linger, want);
  assert.deepEqual(text.report, ref.report, `${what}: report`);
  assert.deepEqual(text.summaries, ref.summaries, `${what}: summaries`);
  for (let i = 0; i < ref.texts.length; i++) assert.equal(text.texts[i], ref.texts[i], `${what}: trace of the ${i + 1}th connection handed on`);
  assert.deepEqual(viaBytes(bytes, linger, want), ref, `${what}: as bytes`);
}

test('every fixture imports exactly as before (texts, summaries, report), as text and as bytes', () => {
  for (const f of FIXTURES) {
    assertSame(f.bytes, undefined, undefined, f.name);
    assertSame(f.bytes, 0.001, (id) => id % 2 === 1, `${f.name}, short linger, odd connections`);
  }
});

test('a first packet beyond the dates a Date holds is written as seconds since the epoch (the old import threw)', () => {
  const ip = ipPacket({ flags: 0x02 });
  const far = new Pcapng().shb().idb(101, undefined, 2 ** 50).epb(0, [0, 5], ip).bytes();
  const r = viaBytes(far);
  assert.equal(r.report.error, undefined);
  assert.match(r.texts[0]!, /^# First packet at 1125899906842624\.000005 s after 1970-01-01 00:00:00 UTC; times are seconds/m);
});

// ---------------------------------------------------------------------------
// Random captures that stress the connection tracker
// ---------------------------------------------------------------------------

/** A few hosts and ports, so that 4-tuples repeat, collide and get reused; one IPv6 pair; one same-port pair. */
test('random captures (reused, reset and colliding 4-tuples, late segments, clock steps back) import exactly as before', () => {
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), fc.constantFrom(undefined, 0.5, 0), (segs, linger) => {
      assertSame(buildCapture(segs), linger);
    }),
    params(150),
  );
});

test('random captures with copies (several interfaces, `any`, a mirror port; with and without IPv4 identification) import exactly as the plain rule says', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(segArb, fc.nat({ max: 3 })), { minLength: 1, maxLength: 300, size: 'large' }),
      fc.array(copyArb, { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      fc.constantFrom('pcapng' as const, 'sll2' as const),
      fc.constantFrom(undefined, 0.5),
      (raw, copies, zeroIds, format, linger) => {
        // Four 4-tuples, so that connections are long and copies come many segments later; and segments
        // sent again as they were (the same header: a repeat, not a copy, unless its identification says so).
        const segs: RandSeg[] = [];
        for (const [s, repeat] of raw) {
          const prev = segs[segs.length - 1];
          segs.push(repeat === 0 && prev ? { ...prev, seqDelta: -prev.len, dt: 0.000002 } : { ...s, tuple: s.tuple % 4 });
        }
        assertSame(buildCopiesCapture(segs, copies, { zeroIds, format }), linger);
      },
    ),
    params(150),
  );
});

test('many connections at once: the 4-tuple table grows, and deletes keep every other entry findable', () => {
  // Thousands of distinct 4-tuples opened, interleaved, closed by RST in a shuffled order, with a short linger.
  const recs: Rec[] = [];
  const n = 3000;
  let t = 1_700_000_000;
  const order = Array.from({ length: n }, (_, i) => (i * 7919) % n);
  const tuple = (i: number): { src: string; dst: string; sport: number; dport: number } => ({
    src: `10.${(i >> 8) & 255}.${i & 255}.1`,
    dst: '10.255.0.1',
    sport: 30000 + (i % 97),
    dport: 443,
  });
  for (let i = 0; i < n; i++) {
    t += 0.0001;
    recs.push({ sec: Math.floor(t), frac: Math.floor((t % 1) * 1e6), data: ethernet(ipPacket({ ...tuple(i), seq: i, flags: 0x02 })) });
  }
  for (const i of order) {
    t += 0.0001;
    const tu = tuple(i);
    recs.push({
      sec: Math.floor(t),
      frac: Math.floor((t % 1) * 1e6),
      data: ethernet(ipPacket({ src: tu.dst, dst: tu.src, sport: tu.dport, dport: tu.sport, seq: 9, ack: i + 1, flags: 0x14 })),
    });
  }
  // Late segments on some of them after the linger, and reuse of others.
  for (let i = 0; i < n; i += 3) {
    t += 0.01;
    recs.push({ sec: Math.floor(t), frac: Math.floor((t % 1) * 1e6), data: ethernet(ipPacket({ ...tuple(i), seq: i + 100000, flags: i % 2 ? 0x02 : 0x10 })) });
  }
  const bytes = pcap(1, recs);
  assertSame(bytes, 0.05);
  assertSame(bytes, 1000);
});

test('mutated fixtures and odd chunkings import exactly as before', () => {
  fc.assert(
    fc.property(mutatedFixtureArb(FIXTURES), (f) => {
      assertSame(f.bytes);
    }),
    params(200),
  );
});

test("a capture from the bench's generator (losses, SACK, fast retransmissions, many connections) imports exactly as before", () => {
  withGeneratedCapture(20_000, 7, (file) => assertSame(new Uint8Array(readFileSync(file)), undefined, undefined, 'generated'));
});

// ---------------------------------------------------------------------------
// The digit writers
// ---------------------------------------------------------------------------

function written(fn: (s: ByteSink) => void): string {
  const s = new ByteSink(4);
  fn(s);
  return s.text();
}

test('ByteSink.num writes what String does', () => {
  const edge = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 65535, 99999, 100000, 999999, 1e6, 1e7 - 1, 1e8, 1e9 - 1, 1e9, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, 1.5, NaN];
  for (const v of edge) assert.equal(written((s) => s.num(v)), String(v));
  fc.assert(
    fc.property(fc.oneof(fc.nat(), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.maxSafeNat()), (v) => written((s) => s.num(v)) === String(v)),
    params(2000),
  );
});

test('ByteSink.time writes what toFixed does, for capture times and for any double', () => {
  const edge = [0, -0, 0.5e-6, 0.0078125, 1 / 128, 0.0000005, 0.9999995, 0.99999949999, 1.0000005, 2 ** 43 / 1e6, 2 ** 43 / 1e9, 1e21, -1e-7, -3.5, NaN, Infinity, 123456.7890125];
  for (const t of edge) for (const d of [0, 3, 6, 9]) assert.equal(written((s) => s.time(t, d)), t.toFixed(d), `${t} with ${d} digits`);
  // As the importer computes them: whole seconds and nanoseconds since the first packet.
  fc.assert(
    fc.property(fc.nat({ max: 100_000_000 }), fc.nat({ max: 999_999_999 }), fc.nat({ max: 999_999_999 }), fc.constantFrom(6, 9), (sec, ns, ns0, d) => {
      const t = sec + (ns - ns0) / 1e9;
      return written((s) => s.time(t, d)) === t.toFixed(d);
    }),
    params(5000),
  );
  fc.assert(
    fc.property(fc.double({ min: -1e7, max: 1e13, noNaN: true }), fc.constantFrom(1, 6, 9), (t, d) => written((s) => s.time(t, d)) === t.toFixed(d)),
    params(5000),
  );
  // Near the halves, where the fast path must defer to toFixed.
  fc.assert(
    fc.property(fc.nat({ max: 10_000_000 }), fc.integer({ min: -64, max: 64 }), fc.constantFrom(6, 9), (k, ulps, d) => {
      let t = (k + 0.5) / 10 ** d;
      for (let i = 0; i < Math.abs(ulps); i++) t = nextAfter(t, ulps > 0);
      return written((s) => s.time(t, d)) === t.toFixed(d);
    }),
    params(3000),
  );
});

function nextAfter(x: number, up: boolean): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  u[0] += (x > 0) === up ? 1n : -1n;
  return b[0];
}

test('ByteSink.str writes UTF-8, and text() reads it back', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (a, b) => {
      const out = written((s) => {
        s.str(a);
        s.byte(10);
        s.str(b);
      });
      return out === `${a}\n${b}`;
    }),
    params(1000),
  );
});
