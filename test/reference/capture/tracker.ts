// FROZEN REFERENCE: src/core/capture/tracker.ts as of commit 45b3c5a, before the import was made faster.
// The equivalence tests (test/unit/capture-equivalence.test.ts) compare the optimized import with it. Do not edit,
// except to make a deliberate change of behaviour here too, each listed below:
// - A packet seen again by the capture (a copy: the same TCP header within a second, and the same IPv4
//   identification, or none and another interface) is counted, not stored (copyOf).
/**
 * Connection tracking: TCP segments grouped into connections by their
 * 4-tuple, with a new connection when a 4-tuple is reused (a SYN with a new
 * ISN after the old connection ended), and a connection handed on as soon as
 * it has ended and gone quiet, so that memory follows the connections open at
 * once, not the length of the capture.
 *
 * Segments are stored column-wise in typed arrays (about 50 bytes each).
 */
import { ACK, FIN, RST, SYN } from '../../../src/core/syntax/ast';
import { seqAdd, seqGe, seqGt } from '../../../src/core/tcp/seq';
import { formatIp4, formatIp6, type TcpPacket } from './decode';

export interface CaptureEndpoint {
  family: 4 | 6;
  address: string;
  port: number;
  /** `10.0.0.1:80` or `[2001:db8::1]:443`, as the language writes addresses. */
  text: string;
}

/** Options of a SYN, and SACK blocks of any segment. */
export interface SegmentExtra {
  mss: number;
  wscale: number;
  sackOk: boolean;
  tsVal: number;
  tsEcr: number;
  /** [left, right, ...] */
  sack: number[] | undefined;
}

/** A connection's segments, column by column. */
export class SegmentTable {
  length = 0;
  time = new Float64Array(16);
  frame = new Uint32Array(16);
  dir = new Uint8Array(16);
  flags = new Uint8Array(16);
  seq = new Uint32Array(16);
  ack = new Uint32Array(16);
  win = new Uint16Array(16);
  urg = new Uint16Array(16);
  len = new Uint32Array(16);
  /** The timestamp option's TSval (RFC 7323), where tsOk is 1. */
  tsv = new Uint32Array(16);
  tse = new Uint32Array(16);
  tsOk = new Uint8Array(16);
  /** SYN options and SACK blocks, by segment index. */
  extra = new Map<number, SegmentExtra>();

  push(time: number, frame: number, dir: number, p: TcpPacket): number {
    const i = this.length;
    if (i === this.time.length) this.grow();
    this.time[i] = time;
    this.frame[i] = frame;
    this.dir[i] = dir;
    this.flags[i] = p.flags;
    this.seq[i] = p.seq;
    this.ack[i] = p.ack;
    this.win[i] = p.win;
    this.urg[i] = p.urg;
    this.len[i] = p.len;
    this.tsv[i] = p.tsVal >= 0 ? p.tsVal : 0;
    this.tse[i] = p.tsVal >= 0 ? p.tsEcr : 0;
    this.tsOk[i] = p.tsVal >= 0 ? 1 : 0;
    if (p.flags & SYN || p.sack.length > 0) {
      this.extra.set(i, {
        mss: p.flags & SYN ? p.mss : -1,
        wscale: p.flags & SYN ? p.wscale : -1,
        sackOk: (p.flags & SYN) !== 0 && p.sackOk,
        tsVal: p.flags & SYN ? p.tsVal : -1,
        tsEcr: p.flags & SYN ? p.tsEcr : -1,
        sack: p.sack.length > 0 ? p.sack.slice() : undefined,
      });
    }
    this.length = i + 1;
    return i;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(n);
      b.set(a);
      return b;
    };
    this.time = g(this.time, Float64Array);
    this.frame = g(this.frame, Uint32Array);
    this.dir = g(this.dir, Uint8Array);
    this.flags = g(this.flags, Uint8Array);
    this.seq = g(this.seq, Uint32Array);
    this.ack = g(this.ack, Uint32Array);
    this.win = g(this.win, Uint16Array);
    this.urg = g(this.urg, Uint16Array);
    this.len = g(this.len, Uint32Array);
    this.tsv = g(this.tsv, Uint32Array);
    this.tse = g(this.tse, Uint32Array);
    this.tsOk = g(this.tsOk, Uint8Array);
  }

  /** Sequence space the segment occupies: payload, plus one each for SYN and FIN. */
  occupies(i: number): number {
    const f = this.flags[i];
    return this.len[i] + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
  }
}

