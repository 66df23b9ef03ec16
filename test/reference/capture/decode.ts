// FROZEN REFERENCE: src/core/capture/decode.ts as of commit 45b3c5a, before the import was made faster.
// The equivalence tests (test/unit/capture-equivalence.test.ts) compare the optimized import with it. Do not edit,
// except to make a deliberate change of behaviour here too, each listed below:
// - A packet seen again by the capture (a copy: same header, same IPv4 identification or another interface) is counted, not stored.
/**
 * From a captured frame to a TCP segment: the link layer (Ethernet with VLAN
 * tags, Linux cooked capture v1 and v2, raw IP, BSD and OpenBSD loopback),
 * IPv4 with options or IPv6 with extension headers, and the TCP header with
 * the options the checker understands. One reusable object per decoder: the
 * hot loop of an import allocates nothing per packet (SACK blocks reuse an
 * array; addresses of IPv6 become a string only when a connection is new).
 */

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
/** DLT_RAW as some systems number it in pcap files (12 on most BSDs, 14 on OpenBSD). */
const DLT_RAW_12 = 12;
const DLT_RAW_14 = 14;

export const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  [LINKTYPE_NULL]: 'BSD loopback',
  [LINKTYPE_ETHERNET]: 'Ethernet',
  [DLT_RAW_12]: 'raw IP',
  [DLT_RAW_14]: 'raw IP',
  [LINKTYPE_RAW]: 'raw IP',
  [LINKTYPE_LOOP]: 'OpenBSD loopback',
  [LINKTYPE_LINUX_SLL]: 'Linux cooked capture v1',
  [LINKTYPE_IPV4]: 'raw IPv4',
  [LINKTYPE_IPV6]: 'raw IPv6',
  [LINKTYPE_LINUX_SLL2]: 'Linux cooked capture v2',
};

/** Why a frame is not a TCP segment (counted by the importer, not errors). */
export type SkipReason = 'link' | 'not-ip' | 'not-tcp' | 'fragment' | 'truncated';

export interface TcpPacket {
  family: 4 | 6;
  /** IPv4 addresses as unsigned 32-bit numbers. */
  src4: number;
  dst4: number;
  /** IPv6 addresses: offsets of the 16 bytes in `bytes` (valid until the next packet). */
  src6: number;
  dst6: number;
  bytes: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** The eight flag bits of the TCP header (FIN 0x01 ... CWR 0x80). */
  flags: number;
  win: number;
  urg: number;
  /** Payload length, from the IP length (not from what the snapshot kept). */
  len: number;
  /** Offset of the payload in `bytes` and how much of it was captured. */
  payload: number;
  payloadCaptured: number;
  /** TCP options; -1 when absent. */
  mss: number;
  wscale: number;
  sackOk: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks as [left, right, left, right, ...]; reused between packets. */
  sack: number[];
  /** The IPv4 identification, or -1 (IPv6, or 0). */
  ipId: number;
  /** The interface index of a Linux cooked v2 header, or -1. */
  ifindex: number;
}

export function newTcpPacket(): TcpPacket {
  return {
    family: 4,
    src4: 0,
    dst4: 0,
    src6: 0,
    dst6: 0,
    bytes: new Uint8Array(0),
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    win: 0,
    urg: 0,
    len: 0,
    payload: 0,
    payloadCaptured: 0,
    mss: -1,
    wscale: -1,
    sackOk: false,
    tsVal: -1,
    tsEcr: -1,
    sack: [],
    ipId: -1,
    ifindex: -1,
  };
}

/**
 * Decodes the frame `b[start, start + caplen)` of link type `linkType` into
 * `out`. Returns undefined for a TCP segment, or why the frame is skipped.
 */
