/**
 * Connection tracking: TCP segments grouped into connections by their
 * 4-tuple, with a new connection when a 4-tuple is reused (a SYN with a new
 * ISN after the old connection ended), and a connection handed on as soon as
 * it has ended and gone quiet, so that memory follows the connections open at
 * once, not the length of the capture. A packet the capture saw more than
 * once (see Connection.isCopy) is counted, not stored again.
 *
 * Segments are stored column-wise in typed arrays (40 bytes each).
 */
import { ACK, FIN, RST, SYN } from '../syntax/ast';
import { seqAdd, seqGe, seqGt } from '../tcp/seq';
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
  /** [left, right, ...] (a typed array: one array shape wherever blocks are read, whatever their values) */
  sack: Uint32Array | undefined;
}

/** Room (segments) an ended connection's table may keep: 10 KB, so at most 10 MB for all those waiting. */
const TRIM_SLACK = 256;

/** A connection's segments, column by column: typed arrays over one buffer (40 bytes a segment). */
export class SegmentTable {
  length = 0;
  time!: Float64Array;
  frame!: Uint32Array;
  dir!: Uint8Array;
  flags!: Uint8Array;
  seq!: Uint32Array;
  ack!: Uint32Array;
  win!: Uint16Array;
  urg!: Uint16Array;
  len!: Uint32Array;
  /** The timestamp option's TSval (RFC 7323), where tsOk is 1. */
  tsv!: Uint32Array;
  tse!: Uint32Array;
  tsOk!: Uint8Array;
  /** 1 where `extra` has an entry (cheaper to test than the map). */
  hasExtra!: Uint8Array;
  /** SYN options and SACK blocks, by segment index. */
  extra = new Map<number, SegmentExtra>();

  constructor(capacity = 32) {
    this.allocate(capacity);
  }

  /** Segments the columns have room for. */
  get capacity(): number {
    return this.time.length;
  }

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
    this.hasExtra[i] = 0;
    if (p.flags & SYN || p.sack.length > 0) {
      this.hasExtra[i] = 1;
      this.extra.set(i, {
        mss: p.flags & SYN ? p.mss : -1,
        wscale: p.flags & SYN ? p.wscale : -1,
        sackOk: (p.flags & SYN) !== 0 && p.sackOk,
        tsVal: p.flags & SYN ? p.tsVal : -1,
        tsEcr: p.flags & SYN ? p.tsEcr : -1,
        sack: p.sack.length > 0 ? Uint32Array.from(p.sack) : undefined,
      });
    }
    this.length = i + 1;
    return i;
  }

  /** One buffer for all columns (one allocation, not twelve), widest first so that each view is aligned. */
  private allocate(n: number): void {
    const buf = new ArrayBuffer(n * 40);
    let at = 0;
    const take = <T>(make: new (b: ArrayBuffer, at: number, n: number) => T, bytes: number): T => {
      const a = new make(buf, at, n);
      at += bytes * n;
      return a;
    };
    this.time = take(Float64Array, 8);
    this.frame = take(Uint32Array, 4);
    this.seq = take(Uint32Array, 4);
    this.ack = take(Uint32Array, 4);
    this.len = take(Uint32Array, 4);
    this.tsv = take(Uint32Array, 4);
    this.tse = take(Uint32Array, 4);
    this.win = take(Uint16Array, 2);
    this.urg = take(Uint16Array, 2);
    this.dir = take(Uint8Array, 1);
    this.flags = take(Uint8Array, 1);
    this.tsOk = take(Uint8Array, 1);
    this.hasExtra = take(Uint8Array, 1);
  }

  private grow(): void {
    this.resize(this.time.length * 2);
  }

  /**
   * Gives back the room beyond the segments, when it is large: a connection
   * that has ended waits for late segments, and a thousand of them may wait
   * at once. Below TRIM_SLACK it is kept: trimming costs a new buffer and a
   * copy, and the table is reused for the next connection (spare).
   */
  trim(): void {
    if (this.capacity - this.length > TRIM_SLACK) this.resize(this.length + 8);
  }

  private resize(capacity: number): void {
    const n = this.length;
    const old = [this.time, this.frame, this.seq, this.ack, this.len, this.tsv, this.tse, this.win, this.urg, this.dir, this.flags, this.tsOk, this.hasExtra] as const;
    this.allocate(capacity);
    this.time.set(old[0].subarray(0, n));
    this.frame.set(old[1].subarray(0, n));
    this.seq.set(old[2].subarray(0, n));
    this.ack.set(old[3].subarray(0, n));
    this.len.set(old[4].subarray(0, n));
    this.tsv.set(old[5].subarray(0, n));
    this.tse.set(old[6].subarray(0, n));
    this.win.set(old[7].subarray(0, n));
    this.urg.set(old[8].subarray(0, n));
    this.dir.set(old[9].subarray(0, n));
    this.flags.set(old[10].subarray(0, n));
    this.tsOk.set(old[11].subarray(0, n));
    this.hasExtra.set(old[12].subarray(0, n));
  }

  /** Empties the table for another connection, keeping its arrays. */
  reset(): void {
    this.length = 0;
    this.extra.clear();
  }

  /** Whether segment `i` has the header `p` from `dir` has (each field a copy keeps: Connection.isCopy). */
  sameHeader(i: number, dir: number, p: TcpPacket): boolean {
    if (this.dir[i] !== dir || this.flags[i] !== p.flags || this.seq[i] !== p.seq || this.ack[i] !== p.ack || this.len[i] !== p.len) return false;
    if (this.win[i] !== p.win || this.urg[i] !== p.urg) return false;
    if (p.tsVal >= 0 ? this.tsOk[i] !== 1 || this.tsv[i] !== p.tsVal || this.tse[i] !== p.tsEcr : this.tsOk[i] !== 0) return false;
    const sack = this.hasExtra[i] ? this.extra.get(i)?.sack : undefined;
    const n = sack === undefined ? 0 : sack.length;
    if (n !== p.sack.length) return false;
    for (let k = 0; k < n; k++) if (sack![k] !== p.sack[k]) return false;
    return true;
  }

  /** Sequence space the segment occupies: payload, plus one each for SYN and FIN. */
  occupies(i: number): number {
    const f = this.flags[i];
    return this.len[i] + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);
  }
}

