/**
 * The import pipeline: capture bytes in, one summary (and, for the
 * connections asked for, one `.tcptrace` text) out per TCP connection. Bytes
 * are pushed in chunks by the caller, which does the I/O (the CLI and the
 * extension read files with Node; tests push buffers), so memory follows the
 * connections open at once, not the size of the file.
 *
 * Damage stops the import: every connection read before it is still handed
 * on, and the report carries the error with its byte offset.
 */
import { StreamingCheck } from '../check/checker';
import type { CheckOptions, CheckResult } from '../check/types';
import { decodeFrame, newTcpPacket, type SkipReason } from './decode';
import { GunzipSource, isGzip } from './compressed';
import { CaptureError, CaptureReader, type CaptureFormat, type PacketRecord } from './reader';
import { ConnectionTracker, type Connection } from './tracker';
import { ByteSink } from './textbuf';
import { summarize, writeTrace, writeTraceTo, type ConnectionSummary } from './writer';

const KEEP_SINK = 16 << 20;
/** A streamed trace is handed on in chunks of at least this many bytes. */
const DRAIN_AT = 4 << 20;

export interface ImportOptions {
  /** The capture's file name, for the header comment of each trace. */
  captureName?: string;
  /**
   * Which connections get their `.tcptrace` text (default: all). Summaries
   * come for all; only the segments of these are stored (so listing a
   * capture's connections, `() => false`, holds little memory).
   */
  want?: (id: number) => boolean;
  /** Seconds an ended connection waits for late segments before it is handed on (default 10). */
  linger?: number;
  /**
   * Called once per connection, in the order connections end (ids give the
   * order they started), with its trace as a string.
   */
  onConnection?(summary: ConnectionSummary, text: string | undefined): void;
  /**
   * Instead of onConnection: the trace as the UTF-8 bytes a file holds. No
   * string is built. The bytes are valid until the callback returns (their
   * buffer is reused for the next trace): copy what you keep.
   */
  onConnectionBytes?(summary: ConnectionSummary, utf8: Uint8Array | undefined, checked: CheckResult | undefined, streamed: boolean): void;
  /**
   * With onConnectionBytes: check each trace as it is written, with these
   * options (keepSyntax is false), and hand on the result: the same as
   * checking the bytes afterwards, without reading them again. As a
   * function: asked before each trace is written (undefined: not this one).
   * The result is undefined when a trace is not checked, or cannot be
   * checked that way (the caller then checks the bytes).
   */
  check?: CheckOptions | (() => CheckOptions | undefined);
  /**
   * With onConnectionBytes: a connection of more than `packets` packets has
   * its trace handed to `chunk` as it is written, in chunks of whole lines
   * of at least `bytes` (default 4 MiB), instead of held whole (a capture of
   * one long transfer would hold hundreds of megabytes of text).
   * onConnectionBytes then gets the last chunk, with `streamed` true when
   * earlier ones went to `chunk`. With `check`, the trace is checked as it is
   * written, with those options (the result is undefined in the rare case of
   * a trace the check while writing cannot take: see `check`; the caller then
   * checks what it wrote).
   */
  stream?: { packets: number; check?: CheckOptions; chunk(summary: ConnectionSummary, utf8: Uint8Array): void; bytes?: number };
}

export interface ImportReport {
  format: CaptureFormat | undefined;
  /** The file's compression ('gzip'), decompressed as it was read; `bytes` and error offsets are then in the decompressed capture. */
  compression: string | undefined;
  /** Bytes of the file read (up to the damage, if any). */
  bytes: number;
  /** Packets in the file, TCP segments among them, and why the others were skipped. */
  packets: number;
  segments: number;
  /** Segments among them that were copies of another, seen again by the capture (counted, not written again). */
  copies: number;
  skipped: Record<SkipReason, number>;
  /** Link types seen, by number. */
  linkTypes: number[];
  connections: number;
  /** Damage that stopped the import. */
  error: CaptureError | undefined;
}

