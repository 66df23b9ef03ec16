/**
 * Both ends' view from one capture point (spec section 8). A capture shows
 * when each segment passed the capture point; its receiver may have got it
 * later. The acknowledgments tell when: a segment is delivered after every
 * segment of its receiver that shows the receiver had not yet got it, and
 * before the first one that acknowledges it.
 *
 * Evidence that Y had not received X's segment s when Y sent t (t captured
 * after s):
 *  (a) s occupies sequence space and t does not acknowledge it (cumulative
 *      ACK or SACK block), while a later segment of Y does;
 *  (b) s acknowledges Y's bytes up to A, and t (re)sends bytes below A: a
 *      stack that had the ACK would not resend acknowledged bytes (this is
 *      what shows the crossing in a simultaneous open: each SYN,ACK answers
 *      the peer's SYN, not the peer's SYN,ACK);
 *  (c) s is a RST and t is not: after an acceptable RST Y has no connection;
 *  (d) s acknowledges the FIN Y sent in LAST_ACK, and t is not a RST: after
 *      that ACK, Y is CLOSED (a stale segment of X's that reached Y first, out
 *      of window there, is answered with an ACK from LAST_ACK).
 * Evidence that Y had received s: t acknowledges it (cumulatively or in a
 * SACK block), or t is the RST that answers it.
 *
 * A segment whose range is sent again before anything acknowledged it, and
 * that no D-SACK later reports as received twice and no timestamp echo
 * (TSecr, RFC 7323) shows received, was lost. Segments from one
 * side arrive in order unless an acknowledgment shows that a later one
 * overtook an earlier one.
 *
 * Near the receiver, a capture sees a sender's bytes out of order when a
 * segment was lost or overtaken before the capture point: first a hole, later
 * the bytes that fill it. The filler is the delayed original when it was sent
 * before the segment that jumped the hole (its TCP timestamp is not newer, or,
 * without timestamps, it came within 3 ms, Wireshark's rule): its send is
 * written where it was sent, before that segment. Otherwise it is a
 * retransmission, and the original, lost before the capture point, is written
 * as an inferred lost segment (-x) where it was sent. A hole that the
 * receiver acknowledges before any filler is seen is bytes the capture itself
 * missed: it stays a gap.
 */
import { ACK, FIN, RST, SYN } from '../syntax/ast';
import { seqDiff } from '../tcp/seq';
import type { SegmentTable } from './tracker';

export interface DeliveryPlan {
  /**
   * Per segment, the capture event after which its receiver gets it: the
   * segment's own index for an arrival as captured, a later index for a late
   * arrival, -1 for a segment that was lost.
   */
  pos: Int32Array;
  /** Sequence and acknowledgment numbers unwrapped past 2^32 (per sequence space). */
  useq: Float64Array;
  uack: Float64Array;
  /** Segments that resend sequence space their sender had already sent. */
  resent: Uint8Array;
  /** Per segment: the index of the segment before whose line its send is written (-1: in place). */
  moved: Int32Array;
  /** Segments lost before the capture point, inferred from a hole and its retransmission. */
  inferred: InferredLoss[];
  /** Moved segments that were overtaken by a segment other than the one their send is written before. */
  overtaken?: Map<number, number>;
}

export interface InferredLoss {
  /** Written just before this segment's line (the first one captured beyond the hole). */
  before: number;
  /** Sender side (0/1) and the hole: raw sequence number and length. */
  dir: number;
  seq: number;
  len: number;
  /** The segment that later resends it. */
  resentBy: number;
}

/** How far ahead (seconds) a receiver's own in-flight segments are looked for. */
const HORIZON = 5;
/** Candidates examined per question, so that pathological captures stay linear. */
const SCAN = 64;
/** Segments looked back over for a segment whose acknowledgment went back. */
const LOOK_BACK = 1024;

/**
 * Arrays planDeliveries and the writer reuse from one connection to the next
 * (allocating a dozen typed arrays per connection showed in profiles). A
 * plan made with a scratch lives until the scratch's next use.
 */
export class PlanScratch {
  private readonly f64s: Float64Array[] = [];
  private readonly i32s: Int32Array[] = [];
  private readonly u8s: Uint8Array[] = [];

