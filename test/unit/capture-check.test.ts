/**
 * The import checks each trace as it writes it (ImportOptions.check): the
 * common event lines go to the checker as the statements the parser would
 * read from them, the other lines as text. The result must equal checking
 * the written text afterwards, field by field (diagnostics, positions,
 * timeline), on every fixture, on random and mutated captures, and on a
 * capture from the bench's generator.
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { check, type CheckResult } from '../../src/core';
import { importCaptureBytes } from '../../src/core/capture';
import { firstDifference } from '../support/same-result';
import { buildCapture, captureFixtures, mutatedFixtureArb, propertyParams, segArb, withGeneratedCapture } from '../support/random-captures';

const params = propertyParams(0x0c4ec);
const FIXTURES = captureFixtures();

const decoder = new TextDecoder();

/** Imports with the check while writing; returns how many traces it checked itself (the rest it left to the caller). */
function assertChecksAsText(bytes: Uint8Array, what: string, captureName = 'c.pcap'): { direct: number; total: number } {
  let direct = 0;
  let total = 0;
  importCaptureBytes(bytes, {
    captureName,
    check: {},
    onConnectionBytes: (s, b, checked: CheckResult | undefined) => {
      if (b === undefined) return;
      total++;
      if (checked === undefined) return;
      direct++;
      const text = decoder.decode(b);
      const diff = firstDifference(checked, check(text, { keepSyntax: false }));
      if (diff) assert.fail(`${what}, connection ${s.id}: the check while writing differs from checking the text: ${diff}\n${text.slice(0, 3000)}`);
    },
  });
  return { direct, total };
}

test('every fixture: the check while writing equals checking the written trace', () => {
  let direct = 0;
  let total = 0;
  for (const f of FIXTURES) {
    const n = assertChecksAsText(f.bytes, f.name);
    direct += n.direct;
    total += n.total;
  }
  // Every trace is checked while written (none is left to the caller).
  assert.ok(total > 25, `only ${total} traces`);
  assert.equal(direct, total);
});

test('random captures: the check while writing equals checking the written trace', () => {
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), (segs) => {
      assertChecksAsText(buildCapture(segs), 'random capture');
    }),
    params(150),
  );
});

test('mutated fixtures: the check while writing equals checking the written trace', () => {
  fc.assert(
    fc.property(mutatedFixtureArb(FIXTURES), (f) => {
      assertChecksAsText(f.bytes, f.name);
    }),
    params(200),
  );
});

test("a capture from the bench's generator: the check while writing equals checking the written trace", () => {
  withGeneratedCapture(20_000, 11, (file) => {
    const n = assertChecksAsText(new Uint8Array(readFileSync(file)), 'generated');
    assert.ok(n.direct > 50 && n.direct === n.total, `${n.direct} of ${n.total} checked while written`);
  });
});

test('a capture name with line breaks and other control characters: escaped in the header, and the trace checked as written, without errors', () => {
  const f = FIXTURES.find((x) => x.name === 'handshake-data-close.pcap')!;
  const n = assertChecksAsText(f.bytes, 'odd name', 'a\nb\rc\td\x7f.pcap');
  assert.ok(n.total > 0 && n.direct === n.total, `${n.direct} of ${n.total} checked while written`);
  importCaptureBytes(f.bytes, {
    captureName: 'a\nb\rc\td\x7f.pcap',
    onConnection: (_s, text) => {
      assert.match(text!, /^# Imported from a\\x0ab\\x0dc\\x09d\\x7f\.pcap: connection 1,/);
      assert.deepEqual(check(text!).diagnostics.filter((d) => d.severity === 'error'), []);
    },
  });
});

/** Imports with every connection of more than `packets` packets streamed in chunks of at least `bytes`; asserts they add up to the unstreamed trace, and that its check equals checking the whole text. */
function assertStreamsAsWhole(bytes: Uint8Array, what: string, packets: number, chunkBytes: number): number {
  const whole = new Map<number, string>();
  importCaptureBytes(bytes, { captureName: 'c.pcap', onConnectionBytes: (s, b) => b && whole.set(s.id, decoder.decode(b)) });
  const chunks = new Map<number, string[]>();
  let streamedTraces = 0;
  importCaptureBytes(bytes, {
    captureName: 'c.pcap',
    check: {},
    stream: {
      packets,
      bytes: chunkBytes,
      check: {},
      chunk: (s, b) => {
        const text = decoder.decode(b);
        // In bytes: the title's arrow is one character and three bytes.
        assert.ok(b.length >= chunkBytes && text.endsWith('\n'), `${what}, connection ${s.id}: a chunk of ${b.length} bytes, or not whole lines`);
        chunks.set(s.id, [...(chunks.get(s.id) ?? []), text]);
      },
    },
    onConnectionBytes: (s, b, checked, streamed) => {
      if (b === undefined) return;
      assert.equal(streamed, chunks.has(s.id), `${what}, connection ${s.id}: streamed says ${streamed}`);
      if (streamed) {
        streamedTraces++;
        assert.ok(s.packets > packets, `${what}, connection ${s.id}: ${s.packets} packets streamed`);
      }
      const text = (chunks.get(s.id) ?? []).join('') + decoder.decode(b);
      assert.equal(text, whole.get(s.id), `${what}, connection ${s.id}: the chunks do not add up to the trace`);
      assert.ok(checked, `${what}, connection ${s.id}: not checked while written`);
      const diff = firstDifference(checked, check(text, { keepSyntax: false }));
      if (diff) assert.fail(`${what}, connection ${s.id}: the streamed check differs from checking the text: ${diff}`);
    },
  });
  return streamedTraces;
}

test('long connections streamed in chunks: whole lines that add up to the trace, checked as the whole text is', () => {
  let streamed = 0;
  for (const f of FIXTURES) streamed += assertStreamsAsWhole(f.bytes, f.name, 8, 64);
  assert.ok(streamed > 10, `only ${streamed} traces streamed`);
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), fc.nat({ max: 20 }), fc.integer({ min: 1, max: 4096 }), (segs, packets, chunkBytes) => {
      assertStreamsAsWhole(buildCapture(segs), 'random capture', packets, chunkBytes);
    }),
    params(100),
  );
});
