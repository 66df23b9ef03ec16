/**
 * `tcptrace-cli import CAPTURE.pcap|CAPTURE.pcapng [-o DIR] [--connection N|all]`
 * (spec section 8): one `.tcptrace` per TCP connection, each checked as it is
 * written. The capture is streamed, and each trace is written and dropped as
 * soon as its connection is over, so memory stays flat however long the file.
 * On large captures the checks run on worker threads while the main thread
 * goes on reading (check-pool.ts); the output is the same either way.
 *
 * Exit status: 0 when the capture was read whole and no written trace has an
 * error-severity diagnostic; 1 when the capture is damaged (the connections
 * read before the damage are still written) or a trace has an error; 2 for
 * usage or I/O errors.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LINK_TYPE_NAMES, captureStem, copiesText, damagePlace, formatText, importCapture, importCaptureAsync, isGzip, type ConnectionSummary, type ImportOptions, type ImportReport } from '../core/capture';
import { InThreadChecker, checkBytes, countsOf, startWorkerChecker, writeTraceFile, type Counts, type TraceChecker, type WorkerCheckerOptions } from './check-pool';
import { IdOrder } from './id-order';
import { ioText } from './io-text';

export interface ImportIo {
  out(s: string): void;
  err(s: string): void;
  /** A line of progress, shown in place until the next (undefined: cleared); where the user watches it change (a terminal). */
  progress?(line: string | undefined): void;
}

export const IMPORT_USAGE = 'tcptrace-cli import CAPTURE.pcap|CAPTURE.pcapng [-o DIR] [--connection N|all]';

export class ImportUsageError extends Error {}

interface ImportArgs {
  capture: string;
  /** Directory for the traces; '-' writes the one selected trace to standard output. */
  outDir: string;
  connection: number | 'all';
  help: boolean;
}

export function parseImportArgs(args: readonly string[]): ImportArgs {
  const a: ImportArgs = { capture: '', outDir: '.', connection: 'all', help: false };
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const value = (name: string): string => {
      const eq = x.indexOf('=');
      if (x.startsWith('--') && eq > 0) return x.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new ImportUsageError(`${name} needs a value`);
      return v;
    };
    if (x === '-o' || x === '--output' || x.startsWith('--output=')) a.outDir = value(x.startsWith('--') ? '--output' : '-o');
    else if (x === '--connection' || x.startsWith('--connection=')) {
      const v = value('--connection');
      if (v === 'all') a.connection = 'all';
      else if (/^[1-9][0-9]*$/.test(v)) a.connection = Number(v);
      else throw new ImportUsageError(`--connection takes a connection number (1, 2, ...) or 'all', not '${v}'`);
    } else if (x === '-h' || x === '--help') a.help = true;
    else if (x === '--') {
      files.push(...args.slice(i + 1));
      break;
    } else if (x.startsWith('-') && x !== '-') throw new ImportUsageError(`unknown option '${x}' for import`);
    else files.push(x);
  }
  if (a.help) return a;
  if (files.length !== 1) throw new ImportUsageError(`import needs exactly one CAPTURE file (${IMPORT_USAGE})`);
  a.capture = files[0];
  if (a.outDir === '-' && a.connection === 'all') throw new ImportUsageError("-o - writes one trace to standard output: choose it with --connection N");
  return a;
}

function plural(n: number, w: string): string {
  return `${n} ${w}${n === 1 ? '' : 's'}`;
}

