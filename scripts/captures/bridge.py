#!/usr/bin/env python3
"""A user-space Ethernet bridge between two interfaces, with delay, loss and
reordering: what netem would do, which this kernel lacks.

Runs in the middle network namespace of the lab (see lab.py): every frame
that arrives on one interface leaves on the other after DELAY milliseconds,
unless a rule drops it or holds it longer. Both TCP stacks stay the real
kernel's; only the wire between them is simulated.

Rules (repeatable --rule): DIR:KIND:N:ACTION
  DIR     a2b (first interface to second) or b2a
  KIND    data (TCP with payload), syn, fin, ack (TCP without payload or
          SYN/FIN), any (any TCP frame)
  N       which frame of that kind, counting from 1 in that direction
  ACTION  drop, or hold=MS (extra delay, so that later frames overtake it)
--loss P --seed S drops a seeded random fraction P of data frames each way
(of any TCP frame with --loss-any). --jitter MS delays a seeded tenth of the
TCP frames by up to MS milliseconds more, so that later frames overtake them.
"""
import argparse
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_kind(frame):
    """(is_tcp, has_payload, flags) of an Ethernet frame."""
    if len(frame) < 14:
        return False, False, 0
    ethertype = struct.unpack('!H', frame[12:14])[0]
    p = 14
    if ethertype == 0x0800:
        ihl = (frame[p] & 0x0F) * 4
        total = struct.unpack('!H', frame[p + 2:p + 4])[0]
        if frame[p + 9] != 6:
            return False, False, 0
        t = p + ihl
        hdr = (frame[t + 12] >> 4) * 4
        return True, total - ihl - hdr > 0, frame[t + 13]
    if ethertype == 0x86DD:
        plen = struct.unpack('!H', frame[p + 4:p + 6])[0]
        nxt = frame[p + 6]
        t = p + 40
        while nxt in (0, 43, 60):
            nxt, ext = frame[t], (frame[t + 1] + 1) * 8
            t += ext
        if nxt != 6:
            return False, False, 0
        hdr = (frame[t + 12] >> 4) * 4
        return True, (p + 40 + plen) - t - hdr > 0, frame[t + 13]
    return False, False, 0


class Rule:
    def __init__(self, text):
        d, kind, n, action = text.split(':')
        assert d in ('a2b', 'b2a'), text
        assert kind in ('data', 'syn', 'fin', 'ack', 'any'), text
        self.dir, self.kind, self.n = d, kind, int(n)
        if action == 'drop':
            self.hold = None
        else:
            assert action.startswith('hold='), text
            self.hold = float(action[5:]) / 1000
        self.seen = 0

    def matches(self, d, payload, flags):
        if d != self.dir:
            return False
        k = self.kind
        if k == 'data' and not payload:
            return False
        if k == 'syn' and not flags & 0x02:
            return False
        if k == 'fin' and not flags & 0x01:
            return False
        if k == 'ack' and (payload or flags & 0x03):
            return False
        self.seen += 1
        return self.seen == self.n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('a')
    ap.add_argument('b')
    ap.add_argument('--delay', type=float, default=0.0, help='one-way delay in ms')
    ap.add_argument('--rule', action='append', default=[])
    ap.add_argument('--loss', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--loss-any', action='store_true', help='random loss hits any TCP frame, not only data')
    ap.add_argument('--jitter', type=float, default=0.0, help='a tenth of TCP frames wait up to this many ms more (reordering)')
    args = ap.parse_args()
    rules = [Rule(r) for r in args.rule]
    rng = random.Random(args.seed)
    delay = args.delay / 1000

    socks = {}
    for name in (args.a, args.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    out = {args.a: socks[args.b], args.b: socks[args.a]}
    direction = {args.a: 'a2b', args.b: 'b2a'}
    queue = []  # (due, order, socket, frame)
    order = 0
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print('bridge ready', flush=True)
    while running:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, s, frame = heapq.heappop(queue)
            try:
                s.send(frame)
            except OSError:
                pass
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.2
        try:
            ready, _, _ = select.select(list(socks.values()), [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            frame, addr = s.recvfrom(65600)
            if addr[2] == PACKET_OUTGOING:
                continue
            name = addr[0]
            d = direction[name]
            is_tcp, payload, flags = tcp_kind(frame)
            extra = 0.0
            if is_tcp:
                action = None
                for r in rules:
                    if r.matches(d, payload, flags):
                        action = r
                if action is not None and action.hold is None:
                    print(f'bridge: dropped a {d} frame ({action.kind} #{action.n})', flush=True)
                    continue
                if action is not None:
                    extra = action.hold
                if (payload or args.loss_any) and args.loss > 0 and rng.random() < args.loss:
                    print(f'bridge: dropped a {d} {"data " if payload else ""}frame at random', flush=True)
                    continue
                if args.jitter > 0 and rng.random() < 0.1:
                    extra += rng.random() * args.jitter / 1000
            order += 1
            heapq.heappush(queue, (time.monotonic() + delay + extra, order, out[name], frame))
    for s in socks.values():
        s.close()


if __name__ == '__main__':
    sys.exit(main())
