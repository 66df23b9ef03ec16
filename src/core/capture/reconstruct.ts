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
 *  (c) s is a RST and t is not: after an acceptable RST Y has no connection.
 * Evidence that Y had received s: t acknowledges it (cumulatively or in a
 * SACK block), or t is the RST that answers it.
 *
 * A segment whose range is sent again before anything acknowledged it, and
 * that no D-SACK later reports as received twice, was lost. Segments from one
 * side arrive in order unless an acknowledgment shows that a later one
 * overtook an earlier one.
 */
import { ACK, RST } from '../syntax/ast';
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
}

/** How far ahead (seconds) a receiver's own in-flight segments are looked for. */
const HORIZON = 5;
/** Candidates examined per question, so that pathological captures stay linear. */
const SCAN = 64;

export function planDeliveries(s: SegmentTable): DeliveryPlan {
  const n = s.length;
  const { useq, uack, usack } = unwrap(s);
  const pos = new Int32Array(n);
  const resent = new Uint8Array(n);
  const uend = new Float64Array(n);

  // Per side: its segments in order, those that resend, those with SACK blocks, its RSTs.
  const list: [number[], number[]] = [[], []];
  const at = new Int32Array(n); // position of a segment in its side's list
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
      if (useq[i] < maxEnd[d]) {
        resent[i] = 1;
        resends[d].push(i);
      }
      if (uend[i] > maxEnd[d]) maxEnd[d] = uend[i];
    }
    if (usack.has(i)) sacks[d].push(i);
  }
  const ackTree: [MaxTree, MaxTree] = [
    new MaxTree(list[0].map((i) => (Number.isNaN(uack[i]) ? -Infinity : uack[i]))),
    new MaxTree(list[1].map((i) => (Number.isNaN(uack[i]) ? -Infinity : uack[i]))),
  ];

  /** First segment of side y after index i (its position in list[y]). */
  const after = (y: number, i: number): number => lowerBound(list[y], i + 1);

  /** The first segment of the receiver that acknowledges segment i, or -1. */
  const acknowledger = (i: number): number => {
    const x = s.dir[i];
    const y = 1 - x;
    const ly = list[y];
    const from = after(y, i);
    let u = -1;
    const occ = s.occupies(i);
    if (occ > 0 && !(s.flags[i] & RST)) {
      const p = ackTree[y].firstAtLeast(from, uend[i]);
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

  /** The last receiver segment that shows it had not yet got segment i (evidence b and c), or -1. */
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
    if (s.flags[i] & RST) {
      const ly = list[y];
      const end = s.time[i] + 2;
      for (let k = after(y, i), c = 0; k < ly.length && c < 1024; k++, c++) {
        const j = ly[k];
        if (s.time[j] > end) break;
        if (!(s.flags[j] & RST)) e = j;
      }
    }
    return e;
  };

  const floor = [-1, -1];
  for (let i = 0; i < n; i++) {
    const x = s.dir[i];
    const y = 1 - x;
    const occ = s.occupies(i) > 0 && !(s.flags[i] & RST);
    const u = acknowledger(i);
    if (occ) {
      const k = resentAt(i);
      if (k >= 0 && (u < 0 || u > k) && !dsackAfter(i, k)) {
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
  return { pos, useq, uack, resent };
}

/** Unwraps every number of each sequence space past 2^32, in capture order. */
function unwrap(s: SegmentTable): { useq: Float64Array; uack: Float64Array; usack: Map<number, number[]> } {
  const n = s.length;
  const useq = new Float64Array(n);
  const uack = new Float64Array(n);
  const usack = new Map<number, number[]>();
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
  for (let i = 0; i < n; i++) {
    const d = s.dir[i];
    const f = s.flags[i];
    // A RST may carry seq 0 or another number far from the stream: it must not move the reference.
    const keep = !(f & RST);
    useq[i] = un(d, s.seq[i], keep);
    uack[i] = f & ACK ? un(1 - d, s.ack[i], keep) : NaN;
    const e = s.extra.get(i);
    if (e?.sack) {
      const out: number[] = [];
      for (const v of e.sack) out.push(un(1 - d, v, false));
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
  private readonly t: Float64Array;
  private readonly vals: readonly number[];

  constructor(values: readonly number[]) {
    this.vals = values;
    let size = 1;
    while (size < values.length) size *= 2;
    this.size = size;
    this.t = new Float64Array(2 * size).fill(-Infinity);
    for (let i = 0; i < values.length; i++) this.t[size + i] = values[i];
    for (let i = size - 1; i >= 1; i--) this.t[i] = Math.max(this.t[2 * i], this.t[2 * i + 1]);
  }

  firstAtLeast(p0: number, v: number): number {
    const vals = this.vals;
    // Usually the answer is among the next few.
    const near = Math.min(vals.length, p0 + 8);
    for (let p = p0; p < near; p++) if (vals[p] >= v) return p;
    if (near >= vals.length) return -1;
    return this.find(1, 0, this.size, near, v);
  }

  private find(node: number, nl: number, nr: number, p0: number, v: number): number {
    if (nr <= p0 || this.t[node] < v) return -1;
    if (nr - nl === 1) return nl;
    const mid = (nl + nr) >> 1;
    const r = this.find(2 * node, nl, mid, p0, v);
    return r >= 0 ? r : this.find(2 * node + 1, mid, nr, p0, v);
  }
}
