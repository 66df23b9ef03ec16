/**
 * Compressed captures. Captures are often kept and passed around as
 * `.pcap.gz` (dumpcap and tcpdump can write them so), and Wireshark opens
 * them as they are; the import does too, decompressing gzip as it reads. It
 * uses the web platform's DecompressionStream (in Node 18 and later, and in
 * browsers), so the core stays free of Node's APIs. Other compressions are
 * recognised, to say what the file is instead of "not a capture".
 */

import type { ReadAtAsync } from './import';
import { CaptureError } from './reader';

export interface Compression {
  name: string;
  /** The command that decompresses it. */
  tool: string;
}

/** At most 4 bytes each: the reader decides on a file's first 4 bytes, however they come in chunks. */
const FORMATS: readonly (Compression & { magic: readonly number[] })[] = [
  { name: 'gzip', tool: 'gunzip', magic: [0x1f, 0x8b] },
  { name: 'zstd', tool: 'zstd -d', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'xz', tool: 'xz -d', magic: [0xfd, 0x37, 0x7a, 0x58] },
  { name: 'bzip2', tool: 'bunzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'lz4', tool: 'lz4 -d', magic: [0x04, 0x22, 0x4d, 0x18] },
  { name: 'zip', tool: 'unzip', magic: [0x50, 0x4b, 0x03, 0x04] },
];

/** The compression `b[start, start + avail)` starts with, if its first bytes say so. */
export function compressionOf(b: Uint8Array, start = 0, avail = b.length - start): Compression | undefined {
  for (const f of FORMATS) {
    if (avail < f.magic.length) continue;
    let i = 0;
    while (i < f.magic.length && b[start + i] === f.magic[i]) i++;
    if (i === f.magic.length) return { name: f.name, tool: f.tool };
  }
  return undefined;
}

/** Whether these first bytes of a file are gzip's. */
export function isGzip(b: Uint8Array, avail = b.length): boolean {
  return compressionOf(b, 0, avail)?.name === 'gzip';
}

/** One pass of decompression over the compressed file, from its start. */
class Pass {
  /** Bytes of the compressed file given to the stream so far. */
  position = 0;
  readonly stream = new DecompressionStream('gzip');
  readonly writer = this.stream.writable.getWriter();
  readonly reader = this.stream.readable.getReader();
  pumping: Promise<void> | undefined;
  sourceError: { error: unknown } | undefined;

  /** `chunk`: bytes written at a time; from `fineFrom` on, `FINE` bytes. */
  constructor(
    private readonly source: ReadAtAsync,
    private readonly packets: () => number,
    private readonly chunk: number,
    private readonly fineFrom: number,
  ) {}

  /** Writes the compressed file into the stream, as fast as the decompressed bytes are taken. */
  async pump(): Promise<void> {
    for (;;) {
      // A new buffer each time: the stream holds on to what it is given.
      const buf = new Uint8Array(this.position >= this.fineFrom ? FINE : Math.min(this.chunk, this.fineFrom - this.position));
      let got: number;
      try {
        got = await this.source(buf, this.position, this.packets());
      } catch (e) {
        // Not damage in the file: the caller gets this error as it is.
        this.sourceError = { error: e };
        await this.writer.abort(e).catch(() => undefined);
        return;
      }
      try {
        if (got <= 0) return await this.writer.close();
        this.position += got;
        await this.writer.write(got === buf.length ? buf : buf.subarray(0, got));
      } catch {
        // The stream failed (damaged data) or was cancelled: its reader says which.
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
    await this.pumping?.catch(() => undefined);
  }
}

/** Compressed bytes written at a time near damage (see GunzipSource.read). */
const FINE = 1;

/**
 * The decompressed bytes of a gzip file (one member or several, as `cat a.gz b.gz` makes), read in
 * order. Memory stays bounded: the compressed file is read `chunk` bytes at a time, and only as the
 * decompressed bytes are taken.
 */
export class GunzipSource {
  private pass: Pass;
  /** The second pass, once the first has failed (see read). */
  private fine = false;
  private pending: Uint8Array | undefined;
  private pendingAt = 0;
  /** Decompressed bytes given so far, and decompressed bytes to pass over (a second pass gives them again). */
  private given = 0;
  private skip = 0;
  private packets = 0;
  private ended = false;
  /** Why the stream failed (damaged data), once it has for good. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly source: ReadAtAsync,
    private readonly chunk = 1 << 16,
  ) {
    this.pass = new Pass(source, () => this.packets, chunk, Infinity);
  }

  /** Bytes of the compressed file read so far. */
  get position(): number {
    return this.pass.position;
  }

  /**
   * Fills `buffer` with the next decompressed bytes (fewer only at the end); 0 at the end. Throws a
   * CaptureError once the compressed data turns out damaged or cut short, after handing out every
   * byte decompressed before it.
   *
   * When the stream fails, the output of the write it failed on is lost with it. So the first
   * failure starts a second pass from the file's start, which writes the last chunks before the
   * failure a few bytes at a time: it loses at most what those few bytes hold, and places the damage
   * to within them.
   */
  async read(buffer: Uint8Array, packets: number): Promise<number> {
    this.packets = packets;
    this.pass.pumping ??= this.pass.pump();
    let n = 0;
    while (n < buffer.length) {
      if (this.pending === undefined) {
        if (this.ended) break;
        if (this.failure) {
          if (n > 0) break; // these bytes first; the damage at the next call
          throw this.damaged();
        }
        try {
          const r = await this.pass.reader.read();
          if (r.done) {
            this.ended = true;
            break;
          }
          this.pending = r.value;
          this.pendingAt = 0;
          if (this.skip > 0) {
            const over = Math.min(this.skip, r.value.length);
            this.skip -= over;
            this.pendingAt = over;
            if (over === r.value.length) this.pending = undefined;
            continue;
          }
        } catch (e) {
          if (this.pass.sourceError) throw this.pass.sourceError.error;
          if (this.fine) {
            this.failure = { error: e };
          } else {
            this.fine = true;
            const failedAt = this.pass.position;
            await this.pass.close();
            this.skip = this.given + n;
            this.pass = new Pass(this.source, () => this.packets, this.chunk, Math.max(0, failedAt - 2 * this.chunk));
            this.pass.pumping = this.pass.pump();
          }
          continue;
        }
      }
      const p = this.pending;
      const take = Math.min(buffer.length - n, p.length - this.pendingAt);
      buffer.set(p.subarray(this.pendingAt, this.pendingAt + take), n);
      n += take;
      this.pendingAt += take;
      if (this.pendingAt === p.length) this.pending = undefined;
    }
    this.given += n;
    return n;
  }

  /** Stops reading (the import ended early, or was cancelled). */
  async close(): Promise<void> {
    await this.pass.close();
  }

  private damaged(): CaptureError {
    const e = this.failure?.error;
    const code = (e as { code?: unknown } | undefined)?.code;
    const why =
      code === 'Z_BUF_ERROR'
        ? 'its compressed data ends early (the file is cut short)'
        : `its compressed data is damaged (${e instanceof Error ? e.message : String(e)}) within the first ${this.pass.position} bytes of the compressed file`;
    // The offset is where the decompressed capture stops (callers say so: damagePlace).
    return new CaptureError(`The gzip-compressed capture cannot be read further: ${why}.`, this.given);
  }
}
