// Draws media/icons/tcptrace.png (the Marketplace icon, 128x128): two
// endpoints' lifelines and a handshake's three segments, like the file icon.
// Run: node media/icons/generate-icon.mjs. Plain Node (zlib) so that the
// picture is reproducible without image tools.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = 128;
const SS = 4; // supersampling per axis
const bg = [30, 58, 95];
const line = [236, 243, 250];
const arrows = [[99, 179, 237], [246, 173, 85], [104, 211, 145]];

/** Distance from point p to segment ab. */
function dist(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  const x = ax + t * dx - px, y = ay + t * dy - py;
  return Math.hypot(x, y);
}
function insideRoundedSquare(x, y, r) {
  const cx = Math.min(Math.max(x, r), N - r), cy = Math.min(Math.max(y, r), N - r);
  return Math.hypot(x - cx, y - cy) <= r;
}
function arrow(ax, ay, bx, by) {
  const len = Math.hypot(bx - ax, by - ay), ux = (bx - ax) / len, uy = (by - ay) / len;
  const h = 12, w = 7;
  const hx = bx - ux * h, hy = by - uy * h;
  return [[ax, ay, bx, by], [bx, by, hx - uy * w, hy + ux * w], [bx, by, hx + uy * w, hy - ux * w]];
}
const lifelines = [[34, 20, 34, 108], [94, 20, 94, 108]];
const segs = [arrow(34, 32, 94, 50), arrow(94, 58, 34, 76), arrow(34, 84, 94, 102)];

function colorAt(x, y) {
  if (!insideRoundedSquare(x, y, 22)) return null;
  for (let i = 0; i < segs.length; i++) for (const s of segs[i]) if (dist(x, y, ...s) <= 3.2) return arrows[i];
  for (const s of lifelines) if (dist(x, y, ...s) <= 3.6) return line;
  return bg;
}

const raw = Buffer.alloc(N * (N * 4 + 1));
for (let y = 0; y < N; y++) {
  raw[y * (N * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < N; x++) {
    let r = 0, g = 0, b = 0, a = 0;
    for (let sy = 0; sy < SS; sy++) for (let sx = 0; sx < SS; sx++) {
      const c = colorAt(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS);
      if (c) { r += c[0]; g += c[1]; b += c[2]; a++; }
    }
    const o = y * (N * 4 + 1) + 1 + x * 4;
    raw[o] = a ? Math.round(r / a) : 0;
    raw[o + 1] = a ? Math.round(g / a) : 0;
    raw[o + 2] = a ? Math.round(b / a) : 0;
    raw[o + 3] = Math.round((255 * a) / (SS * SS));
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0);
ihdr.writeUInt32BE(N, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'tcptrace.png'), png);