  f64(slot: number, n: number): Float64Array {
    return view(this.f64s, slot, n, Float64Array);
  }
  i32(slot: number, n: number): Int32Array {
    return view(this.i32s, slot, n, Int32Array);
  }
  u8(slot: number, n: number): Uint8Array {
    return view(this.u8s, slot, n, Uint8Array);
  }
}

/** Arrays longer than this are not kept for reuse. */
const KEEP_SCRATCH = 1 << 20;

function view<T extends Float64Array | Int32Array | Uint8Array>(kept: T[], slot: number, n: number, make: new (n: number) => T): T {
  let a = kept[slot];
  if (a === undefined || a.length < n) {
    if (n > KEEP_SCRATCH) return new make(n);
    a = kept[slot] = new make(Math.min(KEEP_SCRATCH, Math.max(n, a === undefined ? 0 : 2 * a.length)));
  }
  return a.subarray(0, n) as T;
}

// Slots of a PlanScratch.
const F_USEQ = 0;
const F_UACK = 1;
const F_UEND = 2;
const F_TREE = 3; // and 4
const I_POS = 0;
const I_AT = 1;
const I_MOVED = 2;
/** The writer's slots start here. */
export const I_WRITER = 3;
const U_RESENT = 0;

export function planDeliveries(s: SegmentTable, scratch: PlanScratch = new PlanScratch()): DeliveryPlan {
  const n = s.length;
  const { useq, uack, usack } = unwrap(s, scratch);
  const pos = scratch.i32(I_POS, n);
  const resent = scratch.u8(U_RESENT, n).fill(0);
  const uend = scratch.f64(F_UEND, n);
  const { moved, inferred } = findHoles(s, useq, uack, scratch);

  // Per side: its segments in order, those that resend, those with SACK blocks, its RSTs.
  const list: [number[], number[]] = [[], []];
  const at = scratch.i32(I_AT, n); // position of a segment in its side's list
  const resends: [number[], number[]] = [[], []];
  const sacks: [number[], number[]] = [[], []];
  const maxEnd = [-Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    const d = s.dir[i];
    at[i] = list[d].length;
    list[d].push(i);
    const occ = s.occupies(i);
    uend[i] = useq[i] + occ;
    if (occ > 0 && !(s.flags[i] & RST)) {
      if (useq[i] < maxEnd[d] && moved[i] < 0) {
        resent[i] = 1;
        resends[d].push(i);
      }
      if (uend[i] > maxEnd[d]) maxEnd[d] = uend[i];
    }
  }
  // usack holds the segments with SACK blocks in capture order.
  for (const i of usack.keys()) sacks[s.dir[i]].push(i);
  const ackTree: [MaxTree, MaxTree] = [new MaxTree(list[0], uack, scratch, F_TREE), new MaxTree(list[1], uack, scratch, F_TREE + 1)];

  /**
   * First segment of side y after index i (its position in list[y]): the
   * segments up to i are at[i] + 1 of i's side and the rest of the other's.
   */
  const after = (y: number, i: number): number => (y === s.dir[i] ? at[i] + 1 : i - at[i]);

  /** The first segment of the receiver that acknowledges segment i, or -1. */
  const acknowledger = (i: number): number => {
    const x = s.dir[i];
    const y = 1 - x;
    const ly = list[y];
    const from = after(y, i);
    let u = -1;
    const occ = s.occupies(i);
    if (occ > 0 && !(s.flags[i] & RST)) {
      // A SYN has arrived once its SYN is acknowledged, whatever became of data on it: a Fast Open
      // server without a valid cookie acknowledges the SYN alone (RFC 7413), and the data comes again.
      const p = ackTree[y].firstAtLeast(from, s.flags[i] & SYN ? useq[i] + 1 : uend[i]);
      if (p >= 0) u = ly[p];
      // A SACK block covering the payload acknowledges it too (a hole before it may remain).
      const len = s.len[i];
      if (len > 0) {
        const sl = sacks[y];
        for (let k = lowerBound(sl, i + 1), c = 0; k < sl.length && c < SCAN; k++, c++) {
          const j = sl[k];
          if (u >= 0 && j >= u) break;
          const blocks = usack.get(j)!;
          let covered = false;
          for (let b = 0; b < blocks.length; b += 2) if (blocks[b] <= useq[i] && blocks[b + 1] >= useq[i] + len) covered = true;
          if (covered) {
            u = j;
            break;
          }
        }
      }
    }
    // The RST that answers it: seq = the segment's ack (RFC 9293 3.10.7.1).
    if (s.flags[i] & ACK) {
      for (let k = from, c = 0; k < ly.length && c < 4; k++, c++) {
        const j = ly[k];
        if (u >= 0 && j >= u) break;
        if (s.flags[j] & RST && s.seq[j] === s.ack[i]) {
          u = j;
          break;
        }
      }
    }
    return u;
  };

  /** A later transmission of segment i's first byte, or -1. */
  const resentAt = (i: number): number => {
    const r = resends[s.dir[i]];
    for (let k = lowerBound(r, i + 1), c = 0; k < r.length && c < SCAN; k++, c++) {
      const j = r[k];
      if (useq[j] <= useq[i] && useq[i] < uend[j]) return j;
    }
    return -1;
  };

  /** A D-SACK after segment k reporting bytes of segment i as received twice. */
  const dsackAfter = (i: number, k: number): boolean => {
    const sl = sacks[1 - s.dir[i]];
    for (let q = lowerBound(sl, k + 1), c = 0; q < sl.length && c < 16; q++, c++) {
      const j = sl[q];
      const blocks = usack.get(j)!;
      // RFC 2883: the first block reports a duplicate when it lies below the cumulative ACK or inside the second block.
      const l = blocks[0];
      const r = blocks[1];
      const dup = r <= uack[j] || (blocks.length >= 4 && blocks[2] <= l && r <= blocks[3]);
      if (dup && l < uend[i] && r > useq[i]) return true;
    }
    return false;
  };

  /** Per side, its last FIN captured before the segment the main loop below is at. */
  const lastFin = [-1, -1];
  /**
   * The FIN of the receiver of segment i that i acknowledges, when the receiver sent it in LAST_ACK
   * (it had the FIN of i's sender by then), or -1.
   */
  const lastAck = (i: number): number => {
    const x = s.dir[i];
    const f = lastFin[1 - x];
    if (f < 0 || uack[i] < uend[f]) return -1;
    // i's side's FIN, delivered before f was sent.
    const g = lastFin[x];
    return g >= 0 && pos[g] >= 0 && pos[g] < f ? f : -1;
  };

  /** The last receiver segment that shows it had not yet got segment i (evidence b, c and d), or -1. */
  const notYet = (i: number): number => {
    const x = s.dir[i];
    const y = 1 - x;
    let e = -1;
    const limit = s.time[i] + HORIZON;
    if (s.flags[i] & ACK && !Number.isNaN(uack[i])) {
      const r = resends[y];
      for (let k = lowerBound(r, i + 1), c = 0; k < r.length && c < SCAN; k++, c++) {
        const j = r[k];
        if (s.time[j] > limit) break;
        if (useq[j] < uack[i]) e = j;
      }
    }
    // (c) after a RST, (d) after the ACK of the FIN it sent in LAST_ACK, the receiver is CLOSED:
    // it sends nothing but RSTs.
    const rst = (s.flags[i] & RST) !== 0;
    if (rst || (lastFin[y] >= 0 && s.flags[i] & ACK && lastAck(i) >= 0)) {
      const ly = list[y];
      const end = s.time[i] + (rst ? 2 : HORIZON);
      const most = rst ? 1024 : SCAN;
      for (let k = after(y, i), c = 0; k < ly.length && c < most; k++, c++) {
        const j = ly[k];
        if (s.time[j] > end) break;
        if (!(s.flags[j] & RST)) e = j;
      }
    }
    return e;
  };

  /** The receiver echoed segment i's TSval (and not its resend k's): it got i. */
  const echoed = (i: number, k: number): boolean => {
    if (!s.tsOk[i] || s.tsv[i] === s.tsv[k]) return false;
    const x = s.dir[i];
    // An echo proves this segment only if its TSval is its own, not shared with the one before.
    for (let p = i - 1; p >= 0; p--) {
      if (s.dir[p] !== x) continue;
      if (s.tsOk[p] && s.tsv[p] === s.tsv[i]) return false;
      break;
    }
    const ly = list[1 - x];
    for (let q = after(1 - x, i), c = 0; q < ly.length && c < SCAN; q++, c++) {
      const j = ly[q];
      if (s.tsOk[j] && s.tse[j] === s.tsv[i]) return true;
    }
    return false;
  };

  const floor = [-1, -1];
  for (let i = 0; i < n; i++) {
    if (i > 0 && s.flags[i - 1] & FIN && !(s.flags[i - 1] & RST)) lastFin[s.dir[i - 1]] = i - 1;
    const x = s.dir[i];
    const y = 1 - x;
    const occ = s.occupies(i) > 0 && !(s.flags[i] & RST);
    const u = acknowledger(i);
    if (occ) {
      const k = resentAt(i);
      // Lost, unless the receiver says otherwise: a D-SACK, a timestamp echo, or an acknowledgment of
      // bytes of it that no resend before that acknowledgment carried (a resend can be cut shorter).
      if (k >= 0 && (u < 0 || u > k) && !dsackAfter(i, k) && !echoed(i, k) && (u < 0 || resendsCover(resends[x], i, u, useq, uend))) {
        pos[i] = -1;
        continue;
      }
    }
    let lo = i;
    if (u >= 0 && occ) {
      // (a): the receiver's segments before the first that acknowledges it.
      const p = at[u] - 1;
      if (p >= 0) lo = Math.max(lo, list[y][p]);
    }
    lo = Math.max(lo, notYet(i));
    let p: number;
    const fifo = Math.max(lo, floor[x]);
    if (u < 0) p = fifo;
    else if (lo < u) p = fifo < u ? fifo : lo; // overtaking only where an acknowledgment shows it
    else p = resent[i] ? fifo : u - 1; // the ack may be for an earlier copy: the evidence wins
    pos[i] = p;
    floor[x] = p;
  }
  const overtaken = moveStaleAcks(s, useq, uack, uend, pos, moved);
  return { pos, useq, uack, resent, moved, inferred, overtaken };
}