export class Connection {
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
  /** Handed on by the tracker (its 4-tuple may now belong to a newer connection). */
  handed = false;
  // What its summary needs, kept as segments come (whether or not the segments are stored).
  /** Segments, and the frame numbers and times of the first and the latest (as stored: never earlier than the one before). */
  count = 0;
  firstFrame = 0;
  lastFrame = 0;
  first = NaN;
  last = NaN;
  /** Flags of the first segment (sent by ep[0]). */
  firstFlags = 0;
  /** Bit `dir` is set once side `dir` has sent a segment. */
  sent = 0;
  /** Bit `dir` is set once side `dir` has sent a SYN,ACK (without RST). */
  synAckFrom = 0;
  /** A segment with both SYN and ACK (RST or not) was seen. */
  anySynAck = false;
  /** The side of the first FIN, or -1. */
  firstFinFrom = -1;
  /** Packets that were copies of a segment already stored (see isCopy). */
  copies = 0;
  /** Its latest segments, to recognise copies of them (isCopy). Given by the tracker; undefined once handed on. */
  recent: RecentSegments | undefined;
  /** IPv4: the 4-tuple as the tracker's table keys it (lower endpoint, higher endpoint, hash). */
  lo = 0;
  hi = 0;
  hash = 0;

  constructor(
    readonly id: number,
    /** IPv6: the 4-tuple as a string; '' for IPv4. */
    readonly key: string,
    /** ep[0] sent the first captured segment. */
    readonly ep: [CaptureEndpoint, CaptureEndpoint],
    /** Its segments; empty when the tracker was told not to store them (TrackerOptions.segments). */
    readonly segs = new SegmentTable(),
  ) {}

  get packets(): number {
    return this.count;
  }
  get firstTime(): number {
    return this.first;
  }
  get lastTime(): number {
    return this.last;
  }
  get ended(): boolean {
    return !Number.isNaN(this.endedAt);
  }

