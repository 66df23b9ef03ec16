#!/usr/bin/env python3
"""The two ends of each capture scenario, as plain socket programs run by
lab.py inside the lab's network namespaces (the kernel's own TCP on both
sides).

    peers.py ROLE SCENARIO [--at EPOCH] [--v6]

ROLE is client or server. --at gives a wall-clock moment both ends act at
(simultaneous open and close); --v6 uses the IPv6 addresses, --direct the
direct veth pair (no bridge, default offloads).
"""
import argparse
import socket
import struct
import sys
import time

V4 = ('10.77.0.1', '10.77.0.2')
V6 = ('fd77::1', 'fd77::2')
DIRECT = ('10.78.0.1', '10.78.0.2')
PORT = 8080
REQUEST = b'GET /index.html HTTP/1.1\r\nHost: lab\r\n\r\n'
# Linux's values, which Python's socket module does not name.
TCP_FASTOPEN = 23
MSG_FASTOPEN = 0x20000000


def recv_exact(s, n):
    got = b''
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            break
        got += d
    return got


def recv_until_eof(s):
    total = 0
    while True:
        d = s.recv(65536)
        if not d:
            return total
        total += len(d)


def recv_request(s):
    got = b''
    while b'\r\n\r\n' not in got:
        d = s.recv(4096)
        if not d:
            break
        got += d
    return got


def response(n):
    head = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % n
    return head + bytes((i * 7) & 0xFF for i in range(n))


def until(at):
    if at:
        time.sleep(max(0.0, at - time.time()))


class Env:
    def __init__(self, v6, direct):
        self.family = socket.AF_INET6 if v6 else socket.AF_INET
        self.client, self.server = V6 if v6 else DIRECT if direct else V4

    def sock(self):
        return socket.socket(self.family, socket.SOCK_STREAM)

    def listener(self, port=PORT, rcvbuf=None, setup=None):
        s = self.sock()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if setup:
            setup(s)
        s.bind((self.server, port))
        s.listen(8)
        print('server ready', flush=True)
        return s

    def connect(self, port=PORT, bind=None, setup=None):
        s = self.sock()
        if setup:
            setup(s)
        if bind:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.client, bind))
        s.connect((self.server, port))
        return s


def dstopts(s):
    # A destination-options extension header (8 bytes: PadN), sticky on the socket.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))


def ipopts(s):
    # IPv4 options: record route with room for one address, then end of options.
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 7, 4, 0, 0, 0, 0, 0]))


# ---- scenarios: server side ----

def serve_basic(env, a, setup=None):
    ls = env.listener(setup=setup)
    c, _ = ls.accept()
    recv_request(c)
    c.sendall(response(3000))
    recv_until_eof(c)
    c.close()