export function decodeFrame(linkType: number, b: Uint8Array, start: number, caplen: number, out: TcpPacket): SkipReason | undefined {
  const end = start + caplen;
  let p = start;
  let ethertype = -1; // -1: decide by the IP version nibble
  out.ifindex = linkType === LINKTYPE_LINUX_SLL2 && caplen >= 20 ? new DataView(b.buffer, b.byteOffset + start + 4, 4).getUint32(0) : -1;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (caplen < 14) return 'truncated';
      ethertype = (b[p + 12] << 8) | b[p + 13];
      p += 14;
      // 802.1Q, 802.1ad and the old QinQ tag: 2 bytes of TCI, then the inner type.
      while (ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100) {
        if (p + 4 > end) return 'truncated';
        ethertype = (b[p + 2] << 8) | b[p + 3];
        p += 4;
      }
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (caplen < 16) return 'truncated';
      ethertype = (b[p + 14] << 8) | b[p + 15];
      p += 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (caplen < 20) return 'truncated';
      ethertype = (b[p] << 8) | b[p + 1];
      p += 20;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // The address family, in the byte order of the machine that captured (NULL) or big-endian (LOOP).
      if (caplen < 4) return 'truncated';
      p += 4;
      break;
    }
    case LINKTYPE_RAW:
    case DLT_RAW_12:
    case DLT_RAW_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      break;
    default:
      return 'link';
  }
  if (ethertype === 0x0800) return decodeIp4(b, p, end, out);
  if (ethertype === 0x86dd) return decodeIp6(b, p, end, out);
  if (ethertype !== -1) return 'not-ip';
  if (p >= end) return 'truncated';
  const version = b[p] >> 4;
  if (version === 4) return decodeIp4(b, p, end, out);
  if (version === 6) return decodeIp6(b, p, end, out);
  return 'not-ip';
}

function decodeIp4(b: Uint8Array, p: number, end: number, out: TcpPacket): SkipReason | undefined {
  if (p + 20 > end) return 'truncated';
  if (b[p] >> 4 !== 4) return 'not-ip';
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20 || p + ihl > end) return 'truncated';
  let total = (b[p + 2] << 8) | b[p + 3];
  // 0: a segment handed to the NIC for segmentation offload (Wireshark: "assumed by TSO").
  if (total === 0) total = end - p;
  if (total < ihl) return 'truncated';
  const frag = ((b[p + 6] << 8) | b[p + 7]) & 0x3fff; // MF flag and fragment offset
  if (b[p + 9] !== 6) return 'not-tcp';
  if (frag !== 0) return 'fragment';
  out.family = 4;
  const id = (b[p + 4] << 8) | b[p + 5];
  out.ipId = id === 0 ? -1 : id;
  out.src4 = ((b[p + 12] << 24) | (b[p + 13] << 16) | (b[p + 14] << 8) | b[p + 15]) >>> 0;
  out.dst4 = ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0;
  out.bytes = b;
  return decodeTcp(b, p + ihl, Math.min(end, p + total), p + total, out);
}

function decodeIp6(b: Uint8Array, p: number, end: number, out: TcpPacket): SkipReason | undefined {
  if (p + 40 > end) return 'truncated';
  if (b[p] >> 4 !== 6) return 'not-ip';
  const payloadLen = (b[p + 4] << 8) | b[p + 5];
  let next = b[p + 6];
  const ip = p;
  // A payload length of 0 is a jumbogram (or offload): the captured length tells.
  const ipEnd = payloadLen === 0 ? end : p + 40 + payloadLen;
  p += 40;
  // Extension headers before TCP.
  for (let hops = 0; hops < 16; hops++) {
    if (next === 6) {
      out.family = 6;
      out.ipId = -1;
      out.bytes = b;
      out.src6 = ip + 8;
      out.dst6 = ip + 24;
      return decodeTcp(b, p, Math.min(end, ipEnd), ipEnd, out);
    }
    switch (next) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
        if (p + 8 > end) return 'truncated';
        next = b[p];
        p += (b[p + 1] + 1) * 8;
        break;
      case 44: {
        // Fragment header: only an unfragmented ("atomic") one carries a whole segment.
        if (p + 8 > end) return 'truncated';
        const offMf = (b[p + 2] << 8) | b[p + 3];
        if ((offMf & 0xfff9) !== 0) return 'fragment';
        next = b[p];
        p += 8;
        break;
      }
      case 51: // authentication header: length in 4-byte units, minus 2
        if (p + 8 > end) return 'truncated';
        next = b[p];
        p += (b[p + 1] + 2) * 4;
        break;
      default:
        return 'not-tcp'; // ESP, no next header, another protocol
    }
    if (p > end) return 'truncated';
  }
  return 'not-tcp';
}