  /**
   * Whether `p` from `dir` is a copy of a recent segment: the same packet
   * seen again by the capture, on another interface (a capture on `any`
   * sees a bridged or forwarded packet on each interface it passes; a pcapng
   * may hold several interfaces) or twice on one (a mirror port copying both
   * directions of two ports). Its TCP header is the same in every field
   * (options and SACK blocks too), within COPY_WINDOW seconds, and either
   * its IPv4 identification is the same (a stack numbers the packets it
   * sends, retransmissions too: Linux per connection), or, with no
   * identification (IPv6, or 0), it was seen on another interface and not
   * yet on this one (`lane`: a packet passes each interface once, so two
   * identical duplicate ACKs, each seen on both, stay two). A copy found
   * is counted on the one remembered (`lane` added).
   */
  isCopy(dir: number, p: TcpPacket, key: number, time: number, lane: number): boolean {
    const m = this.recent;
    // Most packets are no copy: the filter says so without a look at any segment.
    return m !== undefined && m.filter[key & FILTER_MASK] !== 0 && this.findCopy(m, dir, p, key, time, lane);
  }

  /** isCopy past its filter (a separate function: the rare path stays out of the tracker's hot one). */
  private findCopy(m: RecentSegments, dir: number, p: TcpPacket, key: number, time: number, lane: number): boolean {
    const rec = m.rec;
    // Sizes are powers of two, and counts stay far below 2^31 (a connection's segments fit in memory): `&` for `%`.
    const mask = m.size - 1;
    const last = m.count - 1;
    // The latest first: the one a copy is of, when two look alike.
    for (let k = last; k >= 0 && last - k <= mask; k--) {
      const j = k & mask;
      const o = j * 4;
      if (rec[o] !== key || Math.abs(time - m.times[j]) > COPY_WINDOW) continue;
      // The key is a hash: the stored segment says whether the header is the same (a listing stores none).
      const at = rec[o + 3];
      if (at >= 0 && !this.segs.sameHeader(at, dir, p)) continue;
      const id = rec[o + 1];
      if (id >= 0 || p.ipId >= 0 ? id !== p.ipId : (rec[o + 2] & lane) !== 0) continue;
      rec[o + 2] |= lane;
      if (m.size === RECENT) this.recent = m.widened(WIDE);
      return true;
    }
    return false;
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

/** Segments a connection remembers to recognise copies: at first, and once a copy was seen. */
const RECENT = 8;
const WIDE = 64;
/** Seconds within which a packet can be a copy of another (the capture's order may not be the time order). */
const COPY_WINDOW = 1;
const FILTER_MASK = 63;

/** A 32-bit hash of every field of `p` a copy has the same (isCopy); any bit of it as good as another. */
function copyKey(dir: number, p: TcpPacket): number {
  let h = Math.imul(p.seq ^ (p.flags | (dir << 8)), 0x9e3779b1);
  h = Math.imul(h ^ p.ack, 0x85ebca6b);
  h = Math.imul(h ^ p.len, 0xc2b2ae35);
  h = Math.imul(h ^ (p.win | (p.urg << 16)), 0x27d4eb2f);
  h = Math.imul(h ^ p.tsVal, 0x165667b1);
  h = Math.imul(h ^ p.tsEcr, 0x9e3779b1);
  const sack = p.sack;
  for (let i = 0; i < sack.length; i++) h = Math.imul(h ^ sack[i], 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * A connection's latest `size` segments, for Connection.isCopy: four
 * numbers each (key, IPv4 identification, lanes seen, index in the segment
 * table), their times, and a counting filter of their keys. In a ring: entry
 * `count % size` is the next.
 */
export class RecentSegments {
  count = 0;
  readonly rec: Int32Array;
  readonly times: Float64Array;
  /** How many of the entries have each value of `key & FILTER_MASK`. */
  readonly filter = new Uint8Array(FILTER_MASK + 1);

  constructor(readonly size: number) {
    this.rec = new Int32Array(size * 4);
    this.times = new Float64Array(size);
  }

  add(key: number, ipId: number, lane: number, at: number, time: number): void {
    const k = this.count++;
    const j = k & (this.size - 1);
    const o = j * 4;
    const rec = this.rec;
    if (k >= this.size) this.filter[rec[o] & FILTER_MASK]--;
    rec[o] = key;
    rec[o + 1] = ipId;
    rec[o + 2] = lane;
    rec[o + 3] = at;
    this.times[j] = time;
    this.filter[key & FILTER_MASK]++;
  }

  /** The same latest entries, with room for `size` (a capture with copies may hold them further apart). */
  widened(size: number): RecentSegments {
    const w = new RecentSegments(size);
    const n = Math.min(this.count, this.size);
    for (let k = this.count - n; k < this.count; k++) {
      const o = (k & (this.size - 1)) * 4;
      w.add(this.rec[o], this.rec[o + 1], this.rec[o + 2], this.rec[o + 3], this.times[k & (this.size - 1)]);
    }
    return w;
  }

  reset(): void {
    this.count = 0;
    this.filter.fill(0);
  }
}

export interface TrackerOptions {
  /** Called once per connection, when it has ended and gone quiet, or at `finish`. */
  onConnection(c: Connection): void;
  /** Seconds a connection that has ended waits for late segments (retransmitted FINs, RSTs). */
  linger?: number;
  /** At most this many ended connections wait at once (default 1000); beyond, the oldest is handed on. */
  maxEnded?: number;
  /**
   * Whether to store a connection's segments (default: all), by id. A
   * connection without them is tracked and handed on all the same, with what
   * its summary needs, but no trace can be written of it: listing a capture's
   * connections takes memory for the connections open at once only.
   */
  segments?: (id: number) => boolean;
}

export class ConnectionTracker {
  /** Open connections by 4-tuple: IPv4 in a hash table of numbers (no key string per packet), IPv6 by a string. */
  private readonly open4 = new TupleTable();
  private readonly open6 = new Map<string, Connection>();
  /** Connections that have ended, in the order they ended: handed on after the linger time. */
  private readonly ending: Connection[] = [];
  /** Segment tables given back by `release`, for new connections (growing and zeroing arrays costs). */
  private readonly spare: SegmentTable[] = [];
  /** Connection.recent given back by connections handed on. */
  private readonly spareRecent: RecentSegments[] = [];
  private endingHead = 0;
  private nextId = 1;
  /** Packets that were copies of another (Connection.isCopy), in all connections. */
  copies = 0;
  /**
   * Set by the importer when the capture has several interfaces: a pcapng
   * written from several (dumpcap) holds each one's packets in bursts, so a
   * copy may come many segments after the packet: connections remember WIDE
   * segments from the start.
   */
  severalInterfaces = false;
  private readonly linger: number;
  private readonly maxEnded: number;

  constructor(private readonly opts: TrackerOptions) {
    this.linger = opts.linger ?? 10;
    this.maxEnded = opts.maxEnded ?? 1000;
  }

  get connections(): number {
    return this.nextId - 1;
  }

  /**
   * `ifc`: the interface the packet was captured on (a pcapng's interface
   * number; 0 for pcap), for telling copies of one packet from repeats.
   */
  add(p: TcpPacket, time: number, frame: number, ifc = 0): void {
    let c: Connection | undefined;
    let tuple = '';
    let lo = 0;
    let hi = 0;
    let h = 0;
    if (p.family === 4) {
      // Each endpoint as one number (address * 2^16 + port, exact below 2^48), the lower one first.
      const a = p.src4 * 65536 + p.sport;
      const b = p.dst4 * 65536 + p.dport;
      if (a <= b) {
        lo = a;
        hi = b;
        h = tupleHash(p.src4, p.sport, p.dst4, p.dport);
      } else {
        lo = b;
        hi = a;
        h = tupleHash(p.dst4, p.dport, p.src4, p.sport);
      }
      c = this.open4.get(lo, hi, h);
    } else {
      tuple = key6(p);
      c = this.open6.get(tuple);
    }
    let dir = 0;
    // The interface as one of 32 lanes (Linux cooked v2 names it too): two that share one look alike, which only keeps copies.
    const lane = 1 << ((Math.imul(p.ifindex + 1, 31) + ifc) & 31);
    let key = 0;
    if (c) {
      dir = this.dirOf(c, p);
      key = copyKey(dir, p);
      if (c.isCopy(dir, p, key, time, lane)) {
        c.copies++;
        this.copies++;
        c.lastFrame = frame;
        this.expire(time);
        return;
      }
      if (p.flags & SYN && !(p.flags & (ACK | RST)) && this.startsNew(c, dir, p)) {
        this.hand(c);
        const prev = c.id;
        c = this.create(p, tuple, lo, hi, h);
        c.previous = prev;
        if (dir !== 0) key = copyKey(0, p);
        dir = 0;
      }
    } else {
      c = this.create(p, tuple, lo, hi, h);
      key = copyKey(0, p);
    }
    let t = time;
    if (t < c.last) {
      t = c.last;
      c.timeFixes++;
    }
    const f = p.flags;
    if (c.count++ === 0) {
      c.firstFrame = frame;
      c.first = t;
      c.firstFlags = f;
    }
    c.lastFrame = frame;
    c.last = t;
    c.sent |= 1 << dir;
    if ((f & (SYN | ACK)) === (SYN | ACK)) {
      c.anySynAck = true;
      if (!(f & RST)) c.synAckFrom |= 1 << dir;
    }
    if (f & FIN && c.firstFinFrom < 0) c.firstFinFrom = dir;
    const wasEnded = c.ended;
    const stored = c.segs !== NO_SEGMENTS;
    // Remembered for isCopy, with its place in the table (-1: not stored).
    c.recent?.add(key, p.ipId, lane, stored ? c.segs.push(t, frame, dir, p) : -1, time);
    c.observe(dir, p, t);
    if (!wasEnded && c.ended) {
      this.ending.push(c);
      if (stored) c.segs.trim();
    }
    this.expire(time);
  }

  /**
   * Gives a handed-on connection's segment table back for reuse: the caller
   * is done with `c` (its segments are gone after this).
   */
  release(c: Connection): void {
    if (c.segs !== NO_SEGMENTS && this.spare.length < MAX_SPARE && c.segs.capacity <= MAX_SPARE_SEGMENTS) {
      c.segs.reset();
      this.spare.push(c.segs);
    }
  }

  /** The end of the capture: every connection still open is handed on, in the order they started. */
  finish(): void {
    const rest = [...this.open4.values(), ...this.open6.values()].sort((a, b) => a.id - b.id);
    this.open4.clear();
    this.open6.clear();
    for (const c of rest) {
      c.handed = true;
      this.forget(c);
      this.opts.onConnection(c);
    }
    this.ending.length = 0;
    this.endingHead = 0;
  }

  private expire(now: number): void {
    const q = this.ending;
    while (this.endingHead < q.length) {
      const c = q[this.endingHead];
      if (c.handed) {
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

  /** Hands on an open connection (once: it leaves the table). */
  private hand(c: Connection): void {
    if (c.handed) return;
    c.handed = true;
    if (c.key === '') this.open4.delete(c.lo, c.hi, c.hash);
    else this.open6.delete(c.key);
    this.forget(c);
    this.opts.onConnection(c);
  }

  /** Takes back a handed-on connection's recent segments (no packet comes to it any more). */
  private forget(c: Connection): void {
    const r = c.recent;
    c.recent = undefined;
    if (r !== undefined && r.size === RECENT && this.spareRecent.length < MAX_SPARE_RECENT) {
      r.reset();
      this.spareRecent.push(r);
    }
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
      if (c.sent & (1 << dir)) return true;
      return c.synFrom < 0 && c.isn[1 - dir] === undefined;
    }
    // A new ISN from a side that had a SYN: a new attempt once the old one never got synchronized.
    return c.highAck[1 - dir] === undefined || c.isn[1 - dir] === undefined;
  }

  private create(p: TcpPacket, key: string, lo: number, hi: number, h: number): Connection {
    const id = this.nextId++;
    const stored = this.opts.segments === undefined || this.opts.segments(id);
    const c = new Connection(id, key, [endpointOf(p, 'src'), endpointOf(p, 'dst')], stored ? this.spare.pop() : NO_SEGMENTS);
    c.recent = this.severalInterfaces ? new RecentSegments(WIDE) : (this.spareRecent.pop() ?? new RecentSegments(RECENT));
    if (key === '') {
      c.lo = lo;
      c.hi = hi;
      c.hash = h;
      this.open4.set(lo, hi, h, c);
    } else this.open6.set(key, c);
    return c;
  }

  private dirOf(c: Connection, p: TcpPacket): number {
    const e = c.ep[0];
    if (e.port !== p.sport) return 1;
    if (p.sport !== p.dport) return 0;
    // Same port both sides: compare addresses.
    return e.address === addressOf(p, 'src') ? 0 : 1;
  }
}

/**
 * Spare segment tables kept at most, and the largest kept (in segments: about
 * 50 bytes each). A table reused keeps its size, so keeping big ones would
 * let every connection hold one, and memory grow with the capture.
 */
const MAX_SPARE = 64;
/** The table of every connection whose segments are not stored: it stays empty. */
const NO_SEGMENTS = new SegmentTable(0);
const MAX_SPARE_SEGMENTS = 1024;
/** Spare Connection.recent kept at most (about 500 bytes each, with their arrays). */
const MAX_SPARE_RECENT = 4096;

/** The IPv6 4-tuple as a string, the same both ways. */
function key6(p: TcpPacket): string {
  const a = `${hex16(p.bytes, p.src6)}.${p.sport}`;
  const b = `${hex16(p.bytes, p.dst6)}.${p.dport}`;
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** A 32-bit hash of an IPv4 4-tuple (lower endpoint first). */
function tupleHash(a: number, ap: number, b: number, bp: number): number {
  let h = Math.imul(a | 0, 0x85ebca6b) ^ Math.imul((b | 0) + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul((ap << 16) | bp, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
}

/**
 * Open IPv4 connections by their two endpoint numbers: open addressing with
 * linear probing, deletion by backward shift (no tombstones), so that a
 * lookup per packet allocates nothing.
 */
class TupleTable {
  private mask = 63;
  private size = 0;
  private lo = new Float64Array(64);
  private hi = new Float64Array(64);
  private hash = new Int32Array(64);
  private slot: (Connection | undefined)[] = new Array<Connection | undefined>(64).fill(undefined);

  get(lo: number, hi: number, h: number): Connection | undefined {
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const c = this.slot[i];
      if (c === undefined) return undefined;
      if (this.lo[i] === lo && this.hi[i] === hi) return c;
    }
  }

  set(lo: number, hi: number, h: number, c: Connection): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    const mask = this.mask;
    let i = h & mask;
    for (; this.slot[i] !== undefined; i = (i + 1) & mask) {
      if (this.lo[i] === lo && this.hi[i] === hi) {
        this.slot[i] = c;
        return;
      }
    }
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.hash[i] = h;
    this.slot[i] = c;
    this.size++;
  }

  delete(lo: number, hi: number, h: number): void {
    const mask = this.mask;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      if (this.slot[i] === undefined) return;
      if (this.lo[i] === lo && this.hi[i] === hi) break;
    }
    this.size--;
    // Backward shift: move up every later entry of the run whose home is not between the hole and it.
    for (let j = (i + 1) & mask; this.slot[j] !== undefined; j = (j + 1) & mask) {
      const home = this.hash[j] & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      this.lo[i] = this.lo[j];
      this.hi[i] = this.hi[j];
      this.hash[i] = this.hash[j];
      this.slot[i] = this.slot[j];
      i = j;
    }
    this.slot[i] = undefined;
  }

  values(): Connection[] {
    return this.slot.filter((c): c is Connection => c !== undefined);
  }

  clear(): void {
    this.slot.fill(undefined);
    this.size = 0;
  }

  private resize(cap: number): void {
    const { lo, hi, hash, slot } = this;
    this.mask = cap - 1;
    this.lo = new Float64Array(cap);
    this.hi = new Float64Array(cap);
    this.hash = new Int32Array(cap);
    this.slot = new Array<Connection | undefined>(cap).fill(undefined);
    this.size = 0;
    for (let i = 0; i < slot.length; i++) {
      const c = slot[i];
      if (c !== undefined) this.set(lo[i], hi[i], hash[i], c);
    }
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
