/**
 * A growable UTF-8 byte buffer for writing traces. An import writes about
 * 100 bytes per packet; building them as JS strings (template literals,
 * number-to-string conversions, then a join that flattens every line) cost
 * more than reading and tracking the packets. Here numbers and times are
 * written as digits straight into bytes, and the fixed pieces of a line are
 * encoded once. The bytes are what a file holds; `text()` decodes them for
 * callers that want a string.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** '000'..'999' as three ASCII digits each. */
const D3 = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
  D3[3 * i] = 48 + Math.floor(i / 100);
  D3[3 * i + 1] = 48 + (Math.floor(i / 10) % 10);
  D3[3 * i + 2] = 48 + (i % 10);
}

/** The fast path of times stays far below 2^52, where every half-integer is a double. */
const FAST_TIME_LIMIT = 2 ** 43;

/** The UTF-8 bytes of `s` (for the fixed pieces of lines). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export class ByteSink {
  buf: Uint8Array;
  len = 0;
  /**
   * Where whole lines go once `drainAt` bytes are held (see `lineDone`), so
   * that a huge trace is never held whole; undefined: everything stays.
   */
  drain: ((bytes: Uint8Array) => void) | undefined;
  drainAt = 0;

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  reset(): void {
    this.len = 0;
    this.drain = undefined;
  }

  /** Between lines (no line is half written): hands what is held to `drain`, once it is `drainAt` bytes or more. */
  lineDone(): void {
    if (this.drain !== undefined && this.len > 0 && this.len >= this.drainAt) {
      this.drain(this.buf.subarray(0, this.len));
      this.len = 0;
    }
  }

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.len + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.len + n, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
  }

  byte(c: number): void {
    if (this.len === this.buf.length) this.room(1);
    this.buf[this.len++] = c;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.room(n);
    const buf = this.buf;
    let p = this.len;
    // A few bytes: a loop costs less than a call to set().
    if (n < 12) for (let i = 0; i < n; i++) buf[p++] = b[i];
    else {
      buf.set(b, p);
      p += n;
    }
    this.len = p;
  }

  /** Any string, as UTF-8 (lone surrogates become U+FFFD, as when a string is written to a file). */
  str(s: string): void {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.len = p;
        this.bytes(encoder.encode(s.slice(i)));
        return;
      }
      buf[p++] = c;
    }
    this.len = p;
  }

  /** A number as String(v) writes it. */
  num(v: number): void {
    if (v >= 0 && v <= 0xffffffff && Math.floor(v) === v) this.u32(v);
    else this.str(String(v));
  }

  /** An integer from 0 to 2^32 - 1 (the caller knows: a value from a Uint32Array or smaller) in decimal. */
  u32(v: number): void {
    if (this.len + 10 > this.buf.length) this.room(10);
    // One split in floating point; below 100000 everything is int32 arithmetic (divisions by constants are multiplications).
    if (v >= 100000) {
      const hi = Math.floor(v / 100000);
      this.small(hi);
      this.pad5(v - hi * 100000);
    } else this.small(v);
  }

  /** 0 to 99999, without leading zeros (room already made). */
  private small(v: number): void {
    v |= 0;
    const buf = this.buf;
    let p = this.len;
    if (v < 1000) {
      if (v >= 100) {
        const k = 3 * v;
        buf[p] = D3[k];
        buf[p + 1] = D3[k + 1];
        buf[p + 2] = D3[k + 2];
        p += 3;
      } else if (v >= 10) {
        const k = 3 * v;
        buf[p] = D3[k + 1];
        buf[p + 1] = D3[k + 2];
        p += 2;
      } else buf[p++] = 48 + v;
    } else {
      const a = (v / 1000) | 0;
      const k = 3 * (v - a * 1000);
      if (a >= 10) {
        buf[p] = D3[3 * a + 1];
        buf[p + 1] = D3[3 * a + 2];
        p += 2;
      } else buf[p++] = 48 + a;
      buf[p] = D3[k];
      buf[p + 1] = D3[k + 1];
      buf[p + 2] = D3[k + 2];
      p += 3;
    }
    this.len = p;
  }

  /** 0 to 99999 as exactly five digits (room already made). */
  private pad5(v: number): void {
    v |= 0;
    const buf = this.buf;
    const p = this.len;
    const a = (v / 1000) | 0;
    const k = 3 * (v - a * 1000);
    buf[p] = D3[3 * a + 1];
    buf[p + 1] = D3[3 * a + 2];
    buf[p + 2] = D3[k];
    buf[p + 3] = D3[k + 1];
    buf[p + 4] = D3[k + 2];
    this.len = p + 5;
  }

  /**
   * Seconds with `digits` decimals, exactly as `t.toFixed(digits)` writes
   * them. toFixed rounds the exact value of t * 10^digits (half up); the
   * fast path rounds the double x = t * 10^digits instead. Rounding to a
   * double is monotonic and k + 0.5 is a double, so x is on the same side of
   * every half as the exact product unless x is exactly a half: that case
   * (and negative or huge times, and resolutions other than micro- and
   * nanoseconds) goes to toFixed.
   */
  time(t: number, digits: number): void {
    if (digits === 6 || digits === 9) {
      const scale = digits === 6 ? 1e6 : 1e9;
      const x = t * scale;
      if (x >= 0 && x < FAST_TIME_LIMIT) {
        const fl = Math.floor(x);
        const f = x - fl; // exact
        if (f !== 0.5) {
          const k = f > 0.5 ? fl + 1 : fl;
          let whole = Math.floor(k / scale);
          let frac = k - whole * scale;
          if (frac < 0) {
            whole--;
            frac += scale;
          } else if (frac >= scale) {
            whole++;
            frac -= scale;
          }
          this.num(whole);
          this.room(10);
          const buf = this.buf;
          let p = this.len;
          buf[p++] = 46; // '.'
          if (digits === 9) {
            const a = Math.floor(frac / 1e6);
            frac -= a * 1e6;
            buf[p++] = D3[3 * a];
            buf[p++] = D3[3 * a + 1];
            buf[p++] = D3[3 * a + 2];
          }
          const b = Math.floor(frac / 1000);
          const c = frac - b * 1000;
          buf[p++] = D3[3 * b];
          buf[p++] = D3[3 * b + 1];
          buf[p++] = D3[3 * b + 2];
          buf[p++] = D3[3 * c];
          buf[p++] = D3[3 * c + 1];
          buf[p++] = D3[3 * c + 2];
          this.len = p;
          return;
        }
      }
    }
    this.str(t.toFixed(digits));
  }

  /** The bytes written, decoded. */
  text(): string {
    return decoder.decode(this.buf.subarray(0, this.len));
  }
}
