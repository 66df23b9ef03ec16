/**
 * Imports in shares (ImportOptions.shard): every share reads the whole
 * capture and hands on only its connections, so that threads can import a
 * capture together. Together the shares must give exactly what one import
 * gives: every connection once, in one share, with the same id, summary,
 * trace and check result, and the same report, whatever the capture
 * (fixtures, damaged ones too; random captures with reused, reset and
 * colliding 4-tuples and late segments; mutated fixtures; a generated one).
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { importCaptureBytes, type ImportOptions, type ImportReport } from '../../src/core/capture';
import { writeCapture } from '../../bench/capture';
import { buildCapture, captureFixtures, propertyParams, segArb } from '../support/random-captures';

const params = propertyParams(0x5a4d);
const FIXTURES = captureFixtures();
const decoder = new TextDecoder();

interface Imported {
  /** Per connection id: its summary, trace and check result, as JSON. */
  byId: Map<number, string>;
  report: ImportReport;
}

function importShare(bytes: Uint8Array, extra: Partial<ImportOptions>): Imported {
  const byId = new Map<number, string>();
  const report = importCaptureBytes(bytes, {
    captureName: 'c.pcap',
    check: { timeline: false },
    ...extra,
    onConnectionBytes: (s, b, checked) => {
      assert.ok(!byId.has(s.id), `connection ${s.id} handed on twice`);
      byId.set(s.id, JSON.stringify({ s, text: b && decoder.decode(b), diagnostics: checked?.diagnostics }));
    },
  });
  return { byId, report };
}

/** Imports `bytes` whole and in 2 and 3 shares, and asserts that the shares add up to the whole. */
function assertSharesAddUp(bytes: Uint8Array, what: string, linger?: number): number {
  const whole = importShare(bytes, { linger });
  for (const count of [2, 3]) {
    const union = new Map<number, string>();
    for (let index = 0; index < count; index++) {
      const part = importShare(bytes, { linger, shard: { index, count } });
      assert.deepEqual(part.report, whole.report, `${what}: share ${index} of ${count} reports otherwise`);
      for (const [id, v] of part.byId) {
        assert.equal((id - 1) % count, index, `${what}: connection ${id} in share ${index} of ${count}`);
        union.set(id, v);
      }
    }
    assert.equal(union.size, whole.byId.size, `${what}: ${count} shares hand on ${union.size} connections, not ${whole.byId.size}`);
    for (const [id, v] of whole.byId) assert.equal(union.get(id), v, `${what}: connection ${id} differs in ${count} shares`);
  }
  return whole.byId.size;
}

test('every fixture, damaged ones too: the shares add up to the whole import', () => {
  let connections = 0;
  for (const f of FIXTURES) connections += assertSharesAddUp(f.bytes, f.name);
  assert.ok(connections > 25, `only ${connections} connections`);
});

test('random captures (reused and colliding 4-tuples, late segments): the shares add up to the whole import', () => {
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), fc.constantFrom(undefined, 0, 0.5, 3), (segs, linger) => {
      assertSharesAddUp(buildCapture(segs), 'random capture', linger);
    }),
    params(150),
  );
});

test('a side that sent segments before its first SYN: that SYN starts a new connection in every share', () => {
  // Decided from what the tracker keeps of connections outside a share too (which sides have sent).
  const base = { tuple: 0, seqDelta: 0, ackDelta: 0, len: 0, dt: 0.001, opts: 0 };
  const capture = buildCapture([
    { ...base, tuple: 1, flip: false, flags: 0x02 }, // another connection: #1
    { ...base, flip: false, flags: 0x10 }, // ACK: #2 starts
    { ...base, flip: true, flags: 0x12 }, // SYN,ACK
    { ...base, flip: false, flags: 0x02, seqDelta: 5000 }, // SYN from the side that sent the ACK: #3
  ]);
  assert.equal(assertSharesAddUp(capture, 'hand-made capture'), 3);
});

test('mutated fixtures: the shares add up to the whole import', () => {
  const small = FIXTURES.filter((f) => f.bytes.length < 8000);
  fc.assert(
    fc.property(fc.constantFrom(...small), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 }), (f, muts) => {
      const b = f.bytes.slice();
      for (const [at, v] of muts) b[24 + (at % Math.max(1, b.length - 24))] = v;
      assertSharesAddUp(b, `mutated ${f.name}`);
    }),
    params(150),
  );
});

test("a capture from the bench's generator (many connections, ports reused): the shares add up to the whole import", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-shard-'));
  try {
    const path = join(dir, 'g.pcap');
    writeCapture(path, 20000, 7);
    const n = assertSharesAddUp(new Uint8Array(readFileSync(path)), 'generated capture');
    assert.ok(n > 50, `only ${n} connections`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