/**
 * A stack's acknowledgment never goes back: RCV.NXT only grows, and every segment carries it. So a
 * segment captured after one of the same sender with a higher ack was sent before it, and overtaken
 * on the way to the capture point (which is then nearer its receiver). Its send is written where it
 * was sent: before the first delivery that took its sender beyond that ack. Without the move, its
 * sender would seem to take back an acknowledgment (TT306), or to leave unacknowledged a FIN it had
 * already received (TT302). Returns the segment that overtook each one moved.
 */
export function moveStaleAcks(s: Pick<SegmentTable, 'length' | 'dir' | 'flags'>, useq: Float64Array, uack: Float64Array, uend: Float64Array, pos: Int32Array, moved: Int32Array): Map<number, number> | undefined {
  const n = s.length;
  let overtaken: Map<number, number> | undefined;
  const maxAck = [-Infinity, -Infinity];
  const acks = (k: number): boolean => !(s.flags[k] & RST) && uack[k] === uack[k];
  for (let i = 0; i < n; i++) {
    const x = s.dir[i];
    const a = uack[i];
    // (NaN, no ACK, fails this test too.)
    if (!(a < maxAck[x]) || s.flags[i] & RST) {
      if (a >= maxAck[x] && !(s.flags[i] & RST)) maxAck[x] = a;
      continue;
    }
    if (moved[i] >= 0) continue;
    // The segment that overtook it: the first of its sender's, going back, in the run of higher acks.
    let by = -1;
    // Its sender's last segment with a lower ack was sent before it: the move stays after that one.
    // (With the same ack, the order is unknown; a moved segment was not sent where it was captured.)
    let prev = -1;
    for (let k = i - 1, c = 0; k >= 0 && c < LOOK_BACK; k--, c++) {
      if (s.dir[k] !== x || !acks(k)) continue;
      if (uack[k] < a && moved[k] < 0) {
        prev = k;
        break;
      }
      if (uack[k] > a) by = k;
    }
    // Where its sender first had more than `a`: the earliest delivery of the peer's byte `a`.
    let at = i;
    for (let k = i - 1, c = 0; k >= 0 && c < LOOK_BACK; k--, c++) {
      if (s.dir[k] !== x && !(s.flags[k] & RST) && useq[k] <= a && a < uend[k] && pos[k] >= 0 && pos[k] < at) at = pos[k];
    }
    if (by < 0 || at >= i || at <= prev) continue;
    // Only where it fits: its bytes, or for a bare ACK its sequence number, already sent by then.
    let sent = -Infinity;
    for (let k = at - 1, c = 0; k >= 0 && c < LOOK_BACK; k--, c++) {
      if (s.dir[k] === x && !(s.flags[k] & RST)) sent = Math.max(sent, uend[k]);
    }
    if (uend[i] > sent) continue;
    moved[i] = at;
    (overtaken ??= new Map()).set(i, by);
  }
  return overtaken;
}

