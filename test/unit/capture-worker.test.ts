/**
 * `tcptrace-cli import` with its checks on a worker thread (src/cli/check-pool.ts):
 * the same files, output and exit codes as checking in the main thread, on
 * every fixture, on damaged captures and on a generated capture; bounded
 * backlog; a worker that throws, exits, never starts or dies holding batches
 * is reported and its traces are checked in the main thread (never a hang).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { WORKER_DECIDE_BYTES, WORKER_MIN_PACKETS, runImport, wantsWorker, type ImportRunOptions } from '../../src/cli/import';
import { WorkerChecker, checkBytes, countDiagnostics, defaultWorkerScript, utf8Parts, type Counts } from '../../src/cli/check-pool';
import { writeCapture } from '../../bench/capture';

const DIR = resolve(__dirname, '../fixtures/captures');
const FIXTURES = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();

interface Run {
  code: number;
  out: string;
  err: string;
  files: Record<string, string>;
}

async function importTo(capture: string, opts: ImportRunOptions, extra: string[] = [], blocked: string[] = []): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-worker-'));
  // A directory where a trace's file would go: that file cannot be written.
  for (const b of blocked) mkdirSync(join(dir, b));
  try {
    let out = '';
    let err = '';
    const code = await runImport([capture, '-o', dir, ...extra], { out: (s) => (out += s), err: (s) => (err += s) }, opts);
    const files: Record<string, string> = {};
    for (const f of readdirSync(dir).sort()) if (!blocked.includes(f)) files[f] = readFileSync(join(dir, f), 'utf8');
    // The directory is in every line: make the runs comparable.
    return { code, out: out.split(dir).join('DIR'), err: err.split(dir).join('DIR'), files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every trace its own batch, all of them checked by the worker (none by the main thread). */
const EVERY_TRACE = { batchBytes: 1, maxBacklog: 64 << 20, takeBack: false };

test('the worker script is found (here: the TypeScript source, run through tsx)', () => {
  assert.match(defaultWorkerScript() ?? '', /check-worker\.ts$/);
});

test('every fixture (damaged ones too): the same files, output and exit code with the checks on a worker thread', async () => {
  for (const f of FIXTURES) {
    const here = await importTo(join(DIR, f), { worker: 'never' });
    const there = await importTo(join(DIR, f), { worker: 'always', workerOptions: { ...EVERY_TRACE, workers: 1 } });
    assert.deepEqual(there, here, f);
  }
  // Several workers share the batches.
  for (const f of FIXTURES.slice(0, 6)) {
    assert.deepEqual(await importTo(join(DIR, f), { worker: 'always', workerOptions: { ...EVERY_TRACE, workers: 2 } }), await importTo(join(DIR, f), { worker: 'never' }), f);
  }
});