export class CaptureImporter {
  private readonly reader: CaptureReader;
  private readonly tracker: ConnectionTracker;
  private readonly pkt = newTcpPacket();
  private sec0 = NaN;
  private nsec0 = 0;
  private digits = 6;
  private segments = 0;
  private readonly skipped: Record<SkipReason, number> = { link: 0, 'not-ip': 0, 'not-tcp': 0, fragment: 0, truncated: 0 };
  private readonly linkTypes = new Set<number>();
  private error: CaptureError | undefined;
  private finished = false;
  /** Where traces are written for onConnectionBytes (reused). */
  private sink: ByteSink | undefined;

  constructor(private readonly opts: ImportOptions) {
    this.reader = new CaptureReader((r) => this.packet(r));
    // Segments are stored only for the connections whose traces are wanted: the others need only their summaries.
    this.tracker = new ConnectionTracker({ linger: opts.linger, onConnection: (c) => this.connection(c), segments: opts.want });
  }

  /** Packets read so far. */
  get packets(): number {
    return this.reader.packets;
  }

  /** True once damage has stopped the import (further bytes are ignored). */
  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Feeds the next bytes of the file; returns false once the import has stopped on damage. */
  push(chunk: Uint8Array): boolean {
    if (this.error || this.finished) return false;
    try {
      this.reader.push(chunk);
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      this.error = e;
      return false;
    }
    return true;
  }

  /** Damage found outside the capture's own format (in its compression): the import stops there. */
  fail(e: CaptureError): void {
    if (!this.error && !this.finished) this.error = e;
  }

  /** The end of the file: hands on every connection still open and reports. */
  finish(): ImportReport {
    if (!this.finished) {
      this.finished = true;
      if (!this.error) {
        try {
          this.reader.end();
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
          this.error = e;
        }
      }
      this.tracker.finish();
    }
    return {
      format: this.reader.format,
      compression: undefined,
      bytes: this.error ? this.error.offset : this.reader.offset,
      packets: this.reader.packets,
      segments: this.segments,
      copies: this.tracker.copies,
      skipped: { ...this.skipped },
      linkTypes: [...this.linkTypes].sort((a, b) => a - b),
      connections: this.tracker.connections,
      error: this.error,
    };
  }

  private packet(r: PacketRecord): void {
    if (Number.isNaN(this.sec0)) {
      this.sec0 = r.sec;
      this.nsec0 = r.nsec;
    }
    if (r.digits > this.digits) this.digits = r.digits;
    this.linkTypes.add(r.linkType);
    const why = decodeFrame(r.linkType, r.data, r.start, r.caplen, this.pkt);
    if (why !== undefined) {
      this.skipped[why]++;
      return;
    }
    this.segments++;
    const t = r.sec - this.sec0 + (r.nsec - this.nsec0) / 1e9;
    // Interface blocks come before the packets on them (dumpcap writes them all first).
    if (!this.tracker.severalInterfaces && this.reader.interfaces.length > 1) this.tracker.severalInterfaces = true;
    this.tracker.add(this.pkt, t, r.frame, r.interfaceId);
  }

  private connection(c: Connection): void {
    const o = this.opts;
    const want = o.want ? o.want(c.id) : true;
    const wopts = { captureName: o.captureName, epochSec: this.sec0, epochNsec: this.nsec0, digits: this.digits };
    const summary = summarize(c);
    if (o.onConnectionBytes) {
      let bytes: Uint8Array | undefined;
      let checked: CheckResult | undefined;
      let streamed = false;
      if (want) {
        const sink = (this.sink ??= new ByteSink());
        sink.reset();
        const stream = o.stream !== undefined && c.packets > o.stream.packets ? o.stream : undefined;
        const options = stream ? stream.check : typeof o.check === 'function' ? o.check() : o.check;
        if (stream) {
          sink.drainAt = stream.bytes ?? DRAIN_AT;
          sink.drain = (chunk) => {
            streamed = true;
            stream.chunk(summary, chunk);
          };
        }
        const check = options ? new StreamingCheck(options) : undefined;
        writeTraceTo(sink, c, wopts, check);
        checked = check?.finish();
        bytes = sink.buf.subarray(0, sink.len);
      }
      this.tracker.release(c);
      o.onConnectionBytes(summary, bytes, checked, streamed);
      // A huge trace grew the buffer: do not keep it.
      if (this.sink && this.sink.buf.length > KEEP_SINK) this.sink = undefined;
    } else {
      const text = want ? writeTrace(c, wopts) : undefined;
      this.tracker.release(c);
      o.onConnection?.(summary, text);
    }
  }
}

