/**
 * Properties of the capture import: random bytes and mutated real captures
 * never make it throw or hang (damage is a CaptureError in the report, and
 * every trace written still checks without throwing); where the chunks of a
 * file begin and end never changes the result.
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { check } from '../../src/core';
import { CaptureError, CaptureImporter, importCaptureBytes, type ImportReport } from '../../src/core/capture';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 0x5ca9f00d : Date.now() % 0x7fffffff;
const SCALE = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 1;
const params = (n: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

const DIR = resolve(__dirname, '../fixtures/captures');
const FIXTURES = readdirSync(DIR)
  .filter((f) => /\.(pcap|pcapng)$/.test(f) && !f.startsWith('damaged'))
  .sort()
  .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(DIR, f))) }));
// The small ones: mutation runs import them hundreds of times.
const SMALL = FIXTURES.filter((f) => f.bytes.length < 8000);

/** Imports, checking every trace; returns the report and the texts. Throws only on a bug. */
function importAll(bytes: Uint8Array, chunks?: number[]): { report: ImportReport; texts: string[] } {
  const texts: string[] = [];
  const imp = new CaptureImporter({
    onConnection: (s, text) => {
      assert.ok(text !== undefined);
      check(text);
      texts[s.id - 1] = text;
    },
  });
  if (!chunks) imp.push(bytes);
  else {
    let p = 0;
    for (let i = 0; p < bytes.length; i++) {
      const n = Math.max(1, chunks[i % chunks.length]);
      imp.push(bytes.subarray(p, p + n));
      p += n;
    }
  }
  const report = imp.finish();
  if (report.error) assert.ok(report.error instanceof CaptureError && report.error.offset >= 0 && report.error.offset <= bytes.length);
  return { report, texts };
}

const PCAP_HEADER = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0];
const PCAPNG_HEADER = [0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 28, 0, 0, 0];

test('random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom([], PCAP_HEADER, PCAPNG_HEADER), (body, head) => {
      importAll(new Uint8Array([...head, ...body]));
    }),
    params(300),
  );
});

test('mutated real captures never throw, and whatever they still hold is imported', () => {
  const mutation = fc.record({
    file: fc.nat({ max: SMALL.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  });
  fc.assert(
    fc.property(mutation, ({ file, edits, cut }) => {
      const bytes = SMALL[file].bytes.slice();
      for (const [at, v] of edits) bytes[at % bytes.length] = v;
      importAll(cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
    }),
    params(400),
  );
});

test('mutations inside the packets (headers of the file intact) never throw', () => {
  // Only bytes past the file header: the decoder and the reconstruction see strange segments.
  fc.assert(
    fc.property(fc.nat({ max: SMALL.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }), (file, edits) => {
      const bytes = SMALL[file].bytes.slice();
      const start = 64;
      for (const [at, v] of edits) bytes[start + (at % (bytes.length - start))] = v;
      importAll(bytes);
    }),
    params(400),
  );
});

test('chunk boundaries never change the result', () => {
  fc.assert(
    fc.property(fc.nat({ max: FIXTURES.length - 1 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }), (file, chunks) => {
      const f = FIXTURES[file];
      const whole = importAll(f.bytes);
      const pieces = importAll(f.bytes, chunks);
      assert.deepEqual(pieces.texts, whole.texts);
      assert.equal(pieces.report.packets, whole.report.packets);
    }),
    params(40),
  );
});

test('a capture of nothing but other traffic imports no connection and no error', () => {
  const arp = [...Array(12).fill(1), 0x08, 0x06, ...Array(28).fill(0)];
  const rec = [1, 0, 0, 0, 0, 0, 0, 0, arp.length, 0, 0, 0, arp.length, 0, 0, 0, ...arp];
  const r = importCaptureBytes(new Uint8Array([...PCAP_HEADER, ...rec, ...rec]), { onConnection: () => assert.fail('no connection') });
  assert.equal(r.error, undefined);
  assert.equal(r.packets, 2);
  assert.equal(r.skipped['not-ip'], 2);
});