test('a trace file that cannot be written: reported, left out, exit code 2, the same whichever thread writes it', async () => {
  const file = join(DIR, 'port-reuse.pcap');
  const blocked = ['port-reuse-1.tcptrace'];
  const here = await importTo(file, { worker: 'never' }, [], blocked);
  assert.equal(here.code, 2);
  assert.match(here.err, /^tcptrace-cli: DIR\/port-reuse-1\.tcptrace: is a directory\n/);
  assert.doesNotMatch(here.out, /port-reuse-1\.tcptrace: #1/);
  assert.match(here.out, /port-reuse-2\.tcptrace: #2 /);
  assert.match(here.out, /; 1 written\.\n/);
  // The worker writes the files it checks.
  assert.deepEqual(await importTo(file, { worker: 'always', workerOptions: { ...EVERY_TRACE, workers: 1 } }, [], blocked), here);
});

test('-o - with the worker: the trace on stdout, the summary on stderr, as without', async () => {
  const file = join(DIR, 'port-reuse.pcap');
  const args = ['--connection', '2', '-o', '-'];
  const here = await importTo(file, { worker: 'never' }, args);
  assert.match(here.out, /^# Imported from port-reuse\.pcap: connection 2/);
  assert.deepEqual(await importTo(file, { worker: 'always', workerOptions: EVERY_TRACE }, args), here);
});

test('on a terminal the import shows its progress in place, clears it before any other output, and leaves nothing behind', async () => {
  const file = join(DIR, 'port-reuse.pcap');
  const plain = await importTo(file, { worker: 'never' });
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-progress-'));
  try {
    const events: string[] = [];
    let out = '';
    const io = {
      out: (s: string) => ((out += s), events.push('out')),
      err: (s: string) => events.push(`err ${s}`),
      progress: (line: string | undefined) => events.push(line === undefined ? 'clear' : `progress ${line}`),
    };
    assert.equal(await runImport([file, '-o', dir], io, { worker: 'never', progressAfterMs: 0 }), plain.code);
    assert.equal(out.split(dir).join('DIR'), plain.out);
    assert.match(events[0], /^progress reading port-reuse\.pcap: 0% \(0 of 0 MB\), 0 traces written$/);
    // Whatever else is printed finds the line cleared, and the import ends with it cleared.
    let shown = false;
    for (const e of events) {
      if (e.startsWith('progress ')) shown = true;
      else if (e === 'clear') shown = false;
      else assert.ok(!shown, `"${e}" printed over the progress line`);
    }
    assert.equal(shown, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Not with -o - (the trace is the output), nor before progressAfterMs.
  const quiet: string[] = [];
  const none = { out: () => {}, err: () => {}, progress: (l: string | undefined) => quiet.push(String(l)) };
  await runImport([file, '--connection', '1', '-o', '-'], none, { worker: 'never', progressAfterMs: 0 });
  const dir2 = mkdtempSync(join(tmpdir(), 'tcptrace-progress-'));
  try {
    await runImport([file, '-o', dir2], none, { worker: 'never' });
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
  assert.deepEqual(quiet, []);
});

test('a damaged capture still reports its byte offset with the worker, and the connections before it', async () => {
  const r = await importTo(join(DIR, 'damaged-cut.pcap'), { worker: 'always', workerOptions: EVERY_TRACE });
  assert.equal(r.code, 1);
  assert.match(r.err, /damaged at byte 2101: The capture is cut short/);
  assert.deepEqual(Object.keys(r.files), ['damaged-cut-1.tcptrace']);
});

test('long connections, written and checked as they are written (not held whole): the same files, output and exit codes', async () => {
  // Every connection of more than 4 packets streamed, in chunks of 100 bytes or more.
  const streamed = { streamPackets: 4, streamBytes: 100 };
  for (const f of FIXTURES) {
    const plain = await importTo(join(DIR, f), { worker: 'never' });
    assert.deepEqual(await importTo(join(DIR, f), { worker: 'never', ...streamed }), plain, f);
    assert.deepEqual(await importTo(join(DIR, f), { worker: 'always', workerOptions: { ...EVERY_TRACE, workers: 1 }, ...streamed }), plain, f);
  }
  // To standard output.
  const file = join(DIR, 'port-reuse.pcap');
  const args = ['--connection', '2', '-o', '-'];
  assert.deepEqual(await importTo(file, { worker: 'never', ...streamed }, args), await importTo(file, { worker: 'never' }, args));
  // A capture whose name holds a line break (escaped in each trace's header): the same, streamed or not.
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-odd-'));
  try {
    const odd = join(dir, 'port\nreuse.pcap');
    writeFileSync(odd, readFileSync(file));
    const plain = await importTo(odd, { worker: 'never' });
    assert.match(plain.out, /; 0 errors, 0 warnings, \d+ information\n/);
    assert.deepEqual(await importTo(odd, { worker: 'never', ...streamed }), plain);
    assert.deepEqual(await importTo(odd, { worker: 'never', ...streamed }, ['--connection', '2', '-o', '-']), await importTo(odd, { worker: 'never' }, ['--connection', '2', '-o', '-']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A streamed trace whose file cannot be written: reported and left out, as any other.
  const blocked = ['port-reuse-1.tcptrace'];
  const r = await importTo(file, { worker: 'never', ...streamed }, [], blocked);
  assert.equal(r.code, 2);
  assert.deepEqual(r, await importTo(file, { worker: 'never' }, [], blocked));
});

test('a generated capture of many connections: worker and main thread agree, whatever the batching and backlog', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-gen-'));
  try {
    const file = join(dir, 'gen.pcap');
    writeCapture(file, 15_000, 11);
    const here = await importTo(file, { worker: 'never' });
    assert.ok(Object.keys(here.files).length > 50);
    for (const workerOptions of [
      {},
      EVERY_TRACE,
      { ...EVERY_TRACE, workers: 3 },
      { batchBytes: 1, maxBacklog: 100_000, workers: 2 },
      { batchBytes: 1, maxBacklog: 1 },
      { batchBytes: 200_000, maxBacklog: 300_000 },
      { batchBytes: 50_000, maxBacklog: 100_000, takeBack: false },
      { batchBytes: 30_000, maxBacklog: 70_000, takeBack: false },
    ]) {
      assert.deepEqual(await importTo(file, { worker: 'always', workerOptions }), here, JSON.stringify(workerOptions));
    }
    // --connection N keeps to the main thread under 'auto' and gives the same line either way.
    assert.deepEqual(await importTo(file, { worker: 'always', workerOptions: EVERY_TRACE }, ['--connection', '3']), await importTo(file, { worker: 'never' }, ['--connection', '3']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto: the packets in the first bytes, scaled to the file, decide whether a worker starts', () => {
  // 100 packets in the first MB of a 4 MB file: about 400 in all.
  assert.equal(wantsWorker(100, 1 << 20, 4 << 20, 400), true);
  assert.equal(wantsWorker(100, 1 << 20, 4 << 20, 401), false);
  assert.equal(wantsWorker(0, 0, 4 << 20, 1), false);
  assert.equal(wantsWorker(100, 1 << 20, NaN, 1), false);
  // The defaults: the bench's 250,000-packet capture (237 MB) stays in one thread, its 500,000-packet one (475 MB) does not.
  const perPacket = 237e6 / 250_000;
  assert.equal(wantsWorker(Math.floor(WORKER_DECIDE_BYTES / perPacket), WORKER_DECIDE_BYTES, 237e6), false);
  assert.equal(wantsWorker(Math.floor(WORKER_DECIDE_BYTES / perPacket), WORKER_DECIDE_BYTES, 475e6), true);
  assert.ok(WORKER_MIN_PACKETS > 250_000 && WORKER_MIN_PACKETS < 500_000);
});

test('auto: a worker starts once the first bytes show a large enough capture, mid-file too; the output is the same', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-auto-'));
  try {
    const file = join(dir, 'gen.pcap');
    writeCapture(file, 15_000, 11);
    const size = statSync(file).size;
    const here = await importTo(file, { worker: 'never' });
    // A worker that exits at once shows whether one was started (its failure is reported; the traces are checked here).
    const failing = { script: script('process.exit(9);'), batchBytes: 1 };
    const started = /a checking thread failed/;
    for (const decideBytes of [1 << 20, Math.floor(size / 2)]) {
      const auto = { worker: 'auto', workerDecideBytes: decideBytes } as const;
      assert.deepEqual(await importTo(file, { ...auto, workerMinPackets: 1000, workerOptions: EVERY_TRACE }), here);
      assert.match((await importTo(file, { ...auto, workerMinPackets: 1000, workerOptions: failing })).err, started);
      // Fewer packets than that: no worker.
      const small = await importTo(file, { ...auto, workerMinPackets: 100_000, workerOptions: failing });
      assert.deepEqual(small, here);
    }
    // A capture that ends before the bytes the decision waits for, and one connection (--connection N): no worker.
    assert.deepEqual(await importTo(file, { worker: 'auto', workerDecideBytes: size + 1, workerMinPackets: 1, workerOptions: failing }), here);
    const one = await importTo(file, { worker: 'auto', workerDecideBytes: 1 << 20, workerMinPackets: 1, workerOptions: failing }, ['--connection', '3']);
    assert.deepEqual(one, await importTo(file, { worker: 'never' }, ['--connection', '3']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// The pool itself
// ---------------------------------------------------------------------------

function traceOf(i: number, lines: number): Uint8Array {
  const out = [`title "t${i} → x"`, 'endpoint client 10.0.0.1:40000', 'endpoint server 10.0.0.2:80', 'server: listen', 'client -> server: SYN seq=1000'];
  out.push('server -> client: SYN,ACK seq=5000 ack=1001', 'client -> server: ACK seq=1001 ack=5001');
  let seq = 1001;
  for (let k = 0; k < lines; k++) {
    out.push(`client -> server: ACK seq=${seq} ack=5001 len=100`);
    seq += 100;
  }
  // Some traces with an error, so that the counts differ.
  if (i % 3 === 0) out.push('server -> client: ACK seq=9999 ack=1', 'client: bogus');
  return new TextEncoder().encode(out.join('\n') + '\n');
}

async function poolRun(checker: WorkerChecker, traces: Uint8Array[]): Promise<Counts[]> {
  const got: Counts[] = [];
  let calls = 0;
  try {
    traces.forEach((t, i) =>
      checker.submit(t, (c) => {
        assert.equal(got[i], undefined, `trace ${i} answered twice`);
        got[i] = c;
        calls++;
      }),
    );
    await checker.finish();
  } finally {
    checker.close();
  }
  assert.equal(calls, traces.length);
  return got;
}

test('the pool answers every trace once, with the counts of a check in this thread; its backlog stays bounded', async () => {
  const traces = Array.from({ length: 300 }, (_, i) => traceOf(i, (i * 37) % 400));
  const expected = traces.map((t) => checkBytes(t));
  assert.ok(expected.some((c) => c.error > 0) && expected.some((c) => c.error === 0));
  const maxBacklog = 100_000;
  const pool = new WorkerChecker(defaultWorkerScript()!, { batchBytes: 20_000, maxBacklog });
  assert.deepEqual(await poolRun(pool, traces), expected);
  assert.ok(pool.peakBacklog <= maxBacklog, `backlog ${pool.peakBacklog}`);
  // All on the worker, or on three:
  for (const workers of [1, 3]) {
    const all = new WorkerChecker(defaultWorkerScript()!, { ...EVERY_TRACE, workers });
    assert.deepEqual(await poolRun(all, traces), expected);
    assert.equal(all.checkedHere, 0);
    assert.equal(all.sent, traces.length);
  }
});

test('the shared ring: traces of any size, rings and batches of any size (wrapping around, filling up) give every count once and right', { timeout: 120_000 }, async () => {
  const all = Array.from({ length: 120 }, (_, i) => traceOf(i, (i * 53) % 700));
  const expected = all.map((t) => checkBytes(t));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat({ max: all.length - 1 }), { minLength: 1, maxLength: 80 }),
      fc.integer({ min: 1, max: 120_000 }),
      fc.integer({ min: 1, max: 60_000 }),
      fc.boolean(),
      async (picks, ring, batchBytes, takeBack) => {
        const pool = new WorkerChecker(defaultWorkerScript()!, { maxBacklog: ring, batchBytes, takeBack, workers: 1 + (batchBytes % 2) });
        // The caller's buffer is reused between traces, as the importer's is.
        const shared = new Uint8Array(1 << 20);
        const got: Counts[] = [];
        let calls = 0;
        try {
          picks.forEach((p, i) => {
            shared.set(all[p]);
            pool.submit(shared.subarray(0, all[p].length), (c) => {
              assert.equal(got[i], undefined);
              got[i] = c;
              calls++;
            });
            shared.fill(0x7a, 0, all[p].length);
          });
          await pool.finish();
        } finally {
          pool.close();
        }
        assert.equal(calls, picks.length);
        assert.deepEqual(got, picks.map((p) => expected[p]));
        assert.ok(pool.peakBacklog <= ring);
      },
    ),
    { numRuns: 15 },
  );
});

function script(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcptrace-bad-worker-'));
  const file = join(dir, 'worker.js');
  writeFileSync(file, body);
  return file;
}

const BAD_WORKERS: [string, string][] = [
  ['throws on its first batch', "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });"],
  ['exits at once', 'process.exit(3);'],
  ['does not even parse', 'this is not JavaScript'],
  [
    'claims batches, then exits holding them',
    `const { parentPort, workerData } = require('node:worker_threads');
     let n = 0;
     parentPort.on('message', (m) => {
       Atomics.compareExchange(workerData.claims, m.seq % workerData.claims.length, m.seq + 1, -(m.seq + 1));
       if (++n === 3) process.exit(5);
     });`,
  ],
  [
    'answers some batches, then exits',
    `const { parentPort, workerData } = require('node:worker_threads');
     let n = 0;
     parentPort.on('message', (m) => {
       if (Atomics.compareExchange(workerData.claims, m.seq % workerData.claims.length, m.seq + 1, -(m.seq + 1)) !== m.seq + 1) return;
       if (++n === 4) process.exit(0);
       workerData.results.postMessage({ seq: m.seq, counts: m.lens.flatMap(() => [-1, 0, 0, 0]), writeErrors: m.lens.map(() => '') });
     });`,
  ],
];

test('a worker that fails is reported, never hangs, and its traces are checked in the main thread', { timeout: 60_000 }, async () => {
  const traces = Array.from({ length: 40 }, (_, i) => traceOf(i, 50));
  const expected = traces.map((t) => checkBytes(t));
  for (const [what, body] of BAD_WORKERS) {
    const pool = new WorkerChecker(script(body), { batchBytes: 1, workers: 1 });
    const got = await poolRun(pool, traces);
    if (what.startsWith('answers some')) {
      // What it answered (error: -1) is taken as answered; the rest is checked here.
      for (let i = 0; i < got.length; i++) assert.ok(got[i].error === -1 || JSON.stringify(got[i]) === JSON.stringify(expected[i]), `${what}: trace ${i}`);
    } else assert.deepEqual(got, expected, what);
    assert.ok(pool.failure !== undefined, `${what}: the failure is reported`);
  }
});

test('a worker that answers in a shape it should not (a worker script of another version) is reported, and its batches are checked in the main thread', { timeout: 60_000 }, async () => {
  const traces = Array.from({ length: 12 }, (_, i) => traceOf(i, 50));
  const body = `const { parentPort, workerData } = require('node:worker_threads');
    parentPort.on('message', (m) => {
      if (m.seq < 0) return workerData.results.postMessage({ seq: m.seq, counts: [], writeErrors: [] });
      if (Atomics.compareExchange(workerData.claims, m.seq % workerData.claims.length, m.seq + 1, -(m.seq + 1)) !== m.seq + 1) return;
      workerData.results.postMessage({ seq: m.seq, counts: [1, 2] });
    });`;
  // Nothing taken back: every batch goes to the worker.
  const pool = new WorkerChecker(script(body), { batchBytes: 1, workers: 1, takeBack: false, maxBacklog: 64 << 20 });
  assert.deepEqual(await poolRun(pool, traces), traces.map((t) => checkBytes(t)));
  assert.match(pool.failure ?? '', /malformed/);
});

test('one of two workers dies holding batches: the other and the main thread check everything, once', { timeout: 60_000 }, async () => {
  const real = defaultWorkerScript()!;
  // Every other worker (by thread id) claims three batches and dies; the rest are the real worker.
  const body = `const { threadId, parentPort, workerData } = require('node:worker_threads');
    if (threadId % 2 === 0) {
      let n = 0;
      parentPort.on('message', (m) => {
        if (m.seq < 0) process.exit(6);
        if (Atomics.compareExchange(workerData.claims, m.seq % workerData.claims.length, m.seq + 1, -(m.seq + 1)) !== m.seq + 1) return;
        if (++n === 3) process.exit(6);
      });
    } else {
      require(require('node:module').createRequire(${JSON.stringify(real)}).resolve('tsx/cjs'));
      require(${JSON.stringify(real)});
    }`;
  const traces = Array.from({ length: 60 }, (_, i) => traceOf(i, 30));
  const expected = traces.map((t) => checkBytes(t));
  for (const takeBack of [false, true]) {
    const pool = new WorkerChecker(script(body), { batchBytes: 1, maxBacklog: 64 << 20, takeBack, workers: 2 });
    assert.deepEqual(await poolRun(pool, traces), expected);
    assert.match(pool.failure ?? '', /exited with code 6/);
  }
});

test('the CLI reports a failed worker on stderr, and its output is otherwise the same', { timeout: 60_000 }, async () => {
  const file = join(DIR, 'lossy-both-ways-client.pcap');
  const here = await importTo(file, { worker: 'never' });
  const there = await importTo(file, { worker: 'always', workerOptions: { script: script('process.exit(9);'), batchBytes: 1 } });
  assert.equal(there.code, here.code);
  assert.equal(there.out, here.out);
  assert.deepEqual(there.files, here.files);
  assert.match(there.err, /^tcptrace-cli: a checking thread failed \(it exited with code 9\); its traces were checked in the main thread\.\n/);
});

test('utf8Parts reads the bytes as TextDecoder does, in parts that end lines', () => {
  const decoder = new TextDecoder();
  const enc = new TextEncoder();
  const same = (bytes: Uint8Array): boolean => {
    const { parts, latin1 } = utf8Parts(bytes);
    // A part read as Latin-1 comes with the bytes it was read from.
    const latin1Right = parts.every((p, i) => latin1[i] === undefined || (latin1[i]!.length === p.length && latin1[i]!.every((c, k) => c === p.charCodeAt(k))));
    return parts.join('') === decoder.decode(bytes) && parts.slice(0, -1).every((p) => p.endsWith('\n')) && latin1.length === parts.length && latin1Right;
  };
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.nat({ max: 6000 }), fc.string({ unit: 'grapheme', maxLength: 50 }), (head, pad, tail) =>
      same(enc.encode(`${head}\n${'x'.repeat(pad)}\n${tail}`)),
    ),
    { numRuns: 300 },
  );
  // Invalid UTF-8 around the cut: replaced the same way.
  for (const b of [[0xe2, 0x86], [0xff], [0xc3, 0x28], [0xf0, 0x9f, 0x98]]) {
    assert.ok(same(new Uint8Array([...b, ...new Array(5000).fill(0x61)])));
    assert.ok(same(new Uint8Array([...b, 0x0a, ...new Array(5000).fill(0x61)])));
  }
  // An imported trace: a UTF-8 title, then ASCII, read as two parts.
  const imported = utf8Parts(enc.encode(`title "a → b"\n${'a -> b: SYN\n'.repeat(300)}`));
  assert.equal(imported.parts.length, 2);
  assert.equal(imported.latin1[0], undefined);
  assert.equal(imported.latin1[1]?.length, imported.parts[1].length);
  assert.deepEqual(countDiagnostics('option origin=capture\n'), { error: 0, warning: 0, information: 0, hint: 0 });
});
