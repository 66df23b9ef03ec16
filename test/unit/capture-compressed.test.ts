/**
 * gzip-compressed captures: imported as the same capture uncompressed (one
 * gzip member or several, read in any chunk size), a file cut short or
 * damaged in its compressed data gives a located error and the connections
 * read before it, and other compressions are named instead of "not a
 * capture".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { listingHtml } from '../../src/client/capture/viewer';
import { CaptureError, GunzipSource, compressionOf, damagePlace, formatText, importCaptureAsync, importCaptureBytes, type ImportReport } from '../../src/core/capture';

const FIXTURES = join(__dirname, '..', 'fixtures', 'captures');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

interface Imported {
  report: ImportReport;
  traces: Map<number, string>;
}

/** Imports `bytes` through importCaptureAsync, the file read `chunk` bytes at a time. */
async function importAsync(bytes: Uint8Array, chunk = 1 << 20, cancelAfter = Infinity): Promise<Imported & { reads: number[] }> {
  const traces = new Map<number, string>();
  const reads: number[] = [];
  const report = await importCaptureAsync(
    async (buf, position) => {
      reads.push(position);
      const n = Math.max(0, Math.min(buf.length, chunk, bytes.length - position));
      buf.set(bytes.subarray(position, position + n));
      return n;
    },
    { captureName: 'x', onConnection: (s, text) => traces.set(s.id, text!) },
    () => reads.length > cancelAfter,
  );
  return { report, traces, reads };
}

function importSync(bytes: Uint8Array): Imported {
  const traces = new Map<number, string>();
  const report = importCaptureBytes(bytes, { captureName: 'x', onConnection: (s, text) => traces.set(s.id, text!) });
  return { report, traces };
}

test('a gzip-compressed pcap and pcapng import as the same captures uncompressed', async () => {
  for (const name of ['handshake-data-close.pcap', 'two-interfaces.pcapng', 'retransmission.pcap']) {
    const plain = fixture(name);
    const want = importSync(plain);
    assert.ok(want.traces.size > 0, name);
    for (const chunk of [1 << 20, 4096, 7]) {
      const got = await importAsync(gzipSync(plain), chunk);
      assert.equal(got.report.error, undefined, `${name}: ${got.report.error?.message}`);
      assert.deepEqual(got.traces, want.traces, `${name}, chunks of ${chunk}`);
      assert.equal(got.report.packets, want.report.packets);
      assert.equal(got.report.bytes, plain.length, 'offsets are in the decompressed capture');
      assert.equal(got.report.format, want.report.format);
    }
  }
});

test('several gzip members one after the other (cat a.gz b.gz) are one capture', async () => {
  const plain = fixture('port-reuse.pcap');
  const cut = 1000; // anywhere: the members need not end at a record
  const twoMembers = Buffer.concat([gzipSync(plain.subarray(0, cut)), gzipSync(plain.subarray(cut))]);
  const got = await importAsync(twoMembers, 333);
  assert.equal(got.report.error, undefined);
  assert.deepEqual(got.traces, importSync(plain).traces);
});

test('a compressed capture cut short: a located error, and the connections read before it', async () => {
  // Several connections, so that some are complete before the cut.
  const plain = fixture('port-reuse.pcap');
  const gz = gzipSync(plain, { level: 1 });
  const whole = importSync(plain);
  const got = await importAsync(gz.subarray(0, gz.length - 40), 64);
  const e = got.report.error;
  assert.ok(e instanceof CaptureError);
  assert.equal(e.message, 'The gzip-compressed capture cannot be read further: its compressed data ends early (the file is cut short).');
  assert.ok(e.offset > 0 && e.offset < plain.length, `offset ${e.offset}`);
  assert.equal(got.report.bytes, e.offset);
  // Everything before the cut was read: the same packets as the uncompressed file cut there.
  assert.equal(got.report.packets, importSync(plain.subarray(0, e.offset)).report.packets);
  assert.ok(got.report.packets > 0 && got.report.packets < whole.report.packets);
  assert.ok(got.traces.size > 0);
});

test('damaged compressed data: a located error, never a throw', async () => {
  const plain = fixture('port-reuse.pcap');
  const gz = new Uint8Array(gzipSync(plain));
  const bad = gz.slice();
  for (let i = 400; i < 420; i++) bad[i] ^= 0x5a;
  const got = await importAsync(bad, 128);
  const e = got.report.error;
  assert.ok(e instanceof CaptureError);
  assert.match(e.message, /^The gzip-compressed capture cannot be read further: its compressed data is damaged \(.+\) within the first \d+ bytes of the compressed file\.$/);
  const within = Number(/within the first (\d+) bytes/.exec(e.message)![1]);
  assert.ok(within >= 420 && within <= gz.length, `within ${within}`);
  // Trailing bytes that are not another member are damage too (gunzip would warn about them).
  const trailing = await importAsync(Buffer.concat([gz, Buffer.from('not gzip')]));
  assert.ok(trailing.report.error instanceof CaptureError);
  assert.equal(trailing.report.packets, importSync(plain).report.packets);
});

test('a compressed file that is not a capture inside says so, at offset 0', async () => {
  const got = await importAsync(gzipSync(Buffer.from('hello, this is text\n')));
  assert.ok(got.report.error instanceof CaptureError);
  assert.equal(got.report.error.offset, 0);
  assert.match(got.report.error.message, /^Not a pcap or pcapng file/);
  // Nothing inside: as an empty file.
  const empty = await importAsync(gzipSync(Buffer.alloc(0)));
  assert.equal(empty.report.error?.message, importSync(new Uint8Array(0)).report.error?.message);
});