export class Connection {
  readonly segs = new SegmentTable();
  /** Bytes of payload each way. */
  readonly bytes: [number, number] = [0, 0];
  /** ISN of each side, from its SYN or SYN,ACK. */
  readonly isn: [number | undefined, number | undefined] = [undefined, undefined];
  /** seq + 1 of each side's FIN. */
  readonly finEnd: [number | undefined, number | undefined] = [undefined, undefined];
  readonly finAcked: [boolean, boolean] = [false, false];
  /** Highest ack each side sent. */
  readonly highAck: [number | undefined, number | undefined] = [undefined, undefined];
  /** Side of the first RST, or -1. */
  rstFrom = -1;
  /** Side that sent the first SYN without ACK, or -1; both SYNs without ACK: simultaneous open. */
  synFrom = -1;
  simultaneousOpen = false;
  /** Time the connection ended (RST, or both FINs acknowledged), or NaN. */
  endedAt = NaN;
  /** The connection this one reuses the 4-tuple of. */
  previous: number | undefined;
  /** Frames whose timestamp was earlier than the previous segment's (written at the previous time). */
  timeFixes = 0;
  /** Copies counted, and the frame of the last. */
  copies = 0;
  lastCopy = 0;
  /** Every segment stored, as copyOf compares them; and whether a copy was found (it then looks further back). */
  readonly kept: Kept[] = [];
  wide = false;

  constructor(
    readonly id: number,
    readonly key: string,
    /** ep[0] sent the first captured segment. */
    readonly ep: [CaptureEndpoint, CaptureEndpoint],
  ) {}

  get packets(): number {
    return this.segs.length;
  }
  get firstTime(): number {
    return this.segs.time[0];
  }
  get lastTime(): number {
    return this.segs.time[this.segs.length - 1];
  }
  get ended(): boolean {
    return !Number.isNaN(this.endedAt);
  }

  /** The first of `kept` the copy rule still looks at, once a copy was found (the 8 latest then, and all after them). */
  floor = 0;

  /**
   * The segment `p` from `dir` is a copy of, if any, the latest first: among the 8 latest stored; once a
   * copy was found, among the 64 latest of those stored since the 8 latest then.
   */
  copyOf(dir: number, p: TcpPacket, time: number, lane: number): Kept | undefined {
    const from = this.wide ? Math.max(this.floor, this.kept.length - 64) : Math.max(0, this.kept.length - 8);
    for (let i = this.kept.length - 1; i >= from; i--) {
      const k = this.kept[i];
      const same =
        k.dir === dir && k.seq === p.seq && k.ack === p.ack && k.len === p.len && k.win === p.win && k.urg === p.urg && k.flags === p.flags &&
        k.tsVal === p.tsVal && k.tsEcr === p.tsEcr && k.sack === p.sack.join(',') && Math.abs(time - k.time) <= 1;
      if (!same) continue;
      if (k.ipId >= 0 || p.ipId >= 0 ? k.ipId !== p.ipId : (k.lanes & lane) !== 0) continue;
      k.lanes |= lane;
      if (!this.wide) this.floor = Math.max(0, this.kept.length - 8);
      this.wide = true;
      return k;
    }
    return undefined;
  }

