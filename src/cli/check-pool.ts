/**
 * Checking the traces an import writes, on other threads. Checking costs
 * more than importing, and a machine has more than one core: the main thread
 * reads the capture and writes the traces, worker threads
 * (dist/check-worker.js; one per core but one, up to three) check them, and
 * wall time approaches the larger of the two instead of their sum.
 *
 * Traces go to the workers in batches, through a ring of shared memory of
 * MAX_BACKLOG bytes. Every worker hears of every batch; each batch is
 * claimed by whoever sets its slot in a shared array first. Memory stays
 * bounded: when the ring is full (the workers are behind), the main thread
 * checks the next trace itself instead of queuing it, which also shares the
 * checking out when checking is the slower side. At the end the main thread
 * takes back, newest first, the batches no worker has started, so no thread
 * idles while another has work.
 *
 * Nothing blocks the main thread: results are picked up with
 * receiveMessageOnPort as traces are submitted, and awaited at the end. A
 * worker that fails (it cannot start, throws, exits) is reported through
 * `failure`; every trace it had not answered for is checked in the main
 * thread, so the results are the same either way. (A worker that stopped
 * answering without exiting would make the import wait, as a check that
 * never returned would without workers.)
 */
import * as buffer from 'node:buffer';
import { existsSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { check, checkParts, type CheckResult } from '../core';
import { ioText } from './io-text';

export interface Counts {
  error: number;
  warning: number;
  information: number;
  hint: number;
}

/**
 * Checks one trace as the import does (streaming, no syntax tree or timeline kept) and counts its diagnostics by severity;
 * `latin1[i]`: the bytes part i was decoded from as Latin-1, if it was (see TraceText).
 */
export function countDiagnostics(text: string | readonly string[], latin1?: readonly (Uint8Array | undefined)[]): Counts {
  const options = { keepSyntax: false, timeline: false } as const;
  return countsOf(typeof text === 'string' ? check(text, options) : checkParts(text, options, latin1));
}

/** A check's diagnostics, counted by severity. */
export function countsOf(r: CheckResult): Counts {
  const counts: Counts = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const d of r.diagnostics) counts[d.severity]++;
  return counts;
}

const decoder = new TextDecoder();
// Node 20.13 and later.
const isAscii = (buffer as { isAscii?: (b: Uint8Array) => boolean }).isAscii;

/** A trace's text in parts for checkParts, and per part the bytes it was read from as Latin-1, if it was. */
export interface TraceText {
  parts: string[];
  latin1: (Uint8Array | undefined)[];
}

/**
 * The text of UTF-8 bytes, in parts for checkParts: their concatenation is
 * what TextDecoder gives. An imported trace is ASCII but for a line or two of
 * its header (the title's arrow, the capture's name). The lines after the
 * last non-ASCII byte are read as Latin-1, a flat one-byte string that is
 * cheap to make and fast to parse, and whose bytes the parser reads as they
 * are; the lines up to it as UTF-8. A cut after a line feed never splits a
 * character (nor an invalid sequence, which ends there too).
 */
export function utf8Parts(bytes: Uint8Array): TraceText {
  const n = bytes.length;
  const utf8 = (): TraceText => ({ parts: [decoder.decode(bytes)], latin1: [undefined] });
  if (isAscii === undefined) return utf8();
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, n);
  if (n <= HEAD) return isAscii(b) ? { parts: [b.toString('latin1')], latin1: [b] } : utf8();
  // Non-ASCII bytes anywhere past the head: the plain way.
  if (!isAscii(b.subarray(HEAD))) return utf8();
  let k = HEAD;
  while (k > 0 && bytes[k - 1] < 0x80) k--;
  if (k === 0) return { parts: [b.toString('latin1')], latin1: [b] };
  const nl = b.indexOf(10, k);
  if (nl < 0) return utf8();
  return { parts: [b.toString('utf8', 0, nl + 1), b.toString('latin1', nl + 1)], latin1: [undefined, b.subarray(nl + 1)] };
}

/** Where the non-ASCII bytes of a trace are looked for (its header is shorter). */
const HEAD = 2048;

export function checkBytes(bytes: Uint8Array): Counts {
  const t = utf8Parts(bytes);
  return countDiagnostics(t.parts, t.latin1);
}

/** Writes a trace's file; what went wrong, in the command line's words, or '' when nothing did. */
export function writeTraceFile(path: string, bytes: Uint8Array): string {
  try {
    writeFileSync(path, bytes);
    return '';
  } catch (e) {
    return ioText(path, e);
  }
}

/** Called with a trace's counts, and with why its file could not be written ('' when it was, or none was asked for). */
export type Done = (counts: Counts, writeError: string) => void;

