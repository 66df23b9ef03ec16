/**
 * The capture reader and the frame decoder on files built byte by byte from
 * the formats' specifications (test/fixtures/captures/synth.ts): pcap in both
 * byte orders and resolutions, pcapng with several sections, interfaces and
 * resolutions, every link type, IPv4 options, IPv6 extension headers, TCP
 * options, chunk boundaries anywhere, and located errors for damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CaptureError,
  CaptureReader,
  decodeFrame,
  formatIp6,
  importCaptureBytes,
  newTcpPacket,
  splitUnits,
  type PacketRecord,
  type TcpPacket,
} from '../../src/core/capture';
import { Pcapng, ethernet, ipPacket, pcap, type SegSpec } from '../fixtures/captures/synth';

interface Got {
  frame: number;
  offset: number;
  sec: number;
  nsec: number;
  link: number;
  itf: number;
  bytes: number[];
}

function read(bytes: Uint8Array, chunk = bytes.length): { got: Got[]; error: CaptureError | undefined; reader: CaptureReader } {
  const got: Got[] = [];
  const reader = new CaptureReader((r: PacketRecord) =>
    got.push({ frame: r.frame, offset: r.offset, sec: r.sec, nsec: r.nsec, link: r.linkType, itf: r.interfaceId, bytes: [...r.data.subarray(r.start, r.start + r.caplen)] }),
  );
  let error: CaptureError | undefined;
  try {
    for (let p = 0; p < bytes.length; p += chunk) reader.push(bytes.subarray(p, Math.min(bytes.length, p + chunk)));
    reader.end();
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    error = e;
  }
  return { got, error, reader };
}

const FRAME = ethernet(ipPacket({ flags: 0x02, seq: 7 }));

test('pcap: little- and big-endian, micro- and nanoseconds, any chunking', () => {
  for (const big of [false, true]) {
    for (const nano of [false, true]) {
      const file = pcap(1, [
        { sec: 1700000000, frac: nano ? 123456789 : 123456, data: FRAME },
        { sec: 1700000001, frac: 5, data: FRAME.slice(0, 30), orig: FRAME.length },
      ], { big, nano });
      const whole = read(file);
      assert.equal(whole.error, undefined);
      assert.equal(whole.reader.format, 'pcap');
      assert.equal(whole.reader.bigEndian, big);
      assert.deepEqual(
        whole.got.map((g) => [g.frame, g.offset, g.sec, g.nsec, g.link, g.bytes.length]),
        [
          [1, 24, 1700000000, nano ? 123456789 : 123456000, 1, FRAME.length],
          [2, 24 + 16 + FRAME.length, 1700000001, nano ? 5 : 5000, 1, 30],
        ],
      );
      for (const chunk of [1, 3, 17, 64]) assert.deepEqual(read(file, chunk).got, whole.got, `chunks of ${chunk}`);
    }
  }
});

test('pcapng: sections, interfaces with their link types, if_tsresol and if_tsoffset; EPB, SPB, OPB', () => {
  const ip = ipPacket({ flags: 0x02 });
  const ng = new Pcapng()
    .shb()
    .idb(1) // microseconds
    .idb(101, 9) // nanoseconds, raw IP
    .idb(113, 0x80 | 20, 100) // 2^-20 s, +100 s offset
    .epb(0, [0, 1_500_000], ethernet(ip))
    .epb(1, [395812, 2_000_000_123 >>> 0], ip) // a nanosecond count above 2^53
    .epb(2, [0, 3 * 1048576 + 524288], [0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, ...ip])
    .spb(ethernet(ip))
    .opb(1, [0, 7], ip)
    .block(5, [0, 0, 0, 0]) // interface statistics: skipped
    .bytes();
  const r = read(ng);
  assert.equal(r.error, undefined);
  assert.equal(r.reader.format, 'pcapng');
  const ns = 395812n * 4294967296n + BigInt(2_000_000_123 >>> 0);
  assert.deepEqual(
    r.got.map((g) => [g.itf, g.link, g.sec, g.nsec]),
    [
      [0, 1, 1, 500_000_000],
      [1, 101, Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)],
      [2, 113, 103, 500_000_000],
      [0, 1, 103, 500_000_000], // a simple packet has no timestamp of its own
      [1, 101, 0, 7],
    ],
  );
  for (const chunk of [1, 5, 40]) assert.deepEqual(read(ng, chunk).got, r.got);
  // A second section starts over with its own interfaces, and may change byte order.
  const two = new Uint8Array([...ng, ...new Pcapng(true).shb().idb(101).epb(0, [0, 9], ip).bytes()]);
  const r2 = read(two);
  assert.equal(r2.error, undefined);
  assert.deepEqual(r2.got.at(-1)!.link, 101);
  assert.equal(r2.reader.bigEndian, true);
});

test('splitUnits is exact for 64-bit counts (checked against BigInt)', () => {
  const cases: [number, number, number][] = [
    [0, 0, 1e6],
    [0xffffffff, 0xffffffff, 1e9],
    [395812, 0x773594fb, 1e9],
    [12345, 678, 1e6],
    [1, 0, 2 ** 20],
    [0x7fffffff, 0x80000000, 1e3],
    [4000000000, 1, 1e12],
  ];
  for (const [hi, lo, R] of cases) {
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const [sec, nsec] = splitUnits(hi, lo, R);
    assert.equal(BigInt(sec), v / BigInt(R), `sec of ${hi}:${lo}/${R}`);
    assert.equal(nsec, Math.floor((Number(v % BigInt(R)) * 1e9) / R), `nsec of ${hi}:${lo}/${R}`);
  }
});

test('damage is reported with its byte offset, never thrown past the reader', () => {
  const good = pcap(1, [
    { sec: 1, frac: 0, data: FRAME },
    { sec: 2, frac: 0, data: FRAME },
  ]);
  const cut = read(good.subarray(0, good.length - 5));
  assert.equal(cut.got.length, 1);
  assert.equal(cut.error?.offset, 24 + 16 + FRAME.length);
  assert.match(cut.error!.message, /cut short: the packet record at byte 94 needs 70 bytes, but the file ends 65 bytes into it/);
  const bad = good.slice();
  new DataView(bad.buffer).setUint32(24 + 8, 300000, true);
  assert.match(read(bad).error!.message, /^Damaged packet record at byte 24: it claims 300000 captured bytes/);
  assert.match(read(new Uint8Array([1, 2, 3, 4, 5])).error!.message, /^Not a pcap or pcapng file/);
  assert.match(read(new Uint8Array(0)).error!.message, /empty/);
  assert.match(read(good.subarray(0, 10)).error!.message, /file header at byte 0 needs 24 bytes/);
  const ver = good.slice();
  ver[4] = 3;
  assert.match(read(ver).error!.message, /Unsupported pcap version 3\.4/);
  // pcapng: a packet on an interface never described; lengths that disagree; a block that is too long.
  const ip = ipPacket({});
  assert.match(read(new Pcapng().shb().epb(0, [0, 0], ip).bytes()).error!.message, /interface 0 was never described/);
  const ng = new Pcapng().shb().idb(101).epb(0, [0, 0], ip).bytes();
  const badTrailer = ng.slice();
  badTrailer[badTrailer.length - 4] ^= 4;
  const e = read(badTrailer).error!;
  assert.equal(e.offset, 28 + 20);
  assert.match(e.message, /length at its end/);
  const huge = ng.slice();
  new DataView(huge.buffer).setUint32(28 + 20 + 4, 0x7ffffff0, true);
  assert.match(read(huge).error!.message, /implausibly large/);
});

function decode(link: number, frame: number[]): { why: string | undefined; p: TcpPacket } {
  const p = newTcpPacket();
  const why = decodeFrame(link, Uint8Array.from(frame), 0, frame.length, p);
  return { why, p };
}

const SYN_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

test('every link type leads to the same TCP segment', () => {
  const seg: SegSpec = { flags: 0x02, seq: 4242, sport: 5555, dport: 443, options: SYN_OPTIONS, payload: 0 };
  const ip = ipPacket(seg);
  const ip6 = ipPacket({ ...seg, src: '2001:db8::1', dst: '2001:db8::2' });
  const le = (v: number): number[] => [v & 255, (v >> 8) & 255, 0, 0];
  const beAf = (v: number): number[] => [0, 0, 0, v];
  const frames: [string, number, number[]][] = [
    ['Ethernet', 1, ethernet(ip)],
    ['802.1Q', 1, ethernet(ip, [0x8100])],
    ['QinQ', 1, ethernet(ip, [0x88a8, 0x8100])],
    ['cooked v1', 113, [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00, ...ip]],
    ['cooked v2', 276, [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...ip]],
    ['raw', 101, ip],
    ['raw 12', 12, ip],
    ['ipv4', 228, ip],
    ['BSD loopback', 0, [...le(2), ...ip]],
    ['OpenBSD loopback', 108, [...beAf(2), ...ip]],
  ];
  for (const [name, link, frame] of frames) {
    const { why, p } = decode(link, frame);
    assert.equal(why, undefined, name);
    assert.deepEqual([p.family, p.src4, p.sport, p.dport, p.seq, p.flags, p.mss, p.wscale, p.sackOk, p.tsVal, p.tsEcr], [4, 0x0a000001, 5555, 443, 4242, 2, 1460, 7, true, 1, 0], name);
  }
  for (const [name, link, frame] of [
    ['Ethernet v6', 1, ethernet(ip6)],
    ['raw v6', 229, ip6],
    ['BSD loopback v6 (macOS 30)', 0, [...le(30), ...ip6]],
  ] as [string, number, number[]][]) {
    const { why, p } = decode(link, frame);
    assert.equal(why, undefined, name);
    assert.equal(p.family, 6);
    assert.equal(formatIp6(p.bytes, p.src6), '2001:db8::1');
    assert.equal(p.seq, 4242);
  }
});

test('IPv4 options, IPv6 extension headers, payload length from the IP header', () => {
  const withOpts = decode(101, ipPacket({ ipOptions: [7, 7, 4, 0, 0, 0, 0], payload: 100 }));
  assert.equal(withOpts.why, undefined);
  assert.equal(withOpts.p.len, 100);
  const ext = decode(
    101,
    ipPacket({
      src: 'fd00::1',
      dst: 'fd00::2',
      payload: 10,
      ext6: [
        [0, [0, 0, 1, 4, 0, 0, 0, 0]], // hop-by-hop, PadN
        [60, [0, 1, ...Array(14).fill(0)]], // destination options, 16 bytes
        [44, [0, 0, 0, 0, 0, 0, 0, 1]], // an atomic fragment header
      ],
    }),
  );
  assert.equal(ext.why, undefined);
  assert.equal(ext.p.len, 10);
  // A snapshot length that cut the payload: the length still comes from the IP header.
  const full = ipPacket({ payload: 500 });
  const cut = decode(101, full.slice(0, 60));
  assert.equal(cut.why, undefined);
  assert.equal(cut.p.len, 500);
  assert.equal(cut.p.payloadCaptured, 20);
});

test('frames that are not whole TCP segments are skipped with a reason', () => {
  const ip = ipPacket({});
  const frag = ip.slice();
  frag[6] = 0x20; // more fragments
  assert.equal(decode(101, frag).why, 'fragment');
  const udp = ip.slice();
  udp[9] = 17;
  assert.equal(decode(101, udp).why, 'not-tcp');
  assert.equal(decode(1, [...ethernet(ip).slice(0, 12), 0x08, 0x06, 0, 1]).why, 'not-ip'); // ARP
  assert.equal(decode(1, ethernet(ip).slice(0, 30)).why, 'truncated');
  assert.equal(decode(147, ip).why, 'link');
  const esp = ipPacket({ src: 'fd00::1', dst: 'fd00::2' });
  esp[6] = 50;
  assert.equal(decode(101, esp).why, 'not-tcp');
});

test('TCP options: SACK blocks, malformed options stop the parse but keep the segment', () => {
  const sack = decode(101, ipPacket({ options: [1, 1, 5, 18, ...[0, 0, 0, 10, 0, 0, 0, 20], ...[0, 0, 1, 0, 0, 0, 2, 0]] }));
  assert.deepEqual(sack.p.sack, [10, 20, 256, 512]);
  const bad = decode(101, ipPacket({ options: [2, 4, 5, 0xb4, 8, 40] }));
  assert.equal(bad.why, undefined);
  assert.equal(bad.p.mss, 1460);
  assert.equal(bad.p.tsVal, -1);
});

test('formatIp6 writes RFC 5952 text', () => {
  const f = (groups: number[]): string => formatIp6(Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 255])), 0);
  assert.equal(f([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), '2001:db8::1');
  assert.equal(f([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  assert.equal(f([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), '2001:db8:0:1::1');
  assert.equal(f([0x2001, 0, 0, 1, 0, 0, 0, 1]), '2001:0:0:1::1');
  assert.equal(f([1, 0, 0, 2, 0, 0, 3, 4]), '1::2:0:0:3:4');
  assert.equal(f([1, 0, 2, 3, 4, 5, 6, 7]), '1:0:2:3:4:5:6:7');
  assert.equal(f([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]), '::ffff:10.0.0.1');
});

test('the importer hands on the connections read before damage, with the error', () => {
  const a = ethernet(ipPacket({ flags: 0x02, seq: 100, sport: 1111 }));
  const b = ethernet(ipPacket({ flags: 0x12, seq: 500, ack: 101, sport: 80, dport: 1111, src: '10.0.0.2', dst: '10.0.0.1' }));
  const file = pcap(1, [
    { sec: 1, frac: 0, data: a },
    { sec: 1, frac: 10, data: b },
    { sec: 2, frac: 0, data: a },
  ]);
  const ids: number[] = [];
  const report = importCaptureBytes(file.subarray(0, file.length - 3), { onConnection: (s) => ids.push(s.id) });
  assert.deepEqual(ids, [1]);
  assert.equal(report.packets, 2);
  assert.ok(report.error instanceof CaptureError);
});