/** Reads up to `buffer.length` bytes at `position` (`packets`: how many the bytes before it held); returns how many (0 at the end). */
export type ReadAt = (buffer: Uint8Array, position: number, packets: number) => number;
export type ReadAtAsync = (buffer: Uint8Array, position: number, packets: number) => Promise<number>;

const CHUNK = 1 << 20;

/** Imports from a synchronous source (the CLI: `fs.readSync` on a descriptor). */
export function importCapture(read: ReadAt, opts: ImportOptions): ImportReport {
  const imp = new CaptureImporter(opts);
  const buf = new Uint8Array(CHUNK);
  let position = 0;
  for (;;) {
    const got = read(buf, position, imp.packets);
    if (got <= 0) break;
    position += got;
    if (!imp.push(got === buf.length ? buf : buf.subarray(0, got))) break;
  }
  return imp.finish();
}

/**
 * Imports from an asynchronous source (the extension, so that the editor stays responsive). A
 * gzip-compressed capture is decompressed as it is read: `read` is then asked for the compressed
 * file's bytes, and the report's offsets are in the decompressed capture.
 */
export async function importCaptureAsync(read: ReadAtAsync, opts: ImportOptions, cancelled?: () => boolean): Promise<ImportReport> {
  const imp = new CaptureImporter(opts);
  const buf = new Uint8Array(CHUNK);
  let position = 0;
  let gunzip: GunzipSource | undefined;
  try {
    for (;;) {
      if (cancelled?.()) break;
      let got = gunzip ? await gunzip.read(buf, imp.packets) : await read(buf, position, imp.packets);
      if (position === 0 && !gunzip && isGzip(buf, got)) {
        // Read again from the start, through the decompression.
        gunzip = new GunzipSource(read);
        got = await gunzip.read(buf, imp.packets);
      }
      if (got <= 0) break;
      position += got;
      if (!imp.push(got === buf.length ? buf : buf.subarray(0, got))) break;
    }
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    imp.fail(e);
  } finally {
    await gunzip?.close();
  }
  const report = imp.finish();
  if (gunzip) report.compression = 'gzip';
  return report;
}

/** What a capture's traces are named after: its file name without its extensions (`day.pcap.gz` gives `day`). */
export function captureStem(path: string): string {
  let name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  if (/\.gz$/i.test(name)) name = name.slice(0, -3);
  const dot = name.lastIndexOf('.');
  if (dot > 0) name = name.slice(0, dot);
  return name || 'capture';
}

/** How many of some packets were copies (ConnectionSummary.copies, ImportReport.copies), as the listings say it; '' for none. */
export function copiesText(copies: number): string {
  return copies === 0 ? '' : copies === 1 ? 'one of them a copy' : `${copies.toLocaleString('en-US')} of them copies`;
}

/** The capture's format as summaries give it: `pcap`, or `pcapng, gzip-compressed`. */
export function formatText(report: ImportReport, unknown = 'capture'): string {
  return `${report.format ?? unknown}${report.compression ? `, ${report.compression}-compressed` : ''}`;
}

/** Where the damage that stopped the import is: `byte N` (of the decompressed capture, for a compressed file). */
export function damagePlace(report: ImportReport): string {
  return `byte ${report.error?.offset ?? report.bytes}${report.compression ? ' of the decompressed capture' : ''}`;
}

/** Imports a capture held in memory (tests, small files). */
export function importCaptureBytes(bytes: Uint8Array, opts: ImportOptions): ImportReport {
  const imp = new CaptureImporter(opts);
  imp.push(bytes);
  return imp.finish();
}
