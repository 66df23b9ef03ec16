/**
 * A streaming reader of pcap and pcapng files: bytes are pushed in chunks of
 * any size (the caller does the I/O), packet records come out through a
 * callback. Nothing here reads files, so the core stays pure; the reader never
 * holds more than one block beyond the chunk it is given.
 *
 * Formats: pcap in both byte orders with microsecond or nanosecond
 * timestamps; pcapng with any number of sections and interfaces, each with
 * its own link type, timestamp resolution (if_tsresol) and offset
 * (if_tsoffset); Enhanced, Simple and obsolete Packet Blocks. Damage is
 * reported as a CaptureError that names the byte offset of the block or
 * record at fault.
 */

import { compressionOf } from './compressed';

/** A damaged or unsupported capture: `offset` is where in the file the fault is. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

/**
 * One packet. The object is reused for every packet: copy what you keep.
 * `data[start, start + caplen)` holds the captured bytes.
 */
export interface PacketRecord {
  /** 1-based packet number in the file, as Wireshark numbers frames. */
  frame: number;
  /** Byte offset of the record (its header) in the file. */
  offset: number;
  /** Timestamp: whole seconds since the Unix epoch, and nanoseconds. */
  sec: number;
  nsec: number;
  /** Decimal digits the timestamps carry (6 for microseconds, 9 for nanoseconds). */
  digits: number;
  linkType: number;
  interfaceId: number;
  data: Uint8Array;
  start: number;
  caplen: number;
  /** Length of the packet on the wire (caplen is less when the snapshot length cut it). */
  origLen: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** A pcapng interface: what the packets on it need to be decoded. */
export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (1e6 unless if_tsresol says otherwise). */
  unitsPerSecond: number;
  digits: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSeconds: number;
  name: string | undefined;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const BT_IDB = 1;
const BT_OPB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;

/** Larger records are damage, not packets (Wireshark's own limit for most link types). */
export const MAX_PACKET = 262144;
/** Larger pcapng blocks are damage (Wireshark refuses blocks over 16 MiB too). */
const MAX_BLOCK = 16 * 1024 * 1024;

/** Needs more bytes: the unit at the current position is `n` bytes long (or at least n). */
type Need = number;

export class CaptureReader {
  /** Bytes of the file consumed so far (the offset of the next unit). */
  offset = 0;
  format: CaptureFormat | undefined;
  /** pcap: true when the file is big-endian. pcapng: the current section's order. */
  bigEndian = false;
  /** Interfaces of the current pcapng section (pcap: one). */
  interfaces: CaptureInterface[] = [];
  packets = 0;

  private carry = new Uint8Array(0);
  private carryLen = 0;
  /** Bytes the unit in `carry` needs in all. */
  private need = 0;
  private ended = false;
  private readonly rec: PacketRecord = {
    frame: 0,
    offset: 0,
    sec: 0,
    nsec: 0,
    digits: 6,
    linkType: 0,
    interfaceId: 0,
    data: new Uint8Array(0),
    start: 0,
    caplen: 0,
    origLen: 0,
  };

  constructor(private readonly onPacket: (p: PacketRecord) => void) {}

  /** Feeds the next bytes of the file. Throws CaptureError on damage. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('push after end');
    let pos = 0;
    const n = chunk.length;
    while (this.carryLen > 0) {
      // Complete the unit that straddles chunks, then parse it from the carry buffer.
      const take = Math.min(this.need - this.carryLen, n - pos);
      this.carry.set(chunk.subarray(pos, pos + take), this.carryLen);
      this.carryLen += take;
      pos += take;
      if (this.carryLen < this.need) return;
      const r = this.unit(this.carry, 0, this.carryLen);
      if (r < 0) {
        this.growCarry(-r);
        continue;
      }
      this.carryLen = 0;
    }
    while (pos < n) {
      const r = this.unit(chunk, pos, n - pos);
      if (r < 0) {
        this.growCarry(-r);
        this.carry.set(chunk.subarray(pos, n), 0);
        this.carryLen = n - pos;
        return;
      }
      pos += r;
    }
  }

  /** The file is over: a unit still incomplete means it was cut short. */
  end(): void {
    this.ended = true;
    if (this.format === undefined && this.carryLen === 0) throw new CaptureError('The file is empty: no capture header.', 0);
    if (this.carryLen > 0) {
      const what = this.format === undefined ? 'file header' : this.format === 'pcap' ? 'packet record' : 'block';
      throw new CaptureError(
        `The capture is cut short: the ${what} at byte ${this.offset} needs ${this.need} bytes, but the file ends ${this.carryLen} bytes into it.`,
        this.offset,
      );
    }
  }