/**
 * Whether the resends `r` (one side's, in capture order) captured after segment i and before
 * segment u carry every byte of segment i.
 */
export function resendsCover(r: readonly number[], i: number, u: number, useq: Float64Array, uend: Float64Array): boolean {
  const parts: number[][] = [];
  for (let k = lowerBound(r, i + 1), c = 0; k < r.length && c < SCAN && r[k] < u; k++, c++) {
    const j = r[k];
    // Usually one resend carries it all.
    if (useq[j] <= useq[i] && uend[j] >= uend[i]) return true;
    if (useq[j] < uend[i] && uend[j] > useq[i]) parts.push([useq[j], uend[j]]);
  }
  parts.sort((a, b) => a[0] - b[0]);
  let covered = useq[i];
  for (const [from, to] of parts) {
    if (from > covered) break;
    if (to > covered) covered = to;
  }
  return covered >= uend[i];
}

/** Reordered originals and losses before the capture point, from holes in each sender's bytes. */
function findHoles(s: SegmentTable, useq: Float64Array, uack: Float64Array, scratch: PlanScratch): { moved: Int32Array; inferred: InferredLoss[] } {
  const n = s.length;
  const moved = scratch.i32(I_MOVED, n).fill(-1);
  const inferred: InferredLoss[] = [];
  // Per side: holes as [start, end, index of the segment captured first beyond it, inferred?].
  const holes: [number[][], number[][]] = [[], []];
  const maxEnd = [-Infinity, -Infinity];
  // The highest ack each side has sent so far (for "the receiver had it anyway").
  const acked = [-Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    const x = s.dir[i];
    const f = s.flags[i];
    if (f & ACK && !Number.isNaN(uack[i]) && !(f & RST)) acked[x] = Math.max(acked[x], uack[i]);
    if (f & RST) continue;
    const occ = s.occupies(i);
    const start = useq[i];
    const end = start + occ;
    const hs = holes[x];
    // A segment without data carries SND.NXT: beyond the bytes seen, it too shows a hole.
    if (start > maxEnd[x] && maxEnd[x] !== -Infinity && !(f & SYN)) {
      hs.push([maxEnd[x], start, i, 0]);
      if (hs.length > 64) hs.shift();
    } else if (occ > 0 && start < maxEnd[x]) {
      for (let h = 0; h < hs.length; h++) {
        const hole = hs[h];
        if (!(hole[0] <= start && start < hole[1])) continue;
        const c = hole[2];
        if (acked[1 - x] >= Math.min(end, hole[1])) {
          // The receiver acknowledged these bytes before this copy came: the capture missed the original.
        } else if (hole[3] === 0 && sentBefore(s, i, c)) {
          moved[i] = c;
        } else if (hole[3] === 0) {
          inferred.push({ before: c, dir: x, seq: (hole[0] % 4294967296 + 4294967296) % 4294967296, len: hole[1] - hole[0], resentBy: i });
          hole[3] = 1;
        }
        // What this segment covers is no longer a hole.
        const rest: number[][] = [];
        if (hole[0] < start) rest.push([hole[0], start, c, hole[3]]);
        if (end < hole[1]) rest.push([end, hole[1], c, hole[3]]);
        hs.splice(h, 1, ...rest);
        break;
      }
    }
    if (end > maxEnd[x]) maxEnd[x] = end;
  }
  inferred.sort((a, b) => a.before - b.before);
  return { moved, inferred };
}

