/**
 * Checking the traces an import writes, on a second thread. Checking costs
 * more than importing, and a machine has more than one core: the main thread
 * reads the capture and writes the traces, a worker thread
 * (dist/check-worker.js) checks them, and wall time approaches the larger of
 * the two instead of their sum.
 *
 * Traces go to the worker in batches (UTF-8 bytes, copied: the main thread
 * keeps its own). Memory stays bounded: when the batches the worker has not
 * finished hold more than MAX_BACKLOG bytes, the main thread checks the next
 * batch itself instead of queuing it, which also shares the checking between
 * both threads when checking is the slower side. At the end the main thread
 * takes back, newest first, the batches the worker has not started (each
 * batch is claimed by whoever sets its slot in a shared array first), so
 * neither thread idles while the other has work.
 *
 * Nothing blocks the main thread: results are picked up with
 * receiveMessageOnPort as batches are submitted, and awaited at the end. A
 * worker that fails (it cannot start, throws, exits) is reported through
 * `failure`; every trace it had not answered for is checked in the main
 * thread, so the results are the same either way.
 */
import * as buffer from 'node:buffer';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { check } from '../core';

export interface Counts {
  error: number;
  warning: number;
  information: number;
  hint: number;
}

/** Checks one trace as the import does (streaming, no syntax tree kept) and counts its diagnostics by severity. */
export function countDiagnostics(text: string): Counts {
  const counts: Counts = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const d of check(text, { keepSyntax: false }).diagnostics) counts[d.severity]++;
  return counts;
}

const decoder = new TextDecoder();
// Node 20.13 and later.
const isAscii = (buffer as { isAscii?: (b: Uint8Array) => boolean }).isAscii;

/**
 * The text of UTF-8 bytes. An imported trace is ASCII but for a line or two
 * of its header (the title's arrow, the capture's name), and decoding UTF-8
 * costs several times more than Latin-1: the ASCII tail after the last
 * non-ASCII byte is decoded as Latin-1, the head as UTF-8. Cutting after a
 * non-ASCII byte never splits a character, so the text is the same.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const n = bytes.length;
  if (isAscii === undefined || n <= HEAD) return decoder.decode(bytes);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, n);
  // Non-ASCII bytes anywhere past the head: the plain way.
  if (!isAscii(b.subarray(HEAD))) return decoder.decode(bytes);
  let k = HEAD;
  while (k > 0 && bytes[k - 1] < 0x80) k--;
  if (k === 0) return b.toString('latin1');
  return b.toString('utf8', 0, k) + b.toString('latin1', k, n);
}

/** Where the non-ASCII bytes of a trace are looked for (its header is shorter). */
const HEAD = 2048;

export function checkBytes(bytes: Uint8Array): Counts {
  return countDiagnostics(decodeUtf8(bytes));
}

export interface TraceChecker {
  /** Checks a trace (its UTF-8 bytes, not modified afterwards); `done` gets its counts, now or later. */
  submit(bytes: Uint8Array, done: (counts: Counts) => void): void;
  /** Resolves once every submitted trace has been checked and its `done` called. */
  finish(): Promise<void>;
  /** Stops the worker, if any (also after an error). */
  close(): void;
  /** Why the worker failed, if it did (its traces were then checked in the main thread). */
  readonly failure: string | undefined;
}

/** Everything in the calling thread, as each trace comes. */
export class InThreadChecker implements TraceChecker {
  readonly failure = undefined;
  submit(bytes: Uint8Array, done: (counts: Counts) => void): void {
    done(checkBytes(bytes));
  }
  async finish(): Promise<void> {}
  close(): void {}
}

/** The batch number of the last message of an import: the worker answers at once (with no counts). */
export const LAST = -1;

/** The worker's messages. */
export interface BatchMessage {
  seq: number;
  items: Uint8Array[];
}
export type ResultMessage = { seq: number; counts: number[] } | { seq: number; error: string };
export interface WorkerSetup {
  /** Per slot (seq % length): seq + 1 while the batch waits, -(seq + 1) once someone took it. */
  claims: Int32Array;
  results: MessagePort;
}

/** Batches the worker has and has not answered for may hold this many bytes; beyond, the main thread checks. */
export const MAX_BACKLOG = 4 << 20;
/** Traces are sent in batches of about this many bytes (one message per trace would cost more than small traces). */
export const BATCH_BYTES = 64 << 10;
const SLOTS = 1024;

export interface WorkerCheckerOptions {
  /** The worker's script: a .js file, or .ts loaded through tsx (default: defaultWorkerScript()). */
  script?: string;
  batchBytes?: number;
  maxBacklog?: number;
  /** Take back at the end what the worker has not started (default true; tests turn it off to make the worker do everything). */
  takeBack?: boolean;
}

interface Batch {
  seq: number;
  items: Uint8Array[];
  done: ((counts: Counts) => void)[];
  bytes: number;
}

/** The bundled worker next to this file (dist/check-worker.js), or, run from source (tests), its TypeScript. */
export function defaultWorkerScript(): string | undefined {
  const bundled = join(__dirname, 'check-worker.js');
  if (existsSync(bundled)) return bundled;
  const source = join(__dirname, 'check-worker.ts');
  if (existsSync(source)) return source;
  return undefined;
}

