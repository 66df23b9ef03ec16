/**
 * A capture of one long bulk transfer, as a capture at the sender with
 * `tcpdump -s 96` keeps it (headers only): for the capture bench's
 * one-connection row and for tests of traces too long to hold or to open.
 * (The bench keys its cached captures by a hash of this file.)
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const MSS = 1448;

/**
 * Writes `packets` packets in all: a handshake with options, data segments
 * and an ACK for every second one, each with timestamps, then a close.
 */
export function writeTransferCapture(path: string, packets: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(0, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(96, 16);
  buf.writeUInt32LE(1, 20);
  let at = 24;
  const client = (10 << 24) | (1 << 16) | 7;
  const server = (10 << 24) | 1;
  let t = 0;
  let written = 0;
  const packet = (fromClient: boolean, flags: number, seq: number, ack: number, len: number): void => {
    const syn = (flags & 0x02) !== 0;
    const tsVal = (Math.floor(t * 1000) + (fromClient ? 1000 : 5000)) >>> 0;
    const ts = [8, 10, tsVal >>> 24, (tsVal >>> 16) & 255, (tsVal >>> 8) & 255, tsVal & 255, 0, 0, 0, syn && !(flags & 0x10) ? 0 : 1];
    const opts = syn ? [2, 4, MSS >> 8, MSS & 255, 4, 2, ...ts, 1, 3, 3, 7] : [1, 1, ...ts];
    const tcpLen = 20 + opts.length;
    const frameLen = 14 + 20 + tcpLen;
    if (at + 16 + frameLen > buf.length) {
      writeSync(fd, buf, 0, at);
      at = 0;
    }
    const whole = Math.floor(t);
    buf.writeUInt32LE(1_700_000_000 + whole, at);
    buf.writeUInt32LE(Math.floor((t - whole) * 1e6), at + 4);
    buf.writeUInt32LE(frameLen, at + 8);
    buf.writeUInt32LE(frameLen + len, at + 12);
    const f = at + 16;
    buf.fill(0, f, f + frameLen);
    buf[f + 12] = 0x08;
    buf[f + 14] = 0x45;
    buf.writeUInt16BE(20 + tcpLen + len, f + 16);
    buf.writeUInt16BE(0x4000, f + 20);
    buf[f + 22] = 64;
    buf[f + 23] = 6;
    buf.writeUInt32BE((fromClient ? client : server) >>> 0, f + 26);
    buf.writeUInt32BE((fromClient ? server : client) >>> 0, f + 30);
    buf.writeUInt16BE(fromClient ? 40000 : 5201, f + 34);
    buf.writeUInt16BE(fromClient ? 5201 : 40000, f + 36);
    buf.writeUInt32BE(seq >>> 0, f + 38);
    buf.writeUInt32BE(ack >>> 0, f + 42);
    buf[f + 46] = (tcpLen / 4) << 4;
    buf[f + 47] = flags;
    buf.writeUInt16BE(syn ? 64240 : 1024, f + 48);
    for (let k = 0; k < opts.length; k++) buf[f + 54 + k] = opts[k];
    at += 16 + frameLen;
    t += 0.00001;
    written++;
  };
  let cs = 123456789;
  let ss = 987654321;
  packet(true, 0x02, cs, 0, 0);
  packet(false, 0x12, ss, cs + 1, 0);
  cs++;
  ss++;
  packet(true, 0x10, cs, ss, 0);
  for (let i = 0; written < packets - 3; i++) {
    packet(true, 0x10, cs, ss, MSS);
    cs += MSS;
    if (i % 2 === 1) packet(false, 0x10, ss, cs, 0);
  }
  packet(true, 0x11, cs, ss, 0);
  packet(false, 0x11, ss, cs + 1, 0);
  packet(true, 0x10, cs + 1, ss + 1, 0);
  writeSync(fd, buf, 0, at);
  closeSync(fd);
}

