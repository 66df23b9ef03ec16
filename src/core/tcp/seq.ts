/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4; serial-number
 * comparison as in RFC 1982): a < b when b is less than 2^31 ahead of a.
 */

/** (a + n) mod 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance b - a, in (-2^31, 2^31]. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** a <= x < b in sequence space. */
export function seqInRange(x: number, a: number, b: number): boolean {
  return seqLe(a, x) && seqLt(x, b);
}