/** Writes a trace's file (with a path) and checks the trace: what every thread does with a trace it takes. */
function writeAndCheck(bytes: Uint8Array, path: string | undefined): { counts: Counts; writeError: string } {
  const writeError = path ? writeTraceFile(path, bytes) : '';
  return { counts: checkBytes(bytes), writeError };
}

export interface TraceChecker {
  /**
   * Whether the next trace is best checked by the caller as it writes it
   * (which does not read it again: less than half the work of checking its
   * bytes): always without workers; with them, when they are behind.
   */
  checkWhileWriting(): boolean;
  /**
   * Checks a trace (its UTF-8 bytes, read during the call: the caller may
   * then reuse them) and, with `path`, writes its file first, in whichever
   * thread checks it (on a slow disk, creating thousands of files is much of
   * an import's time); `done` gets the outcome, now or later.
   */
  submit(bytes: Uint8Array, done: Done, path?: string): void;
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
  checkWhileWriting(): boolean {
    return true;
  }
  submit(bytes: Uint8Array, done: Done, path?: string): void {
    const r = writeAndCheck(bytes, path);
    done(r.counts, r.writeError);
  }
  async finish(): Promise<void> {}
  close(): void {}
}

/** The batch number of the last message of an import: the worker answers at once (with no counts). */
export const LAST = -1;

/** A batch for the worker: its traces lie one after another in the shared ring, from `start`. */
export interface BatchMessage {
  seq: number;
  start: number;
  lens: number[];
  /** Per trace, the file to write before checking it ('' for none). */
  paths: string[];
}
/** The counts, four per trace, and per trace why its file could not be written ('' when it was). */
export type ResultMessage = { seq: number; counts: number[]; writeErrors: string[] } | { seq: number; error: string };
export interface WorkerSetup {
  /** The traces the worker has to check (written by the main thread, read by whoever checks them). */
  ring: SharedArrayBuffer;
  /** Per slot (seq % length): seq + 1 while the batch waits, -(seq + 1) once someone took it. */
  claims: Int32Array;
  results: MessagePort;
}

/**
 * Bytes of traces waiting for the worker or being checked by it, at most:
 * the size of the shared ring. When it is full the main thread checks.
 */
export const MAX_BACKLOG = 4 << 20;
/** Traces are sent in batches of about this many bytes (one message per trace would cost more than small traces). */
export const BATCH_BYTES = 64 << 10;
const SLOTS = 1024;

export interface WorkerCheckerOptions {
  /** The worker's script: a .js file, or .ts loaded through tsx (default: defaultWorkerScript()). */
  script?: string;
  batchBytes?: number;
  /** The size of the shared ring (default MAX_BACKLOG). */
  maxBacklog?: number;
  /** Take back at the end what the workers have not started (default true; tests turn it off to make the workers do everything). */
  takeBack?: boolean;
  /** How many worker threads (default: defaultWorkers()). */
  workers?: number;
}

interface Batch {
  seq: number;
  /** Its bytes in the ring: [start, end), the traces one after another. */
  start: number;
  end: number;
  lens: number[];
  paths: string[];
  done: Done[];
}

/** The bundled worker next to this file (dist/check-worker.js), or, run from source (tests), its TypeScript. */
export function defaultWorkerScript(): string | undefined {
  const bundled = join(__dirname, 'check-worker.js');
  if (existsSync(bundled)) return bundled;
  const source = join(__dirname, 'check-worker.ts');
  if (existsSync(source)) return source;
  return undefined;
}

/** Writes (where a path is given) and checks the traces of a batch, reading them from the ring. */
export function checkBatch(ring: Uint8Array, start: number, lens: readonly number[], paths: readonly string[]): { counts: number[]; writeErrors: string[] } {
  const counts: number[] = [];
  const writeErrors: string[] = [];
  let at = start;
  for (let i = 0; i < lens.length; i++) {
    const r = writeAndCheck(ring.subarray(at, at + lens[i]), paths[i] || undefined);
    const c = r.counts;
    writeErrors.push(r.writeError);
    counts.push(c.error, c.warning, c.information, c.hint);
    at += lens[i];
  }
  return { counts, writeErrors };
}

/**
 * Traces go through a ring of shared memory: the main thread copies each
 * one in (the only copy: no message carries trace bytes), the worker
 * decodes it from there. Space is taken in order and given back as the
 * worker answers, oldest first; a batch is contiguous, so a trace that does
 * not fit before the end of the ring closes the batch and starts the next at
 * the beginning.
 */
