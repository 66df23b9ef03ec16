#!/usr/bin/env python3
"""Makes the capture fixtures of test/fixtures/captures with this machine's
own TCP stack (run as root; needs iproute2, ethtool, tcpdump and tshark's
dumpcap/mergecap: `apt-get install iproute2 ethtool tcpdump tshark`).

    python3 scripts/captures/lab.py [NAME...]      # all fixtures, or some

The lab: three network namespaces. tt-cli (10.77.0.1, fd77::1) and tt-srv
(10.77.0.2, fd77::2) run the two ends (peers.py); tt-mid sits between them on
two veth pairs and forwards frames with bridge.py, which adds delay, loss and
reordering (netem is not available here). Offloads are off so that frames are
wire-sized with valid checksums. A capture runs on one host (the client's
or the server's interface), as a real one would; the copies fixtures capture
on both interfaces of the middle namespace, so that each packet is seen twice. Everything the lab creates
is deleted at the end, also on failure. Only the lab's own namespaces carry
traffic.

After the captures, relink.py derives the link-layer and format variants
(raw IP, BSD loopback, VLAN, big-endian, several interfaces in one pcapng)
and the damaged files.
"""
import os
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'captures')
PY = sys.executable or 'python3'
NS = ('tt-cli', 'tt-mid', 'tt-srv')

# Fast Open as a client (the client's namespace) and as a server (the server's).
FAST_OPEN = [('tt-cli', 'net.ipv4.tcp_fastopen', '1'), ('tt-srv', 'net.ipv4.tcp_fastopen', '3')]

# name: scenario, capture point (client or server side), format, link type (tcpdump -y), one-way delay
# (ms), bridge rules, options. The names say what each fixture shows.
FIXTURES = {
    'handshake-data-close': dict(scenario='basic', at='client', delay=2),
    'server-closes-first-v6': dict(scenario='server-first', at='server', fmt='pcapng', delay=2, v6=True),
    'half-close': dict(scenario='half-close', at='client', delay=2, link='LINUX_SLL'),
    'refused': dict(scenario='refused', at='client', fmt='pcapng', delay=1),
    'abort': dict(scenario='abort', at='server', delay=2, nano=True),
    'unread-close': dict(scenario='unread', at='client', delay=2, link='LINUX_SLL2'),
    'keepalive': dict(scenario='keepalive', at='client', fmt='pcapng', delay=1),
    'zero-window': dict(scenario='zero-window', at='client', delay=1),
    'retransmission': dict(scenario='bulk', at='server', delay=5, rules=['b2a:data:6:drop']),
    'loss-at-receiver': dict(scenario='bulk', at='client', fmt='pcapng', delay=5, rules=['b2a:data:6:drop', 'b2a:data:40:drop']),
    'reorder': dict(scenario='bulk', at='client', delay=5, rules=['b2a:data:8:hold=12']),
    'port-reuse': dict(scenario='reuse', at='client', delay=1),
    'simultaneous-close': dict(scenario='simultaneous-close', at='client', delay=50, sync=True),
    'simultaneous-open': dict(scenario='simultaneous-open', at='client', delay=50, sync=True, no_server_wait=True),
    'mid-connection': dict(scenario='chatty', at='client', delay=2, start_late=1.0),
    'ipv6-dstopts': dict(scenario='dstopts', at='client', fmt='pcapng', delay=1, v6=True, filter=''),
    'ipv4-options': dict(scenario='ipopts', at='server', delay=1),
    'syn-lost': dict(scenario='basic', at='client', delay=2, rules=['a2b:syn:1:drop']),
    'synack-lost': dict(scenario='basic', at='client', delay=2, rules=['b2a:syn:1:drop']),
    'fin-lost': dict(scenario='basic', at='client', delay=2, rules=['a2b:fin:1:drop']),
    'tail-loss': dict(scenario='basic', at='server', delay=5, rules=['b2a:data:3:drop']),
    # Both ends send at once over a lossy path (3 % of data frames each way, seeded), seen from each end.
    'lossy-both-ways-client': dict(scenario='both-ways', at='client', delay=5, loss=0.03, seed=7),
    'lossy-both-ways-server': dict(scenario='both-ways', at='server', delay=5, loss=0.03, seed=11),
    # Loss of any frame (2 %) and reordering (a tenth of the frames up to 20 ms late), seeded. In the
    # first, an ACK of the client's reaches the server after the FIN and is answered from LAST_ACK,
    # before the client's last ACK arrives. In the second, a retransmission of the server's is
    # overtaken by its FIN: it carries the older acknowledgment.
    'reordered-last-ack': dict(scenario='basic', at='client', delay=16, loss=0.02, seed=119, loss_any=True, jitter=20),
    'reordered-retransmission': dict(scenario='bulk', at='client', delay=1, loss=0.02, seed=107, loss_any=True, jitter=20),
    # Segmentation offload on the sender (a direct veth pair with the default offloads, no bridge):
    # its capture shows segments far larger than the MSS.
    'offload': dict(scenario='bulk', at='server', direct=True),
    # ECN negotiated on the handshake (RFC 3168: SYN with ECE and CWR, SYN,ACK with ECE): the client's
    # stack asks for it (by default Linux only accepts it).
    'ecn': dict(scenario='basic', at='client', delay=2, sysctl=[('tt-cli', 'net.ipv4.tcp_ecn', '1')]),
    # TCP Fast Open (RFC 7413): a cookie on the first connection, data on the SYN of the second
    # (accepted), and of the third after the server's key changed (declined: sent again).
    'fast-open': dict(scenario='fast-open', at='server', delay=2, sysctl=FAST_OPEN),
    'fast-open-at-client': dict(scenario='fast-open', at='client', delay=2, sysctl=FAST_OPEN),
    # Every packet captured twice: in the middle namespace on both of its interfaces (at='mid': tcpdump
    # -i any, Linux cooked v2 with each interface's index; or dumpcap on both, a pcapng with two
    # interfaces), as a capture on a host with a bridge or on a router shows it. The dropped frames are
    # seen once, on the way in. In the IPv6 one, SACK is off, so that the duplicate ACKs are identical.
    'copies-any': dict(scenario='bulk', at='mid', delay=5, link='LINUX_SLL2', rules=['b2a:data:6:drop']),
    'copies-any-v6': dict(scenario='bulk', at='mid', delay=5, link='LINUX_SLL2', v6=True, filter='tcp',
                          rules=['b2a:data:6:drop'], sysctl=[('tt-cli', 'net.ipv4.tcp_sack', '0')]),
    'copies-two-interfaces': dict(scenario='basic', at='mid', fmt='pcapng', delay=2, rules=['a2b:fin:1:drop']),
}