function fmtDuration(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} us`;
}

/** One line describing a connection, as the summary and the editor's quick pick show it. */
export function describeConnection(c: ConnectionSummary): string {
  return `${c.names[0]} ${c.endpoints[0].text} → ${c.names[1]} ${c.endpoints[1].text}, ${plural(c.packets, 'packet')}${c.copies > 0 ? ` (${copiesText(c.copies)})` : ''}, ${fmtDuration(c.duration)}, ${c.ended}`;
}

/** How `import` checks the traces it writes. */
export interface ImportRunOptions {
  /**
   * 'auto' (default): on worker threads when all connections of a capture
   * of about WORKER_MIN_PACKETS packets or more are imported (see
   * wantsWorker), else in the main thread (on smaller captures a worker
   * costs more than it saves); 'always' and 'never' force the choice.
   * TCPTRACE_IMPORT_WORKER in the environment does the same.
   */
  worker?: 'auto' | 'always' | 'never';
  /** For 'auto' (tests): the packets from which a worker is started, and the bytes read before deciding (defaults: WORKER_MIN_PACKETS, WORKER_DECIDE_BYTES). */
  workerMinPackets?: number;
  workerDecideBytes?: number;
  /** The worker's script and batching (defaults: check-worker.js next to the CLI's bundle; see check-pool.ts). */
  workerOptions?: WorkerCheckerOptions;
  /** With io.progress: how long an import runs before its progress shows (default 500 ms: a short one never shows it). */
  progressAfterMs?: number;
  /** Traces of connections of more packets than this are written as they are written (default STREAM_PACKETS), in chunks of at least `streamBytes` (tests). */
  streamPackets?: number;
  streamBytes?: number;
}

/**
 * Captures of about this many packets or more are checked on worker
 * threads. A worker's cost is fixed: a second V8 isolate starts and compiles
 * the checker again, and on two cores that compiling takes time from both
 * threads. Its gain grows with the packets. Medians of alternating runs on a
 * 2-core machine, the bench's captures (whole frames, about 1 KB a packet),
 * main thread alone against with the worker: 250,000 packets 1045 and
 * 1188 ms, 500,000 packets 1328 and 1199 ms, 1,000,000 packets 3050 and
 * 2595 ms, 2,000,000 packets 4750 and 3406 ms. Counted in packets, not
 * bytes: checking costs per segment, and a capture of headers only holds
 * ten times as many in as many bytes.
 */
export const WORKER_MIN_PACKETS = 350_000;

/** The capture's packets are estimated once this many bytes are read (see wantsWorker). */
export const WORKER_DECIDE_BYTES = 4 << 20;

/**
 * Whether an import is worth a worker, from the packets in the first
 * `position` bytes of a capture of `size` bytes: their rate, scaled to the
 * whole file, estimates its packets.
 */
export function wantsWorker(packets: number, position: number, size: number, minPackets = WORKER_MIN_PACKETS): boolean {
  return position > 0 && size > 0 && (packets * size) / position >= minPackets;
}

/**
 * At most this many ended connections wait for an older one, still open, to
 * be listed first; beyond, the oldest waiting is listed, and a connection
 * whose turn has passed is listed when it ends. (A capture of thousands of
 * short connections with one that stays open lists that one late.)
 */
export const LIST_WINDOW = 4096;

/** A connection of more packets than this has its trace written and checked as it is written, not held whole. */
export const STREAM_PACKETS = 100_000;

const NO_COUNTS: Counts = { error: 0, warning: 0, information: 0, hint: 0 };

/** ` (163 of them copies; 2 other packets skipped)`, either alone, or nothing. */
function segmentNotes(copies: number, other: number): string {
  const notes = [copiesText(copies), other > 0 ? `${other} other packet${other === 1 ? '' : 's'} skipped` : ''].filter(Boolean);
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

/** Whether the file starts as gzip's do. */
function startsGzip(fd: number): boolean {
  const head = new Uint8Array(2);
  return isGzip(head, readSync(fd, head, 0, 2, 0));
}

/** The size of an open file, or NaN. */
function sizeOf(fd: number): number {
  try {
    return fstatSync(fd).size;
  } catch {
    return NaN;
  }
}

/** The progress line of an import (see ImportIo.progress), drawn at most every PROGRESS_EVERY_MS. */
class Progress {
  private next: number;
  private shown = false;

  constructor(
    private readonly show: (line: string | undefined) => void,
    private readonly name: string,
    private readonly size: number,
    afterMs: number,
  ) {
    this.next = performance.now() + afterMs;
  }

  tick(position: number, written: number): void {
    const now = performance.now();
    if (now < this.next) return;
    this.next = now + PROGRESS_EVERY_MS;
    const name = this.name.length > 32 ? `…${this.name.slice(-31)}` : this.name;
    const mb = (n: number): string => (n / 1e6).toFixed(0);
    const read = Number.isFinite(this.size) && this.size > 0 ? `${Math.min(100, Math.floor((100 * position) / this.size))}% (${mb(position)} of ${mb(this.size)} MB)` : `${mb(position)} MB`;
    this.show(`reading ${name}: ${read}, ${plural(written, 'trace')} written`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.shown = false;
    this.show(undefined);
  }
}

const PROGRESS_EVERY_MS = 200;

/** A trace file written a chunk at a time; the first failure is kept, and nothing more is written after it. */
class TraceFile {
  private fd = -1;
  private error = '';

  constructor(private readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      this.error = ioText(path, e);
    }
  }

  write(bytes: Uint8Array): void {
    if (this.error) return;
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (e) {
      this.error = ioText(this.path, e);
    }
  }

  /** Closes the file; why it could not be written ('' when it was). */
  close(): string {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch (e) {
        this.error ||= ioText(this.path, e);
      }
      this.fd = -1;
    }
    return this.error;
  }
}

/** One trace's line of the summary. */
interface Line {
  id: number;
  head: string;
  counts: Counts | undefined;
  /** Its file could not be written (reported; not listed). */
  failed: boolean;
}

const decoder = new TextDecoder();

export async function runImport(args: readonly string[], io: ImportIo, opts: ImportRunOptions = {}): Promise<number> {
  const a = parseImportArgs(args);
  if (a.help) {
    io.out(`Usage: ${IMPORT_USAGE}\n`);
    return 0;
  }
  let fd: number;
  try {
    fd = openSync(a.capture, 'r');
  } catch (e) {
    io.err(`tcptrace-cli: ${ioText(a.capture, e)}\n`);
    return 2;
  }
  const stem = captureStem(a.capture);
  if (a.outDir !== '-') {
    try {
      mkdirSync(a.outDir, { recursive: true });
    } catch (e) {
      closeSync(fd);
      io.err(`tcptrace-cli: ${ioText(a.outDir, e)}\n`);
      return 2;
    }
  }
  // Progress on a terminal: how much of the capture is read, and how many traces are written. Any other
  // output clears it first (the next tick draws it again). Not with -o -, whose trace is the output.
  const size = sizeOf(fd);
  let progress: Progress | undefined;
  if (io.progress && a.outDir !== '-') {
    const p = (progress = new Progress(io.progress, basename(a.capture), size, opts.progressAfterMs ?? 500));
    const inner = io;
    io = {
      out: (s) => (p.clear(), inner.out(s)),
      err: (s) => (p.clear(), inner.err(s)),
    };
  }
  const mode = workerMode(opts);
  let checker: TraceChecker = (mode === 'always' && startWorkerChecker(opts.workerOptions)) || new InThreadChecker();
  // 'auto' decides once the first bytes are read (the in-thread checker, which holds nothing back, is then
  // replaced). Not for one connection (--connection N): one trace, nothing to share.
  let decideAt = mode === 'auto' && a.connection === 'all' && size > 0 ? (opts.workerDecideBytes ?? WORKER_DECIDE_BYTES) : Infinity;
  let writeFailed = false;
  let written = 0;
  let anyError = false;
  let report: ImportReport;
  // The summary lists the traces in the order their connections started, as they are checked (nothing
  // is kept of a listed trace: memory stays flat however many connections a capture holds). With -o -
  // it goes to stderr.
  const say = a.outDir === '-' ? io.err : io.out;
  const listing: Line[] = [];
  let listed = 0;
  const list = (): void => {
    for (; listed < listing.length && listing[listed].counts !== undefined; listed++) {
      const l = listing[listed];
      if (l.failed) continue;
      const c = l.counts!;
      if (c.error > 0) anyError = true;
      say(`${l.head}; ${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}, ${c.information} information\n`);
    }
    if (listed > 1024 && listed * 2 > listing.length) {
      listing.splice(0, listed);
      listed = 0;
    }
  };
  // Connections end in another order than they started: put them back in it (see LIST_WINDOW).
  const order = new IdOrder<Line>(LIST_WINDOW, (l) => {
    listing.push(l);
    list();
  });
  const toFile = a.outDir !== '-';
  const pathOf = (id: number): string => (toFile ? join(a.outDir, `${stem}-${id}.tcptrace`) : '(standard output)');
  // A long connection's trace goes to its file (or standard output) as it is written, and is checked as it
  // is written: its text is never held whole.
  const streaming = new Map<number, TraceFile>();
  const stream = {
    packets: opts.streamPackets ?? STREAM_PACKETS,
    bytes: opts.streamBytes,
    check: { timeline: false },
    chunk: (summary: ConnectionSummary, chunk: Uint8Array): void => {
      if (!toFile) return io.out(decoder.decode(chunk));
      let f = streaming.get(summary.id);
      if (f === undefined) streaming.set(summary.id, (f = new TraceFile(pathOf(summary.id))));
      f.write(chunk);
    },
  };
  try {
    try {
      const read = (buf: Uint8Array, position: number, packets: number): number => {
        if (position >= decideAt) {
          decideAt = Infinity;
          if (wantsWorker(packets, position, size, opts.workerMinPackets)) checker = startWorkerChecker(opts.workerOptions) ?? checker;
        }
        progress?.tick(position, written);
        return readSync(fd, buf, 0, buf.length, position);
      };
      const options: ImportOptions = {
        captureName: basename(a.capture),
        want: (id) => a.connection === 'all' || a.connection === id,
        // Checked as each trace is written (its event lines are not read again) when no worker is idle; else from its bytes.
        check: () => (checker.checkWhileWriting() ? { timeline: false } : undefined),
        stream,
        onConnectionBytes: (summary, bytes, checked, streamed) => {
          if (bytes === undefined) return;
          const where = pathOf(summary.id);
          const line: Line = { id: summary.id, head: `${where}: #${summary.id} ${describeConnection(summary)}`, counts: undefined, failed: false };
          written++;
          // A trace whose file cannot be written is reported and left out of the list.
          const outcome = (counts: Counts, writeError: string): void => {
            line.counts = counts;
            if (writeError) {
              io.err(`tcptrace-cli: ${writeError}\n`);
              line.failed = true;
              writeFailed = true;
              written--;
            }
            list();
          };
          order.add(line);
          if (!toFile) io.out(decoder.decode(bytes));
          if (streamed && toFile) {
            const f = streaming.get(summary.id)!;
            streaming.delete(summary.id);
            f.write(bytes);
            const writeError = f.close();
            // The check while writing takes every trace the importer writes (no symbols, no line break inside a
            // line); should one ever escape it, it is checked from its file.
            outcome(checked ? countsOf(checked) : writeError ? NO_COUNTS : checkBytes(readFileSync(where)), writeError);
          } else if (streamed) outcome(checked ? countsOf(checked) : NO_COUNTS, '');
          else if (checked) outcome(countsOf(checked), toFile ? writeTraceFile(where, bytes) : '');
          // Written and checked by the checker (then dropped: only the counts are kept), here or on a worker thread.
          else checker.submit(bytes, outcome, toFile ? where : undefined);
        },
      };
      // A gzip-compressed capture is decompressed as it is read (the core does it, asynchronously);
      // `read` still reads the file, so progress and the worker's estimate go by the compressed bytes.
      report = startsGzip(fd) ? await importCaptureAsync(async (buf, position, packets) => read(buf, position, packets), options) : importCapture(read, options);
    } finally {
      closeSync(fd);
      // Damage or an error stopped the import in the middle of a long trace: what was written stays.
      for (const f of streaming.values()) f.close();
    }
    await checker.finish();
    order.finish();
  } catch (e) {
    io.err(`tcptrace-cli: ${ioText(a.capture, e)}\n`);
    return 2;
  } finally {
    checker.close();
    progress?.clear();
  }
  if (checker.failure !== undefined) {
    io.err(`tcptrace-cli: a checking thread failed (${checker.failure}); its traces were checked in the main thread.\n`);
  }
  const links = report.linkTypes.map((t) => LINK_TYPE_NAMES[t] ?? `link type ${t}`).join(', ');
  const other = report.packets - report.segments;
  say(
    `${a.capture}: ${formatText(report)}${links ? ` (${links})` : ''}, ${plural(report.packets, 'packet')}, ${plural(report.segments, 'TCP segment')}${segmentNotes(report.copies, other)}, ${plural(report.connections, 'connection')}; ${written} written.\n`,
  );
  if (report.error) {
    io.err(`tcptrace-cli: ${a.capture}: damaged at ${damagePlace(report)}: ${report.error.message} The ${plural(report.connections, 'connection')} read before it ${report.connections === 1 ? 'was' : 'were'} imported.\n`);
  }
  if (typeof a.connection === 'number' && a.connection > report.connections) {
    io.err(`tcptrace-cli: ${a.capture} has ${plural(report.connections, 'TCP connection')}; there is no connection ${a.connection}.\n`);
    return 2;
  }
  if (writeFailed) return 2;
  return report.error || anyError ? 1 : 0;
}

function workerMode(opts: ImportRunOptions): 'auto' | 'always' | 'never' {
  const env = process.env.TCPTRACE_IMPORT_WORKER;
  return opts.worker ?? (env === 'always' || env === 'never' ? env : 'auto');
}