def serve_server_first(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    recv_request(c)
    c.sendall(response(3000))
    c.close()
    time.sleep(0.5)


def serve_half_close(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    recv_until_eof(c)  # the client's FIN first
    time.sleep(0.05)
    c.sendall(response(2000))
    c.close()


def serve_abort(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    recv_request(c)
    c.sendall(response(1000))
    try:
        recv_until_eof(c)
    except ConnectionResetError:
        pass
    c.close()


def serve_unread(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    time.sleep(0.3)  # everything arrives; the application reads only a little
    c.recv(16)
    c.close()  # data left unread: RST instead of FIN (RFC 2525)
    time.sleep(0.3)


def serve_echo(env, a, rcvbuf=None, delay_read=0.0):
    ls = env.listener(rcvbuf=rcvbuf)
    c, _ = ls.accept()
    if delay_read:
        time.sleep(delay_read)
    while True:
        d = c.recv(65536)
        if not d:
            break
        if not rcvbuf:
            c.sendall(d)
    c.close()


def serve_bulk(env, a, size):
    ls = env.listener()
    c, _ = ls.accept()
    recv_request(c)
    c.sendall(response(size))
    recv_until_eof(c)
    c.close()


def serve_reuse(env, a):
    ls = env.listener()
    for _ in range(2):
        c, _ = ls.accept()
        recv_request(c)
        c.sendall(response(500))
        c.close()  # the server closes first: its side of the 4-tuple waits in TIME_WAIT
        time.sleep(0.05)


def serve_simultaneous_close(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    recv_request(c)
    c.sendall(response(200))
    until(a.at)
    c.shutdown(socket.SHUT_WR)
    recv_until_eof(c)
    c.close()
    time.sleep(0.5)


def peer_simultaneous_open(env, a, me, other, mine, theirs):
    s = env.sock()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((me, mine))
    until(a.at)
    for _ in range(20):
        try:
            s.connect((other, theirs))
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    s.sendall(b'hello from %d\n' % mine)
    recv_exact(s, 16)
    time.sleep(0.2)
    s.close()
    time.sleep(0.5)


def fast_open_key(key):
    with open('/proc/sys/net/ipv4/tcp_fastopen_key', 'w') as f:
        f.write(key)


def serve_fast_open(env, a):
    # TCP Fast Open (RFC 7413): the first connection gets a cookie, the second sends its request on the
    # SYN and it is accepted; then the server's key changes, so the third one's cookie is no longer
    # valid: the server acknowledges only the SYN (and sends a new cookie), and the client sends its
    # request again.
    fast_open_key('00000001-00000002-00000003-00000004')
    ls = env.listener(setup=lambda s: s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 8))
    for i in range(3):
        c, _ = ls.accept()
        recv_request(c)
        c.sendall(response(3000))
        recv_until_eof(c)
        c.close()
        if i == 1:
            fast_open_key('0000000a-0000000b-0000000c-0000000d')


# ---- scenarios: client side ----

def client_basic(env, a, setup=None):
    s = env.connect(setup=setup)
    s.sendall(REQUEST)
    recv_exact(s, len(response(3000)))
    s.close()  # the client closes first
    time.sleep(0.3)


def client_fast_open(env, a):
    for _ in range(3):
        s = env.sock()
        # connect() and the first data in one call: with a cookie from the last connection, the data rides on the SYN.
        s.sendto(REQUEST, MSG_FASTOPEN, (env.server, PORT))
        recv_exact(s, len(response(3000)))
        s.close()
        time.sleep(0.3)


def client_read_to_eof(env, a):
    s = env.connect()
    s.sendall(REQUEST)
    recv_until_eof(s)
    time.sleep(0.02)
    s.close()
    time.sleep(0.3)


def client_half_close(env, a):
    s = env.connect()
    s.sendall(REQUEST)
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s)
    s.close()
    time.sleep(0.3)


def client_refused(env, a):
    try:
        env.connect(port=PORT + 1)
    except ConnectionRefusedError:
        pass
    time.sleep(0.2)


def client_abort(env, a):
    s = env.connect()
    s.sendall(REQUEST)
    recv_exact(s, len(response(1000)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()  # linger 0: ABORT, a RST instead of a FIN
    time.sleep(0.3)


def client_unread(env, a):
    s = env.connect()
    s.sendall(REQUEST + b'x' * 2000)
    try:
        recv_until_eof(s)
    except ConnectionResetError:
        pass
    s.close()
    time.sleep(0.2)


def client_keepalive(env, a):
    def ka(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
    s = env.connect(setup=ka)
    s.sendall(b'ping\n')
    recv_exact(s, 5)
    time.sleep(3.5)  # idle: the stack probes the peer every second
    s.close()
    time.sleep(0.3)


def client_zero_window(env, a):
    s = env.connect()
    s.sendall(b'z' * 60000)  # more than the server's small buffer: its window closes
    s.close()
    time.sleep(0.3)


def client_bulk(env, a, size):
    s = env.connect()
    s.sendall(REQUEST)
    recv_exact(s, len(response(size)))
    s.close()
    time.sleep(0.5)


def client_reuse(env, a):
    for _ in range(2):
        s = env.connect(bind=40000)
        s.sendall(REQUEST)
        recv_until_eof(s)
        s.close()
        time.sleep(0.3)


def client_simultaneous_close(env, a):
    s = env.connect()
    s.sendall(REQUEST)
    recv_exact(s, len(response(200)))
    until(a.at)
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s)
    s.close()
    time.sleep(0.5)


def both_ways(s, size):
    # Both ends send and receive at once: data crosses data, and acknowledgments ride on it.
    import threading
    got = []
    t = threading.Thread(target=lambda: got.append(len(recv_exact(s, size))))
    t.start()
    s.sendall(bytes(i & 0xFF for i in range(size)))
    t.join()


def serve_both_ways(env, a):
    ls = env.listener()
    c, _ = ls.accept()
    both_ways(c, 150000)
    recv_until_eof(c)
    c.close()


def client_both_ways(env, a):
    s = env.connect()
    both_ways(s, 150000)
    s.close()
    time.sleep(1.0)


def client_chatty(env, a):
    s = env.connect()
    for i in range(16):
        s.sendall(b'tick %02d\n' % i)
        recv_exact(s, 8)
        time.sleep(0.2)
    s.close()
    time.sleep(0.3)


SCENARIOS = {
    'basic': (serve_basic, client_basic),
    'server-first': (serve_server_first, client_read_to_eof),
    'half-close': (serve_half_close, client_half_close),
    'refused': (None, client_refused),
    'abort': (serve_abort, client_abort),
    'unread': (serve_unread, client_unread),
    'keepalive': (lambda e, a: serve_echo(e, a), client_keepalive),
    'zero-window': (lambda e, a: serve_echo(e, a, rcvbuf=2048, delay_read=2.5), client_zero_window),
    'bulk': (lambda e, a: serve_bulk(e, a, 120000), lambda e, a: client_bulk(e, a, 120000)),
    'reuse': (serve_reuse, client_reuse),
    'simultaneous-close': (serve_simultaneous_close, client_simultaneous_close),
    'simultaneous-open': (
        lambda e, a: peer_simultaneous_open(e, a, e.server, e.client, 5002, 5001),
        lambda e, a: peer_simultaneous_open(e, a, e.client, e.server, 5001, 5002),
    ),
    'chatty': (lambda e, a: serve_echo(e, a), client_chatty),
    'both-ways': (serve_both_ways, client_both_ways),
    'dstopts': (lambda e, a: serve_basic(e, a, setup=dstopts), lambda e, a: client_basic(e, a, setup=dstopts)),
    'ipopts': (lambda e, a: serve_basic(e, a), lambda e, a: client_basic(e, a, setup=ipopts)),
    'fast-open': (serve_fast_open, client_fast_open),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('role', choices=['client', 'server'])
    ap.add_argument('scenario', choices=sorted(SCENARIOS))
    ap.add_argument('--at', type=float, default=0.0)
    ap.add_argument('--v6', action='store_true')
    ap.add_argument('--direct', action='store_true', help='the direct veth pair (10.78.0.0/24)')
    a = ap.parse_args()
    env = Env(a.v6, a.direct)
    serve, client = SCENARIOS[a.scenario]
    fn = serve if a.role == 'server' else client
    if fn is not None:
        fn(env, a)
    return 0


if __name__ == '__main__':
    sys.exit(main())
