/**
 * `tcptrace-cli import` (spec section 8) through the CLI's entry point: the
 * files it writes, what it prints, its exit codes, and its usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureStem } from '../../src/core/capture';
import { main } from '../../src/cli/main';

const DIR = resolve(__dirname, '../fixtures/captures');
const EXPECTED = join(DIR, 'expected');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

function withTmp(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcptrace-import-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'import writes one checked trace per connection and lists them',
  withTmp(async (dir) => {
    const r = await run(['import', join(DIR, 'port-reuse.pcap'), '-o', dir]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(dir).sort(), ['port-reuse-1.tcptrace', 'port-reuse-2.tcptrace']);
    for (const n of [1, 2]) assert.equal(readFileSync(join(dir, `port-reuse-${n}.tcptrace`), 'utf8'), readFileSync(join(EXPECTED, `port-reuse-${n}.tcptrace`), 'utf8'));
    assert.match(r.out, /port-reuse-1\.tcptrace: #1 client 10\.77\.0\.1:40000 → server 10\.77\.0\.2:8080, 10 packets, [\d.]+ ms, closed, server first; 0 errors, 0 warnings, 1 information\n/);
    assert.match(r.out, /port-reuse\.pcap: pcap \(Ethernet\), 20 packets, 20 TCP segments, 2 connections; 2 written\.\n$/);
    assert.equal(r.err, '');
  }),
);

test(
  '--connection N writes that one; -o - prints it (and the summary to stderr)',
  withTmp(async (dir) => {
    const one = await run(['import', join(DIR, 'port-reuse.pcap'), '--connection', '2', '-o', dir]);
    assert.equal(one.code, 0);
    assert.deepEqual(readdirSync(dir), ['port-reuse-2.tcptrace']);
    const out = await run(['import', join(DIR, 'refused.pcapng'), '--connection=1', '-o', '-']);
    assert.equal(out.code, 0);
    assert.equal(out.out, readFileSync(join(EXPECTED, 'refused-1.tcptrace'), 'utf8'));
    assert.match(out.err, /\(standard output\): #1 client .* refused by server \(RST\); 0 errors, 0 warnings, 1 information/);
    const none = await run(['import', join(DIR, 'refused.pcapng'), '--connection', '3', '-o', dir]);
    assert.equal(none.code, 2);
    assert.match(none.err, /has 1 TCP connection; there is no connection 3/);
  }),
);

test(
  'a damaged capture: exit 1, the byte offset, and the connections before it written',
  withTmp(async (dir) => {
    const r = await run(['import', join(DIR, 'damaged-cut.pcap'), '-o', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /damaged-cut\.pcap: damaged at byte 2101: The capture is cut short: the packet record at byte 2101 needs \d+ bytes.*The 1 connection read before it was imported\./);
    assert.deepEqual(readdirSync(dir), ['damaged-cut-1.tcptrace']);
    const junk = await run(['import', join(DIR, 'damaged-not-a-capture.pcap'), '-o', dir]);
    assert.equal(junk.code, 1);
    assert.match(junk.err, /damaged at byte 0: Not a pcap or pcapng file/);
  }),
);

test(
  'a gzip-compressed capture imports as the capture itself, its traces named without .pcap.gz',
  withTmp(async (dir) => {
    const gz = join(dir, 'port-reuse.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(DIR, 'port-reuse.pcap'))));
    const r = await run(['import', gz, '-o', join(dir, 'out')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['port-reuse-1.tcptrace', 'port-reuse-2.tcptrace']);
    for (const n of [1, 2]) {
      const want = readFileSync(join(EXPECTED, `port-reuse-${n}.tcptrace`), 'utf8').replace('Imported from port-reuse.pcap:', 'Imported from port-reuse.pcap.gz:');
      assert.equal(readFileSync(join(dir, 'out', `port-reuse-${n}.tcptrace`), 'utf8'), want);
    }
    assert.match(r.out, /port-reuse\.pcap\.gz: pcap, gzip-compressed \(Ethernet\), 20 packets, 20 TCP segments, 2 connections; 2 written\.\n$/);
    // Cut short: the connection read before the cut, and the place of the damage in the decompressed capture.
    const whole = readFileSync(gz);
    writeFileSync(gz, whole.subarray(0, whole.length - 200));
    const cut = await run(['import', gz, '-o', join(dir, 'cut')]);
    assert.equal(cut.code, 1);
    assert.match(cut.err, /port-reuse\.pcap\.gz: damaged at byte \d+ of the decompressed capture: The gzip-compressed capture cannot be read further: its compressed data ends early \(the file is cut short\)\. The 2 connections read before it were imported\.\n/);
    assert.deepEqual(readdirSync(join(dir, 'cut')).sort(), ['port-reuse-1.tcptrace', 'port-reuse-2.tcptrace']);
    assert.equal(readFileSync(join(dir, 'cut', 'port-reuse-1.tcptrace'), 'utf8'), readFileSync(join(dir, 'out', 'port-reuse-1.tcptrace'), 'utf8'));
    // Not gzip: named, with the command that decompresses it.
    writeFileSync(gz, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    const zstd = await run(['import', gz, '-o', join(dir, 'z')]);
    assert.equal(zstd.code, 1);
    assert.match(zstd.err, /damaged at byte 0: This file is zstd-compressed; decompress it first \(zstd -d\)\./);
  }),
);

test(
  'import says how many packets were copies, per connection and for the capture',
  withTmp(async (dir) => {
    const r = await run(['import', join(DIR, 'copies-two-interfaces.pcapng'), '-o', dir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /#1 client 10\.77\.0\.1:\d+ → server 10\.77\.0\.2:8080, 29 packets \(14 of them copies\), /);
    assert.match(r.out, /: pcapng \(Ethernet\), 31 packets, 29 TCP segments \(14 of them copies; 2 other packets skipped\), 1 connection; 1 written\.\n$/);
    const plain = await run(['import', join(DIR, 'handshake-data-close.pcap'), '-o', dir]);
    assert.doesNotMatch(plain.out, /cop(y|ies)/);
  }),
);

test('traces are named after the capture without its extensions', () => {
  assert.equal(captureStem('/a/day.pcap'), 'day');
  assert.equal(captureStem('day.pcapng.gz'), 'day');
  assert.equal(captureStem('DAY.PCAP.GZ'), 'DAY');
  assert.equal(captureStem('x.gz'), 'x');
  assert.equal(captureStem('.gz'), 'capture');
  assert.equal(captureStem('v1.2.pcap'), 'v1.2');
  assert.equal(captureStem('C:\\caps\\day.cap'), 'day');
  assert.equal(captureStem('.pcap'), '.pcap');
});

test('usage and I/O errors exit 2', async () => {
  for (const [args, msg] of [
    [['import'], /import needs exactly one CAPTURE file/],
    [['import', 'a.pcap', 'b.pcap'], /exactly one CAPTURE/],
    [['import', 'a.pcap', '--connection', 'x'], /--connection takes a connection number/],
    [['import', 'a.pcap', '-o', '-'], /choose it with --connection N/],
    [['import', 'a.pcap', '--frobnicate'], /unknown option '--frobnicate' for import/],
    [['import', join(DIR, 'no-such.pcap')], /no-such\.pcap: no such file/],
  ] as [string[], RegExp][]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, msg);
  }
  const help = await run(['--help']);
  assert.match(help.out, /tcptrace-cli import CAPTURE\.pcap\|CAPTURE\.pcapng \[-o DIR\] \[--connection N\|all\]/);
});