export class WorkerChecker implements TraceChecker {
  failure: string | undefined;
  private readonly helpers: Helper[] = [];
  /** Workers neither failed nor exited. */
  private alive = 0;
  private readonly ring: Uint8Array;
  private readonly claims = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  /** Batches sent and not answered for, oldest first. */
  private readonly pending = new Map<number, Batch>();
  /** The batch being filled (not sent yet). */
  private batch: Batch | undefined;
  /** Where the next trace goes in the ring. */
  private head = 0;
  private backlog = 0;
  private nextSeq = 0;
  private closed = false;
  /** Wakes finish() when a result arrives or a worker dies. */
  private wake: (() => void) | undefined;
  private readonly batchBytes: number;
  private readonly takeBack: boolean;
  /** The most bytes in the ring at once (at most its size). */
  peakBacklog = 0;
  /** Batches sent to the workers; batches and traces the main thread checked itself (the workers were behind, or at the end). */
  sent = 0;
  checkedHere = 0;

  constructor(script: string, opts: WorkerCheckerOptions = {}) {
    this.batchBytes = opts.batchBytes ?? BATCH_BYTES;
    this.takeBack = opts.takeBack ?? true;
    const ring = new SharedArrayBuffer(opts.maxBacklog ?? MAX_BACKLOG);
    this.ring = new Uint8Array(ring);
    const count = Math.max(1, opts.workers ?? defaultWorkers());
    for (let k = 0; k < count; k++) {
      const { port1, port2 } = new MessageChannel();
      const setup: WorkerSetup = { ring, claims: this.claims, results: port2 };
      // TypeScript source (tests run from src/): load it through tsx, which they run under.
      const worker = script.endsWith('.ts')
        ? new Worker(`require(require('node:module').createRequire(${JSON.stringify(script)}).resolve('tsx/cjs')); require(${JSON.stringify(script)});`, {
            eval: true,
            workerData: setup,
            transferList: [port2],
            execArgv: [],
          })
        : new Worker(script, { workerData: setup, transferList: [port2], execArgv: [] });
      const h: Helper = { worker, results: port1, dead: false, last: false };
      worker.on('error', (e) => this.fail(h, e instanceof Error ? e.message : String(e)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(h, `it exited with code ${code}`);
      });
      this.helpers.push(h);
      this.alive++;
    }
  }

  checkWhileWriting(): boolean {
    this.poll();
    // Behind: more than half the ring waits (a trace would soon not fit, and be checked here from its bytes).
    return this.alive === 0 || this.backlog > this.ring.length / 2;
  }

  submit(bytes: Uint8Array, done: Done, path?: string): void {
    this.poll();
    const n = bytes.length;
    const at = this.alive === 0 ? -1 : this.alloc(n);
    if (at < 0) {
      // The worker is behind (or gone): this one is written and checked here, now.
      this.checkedHere++;
      const r = writeAndCheck(bytes, path);
      done(r.counts, r.writeError);
      return;
    }
    if (this.batch && at !== this.head) {
      // Wrapped to the start of the ring: a batch is contiguous.
      this.send(this.batch);
      this.batch = undefined;
    }
    this.ring.set(bytes, at);
    this.head = at + n;
    this.backlog += n;
    if (this.backlog > this.peakBacklog) this.peakBacklog = this.backlog;
    const b = (this.batch ??= { seq: -1, start: at, end: at, lens: [], paths: [], done: [] });
    b.lens.push(n);
    b.paths.push(path ?? '');
    b.done.push(done);
    b.end = this.head;
    // Full, or the worker has nothing to do: send it.
    if (b.end - b.start >= this.batchBytes || this.pending.size === 0) {
      this.batch = undefined;
      this.send(b);
    }
  }

  /** Where `n` bytes fit in the ring, or -1. */
  private alloc(n: number): number {
    const size = this.ring.length;
    let oldest: Batch | undefined;
    for (const b of this.pending.values()) {
      oldest = b;
      break;
    }
    oldest ??= this.batch;
    if (oldest === undefined) {
      this.head = 0;
      return n <= size ? 0 : -1;
    }
    const tail = oldest.start;
    if (this.head > tail) {
      // In use: [tail, head). Free: the end of the ring, then its start.
      if (this.head + n <= size) return this.head;
      return n <= tail ? 0 : -1;
    }
    // Wrapped: in use from tail to the end and from 0 to head; free: [head, tail).
    return this.head + n <= tail ? this.head : -1;
  }

  private send(b: Batch): void {
    const seq = this.nextSeq;
    if (this.pending.has(seq - SLOTS)) {
      // Every claim slot is in use: check it here (its space is given back with the older batches').
      this.runHere(b);
      return;
    }
    this.nextSeq++;
    b.seq = seq;
    Atomics.store(this.claims, seq % SLOTS, seq + 1);
    this.pending.set(seq, b);
    this.sent++;
    // Every worker hears of it; the first free one claims it.
    const msg: BatchMessage = { seq, start: b.start, lens: b.lens, paths: b.paths };
    for (const h of this.helpers) if (!h.dead) h.worker.postMessage(msg);
  }