  private growCarry(need: Need): void {
    this.need = need;
    if (this.carry.length < need) {
      const bigger = new Uint8Array(Math.max(need, this.carry.length * 2, 4096));
      bigger.set(this.carry.subarray(0, this.carryLen));
      this.carry = bigger;
    }
  }

  /** Parses one unit at `pos`: returns the bytes consumed, or -(bytes needed) when `avail` is short. */
  private unit(b: Uint8Array, pos: number, avail: number): number {
    if (this.format === undefined) return this.fileHeader(b, pos, avail);
    return this.format === 'pcap' ? this.pcapRecord(b, pos, avail) : this.pcapngBlock(b, pos, avail);
  }

  private fail(message: string, at = this.offset): never {
    throw new CaptureError(message, at);
  }

  // ---- pcap ----

  private fileHeader(b: Uint8Array, pos: number, avail: number): number {
    if (avail < 4) return -4;
    const le = u32le(b, pos);
    const be = u32be(b, pos);
    if (be === PCAPNG_SHB) {
      this.format = 'pcapng';
      return this.pcapngBlock(b, pos, avail);
    }
    let ns: boolean;
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
      this.bigEndian = false;
      ns = le === PCAP_MAGIC_NS;
    } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
      this.bigEndian = true;
      ns = be === PCAP_MAGIC_NS;
    } else if (le === 0xa1b2cd34 || be === 0xa1b2cd34) {
      this.fail('This is a "modified pcap" file (Alexey Kuznetsov\'s format), which is not supported: convert it with editcap -F pcap.', 0);
    } else {
      const z = compressionOf(b, pos, avail);
      if (z) this.fail(`This file is ${z.name}-compressed; decompress it first (${z.tool}).`, 0);
      this.fail(`Not a pcap or pcapng file: it starts with bytes ${hex(b, pos, Math.min(avail, 4))}.`, 0);
    }
    if (avail < 24) return -24;
    const u32 = this.bigEndian ? u32be : u32le;
    const u16 = this.bigEndian ? u16be : u16le;
    const major = u16(b, pos + 4);
    if (major !== 2) this.fail(`Unsupported pcap version ${major}.${u16(b, pos + 6)} (expected 2.4).`, 4);
    const snapLen = u32(b, pos + 16);
    const linkField = u32(b, pos + 20);
    this.format = 'pcap';
    this.interfaces = [
      {
        linkType: linkField & 0xffff,
        snapLen,
        unitsPerSecond: ns ? 1e9 : 1e6,
        digits: ns ? 9 : 6,
        offsetSeconds: 0,
        name: undefined,
      },
    ];
    this.offset += 24;
    return 24;
  }

  private pcapRecord(b: Uint8Array, pos: number, avail: number): number {
    if (avail < 16) return -16;
    const u32 = this.bigEndian ? u32be : u32le;
    const incl = u32(b, pos + 8);
    const orig = u32(b, pos + 12);
    const itf = this.interfaces[0];
    if (incl > Math.max(MAX_PACKET, itf.snapLen)) {
      this.fail(`Damaged packet record at byte ${this.offset}: it claims ${incl} captured bytes (the limit is ${Math.max(MAX_PACKET, itf.snapLen)}).`);
    }
    const total = 16 + incl;
    if (avail < total) return -total;
    let sec = u32(b, pos);
    let frac = u32(b, pos + 4);
    if (frac >= itf.unitsPerSecond) {
      // Some writers leave sub-second values past one second: carry them, as Wireshark does.
      sec += Math.floor(frac / itf.unitsPerSecond);
      frac %= itf.unitsPerSecond;
    }
    const r = this.rec;
    r.frame = ++this.packets;
    r.offset = this.offset;
    r.sec = sec;
    r.nsec = itf.digits === 9 ? frac : frac * 1000;
    r.digits = itf.digits;
    r.linkType = itf.linkType;
    r.interfaceId = 0;
    r.data = b;
    r.start = pos + 16;
    r.caplen = incl;
    r.origLen = orig;
    this.offset += total;
    this.onPacket(r);
    return total;
  }

  // ---- pcapng ----

  private pcapngBlock(b: Uint8Array, pos: number, avail: number): number {
    if (avail < 12) return -12;
    let type = this.bigEndian ? u32be(b, pos) : u32le(b, pos);
    if (u32le(b, pos) === PCAPNG_SHB) type = PCAPNG_SHB; // the SHB's type reads the same both ways
    if (type === PCAPNG_SHB) {
      // A new section: its byte-order magic decides how everything in it is read.
      const magicLe = u32le(b, pos + 8);
      if (magicLe === PCAPNG_BYTE_ORDER) this.bigEndian = false;
      else if (u32be(b, pos + 8) === PCAPNG_BYTE_ORDER) this.bigEndian = true;
      else this.fail(`Damaged pcapng section header at byte ${this.offset}: its byte-order magic is ${hex(b, pos + 8, 4)}.`);
    }
    const u32 = this.bigEndian ? u32be : u32le;
    const len = u32(b, pos + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
      this.fail(`Damaged pcapng block at byte ${this.offset}: its length ${len} is ${len > MAX_BLOCK ? 'implausibly large' : 'not a multiple of 4 of at least 12'}.`);
    }
    if (avail < len) return -len;
    if (u32(b, pos + len - 4) !== len) {
      this.fail(`Damaged pcapng block at byte ${this.offset}: the length at its end (${u32(b, pos + len - 4)}) differs from the length at its start (${len}).`);
    }
    switch (type) {
      case PCAPNG_SHB:
        this.sectionHeader(b, pos, len);
        break;
      case BT_IDB:
        this.interfaceBlock(b, pos, len);
        break;
      case BT_EPB:
        this.packetBlock(b, pos, len, 'epb');
        break;
      case BT_OPB:
        this.packetBlock(b, pos, len, 'opb');
        break;
      case BT_SPB:
        this.simplePacket(b, pos, len);
        break;
      default:
        // Name resolution, statistics, journal, custom blocks: nothing for TCP analysis.
        break;
    }
    this.offset += len;
    return len;
  }

  private sectionHeader(b: Uint8Array, pos: number, len: number): void {
    if (len < 28) this.fail(`Damaged pcapng section header at byte ${this.offset}: ${len} bytes is too short (28 at least).`);
    const u16 = this.bigEndian ? u16be : u16le;
    const major = u16(b, pos + 12);
    if (major !== 1) this.fail(`Unsupported pcapng version ${major}.${u16(b, pos + 14)} at byte ${this.offset} (expected 1.0).`);
    this.interfaces = [];
  }

  private interfaceBlock(b: Uint8Array, pos: number, len: number): void {
    if (len < 20) this.fail(`Damaged pcapng interface block at byte ${this.offset}: ${len} bytes is too short.`);
    const u16 = this.bigEndian ? u16be : u16le;
    const u32 = this.bigEndian ? u32be : u32le;
    const itf: CaptureInterface = {
      linkType: u16(b, pos + 8),
      snapLen: u32(b, pos + 12),
      unitsPerSecond: 1e6,
      digits: 6,
      offsetSeconds: 0,
      name: undefined,
    };
    // Options: code, length, value padded to 4 bytes; opt_endofopt (0) ends them.
    let p = pos + 16;
    const end = pos + len - 4;
    while (p + 4 <= end) {
      const code = u16(b, p);
      const olen = u16(b, p + 2);
      const v = p + 4;
      if (code === 0) break;
      if (v + olen > end) this.fail(`Damaged pcapng interface block at byte ${this.offset}: option ${code} runs past the block.`);
      if (code === 2 && olen > 0) itf.name = utf8(b, v, olen);
      else if (code === 9 && olen >= 1) {
        const r = b[v];
        const exp = r & 0x7f;
        if (r & 0x80) {
          if (exp > 60) this.fail(`Unsupported timestamp resolution 2^-${exp} in the interface block at byte ${this.offset}.`);
          itf.unitsPerSecond = 2 ** exp;
          itf.digits = Math.min(9, Math.ceil(exp * Math.log10(2)));
        } else {
          if (exp > 18) this.fail(`Unsupported timestamp resolution 10^-${exp} in the interface block at byte ${this.offset}.`);
          itf.unitsPerSecond = 10 ** exp;
          itf.digits = Math.min(9, exp);
        }
      } else if (code === 14 && olen === 8) {
        // if_tsoffset: a signed 64-bit number of seconds.
        const hi = this.bigEndian ? u32be(b, v) : u32le(b, v + 4);
        const lo = this.bigEndian ? u32be(b, v + 4) : u32le(b, v);
        itf.offsetSeconds = (hi | 0) * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
    this.interfaces.push(itf);
  }

  private packetBlock(b: Uint8Array, pos: number, len: number, kind: 'epb' | 'opb'): void {
    if (len < 32) this.fail(`Damaged pcapng packet block at byte ${this.offset}: ${len} bytes is too short.`);
    const u32 = this.bigEndian ? u32be : u32le;
    const u16 = this.bigEndian ? u16be : u16le;
    const id = kind === 'epb' ? u32(b, pos + 8) : u16(b, pos + 8);
    const itf = this.interfaces[id];
    if (!itf) this.fail(`Damaged pcapng packet block at byte ${this.offset}: interface ${id} was never described (${this.interfaces.length} interface${this.interfaces.length === 1 ? '' : 's'} in this section).`);
    const hi = u32(b, pos + 12);
    const lo = u32(b, pos + 16);
    const caplen = u32(b, pos + 20);
    const orig = u32(b, pos + 24);
    if (28 + caplen > len - 4) {
      this.fail(`Damaged pcapng packet block at byte ${this.offset}: it claims ${caplen} captured bytes but has room for ${len - 32}.`);
    }
    this.emit(itf, id, hi, lo, b, pos + 28, caplen, orig);
  }

  private simplePacket(b: Uint8Array, pos: number, len: number): void {
    const itf = this.interfaces[0];
    if (!itf) this.fail(`Damaged pcapng file: the simple packet block at byte ${this.offset} comes before any interface block.`);
    if (len < 16) this.fail(`Damaged pcapng simple packet block at byte ${this.offset}: ${len} bytes is too short.`);
    const u32 = this.bigEndian ? u32be : u32le;
    const orig = u32(b, pos + 8);
    let caplen = Math.min(orig, len - 16);
    if (itf.snapLen > 0) caplen = Math.min(caplen, itf.snapLen);
    // A simple packet has no timestamp: it gets the previous packet's.
    this.emitAt(itf, 0, this.rec.sec, this.rec.nsec, b, pos + 12, caplen, orig);
  }

  private emit(itf: CaptureInterface, id: number, hi: number, lo: number, b: Uint8Array, start: number, caplen: number, orig: number): void {
    const [sec, nsec] = splitUnits(hi, lo, itf.unitsPerSecond);
    this.emitAt(itf, id, sec + itf.offsetSeconds, nsec, b, start, caplen, orig);
  }

  private emitAt(itf: CaptureInterface, id: number, sec: number, nsec: number, b: Uint8Array, start: number, caplen: number, orig: number): void {
    const r = this.rec;
    r.frame = ++this.packets;
    r.offset = this.offset;
    r.sec = sec;
    r.nsec = nsec;
    r.digits = itf.digits;
    r.linkType = itf.linkType;
    r.interfaceId = id;
    r.data = b;
    r.start = start;
    r.caplen = caplen;
    r.origLen = orig;
    this.onPacket(r);
  }
}

const splitOut: [number, number] = [0, 0];

/**
 * A 64-bit count of 1/R-second units (hi:lo) as whole seconds and
 * nanoseconds, exactly: the count exceeds 2^53 for nanosecond timestamps, so
 * it is divided in 16-bit steps that each stay exact in a double.
 */
export function splitUnits(hi: number, lo: number, R: number): [number, number] {
  let sec: number;
  let rem: number;
  if (R <= 2 ** 36) {
    let q1 = Math.floor(hi / R);
    let r1 = hi - q1 * R;
    if (r1 < 0) (q1--, (r1 += R));
    let t = r1 * 65536 + (lo >>> 16);
    let q2 = Math.floor(t / R);
    let r2 = t - q2 * R;
    if (r2 < 0) (q2--, (r2 += R));
    else if (r2 >= R) (q2++, (r2 -= R));
    t = r2 * 65536 + (lo & 0xffff);
    let q3 = Math.floor(t / R);
    let r3 = t - q3 * R;
    if (r3 < 0) (q3--, (r3 += R));
    else if (r3 >= R) (q3++, (r3 -= R));
    sec = q1 * 4294967296 + q2 * 65536 + q3;
    rem = r3;
  } else {
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const big = BigInt(R);
    sec = Number(v / big);
    rem = Number(v % big);
  }
  splitOut[0] = sec;
  splitOut[1] = R === 1e9 ? rem : R === 1e6 ? rem * 1000 : Math.floor((rem * 1e9) / R);
  return splitOut;
}

export function u16le(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
export function u16be(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}
export function u32le(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
export function u32be(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function hex(b: Uint8Array, p: number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n && p + i < b.length; i++) out.push(b[p + i].toString(16).padStart(2, '0'));
  return out.join(' ');
}

function utf8(b: Uint8Array, p: number, n: number): string {
  let end = p + n;
  while (end > p && b[end - 1] === 0) end--;
  return new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(p, end));
}