/** Was segment k sent before segment c (both from one side), though captured after it? */
function sentBefore(s: SegmentTable, k: number, c: number): boolean {
  // A retransmission needs the sender to learn of the loss first, an RTT at least: its TSval is
  // newer. An equal TSval (the same clock tick) means sent together, then delayed on the way.
  if (s.tsOk[k] && s.tsOk[c]) return seqDiff(s.tsv[k], s.tsv[c]) <= 0;
  return s.time[k] - s.time[c] < 0.003;
}

/** Unwraps every number of each sequence space past 2^32, in capture order. */
function unwrap(s: SegmentTable, scratch: PlanScratch): { useq: Float64Array; uack: Float64Array; usack: Map<number, Float64Array> } {
  const n = s.length;
  const useq = scratch.f64(F_USEQ, n);
  const uack = scratch.f64(F_UACK, n);
  const usack = new Map<number, Float64Array>();
  const lastRaw = [0, 0];
  const lastU = [NaN, NaN];
  const un = (space: number, raw: number, keep: boolean): number => {
    if (Number.isNaN(lastU[space])) {
      if (keep) {
        lastRaw[space] = raw;
        lastU[space] = raw;
      }
      return raw;
    }
    const u = lastU[space] + seqDiff(raw, lastRaw[space]);
    if (keep) {
      lastRaw[space] = raw;
      lastU[space] = u;
    }
    return u;
  };
  // The segments with SACK blocks, in capture order (a lookup per segment would cost more).
  const withSack: number[] = [];
  for (const [i, e] of s.extra) if (e.sack) withSack.push(i);
  withSack.sort((a, b) => a - b);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const d = s.dir[i];
    const f = s.flags[i];
    // A RST may carry seq 0 or another number far from the stream: it must not move the reference.
    const keep = !(f & RST);
    useq[i] = un(d, s.seq[i], keep);
    uack[i] = f & ACK ? un(1 - d, s.ack[i], keep) : NaN;
    if (next < withSack.length && withSack[next] === i) {
      next++;
      const e = s.extra.get(i)!;
      const blocks = e.sack!;
      const out = new Float64Array(blocks.length);
      for (let b = 0; b < blocks.length; b++) out[b] = un(1 - d, blocks[b], false);
      usack.set(i, out);
    }
  }
  return { useq, uack, usack };
}