  private runHere(b: Batch): void {
    this.checkedHere++;
    const r = checkBatch(this.ring, b.start, b.lens, b.paths);
    this.backlog -= b.end - b.start;
    this.report(b, r.counts, r.writeErrors);
  }

  private report(b: Batch, counts: number[], writeErrors: string[]): void {
    for (let i = 0; i < b.done.length; i++) b.done[i]({ error: counts[4 * i], warning: counts[4 * i + 1], information: counts[4 * i + 2], hint: counts[4 * i + 3] }, writeErrors[i]);
  }

  /** Takes every result that has arrived, without waiting. */
  private poll(): void {
    for (const h of this.helpers) {
      for (;;) {
        const m = receiveMessageOnPort(h.results);
        if (m === undefined) break;
        this.answer(m.message as ResultMessage);
      }
    }
  }

  private answer(m: ResultMessage): void {
    const b = this.pending.get(m.seq);
    if (!b) return;
    // A check that threw in the worker is run again here (before its space is given back),
    // so that it fails as it would without a worker.
    if ('error' in m) this.runHere(b);
    else if (!wellFormed(m, b.done.length)) {
      // Not what this pool's worker answers (a worker script from another version?): checked here.
      this.failure ??= `it answered batch ${m.seq} with a malformed result`;
      this.runHere(b);
    } else {
      this.backlog -= b.end - b.start;
      this.report(b, m.counts, m.writeErrors);
    }
    this.pending.delete(m.seq);
  }

  private fail(h: Helper, why: string): void {
    if (h.dead) return;
    h.dead = true;
    this.alive--;
    this.failure ??= why;
    this.wake?.();
  }

  async finish(): Promise<void> {
    // The last, partial batch is the newest: nobody has it yet.
    if (this.batch) {
      const b = this.batch;
      this.batch = undefined;
      if (this.takeBack || this.alive === 0) this.runHere(b);
      else this.send(b);
    }
    this.poll();
    // Take back, newest first, what no worker has started.
    for (const seq of this.takeBack ? [...this.pending.keys()].reverse() : []) {
      if (Atomics.compareExchange(this.claims, seq % SLOTS, seq + 1, -(seq + 1)) !== seq + 1) continue;
      const b = this.pending.get(seq)!;
      this.runHere(b);
      this.pending.delete(seq);
      this.poll();
    }
    // Wait for the batches the workers are on, then for each one's answer to a last, empty batch: it
    // comes after that worker's other answers, and tells that it is still alive. Once every worker has
    // answered it or died, what is still pending was taken by a worker that died. From here on results
    // come as events.
    const live = this.helpers.filter((h) => !h.dead);
    if (live.length > 0) {
      let thrown: { e: unknown } | undefined;
      const ping: BatchMessage = { seq: LAST, start: 0, lens: [], paths: [] };
      for (const h of live) {
        h.results.on('message', (m: ResultMessage) => {
          try {
            if (m.seq === LAST) h.last = true;
            else this.answer(m);
          } catch (e) {
            thrown ??= { e };
          }
          this.wake?.();
        });
        h.worker.postMessage(ping);
      }
      while (!thrown && live.some((h) => !h.dead && !h.last)) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      if (thrown) throw thrown.e;
    }
    // A failed worker: whatever it had is checked here.
    for (const [seq, b] of [...this.pending]) {
      this.runHere(b);
      this.pending.delete(seq);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.helpers) {
      h.results.close();
      void h.worker.terminate();
    }
  }
}

/** An answer with four counts and a write error for each of the batch's `n` traces. */
function wellFormed(m: { counts?: unknown; writeErrors?: unknown }, n: number): boolean {
  const { counts, writeErrors } = m;
  return (
    Array.isArray(counts) &&
    counts.length === 4 * n &&
    counts.every((c) => Number.isInteger(c)) &&
    Array.isArray(writeErrors) &&
    writeErrors.length === n &&
    writeErrors.every((e) => typeof e === 'string')
  );
}

interface Helper {
  worker: Worker;
  /** Its answers (polled without waiting during the import). */
  results: MessagePort;
  dead: boolean;
  /** It has answered the last, empty batch. */
  last: boolean;
}

/** At most this many workers: each is a V8 isolate of some 60 MB, and the main thread must keep up. */
const MAX_WORKERS = 3;

/** One worker per core but the main thread's, from one to MAX_WORKERS. */
export function defaultWorkers(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_WORKERS, cores - 1));
}

/** A checker on a worker thread, or undefined when no worker script is found (then check in this thread). */
export function startWorkerChecker(opts: WorkerCheckerOptions = {}): WorkerChecker | undefined {
  const script = opts.script ?? defaultWorkerScript();
  if (script === undefined) return undefined;
  return new WorkerChecker(script, opts);
}
