#!/usr/bin/env python3
"""Derives the variant and damaged fixtures from the real captures lab.py made
(test/fixtures/captures). The packets stay the real stack's; only their
framing changes:

- link layers this machine cannot capture directly: raw IP (LINKTYPE_RAW),
  BSD loopback (LINKTYPE_NULL, as macOS writes it: a 4-byte address family in
  little-endian), 802.1Q and 802.1ad VLAN tags (the kernel here has no 8021q);
- a big-endian pcap, as a big-endian machine writes it;
- several interfaces with different link types and timestamp resolutions in
  one pcapng (mergecap of two captures);
- damaged files: cut short, a record with an impossible length, a pcapng
  block whose two lengths disagree, bytes that are no capture at all.

Deterministic: the same inputs give the same files.
"""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'test', 'fixtures', 'captures')


def read_pcap(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = '<'
    else:
        e = '>'
        magic = struct.unpack('>I', data[:4])[0]
    nano = magic == 0xA1B23C4D
    _, _, _, _, snap, link = struct.unpack(e + 'HHiIII', data[4:24])
    recs = []
    p = 24
    while p + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + 'IIII', data[p:p + 16])
        recs.append((sec, frac, orig, data[p + 16:p + 16 + incl]))
        p += 16 + incl
    return dict(nano=nano, snap=snap, link=link, recs=recs)


def write_pcap(path, cap, link=None, big=False, frames=None):
    e = '>' if big else '<'
    magic = 0xA1B23C4D if cap['nano'] else 0xA1B2C3D4
    out = [struct.pack(e + 'IHHiIII', magic, 2, 4, 0, 0, cap['snap'], cap['link'] if link is None else link)]
    for (sec, frac, orig, frame), new in zip(cap['recs'], frames or [r[3] for r in cap['recs']]):
        out.append(struct.pack(e + 'IIII', sec, frac, len(new), orig + len(new) - len(frame)) + new)
    with open(path, 'wb') as f:
        f.write(b''.join(out))


def eth_payload(frame):
    t = struct.unpack('!H', frame[12:14])[0]
    p = 14
    while t in (0x8100, 0x88A8):
        t = struct.unpack('!H', frame[p + 2:p + 4])[0]
        p += 4
    return t, frame[p:]


def to_raw(frame):
    return eth_payload(frame)[1]


def to_null(frame):
    t, ip = eth_payload(frame)
    return struct.pack('<I', 2 if t == 0x0800 else 30) + ip


def to_vlan(frame, i):
    # Every other frame double-tagged (802.1ad outer, 802.1Q inner), the rest single-tagged.
    tag = struct.pack('!HH', 0x8100, 100)
    if i % 2:
        tag = struct.pack('!HH', 0x88A8, 20) + tag
    return frame[:12] + tag + frame[12:]


def derive():
    base = os.path.join(OUT, 'handshake-data-close.pcap')
    cap = read_pcap(base)
    assert cap['link'] == 1, 'handshake-data-close.pcap must be an Ethernet capture'
    write_pcap(os.path.join(OUT, 'variant-raw-ip.pcap'), cap, link=101, frames=[to_raw(r[3]) for r in cap['recs']])
    write_pcap(os.path.join(OUT, 'variant-bsd-loopback.pcap'), cap, link=0, frames=[to_null(r[3]) for r in cap['recs']])
    write_pcap(os.path.join(OUT, 'variant-vlan.pcap'), cap, frames=[to_vlan(r[3], i) for i, r in enumerate(cap['recs'])])
    write_pcap(os.path.join(OUT, 'variant-big-endian.pcap'), cap, big=True)
    # Nanosecond big-endian too: the abort capture is a nanosecond one.
    ab = read_pcap(os.path.join(OUT, 'abort.pcap'))
    assert ab['nano'], 'abort.pcap must be a nanosecond capture'
    write_pcap(os.path.join(OUT, 'variant-big-endian-ns.pcap'), ab, big=True)
    # Two interfaces (Ethernet with nanoseconds, Linux cooked v1 with microseconds) in one pcapng.
    merged = os.path.join(OUT, 'two-interfaces.pcapng')
    subprocess.run(['mergecap', '-F', 'pcapng', '-w', merged, os.path.join(OUT, 'abort.pcap'), os.path.join(OUT, 'half-close.pcap')], check=True)

    # A capture that missed packets (a busy capture host): frames 6 and 9 of the bulk transfer removed.
    subprocess.run(['editcap', os.path.join(OUT, 'offload.pcap'), os.path.join(OUT, 'missed-by-capture.pcap'), '6', '9'], check=True)

    # ---- damaged ----
    data = open(base, 'rb').read()
    # Cut in the middle of the 8th packet's bytes.
    p = 24
    for _ in range(7):
        p += 16 + struct.unpack('<I', data[p + 8:p + 12])[0]
    open(os.path.join(OUT, 'damaged-cut.pcap'), 'wb').write(data[:p + 16 + 20])
    # The 5th record claims 2 GB.
    p = 24
    for _ in range(4):
        p += 16 + struct.unpack('<I', data[p + 8:p + 12])[0]
    bad = bytearray(data)
    bad[p + 8:p + 12] = struct.pack('<I', 0x7FFFFFF0)
    open(os.path.join(OUT, 'damaged-length.pcap'), 'wb').write(bytes(bad))
    # pcapng: the 6th block's trailing length disagrees with its leading one; and a file cut mid-block.
    ng = open(os.path.join(OUT, 'keepalive.pcapng'), 'rb').read()
    p = 0
    for _ in range(5):
        p += struct.unpack('<I', ng[p + 4:p + 8])[0]
    ln = struct.unpack('<I', ng[p + 4:p + 8])[0]
    bad = bytearray(ng)
    bad[p + ln - 4:p + ln] = struct.pack('<I', ln + 4)
    open(os.path.join(OUT, 'damaged-block.pcapng'), 'wb').write(bytes(bad))
    open(os.path.join(OUT, 'damaged-truncated.pcapng'), 'wb').write(ng[:len(ng) - 37])
    open(os.path.join(OUT, 'damaged-not-a-capture.pcap'), 'wb').write(b'GET / HTTP/1.1\r\nHost: example\r\n\r\n')
    print('variants and damaged files written')


if __name__ == '__main__':
    sys.exit(derive())