  /** Applies one segment from `dir` to the little state tracking needs. */
  observe(dir: number, p: TcpPacket, time: number): void {
    const f = p.flags;
    const other = 1 - dir;
    this.bytes[dir] += p.len;
    if (f & SYN) {
      this.isn[dir] ??= p.seq;
      if (!(f & ACK)) {
        if (this.synFrom < 0) this.synFrom = dir;
        else if (this.synFrom !== dir) this.simultaneousOpen = true;
      }
    }
    if (f & FIN) this.finEnd[dir] = seqAdd(p.seq, p.len + (f & SYN ? 1 : 0) + 1);
    if (f & ACK) {
      const h = this.highAck[dir];
      if (h === undefined || seqGt(p.ack, h)) this.highAck[dir] = p.ack;
      const fe = this.finEnd[other];
      if (fe !== undefined && seqGe(p.ack, fe)) this.finAcked[other] = true;
    }
    if (f & RST && this.rstFrom < 0) this.rstFrom = dir;
    if (!this.ended && (this.rstFrom >= 0 || (this.finAcked[0] && this.finAcked[1]))) this.endedAt = time;
  }
}

export interface Kept {
  time: number;
  dir: number;
  seq: number;
  ack: number;
  len: number;
  win: number;
  urg: number;
  flags: number;
  tsVal: number;
  tsEcr: number;
  sack: string;
  ipId: number;
  lanes: number;
}

export interface TrackerOptions {
  /** Called once per connection, when it has ended and gone quiet, or at `finish`. */
  onConnection(c: Connection): void;
  /** Seconds a connection that has ended waits for late segments (retransmitted FINs, RSTs). */
  linger?: number;
  /** At most this many ended connections wait at once (default 1000); beyond, the oldest is handed on. */
  maxEnded?: number;
}

export class ConnectionTracker {
  private readonly open = new Map<string, Connection>();
  /** Connections that have ended, in the order they ended: handed on after the linger time. */
  private readonly ending: Connection[] = [];
  private endingHead = 0;
  private nextId = 1;
  private readonly linger: number;
  private readonly maxEnded: number;

  constructor(private readonly opts: TrackerOptions) {
    this.linger = opts.linger ?? 10;
    this.maxEnded = opts.maxEnded ?? 1000;
  }

  get connections(): number {
    return this.nextId - 1;
  }

  /** Packets that were copies of another, in all connections. */
  copies = 0;
  /** Set when the capture has several interfaces: connections then look 64 segments back from the start. */
  severalInterfaces = false;

  add(p: TcpPacket, time: number, frame: number, ifc = 0): void {
    const key = this.keyOf(p);
    let c = this.open.get(key);
    let dir = 0;
    // The interface as one of 32 lanes, as src/core/capture/tracker.ts maps it.
    const lane = 1 << ((Math.imul(p.ifindex + 1, 31) + ifc) & 31);
    if (c) {
      dir = this.dirOf(c, p);
      if (c.copyOf(dir, p, time, lane)) {
        c.copies++;
        c.lastCopy = frame;
        this.copies++;
        this.expire(time);
        return;
      }
      if (p.flags & SYN && !(p.flags & (ACK | RST)) && this.startsNew(c, dir, p)) {
        this.hand(c);
        const prev = c.id;
        c = this.create(key, p);
        c.previous = prev;
        dir = 0;
      }
    } else c = this.create(key, p);
    const segs = c.segs;
    let t = time;
    if (segs.length > 0 && t < segs.time[segs.length - 1]) {
      t = segs.time[segs.length - 1];
      c.timeFixes++;
    }
    const wasEnded = c.ended;
    segs.push(t, frame, dir, p);
    c.kept.push({ time, dir, seq: p.seq, ack: p.ack, len: p.len, win: p.win, urg: p.urg, flags: p.flags, tsVal: p.tsVal, tsEcr: p.tsEcr, sack: p.sack.join(','), ipId: p.ipId, lanes: lane });
    c.observe(dir, p, t);
    if (!wasEnded && c.ended) this.ending.push(c);
    this.expire(time);
  }

