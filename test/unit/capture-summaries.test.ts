/**
 * Listing a capture's connections without their traces (ImportOptions.want
 * false: the tracker stores no segments of them, only what their summaries
 * need, as segments come) must give exactly the summaries, the ids and the
 * report of an import that writes every trace: on every fixture (damaged
 * ones too), on random captures (reused, reset and colliding 4-tuples, late
 * segments, any linger), on mutated fixtures and on a generated capture. And
 * when only some traces are wanted, they are the same as in a whole import.
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { CaptureReader, ConnectionTracker, decodeFrame, importCaptureBytes, newTcpPacket, type Connection, type ImportReport } from '../../src/core/capture';
import { ACK, FIN, RST, SYN } from '../../src/core/syntax/ast';
import { buildCapture, captureFixtures, mutatedFixtureArb, propertyParams, segArb, withGeneratedCapture } from '../support/random-captures';

const params = propertyParams(0x5a4d);
const FIXTURES = captureFixtures();

interface Imported {
  /** Per connection id, in the order handed on: its summary, and its trace when wanted. */
  byId: Map<number, { summary: string; text: string | undefined }>;
  report: ImportReport;
}

function importWith(bytes: Uint8Array, want: ((id: number) => boolean) | undefined, linger?: number): Imported {
  const byId: Imported['byId'] = new Map();
  const report = importCaptureBytes(bytes, {
    captureName: 'c.pcap',
    linger,
    want,
    onConnection: (s, text) => {
      assert.ok(!byId.has(s.id), `connection ${s.id} handed on twice`);
      byId.set(s.id, { summary: JSON.stringify(s), text });
    },
  });
  return { byId, report };
}

/** Asserts that listing (no trace wanted) and importing every other trace agree with a whole import; returns its connections. */
function assertListingAgrees(bytes: Uint8Array, what: string, linger?: number): number {
  const whole = importWith(bytes, undefined, linger);
  const listed = importWith(bytes, () => false, linger);
  const some = importWith(bytes, (id) => id % 2 === 1, linger);
  for (const [name, got] of [
    ['listing', listed],
    ['odd traces only', some],
  ] as const) {
    assert.deepEqual(got.report, whole.report, `${what}: ${name} reports otherwise`);
    assert.deepEqual([...got.byId.keys()], [...whole.byId.keys()], `${what}: ${name} hands connections on in another order`);
    for (const [id, w] of whole.byId) {
      const g = got.byId.get(id)!;
      assert.equal(g.summary, w.summary, `${what}: ${name}: the summary of connection ${id} differs`);
      if (name === 'listing' || id % 2 === 0) assert.equal(g.text, undefined);
      else assert.equal(g.text, w.text, `${what}: ${name}: the trace of connection ${id} differs`);
    }
  }
  return whole.byId.size;
}

/**
 * Feeds a capture to a tracker that stores every segment, and asserts that
 * what it keeps for summaries as segments come is what the stored segments
 * say (the way summaries were read from them before).
 */
function assertKeptAsSegmentsSay(bytes: Uint8Array, what: string): number {
  let n = 0;
  const tracker = new ConnectionTracker({
    onConnection: (c: Connection) => {
      n++;
      const s = c.segs;
      const at = `${what}, connection ${c.id}`;
      assert.equal(c.packets, s.length, at);
      assert.equal(c.firstFrame, s.frame[0], at);
      // A copy (counted, not stored) may come after the last segment stored.
      if (c.copies === 0) assert.equal(c.lastFrame, s.frame[s.length - 1], at);
      else assert.ok(c.lastFrame >= s.frame[s.length - 1], at);
      assert.equal(c.firstTime, s.time[0], at);
      assert.equal(c.lastTime, s.time[s.length - 1], at);
      assert.equal(c.firstFlags, s.flags[0], at);
      assert.equal(s.dir[0], 0, `${at}: the first segment is side 0's`);
      let sent = 0;
      let synAckFrom = 0;
      let anySynAck = false;
      let firstFin = -1;
      for (let i = 0; i < s.length; i++) {
        sent |= 1 << s.dir[i];
        if ((s.flags[i] & (SYN | ACK | RST)) === (SYN | ACK)) synAckFrom |= 1 << s.dir[i];
        if ((s.flags[i] & (SYN | ACK)) === (SYN | ACK)) anySynAck = true;
        if (firstFin < 0 && s.flags[i] & FIN) firstFin = s.dir[i];
      }
      assert.deepEqual([c.sent, c.synAckFrom, c.anySynAck, c.firstFinFrom], [sent, synAckFrom, anySynAck, firstFin], at);
    },
  });
  const pkt = newTcpPacket();
  let t0 = NaN;
  const reader = new CaptureReader((r) => {
    if (Number.isNaN(t0)) t0 = r.sec + r.nsec / 1e9;
    if (decodeFrame(r.linkType, r.data, r.start, r.caplen, pkt) === undefined) tracker.add(pkt, r.sec + r.nsec / 1e9 - t0, r.frame, r.interfaceId);
  });
  try {
    reader.push(bytes);
    reader.end();
  } catch {
    // Damage: what was read is handed on.
  }
  tracker.finish();
  return n;
}

test('what the tracker keeps for summaries is what the stored segments say', () => {
  let n = 0;
  for (const f of FIXTURES) n += assertKeptAsSegmentsSay(f.bytes, f.name);
  assert.ok(n > 25, `only ${n} connections`);
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), (segs) => {
      assertKeptAsSegmentsSay(buildCapture(segs), 'random capture');
    }),
    params(150),
  );
});

test('every fixture, damaged ones too: listing gives the summaries of a whole import', () => {
  let connections = 0;
  for (const f of FIXTURES) connections += assertListingAgrees(f.bytes, f.name);
  assert.ok(connections > 25, `only ${connections} connections`);
});

test('random captures (reused and colliding 4-tuples, late segments): listing gives the summaries of a whole import', () => {
  fc.assert(
    fc.property(fc.array(segArb, { minLength: 1, maxLength: 300 }), fc.constantFrom(undefined, 0, 0.5, 3), (segs, linger) => {
      assertListingAgrees(buildCapture(segs), 'random capture', linger);
    }),
    params(150),
  );
});

test('a side that sent segments before its first SYN: that SYN starts a new connection, listed or not', () => {
  // Decided from which sides have sent, which the tracker keeps without the segments too.
  const base = { tuple: 0, seqDelta: 0, ackDelta: 0, len: 0, dt: 0.001, opts: 0 };
  const capture = buildCapture([
    { ...base, tuple: 1, flip: false, flags: 0x02 }, // another connection: #1
    { ...base, flip: false, flags: 0x10 }, // ACK: #2 starts
    { ...base, flip: true, flags: 0x12 }, // SYN,ACK
    { ...base, flip: false, flags: 0x02, seqDelta: 5000 }, // SYN from the side that sent the ACK: #3
  ]);
  assert.equal(assertListingAgrees(capture, 'hand-made capture'), 3);
});

test('mutated fixtures: listing gives the summaries of a whole import', () => {
  fc.assert(
    fc.property(mutatedFixtureArb(FIXTURES), (f) => {
      assertListingAgrees(f.bytes, f.name);
    }),
    params(150),
  );
});

test("a capture from the bench's generator (many connections, ports reused): listing gives the summaries of a whole import", () => {
  withGeneratedCapture(20_000, 7, (path) => {
    const n = assertListingAgrees(new Uint8Array(readFileSync(path)), 'generated capture');
    assert.ok(n > 50, `only ${n} connections`);
  });
});