def run(*cmd, ns=None, check=True):
    full = (['ip', 'netns', 'exec', ns] if ns else []) + list(cmd)
    return subprocess.run(full, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def teardown():
    for ns in NS:
        run('ip', 'netns', 'del', ns, check=False)


def setup():
    teardown()
    for ns in NS:
        run('ip', 'netns', 'add', ns)
        run('ip', 'link', 'set', 'lo', 'up', ns=ns)
    run('ip', 'link', 'add', 'c0', 'netns', 'tt-cli', 'type', 'veth', 'peer', 'name', 'm0', 'netns', 'tt-mid')
    run('ip', 'link', 'add', 's0', 'netns', 'tt-srv', 'type', 'veth', 'peer', 'name', 'm1', 'netns', 'tt-mid')
    for ns, dev in (('tt-cli', 'c0'), ('tt-mid', 'm0'), ('tt-mid', 'm1'), ('tt-srv', 's0')):
        run('ethtool', '-K', dev, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'sg', 'off', ns=ns, check=False)
        run('ip', 'link', 'set', dev, 'up', ns=ns)
    for ns, dev, v4, v6 in (('tt-cli', 'c0', '10.77.0.1/24', 'fd77::1/64'), ('tt-srv', 's0', '10.77.0.2/24', 'fd77::2/64')):
        run('ip', 'addr', 'add', v4, 'dev', dev, ns=ns)
        run('ip', '-6', 'addr', 'add', v6, 'dev', dev, 'nodad', ns=ns)
    # The middle namespace has no addresses: its kernel ignores the frames the bridge forwards.
    # A second, direct pair with the kernel's default offloads (10.78.0.0/24), for the offload capture.
    run('ip', 'link', 'add', 'c1', 'netns', 'tt-cli', 'type', 'veth', 'peer', 'name', 's1', 'netns', 'tt-srv')
    for ns, dev, v4 in (('tt-cli', 'c1', '10.78.0.1/24'), ('tt-srv', 's1', '10.78.0.2/24')):
        run('ip', 'link', 'set', dev, 'up', ns=ns)
        run('ip', 'addr', 'add', v4, 'dev', dev, ns=ns)


def wait_line(proc, needle, timeout=10.0, stream='stderr'):
    f = getattr(proc, stream)
    end = time.time() + timeout
    buf = ''
    while time.time() < end:
        r, _, _ = select.select([f], [], [], 0.1)
        if r:
            line = f.readline()
            if not line:
                break
            buf += line
            if needle in line:
                return
    raise RuntimeError(f'timed out waiting for {needle!r}: {buf}')


def start_capture(spec, path):
    ns = {'client': 'tt-cli', 'server': 'tt-srv', 'mid': 'tt-mid'}[spec['at']]
    devs = ['m0', 'm1'] if spec['at'] == 'mid' else [('c' if spec['at'] == 'client' else 's') + ('1' if spec.get('direct') else '0')]
    dev = devs[0]
    filt = spec.get('filter', 'tcp')
    if spec.get('fmt') == 'pcapng':
        cmd = ['dumpcap', '-q', '-w', path] + sum((['-i', d] for d in devs), [])
        if filt:
            cmd += ['-f', filt]
        needle = 'Capturing on'
    else:
        # Immediate mode: every packet is written at once, none left in the ring when the capture stops.
        cmd = ['tcpdump', '--immediate-mode', '-U', '-w', path, '-Z', 'root']
        if spec['at'] == 'mid':
            cmd += ['-B', '65536']  # twice the packets, in bursts: a larger buffer, or the kernel drops some
        if spec.get('link'):
            cmd += ['-i', 'any', '-y', spec['link']]
        else:
            cmd += ['-i', dev]
        if spec.get('nano'):
            cmd += ['--time-stamp-precision=nano']
        if filt:
            cmd += [filt]
        needle = 'listening on'
    p = subprocess.Popen(['ip', 'netns', 'exec', ns] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_line(p, needle)
    time.sleep(0.2)
    return p


def capture(name, spec):
    # Per-namespace sysctls for this capture only: set, then put back for the next one.
    saved = []
    try:
        for ns, key, value in spec.get('sysctl', []):
            saved.append((ns, key, run('sysctl', '-n', key, ns=ns).stdout.strip()))
            run('sysctl', '-w', f'{key}={value}', ns=ns)
        capture_with(name, spec)
    finally:
        for ns, key, value in saved:
            run('sysctl', '-w', f'{key}={value}', ns=ns, check=False)


def capture_with(name, spec):
    ext = spec.get('fmt', 'pcap')
    path = os.path.join(OUT, f'{name}.{ext}')
    if os.path.exists(path):
        os.unlink(path)
    bridge = subprocess.Popen(
        ['ip', 'netns', 'exec', 'tt-mid', PY, os.path.join(HERE, 'bridge.py'), 'm0', 'm1', '--delay', str(spec.get('delay', 0))]
        + sum((['--rule', r] for r in spec.get('rules', [])), [])
        + (['--loss', str(spec['loss']), '--seed', str(spec.get('seed', 1))] if spec.get('loss') else [])
        + (['--loss-any'] if spec.get('loss_any') else [])
        + (['--jitter', str(spec['jitter'])] if spec.get('jitter') else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_line(bridge, 'bridge ready', stream='stdout')
    # Neighbour discovery first, so that it does not delay the first SYN.
    fam = '-6' if spec.get('v6') else '-4'
    target = 'fd77::2' if spec.get('v6') else '10.78.0.2' if spec.get('direct') else '10.77.0.2'
    run('ping', fam, '-c', '1', '-W', '2', target, ns='tt-cli', check=False)
    cap = None
    if not spec.get('start_late'):
        cap = start_capture(spec, path)
    extra = []
    if spec.get('v6'):
        extra.append('--v6')
    if spec.get('direct'):
        extra.append('--direct')
    if spec.get('sync'):
        extra += ['--at', f'{time.time() + 1.5:.6f}']
    peer = lambda role, ns: subprocess.Popen(  # noqa: E731
        ['ip', 'netns', 'exec', ns, PY, os.path.join(HERE, 'peers.py'), role, spec['scenario']] + extra,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = peer('server', 'tt-srv')
    if spec['scenario'] not in ('refused', 'simultaneous-open'):
        wait_line(server, 'server ready', stream='stdout')
    client = peer('client', 'tt-cli')
    if spec.get('start_late'):
        time.sleep(spec['start_late'])
        cap = start_capture(spec, path)
    for p, who in ((client, 'client'), (server, 'server')):
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            raise RuntimeError(f'{name}: the {who} did not finish')
        if p.returncode != 0:
            raise RuntimeError(f'{name}: the {who} failed: {err}')
    time.sleep(1.0)
    cap.send_signal(signal.SIGINT)
    _, cap_err = cap.communicate(timeout=10)
    got = re.search(r'(\d+) packets captured\s+(\d+) packets received by filter', cap_err)
    if got and got.group(1) != got.group(2):
        raise RuntimeError(f'{name}: the capture missed packets: {cap_err}')
    bridge.send_signal(signal.SIGTERM)
    out, _ = bridge.communicate(timeout=10)
    os.chmod(path, 0o644)
    notes = [l for l in out.splitlines() if l.startswith('bridge:')]
    print(f'{name}: {os.path.getsize(path)} bytes' + (f' ({"; ".join(n[8:] for n in notes)})' if notes else ''))


def main():
    if os.geteuid() != 0:
        sys.exit('lab.py needs root (network namespaces)')
    names = sys.argv[1:] or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            sys.exit(f'unknown fixture {n}; known: {", ".join(FIXTURES)}')
    os.makedirs(OUT, exist_ok=True)
    try:
        setup()
        for n in names:
            capture(n, FIXTURES[n])
    finally:
        teardown()
    if not sys.argv[1:]:
        subprocess.run([PY, os.path.join(HERE, "relink.py")], check=True)


if __name__ == '__main__':
    main()