  /** The end of the capture: every connection still open is handed on, in the order they started. */
  finish(): void {
    const rest = [...this.open.values()].sort((a, b) => a.id - b.id);
    this.open.clear();
    for (const c of rest) this.opts.onConnection(c);
    this.ending.length = 0;
    this.endingHead = 0;
  }

  private expire(now: number): void {
    const q = this.ending;
    while (this.endingHead < q.length) {
      const c = q[this.endingHead];
      if (this.open.get(c.key) !== c) {
        this.endingHead++; // already handed on (its 4-tuple was reused)
        continue;
      }
      // Late segments get `linger` seconds, unless too many ended connections wait: memory stays bounded.
      if (now - c.lastTime < this.linger && q.length - this.endingHead <= this.maxEnded) break;
      this.endingHead++;
      this.hand(c);
    }
    if (this.endingHead > 1024 && this.endingHead * 2 > q.length) {
      q.splice(0, this.endingHead);
      this.endingHead = 0;
    }
  }

  private hand(c: Connection): void {
    if (this.open.get(c.key) === c) this.open.delete(c.key);
    this.opts.onConnection(c);
  }

  /**
   * A SYN on a 4-tuple in use starts a new connection when the old one has
   * ended (RST, or both FINs: TIME_WAIT reuse), or when it never got past its
   * own SYNs and this SYN has another ISN. A retransmitted SYN (same ISN), or
   * the peer's SYN crossing ours, belongs to the connection.
   */
  private startsNew(c: Connection, dir: number, p: TcpPacket): boolean {
    const isn = c.isn[dir];
    if (isn === p.seq) return false;
    if (c.rstFrom >= 0 || (c.finEnd[0] !== undefined && c.finEnd[1] !== undefined)) return true;
    if (isn === undefined) {
      // Its first SYN: a crossing SYN in a simultaneous open, unless this side already sent other segments.
      const segs = c.segs;
      for (let i = 0; i < segs.length; i++) if (segs.dir[i] === dir) return true;
      return c.synFrom < 0 && c.isn[1 - dir] === undefined;
    }
    // A new ISN from a side that had a SYN: a new attempt once the old one never got synchronized.
    return c.highAck[1 - dir] === undefined || c.isn[1 - dir] === undefined;
  }

  private create(key: string, p: TcpPacket): Connection {
    const c = new Connection(this.nextId++, key, [endpointOf(p, 'src'), endpointOf(p, 'dst')]);
    c.wide = this.severalInterfaces;
    this.open.set(key, c);
    return c;
  }

  private dirOf(c: Connection, p: TcpPacket): number {
    const e = c.ep[0];
    if (e.port !== p.sport) return 1;
    if (p.sport !== p.dport) return 0;
    // Same port both sides: compare addresses.
    return e.address === addressOf(p, 'src') ? 0 : 1;
  }

  /** The 4-tuple, the same both ways. */
  private keyOf(p: TcpPacket): string {
    let a: string;
    let b: string;
    if (p.family === 4) {
      a = `${p.src4}:${p.sport}`;
      b = `${p.dst4}:${p.dport}`;
    } else {
      a = `${hex16(p.bytes, p.src6)}.${p.sport}`;
      b = `${hex16(p.bytes, p.dst6)}.${p.dport}`;
    }
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }
}

function addressOf(p: TcpPacket, which: 'src' | 'dst'): string {
  if (p.family === 4) return formatIp4(which === 'src' ? p.src4 : p.dst4);
  return formatIp6(p.bytes, which === 'src' ? p.src6 : p.dst6);
}

function endpointOf(p: TcpPacket, which: 'src' | 'dst'): CaptureEndpoint {
  const address = addressOf(p, which);
  const port = which === 'src' ? p.sport : p.dport;
  return { family: p.family, address, port, text: p.family === 4 ? `${address}:${port}` : `[${address}]:${port}` };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex16(b: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += HEX[b[p + i]];
  return s;
}