/** A pcap of `n` copies of a fixture's packets (several MB once decompressed). */
function repeated(name: string, n: number): Uint8Array {
  const one = fixture(name);
  return Buffer.concat([one.subarray(0, 24), ...Array.from({ length: n }, () => one.subarray(24))]);
}

test('cancelling stops reading the compressed file', async () => {
  const plain = repeated('port-reuse.pcap', 2000);
  const gz = gzipSync(plain);
  const got = await importAsync(gz, 256, 3);
  assert.ok(got.reads.length < gz.length / 256 / 2, `${got.reads.length} reads of ${Math.ceil(gz.length / 256)}`);
  assert.ok(got.report.packets < importSync(plain).report.packets);
});

test('a large compressed capture cut short or damaged keeps all but the last few packets before the fault', async () => {
  const plain = repeated('port-reuse.pcap', 1500);
  const gz = new Uint8Array(gzipSync(plain));
  const cut = gz.subarray(0, Math.floor(gz.length * 0.7));
  // What gunzip itself gets out of the cut file: everything decodable before the cut.
  const decodable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).length;
  const got = await importAsync(cut);
  assert.match(got.report.error!.message, /ends early/);
  assert.ok(got.report.bytes <= decodable && got.report.bytes > decodable - 64 * 1024, `${got.report.bytes} of ${decodable}`);
  const bad = gz.slice();
  const at = Math.floor(gz.length / 2);
  for (let i = at; i < at + 8; i++) bad[i] ^= 0xff;
  const damaged = await importAsync(bad);
  // The stream may yield garbage before gzip's checks catch it, and the capture's own checks may catch it first.
  assert.match(damaged.report.error!.message, /damaged/i);
  assert.ok(damaged.report.bytes > plain.length * 0.3, `${damaged.report.bytes} of ${plain.length}`);
});

test('a read error of the file is passed on, not reported as damage', async () => {
  const gz = gzipSync(fixture('port-reuse.pcap'));
  const failing = new GunzipSource(async (buf, position) => {
    if (position > 0) throw new Error('EIO: i/o error, read');
    const n = Math.min(buf.length, 100);
    buf.set(gz.subarray(0, n));
    return n;
  }, 100);
  const buf = new Uint8Array(1 << 20);
  await assert.rejects(async () => {
    while ((await failing.read(buf, 0)) > 0);
  }, /EIO/);
  await failing.close();
});

test('other compressions are named, with the command that decompresses them', () => {
  const cases: [number[], string][] = [
    [[0x28, 0xb5, 0x2f, 0xfd, 0, 0], 'This file is zstd-compressed; decompress it first (zstd -d).'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0], 'This file is xz-compressed; decompress it first (xz -d).'],
    [[0x42, 0x5a, 0x68, 0x39, 0x31], 'This file is bzip2-compressed; decompress it first (bunzip2).'],
    [[0x04, 0x22, 0x4d, 0x18, 0], 'This file is lz4-compressed; decompress it first (lz4 -d).'],
    [[0x50, 0x4b, 0x03, 0x04, 0], 'This file is zip-compressed; decompress it first (unzip).'],
    // Where the import cannot decompress (a capture held in memory, read at once): said the same way.
    [[...gzipSync(Buffer.from('x'))], 'This file is gzip-compressed; decompress it first (gunzip).'],
  ];
  for (const [bytes, message] of cases) {
    const r = importCaptureBytes(new Uint8Array(bytes), { captureName: 'x' });
    assert.equal(r.error?.message, message);
    assert.equal(r.error?.offset, 0);
  }
  assert.equal(compressionOf(new Uint8Array([0x1f])), undefined, 'too short to tell');
  assert.equal(compressionOf(fixture('abort.pcap')), undefined);
});

test('property: random bytes behind a gzip header, and mutated compressed captures, never throw', async () => {
  const gz = new Uint8Array(gzipSync(fixture('handshake-data-close.pcap')));
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }).map((b) => new Uint8Array([0x1f, 0x8b, ...b])),
        fc.array(fc.tuple(fc.nat(gz.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
          const b = gz.slice();
          for (const [i, x] of flips) b[i] ^= x;
          return b;
        }),
        fc.nat(gz.length).map((n) => gz.slice(0, n)),
      ),
      fc.integer({ min: 1, max: 5000 }),
      async (bytes, chunk) => {
        const got = await importAsync(bytes, chunk);
        if (got.report.error) assert.ok(got.report.error instanceof CaptureError);
      },
    ),
    { numRuns: 150 },
  );
});

test('summaries name the compression, and place damage in the decompressed capture', async () => {
  const gz = gzipSync(fixture('port-reuse.pcap'));
  const ok = (await importAsync(gz)).report;
  assert.equal(ok.compression, 'gzip');
  assert.equal(formatText(ok), 'pcap, gzip-compressed');
  assert.equal(formatText(importSync(fixture('port-reuse.pcap')).report), 'pcap');
  const cut = (await importAsync(gz.subarray(0, gz.length - 100))).report;
  assert.equal(damagePlace(cut), `byte ${cut.error!.offset} of the decompressed capture`);
  const html = listingHtml({ report: cut, connections: [] });
  assert.match(html, /<p class="summary">pcap, gzip-compressed \(Ethernet\) · /);
  assert.match(html, /The capture is damaged at byte \d+ of the decompressed capture: The gzip-compressed capture cannot be read further/);
  const plainCut = importSync(fixture('port-reuse.pcap').subarray(0, 1000)).report;
  assert.equal(damagePlace(plainCut), `byte ${plainCut.error!.offset}`);
});
