/**
 * The timeline: both endpoints' control blocks after every event (call,
 * segment, deliver). Diagnostics, hovers, inlay hints and the diagram all read
 * it; nothing downstream re-derives TCP state.
 *
 * Stored column-wise in typed arrays (about 80 bytes an event) because a trace
 * may hold a million events.
 */
import { CLOSED, type State } from '../tcp/states';

/** One endpoint's transmission control block as seen after an event. */
export interface TcbSnapshot {
  state: State;
  iss: number | undefined;
  irs: number | undefined;
  sndUna: number | undefined;
  sndNxt: number | undefined;
  /** Send window: what the peer last advertised, scaled (bytes). */
  sndWnd: number | undefined;
  rcvNxt: number | undefined;
  /** Receive window: what this endpoint can still accept (bytes). */
  rcvWnd: number | undefined;
}

/** The numbers a segment event actually carried, given or inferred. */
export interface SegmentNumbers {
  seq: number;
  ack: number | undefined;
  len: number;
  seqInferred: boolean;
  ackInferred: boolean;
}

const FIELDS = 7; // iss, irs, sndUna, sndNxt, sndWnd, rcvNxt, rcvWnd
const F_ISS = 0;
const F_IRS = 1;
const F_UNA = 2;
const F_NXT = 3;
const F_SWND = 4;
const F_RNXT = 5;
const F_RWND = 6;

/** Bits of `seg` flags. */
const SEG_PRESENT = 1;
const SEG_ACK_PRESENT = 2;
const SEG_SEQ_INFERRED = 4;
const SEG_ACK_INFERRED = 8;

export class Timeline {
  private n = 0;
  private cap: number;
  private lines: Int32Array;
  private stmts: Int32Array;
  private times: Float64Array;
  private states: Uint8Array;
  /** Per endpoint and field: a bit set when the value is known. */
  private known: Uint8Array;
  private nums: Uint32Array;
  private segBits: Uint8Array;
  private segNums: Uint32Array; // seq, ack, len
  readonly initialStates: readonly [State, State] = [CLOSED, CLOSED];

  constructor(capacity = 64) {
    this.cap = Math.max(4, capacity);
    this.lines = new Int32Array(this.cap);
    this.stmts = new Int32Array(this.cap);
    this.times = new Float64Array(this.cap);
    this.states = new Uint8Array(this.cap * 2);
    this.known = new Uint8Array(this.cap * 2);
    this.nums = new Uint32Array(this.cap * 2 * FIELDS);
    this.segBits = new Uint8Array(this.cap);
    this.segNums = new Uint32Array(this.cap * 3);
  }