export class WorkerChecker implements TraceChecker {
  failure: string | undefined;
  private readonly worker: Worker;
  private readonly results: MessagePort;
  private readonly claims = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly pending = new Map<number, Batch>();
  private backlog = 0;
  private nextSeq = 0;
  private batch: Batch | undefined;
  private dead = false;
  private closed = false;
  /** Wakes finish() when a result arrives or the worker dies. */
  private wake: (() => void) | undefined;
  private readonly batchBytes: number;
  private readonly maxBacklog: number;
  private readonly takeBack: boolean;
  /** The most bytes the worker had at once (the bound on memory: at most maxBacklog + one batch). */
  peakBacklog = 0;
  /** Batches sent to the worker, and those the main thread checked itself (because the worker was behind, or at the end). */
  sent = 0;
  checkedHere = 0;

  constructor(script: string, opts: WorkerCheckerOptions = {}) {
    this.batchBytes = opts.batchBytes ?? BATCH_BYTES;
    this.maxBacklog = opts.maxBacklog ?? MAX_BACKLOG;
    this.takeBack = opts.takeBack ?? true;
    const { port1, port2 } = new MessageChannel();
    this.results = port1;
    const setup: WorkerSetup = { claims: this.claims, results: port2 };
    // TypeScript source (tests run from src/): load it through tsx, which they run under.
    this.worker = script.endsWith('.ts')
      ? new Worker(`require(require('node:module').createRequire(${JSON.stringify(script)}).resolve('tsx/cjs')); require(${JSON.stringify(script)});`, {
          eval: true,
          workerData: setup,
          transferList: [port2],
          execArgv: [],
        })
      : new Worker(script, { workerData: setup, transferList: [port2], execArgv: [] });
    this.worker.on('error', (e) => this.fail(e instanceof Error ? e.message : String(e)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`it exited with code ${code}`);
    });
  }

  submit(bytes: Uint8Array, done: (counts: Counts) => void): void {
    let b = this.batch;
    if (!b) b = this.batch = { seq: -1, items: [], done: [], bytes: 0 };
    b.items.push(bytes);
    b.done.push(done);
    b.bytes += bytes.length;
    if (b.bytes >= this.batchBytes) {
      this.batch = undefined;
      this.send(b);
    }
  }

  private send(b: Batch): void {
    this.poll();
    const seq = this.nextSeq;
    const behind = this.pending.size > 0 && this.backlog + b.bytes > this.maxBacklog;
    if (this.dead || behind || this.pending.has(seq - SLOTS)) {
      this.runHere(b);
      return;
    }
    this.nextSeq++;
    b.seq = seq;
    Atomics.store(this.claims, seq % SLOTS, seq + 1);
    this.pending.set(seq, b);
    this.backlog += b.bytes;
    if (this.backlog > this.peakBacklog) this.peakBacklog = this.backlog;
    this.sent++;
    const msg: BatchMessage = { seq, items: b.items };
    this.worker.postMessage(msg);
  }

  private runHere(b: Batch): void {
    this.checkedHere++;
    for (let i = 0; i < b.items.length; i++) b.done[i](checkBytes(b.items[i]));
  }

  /** Takes every result that has arrived, without waiting. */
  private poll(): void {
    for (;;) {
      const m = receiveMessageOnPort(this.results);
      if (m === undefined) return;
      this.answer(m.message as ResultMessage);
    }
  }

  private answer(m: ResultMessage): void {
    const b = this.pending.get(m.seq);
    if (!b) return;
    this.pending.delete(m.seq);
    this.backlog -= b.bytes;
    // A check that threw in the worker is run again here, so that it fails as it would without a worker.
    if ('error' in m) this.runHere(b);
    else for (let i = 0; i < b.items.length; i++) b.done[i]({ error: m.counts[4 * i], warning: m.counts[4 * i + 1], information: m.counts[4 * i + 2], hint: m.counts[4 * i + 3] });
  }

  private fail(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.failure = why;
    this.wake?.();
  }

  async finish(): Promise<void> {
    // The last, partial batch is the newest: nobody has it yet.
    if (this.batch) {
      const b = this.batch;
      this.batch = undefined;
      if (this.takeBack) this.runHere(b);
      else this.send(b);
    }
    this.poll();
    // Take back, newest first, what the worker has not started.
    for (const seq of this.takeBack ? [...this.pending.keys()].sort((a, b) => b - a) : []) {
      if (Atomics.compareExchange(this.claims, seq % SLOTS, seq + 1, -(seq + 1)) !== seq + 1) continue;
      const b = this.pending.get(seq)!;
      this.pending.delete(seq);
      this.backlog -= b.bytes;
      this.runHere(b);
      this.poll();
    }
    // Wait for the batches the worker is on, then for its answer to a last, empty batch: it comes after
    // every other answer, and tells that the worker is still alive. From here on results come as events.
    if (!this.dead) {
      let thrown: { e: unknown } | undefined;
      let last = false;
      this.results.on('message', (m: ResultMessage) => {
        try {
          if (m.seq === LAST) last = true;
          else this.answer(m);
        } catch (e) {
          thrown ??= { e };
        }
        this.wake?.();
      });
      const ping: BatchMessage = { seq: LAST, items: [] };
      this.worker.postMessage(ping);
      while (!last && !this.dead && !thrown) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      if (thrown) throw thrown.e;
    }
    // A failed worker: whatever it had is checked here.
    for (const seq of [...this.pending.keys()].sort((a, b) => a - b)) {
      const b = this.pending.get(seq)!;
      this.pending.delete(seq);
      this.backlog -= b.bytes;
      this.runHere(b);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.results.close();
    void this.worker.terminate();
  }
}

/** A checker on a worker thread, or undefined when no worker script is found (then check in this thread). */
export function startWorkerChecker(opts: WorkerCheckerOptions = {}): WorkerChecker | undefined {
  const script = opts.script ?? defaultWorkerScript();
  if (script === undefined) return undefined;
  return new WorkerChecker(script, opts);
}
