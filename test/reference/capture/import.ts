// FROZEN REFERENCE: src/core/capture/import.ts as of commit 45b3c5a, before the import was made faster.
// The equivalence tests (test/unit/capture-equivalence.test.ts) compare the optimized import with it. Do not edit,
// except to make a deliberate change of behaviour here too, each listed below:
// - A packet seen again by the capture (a copy) is counted, not stored: `copies` in the report.
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
import { decodeFrame, newTcpPacket, type SkipReason } from './decode';
import { CaptureError, CaptureReader, type CaptureFormat, type PacketRecord } from './reader';
import { ConnectionTracker, type Connection } from './tracker';
import { summarize, writeTrace, type ConnectionSummary } from './writer';

export interface ImportOptions {
  /** The capture's file name, for the header comment of each trace. */
  captureName?: string;
  /** Which connections get their `.tcptrace` text (default: all). Summaries come for all. */
  want?: (id: number) => boolean;
  /** Seconds an ended connection waits for late segments before it is handed on (default 10). */
  linger?: number;
  /** Called once per connection, in the order connections end (ids give the order they started). */
  onConnection(summary: ConnectionSummary, text: string | undefined): void;
}

export interface ImportReport {
  format: CaptureFormat | undefined;
  /** Bytes of the file read (up to the damage, if any). */
  bytes: number;
  /** Packets in the file, TCP segments among them, and why the others were skipped. */
  packets: number;
  segments: number;
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

  constructor(private readonly opts: ImportOptions) {
    this.reader = new CaptureReader((r) => this.packet(r));
    this.tracker = new ConnectionTracker({ linger: opts.linger, onConnection: (c) => this.connection(c) });
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
    if (this.reader.interfaces.length > 1) this.tracker.severalInterfaces = true;
    this.tracker.add(this.pkt, t, r.frame, r.interfaceId);
  }

  private connection(c: Connection): void {
    const want = this.opts.want ? this.opts.want(c.id) : true;
    const text = want
      ? writeTrace(c, { captureName: this.opts.captureName, epochSec: this.sec0, epochNsec: this.nsec0, digits: this.digits })
      : undefined;
    this.opts.onConnection(summarize(c), text);
  }
}

/** Reads up to `buffer.length` bytes at `position`; returns how many (0 at the end). */
export type ReadAt = (buffer: Uint8Array, position: number) => number;
export type ReadAtAsync = (buffer: Uint8Array, position: number) => Promise<number>;

const CHUNK = 1 << 20;

/** Imports from a synchronous source (the CLI: `fs.readSync` on a descriptor). */
export function importCapture(read: ReadAt, opts: ImportOptions): ImportReport {
  const imp = new CaptureImporter(opts);
  const buf = new Uint8Array(CHUNK);
  let position = 0;
  for (;;) {
    const got = read(buf, position);
    if (got <= 0) break;
    position += got;
    if (!imp.push(got === buf.length ? buf : buf.subarray(0, got))) break;
  }
  return imp.finish();
}

/** Imports from an asynchronous source (the extension, so that the editor stays responsive). */
export async function importCaptureAsync(read: ReadAtAsync, opts: ImportOptions, cancelled?: () => boolean): Promise<ImportReport> {
  const imp = new CaptureImporter(opts);
  const buf = new Uint8Array(CHUNK);
  let position = 0;
  for (;;) {
    if (cancelled?.()) break;
    const got = await read(buf, position);
    if (got <= 0) break;
    position += got;
    if (!imp.push(got === buf.length ? buf : buf.subarray(0, got))) break;
  }
  return imp.finish();
}

/** Imports a capture held in memory (tests, small files). */
export function importCaptureBytes(bytes: Uint8Array, opts: ImportOptions): ImportReport {
  const imp = new CaptureImporter(opts);
  imp.push(bytes);
  return imp.finish();
}