function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Maximum tree over a fixed array: the first position at or after p0 whose value is at least v. */
class MaxTree {
  private readonly size: number;
  private readonly n: number;
  /** t[size + i] holds value i; t[k] the larger of t[2k] and t[2k + 1]. */
  private readonly t: Float64Array;

  /** Over the acknowledgment numbers of the segments `idx` (NaN, no ACK: -Infinity). */
  constructor(idx: readonly number[], uack: Float64Array, scratch: PlanScratch, slot: number) {
    const n = idx.length;
    let size = 1;
    while (size < n) size *= 2;
    this.size = size;
    this.n = n;
    const t = (this.t = scratch.f64(slot, 2 * size).fill(-Infinity));
    for (let i = 0; i < n; i++) {
      const v = uack[idx[i]];
      if (v === v) t[size + i] = v;
    }
    for (let i = size - 1; i >= 1; i--) t[i] = Math.max(t[2 * i], t[2 * i + 1]);
  }

  firstAtLeast(p0: number, v: number): number {
    const t = this.t;
    const size = this.size;
    // Usually the answer is among the next few.
    const near = Math.min(this.n, p0 + 8);
    for (let p = p0; p < near; p++) if (t[size + p] >= v) return p;
    if (near >= this.n) return -1;
    // Up from leaf `near` to the first subtree to its right that holds a value >= v, then down to its leftmost such leaf.
    let k = size + near;
    if (t[k] < v) {
      for (;;) {
        while (k & 1) k >>= 1; // a right child: its right neighbours are further up
        if (k === 0) return -1;
        k++;
        if (t[k] >= v) break;
      }
    }
    while (k < size) {
      k *= 2;
      if (t[k] < v) k++;
    }
    return k - size;
  }
}