  get length(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(a: T, per: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * per);
      b.set(a);
      return b;
    };
    this.lines = g(this.lines, 1);
    this.stmts = g(this.stmts, 1);
    this.times = g(this.times, 1);
    this.states = g(this.states, 2);
    this.known = g(this.known, 2);
    this.nums = g(this.nums, 2 * FIELDS);
    this.segBits = g(this.segBits, 1);
    this.segNums = g(this.segNums, 3);
    this.cap = cap;
  }

  /** Appends an entry; the checker calls this after every event. */
  push(line: number, stmtIndex: number, time: number, tcbs: readonly [Readonly<TcbSnapshot>, Readonly<TcbSnapshot>], seg: SegmentNumbers | undefined): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.lines[i] = line;
    this.stmts[i] = stmtIndex;
    this.times[i] = time;
    this.putTcb(i * 2, tcbs[0]);
    this.putTcb(i * 2 + 1, tcbs[1]);
    if (seg) {
      let b = SEG_PRESENT;
      const ack = seg.ack;
      if (ack !== undefined) b |= SEG_ACK_PRESENT;
      if (seg.seqInferred) b |= SEG_SEQ_INFERRED;
      if (seg.ackInferred) b |= SEG_ACK_INFERRED;
      this.segBits[i] = b;
      const segNums = this.segNums;
      segNums[i * 3] = seg.seq;
      segNums[i * 3 + 1] = ack ?? 0;
      segNums[i * 3 + 2] = seg.len;
    } else this.segBits[i] = 0;
  }

  /** One endpoint's block at slot `k` (entry * 2 + endpoint). Straight-line code: it runs twice per event. */
  private putTcb(k: number, t: Readonly<TcbSnapshot>): void {
    this.states[k] = t.state;
    const nums = this.nums;
    const base = k * FIELDS;
    let bits = 0;
    let v = t.iss;
    if (v !== undefined) {
      bits |= 1 << F_ISS;
      nums[base + F_ISS] = v;
    }
    v = t.irs;
    if (v !== undefined) {
      bits |= 1 << F_IRS;
      nums[base + F_IRS] = v;
    }
    v = t.sndUna;
    if (v !== undefined) {
      bits |= 1 << F_UNA;
      nums[base + F_UNA] = v;
    }
    v = t.sndNxt;
    if (v !== undefined) {
      bits |= 1 << F_NXT;
      nums[base + F_NXT] = v;
    }
    v = t.sndWnd;
    if (v !== undefined) {
      bits |= 1 << F_SWND;
      nums[base + F_SWND] = v > 0xffffffff ? 0xffffffff : v;
    }
    v = t.rcvNxt;
    if (v !== undefined) {
      bits |= 1 << F_RNXT;
      nums[base + F_RNXT] = v;
    }
    v = t.rcvWnd;
    if (v !== undefined) {
      bits |= 1 << F_RWND;
      nums[base + F_RWND] = v > 0xffffffff ? 0xffffffff : v;
    }
    this.known[k] = bits;
  }

  /** A copy holding the first `n` entries (for a check that resumes after them), with room for `capacity`. */
  slice(n: number, capacity = n * 2): Timeline {
    const t = new Timeline(Math.max(n, capacity, 64));
    t.lines.set(this.lines.subarray(0, n));
    t.stmts.set(this.stmts.subarray(0, n));
    t.times.set(this.times.subarray(0, n));
    t.states.set(this.states.subarray(0, n * 2));
    t.known.set(this.known.subarray(0, n * 2));
    t.nums.set(this.nums.subarray(0, n * 2 * FIELDS));
    t.segBits.set(this.segBits.subarray(0, n));
    t.segNums.set(this.segNums.subarray(0, n * 3));
    t.n = n;
    return t;
  }

  /** Appends `other`'s entries from `from` on, their statement indexes moved by `stmtShift`. */
  appendFrom(other: Timeline, from: number, stmtShift: number): void {
    const k = other.n - from;
    if (k <= 0) return;
    while (this.n + k > this.cap) this.grow();
    const n = this.n;
    this.lines.set(other.lines.subarray(from, other.n), n);
    for (let i = 0; i < k; i++) this.stmts[n + i] = other.stmts[from + i] + stmtShift;
    this.times.set(other.times.subarray(from, other.n), n);
    this.states.set(other.states.subarray(from * 2, other.n * 2), n * 2);
    this.known.set(other.known.subarray(from * 2, other.n * 2), n * 2);
    this.nums.set(other.nums.subarray(from * 2 * FIELDS, other.n * 2 * FIELDS), n * 2 * FIELDS);
    this.segBits.set(other.segBits.subarray(from, other.n), n);
    this.segNums.set(other.segNums.subarray(from * 3, other.n * 3), n * 3);
    this.n += k;
  }

  line(i: number): number {
    return this.lines[i];
  }

  /**
   * Whether entry `i` shows what `other`'s entry `j` shows: its statement
   * (moved by `stmtShift`), time, both states and the segment's numbers, not
   * its line. Lets the diagram model keep the items of events an edit did not
   * change.
   */
  drawsAs(i: number, other: Timeline, j: number, stmtShift: number): boolean {
    if (this.stmts[i] !== other.stmts[j] + stmtShift) return false;
    const a = this.times[i];
    const b = other.times[j];
    if (a !== b && !(a !== a && b !== b)) return false; // NaN equals NaN here
    if (this.states[i * 2] !== other.states[j * 2] || this.states[i * 2 + 1] !== other.states[j * 2 + 1]) return false;
    const bits = this.segBits[i];
    if (bits !== other.segBits[j]) return false;
    if (!(bits & SEG_PRESENT)) return true;
    const x = this.segNums;
    const y = other.segNums;
    return x[i * 3] === y[j * 3] && x[i * 3 + 2] === y[j * 3 + 2] && (!(bits & SEG_ACK_PRESENT) || x[i * 3 + 1] === y[j * 3 + 1]);
  }

  /** The first of the first `n` entries that does not draw as `other`'s at the same index (`drawsAs`); `n` if none. */
  firstDifference(other: Timeline, n: number): number {
    let i = 0;
    while (i < n && this.drawsAs(i, other, i, 0)) i++;
    return i;
  }

  /** How many entries at the end, up to `max`, draw as `other`'s at its end (`drawsAs`, statements moved by `stmtShift`). */
  commonTail(other: Timeline, stmtShift: number, max: number): number {
    let k = 0;
    let i = this.n - 1;
    let j = other.n - 1;
    while (k < max && this.drawsAs(i, other, j, stmtShift)) {
      k++;
      i--;
      j--;
    }
    return k;
  }

  /** Index of the event's statement in `parsed.statements`. */
  stmtIndex(i: number): number {
    return this.stmts[i];
  }

  /** Time of the event in seconds since the start, or NaN when the trace has no times. */
  time(i: number): number {
    return this.times[i];
  }

  /** State of endpoint `ep` after entry `i`. */
  state(i: number, ep: number): State {
    return this.states[i * 2 + ep];
  }

  /** State of endpoint `ep` before entry `i`. */
  stateBefore(i: number, ep: number): State {
    return i === 0 ? this.initialStates[ep] : this.states[(i - 1) * 2 + ep];
  }

  tcb(i: number, ep: number): TcbSnapshot {
    const k = i * 2 + ep;
    const bits = this.known[k];
    const base = k * FIELDS;
    const get = (f: number): number | undefined => (bits & (1 << f) ? this.nums[base + f] : undefined);
    return {
      state: this.states[k],
      iss: get(F_ISS),
      irs: get(F_IRS),
      sndUna: get(F_UNA),
      sndNxt: get(F_NXT),
      sndWnd: get(F_SWND),
      rcvNxt: get(F_RNXT),
      rcvWnd: get(F_RWND),
    };
  }

  /** The numbers of a segment entry (undefined for calls and for deliver). */
  segment(i: number): SegmentNumbers | undefined {
    const b = this.segBits[i];
    if (!(b & SEG_PRESENT)) return undefined;
    return {
      seq: this.segNums[i * 3],
      ack: b & SEG_ACK_PRESENT ? this.segNums[i * 3 + 1] : undefined,
      len: this.segNums[i * 3 + 2],
      seqInferred: (b & SEG_SEQ_INFERRED) !== 0,
      ackInferred: (b & SEG_ACK_INFERRED) !== 0,
    };
  }

  /** The entry on `line`, or else the last entry before it; -1 when none. */
  indexAtOrBefore(line: number): number {
    let lo = 0;
    let hi = this.n - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.lines[mid] <= line) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /** The entry exactly on `line`, or -1. */
  indexOfLine(line: number): number {
    const i = this.indexAtOrBefore(line);
    return i >= 0 && this.lines[i] === line ? i : -1;
  }
}