/** `end` is where the captured bytes stop, `ipEnd` where the IP packet says it stops. */
function decodeTcp(b: Uint8Array, p: number, end: number, ipEnd: number, out: TcpPacket): SkipReason | undefined {
  if (p + 20 > end) return 'truncated';
  const hdr = (b[p + 12] >> 4) * 4;
  if (hdr < 20) return 'truncated';
  out.sport = (b[p] << 8) | b[p + 1];
  out.dport = (b[p + 2] << 8) | b[p + 3];
  out.seq = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
  out.ack = ((b[p + 8] << 24) | (b[p + 9] << 16) | (b[p + 10] << 8) | b[p + 11]) >>> 0;
  out.flags = b[p + 13];
  out.win = (b[p + 14] << 8) | b[p + 15];
  out.urg = (b[p + 18] << 8) | b[p + 19];
  out.len = Math.max(0, ipEnd - p - hdr);
  out.payload = p + hdr;
  out.payloadCaptured = Math.max(0, Math.min(end, ipEnd) - (p + hdr));
  out.mss = -1;
  out.wscale = -1;
  out.sackOk = false;
  out.tsVal = -1;
  out.tsEcr = -1;
  out.sack.length = 0;
  if (hdr > 20) {
    // Options, as far as they were captured; a malformed one ends the parse (the segment still counts).
    const oend = Math.min(p + hdr, end);
    let q = p + 20;
    while (q < oend) {
      const kind = b[q];
      if (kind === 0) break;
      if (kind === 1) {
        q++;
        continue;
      }
      if (q + 1 >= oend) break;
      const olen = b[q + 1];
      if (olen < 2 || q + olen > oend) break;
      switch (kind) {
        case 2:
          if (olen === 4) out.mss = (b[q + 2] << 8) | b[q + 3];
          break;
        case 3:
          if (olen === 3) out.wscale = b[q + 2];
          break;
        case 4:
          if (olen === 2) out.sackOk = true;
          break;
        case 5:
          if ((olen - 2) % 8 === 0) {
            for (let s = q + 2; s + 8 <= q + olen; s += 8) {
              out.sack.push(
                ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0,
                ((b[s + 4] << 24) | (b[s + 5] << 16) | (b[s + 6] << 8) | b[s + 7]) >>> 0,
              );
            }
          }
          break;
        case 8:
          if (olen === 10) {
            out.tsVal = ((b[q + 2] << 24) | (b[q + 3] << 16) | (b[q + 4] << 8) | b[q + 5]) >>> 0;
            out.tsEcr = ((b[q + 6] << 24) | (b[q + 7] << 16) | (b[q + 8] << 8) | b[q + 9]) >>> 0;
          }
          break;
      }
      q += olen;
    }
  }
  return undefined;
}

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export function formatIp4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952 text of the IPv6 address at b[p, p + 16): lower case, the longest run of zero groups as '::'. */
export function formatIp6(b: Uint8Array, p: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[p + 2 * i] << 8) | b[p + 2 * i + 1]);
  // IPv4-mapped (::ffff:a.b.c.d).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[p + 12]}.${b[p + 13]}.${b[p + 14]}.${b[p + 15]}`;
  }
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
