/**
 * Real captures (test/fixtures/captures, made with this machine's Linux stack
 * by scripts/captures/lab.py) imported and checked: every trace is exactly the
 * reviewed golden file in expected/, has no error-severity diagnostic, and has
 * the diagnostics listed in expected/manifest.json; link-layer and format
 * variants of one capture give the same trace; damaged files give an error at
 * the right byte offset plus the connections read before it.
 *
 * UPDATE_GOLDEN=1 rewrites expected/ from the current importer (review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { check, stateName, type CheckResult } from '../../src/core';
import { importCaptureBytes, type ConnectionSummary, type ImportReport } from '../../src/core/capture';

const DIR = resolve(__dirname, '../fixtures/captures');
const EXPECTED = join(DIR, 'expected');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Imported {
  report: ImportReport;
  traces: { summary: ConnectionSummary; text: string; result: CheckResult }[];
}

function importFile(name: string): Imported {
  const traces: Imported['traces'] = [];
  const report = importCaptureBytes(readFileSync(join(DIR, name)), {
    captureName: name,
    onConnection: (summary, text) => traces.push({ summary, text: text!, result: check(text!) }),
  });
  traces.sort((a, b) => a.summary.id - b.summary.id);
  return { report, traces };
}

/** Diagnostic codes with their counts, by severity: `{ information: { TT209: 1 } }`. */
function codeCounts(r: CheckResult): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const d of r.diagnostics) {
    const bucket = (out[d.severity] ??= {});
    bucket[d.code] = (bucket[d.code] ?? 0) + 1;
  }
  for (const k of Object.keys(out)) out[k] = Object.fromEntries(Object.entries(out[k]).sort());
  return out;
}

interface ManifestEntry {
  connections: number;
  error?: { offset: number; message: string };
  traces: { ended: string; diagnostics: Record<string, Record<string, number>> }[];
}

const captures = readdirSync(DIR)
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .sort();
const manifestPath = join(EXPECTED, 'manifest.json');
let manifest: Record<string, ManifestEntry> = existsSync(manifestPath) && !UPDATE ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
const imported = new Map<string, Imported>(captures.map((f) => [f, importFile(f)]));

if (UPDATE) {
  mkdirSync(EXPECTED, { recursive: true });
  const m: Record<string, ManifestEntry> = {};
  for (const [file, imp] of imported) {
    m[file] = {
      connections: imp.report.connections,
      ...(imp.report.error ? { error: { offset: imp.report.error.offset, message: imp.report.error.message } } : {}),
      traces: imp.traces.map((t) => ({ ended: t.summary.ended, diagnostics: codeCounts(t.result) })),
    };
    for (const t of imp.traces) writeFileSync(join(EXPECTED, `${file.replace(/\.(pcap|pcapng)$/, '')}-${t.summary.id}.tcptrace`), t.text);
  }
  writeFileSync(manifestPath, JSON.stringify(m, null, 2) + '\n');
  manifest = m;
}

test('there are fixtures for every case the issue names, in both file formats', () => {
  for (const name of [
    'handshake-data-close',
    'server-closes-first-v6',
    'half-close',
    'refused',
    'abort',
    'unread-close',
    'keepalive',
    'zero-window',
    'retransmission',
    'port-reuse',
  ]) {
    assert.ok(captures.some((f) => f.startsWith(`${name}.`)), `fixture ${name} is missing`);
  }
  assert.ok(captures.some((f) => f.endsWith('.pcap')) && captures.some((f) => f.endsWith('.pcapng')));
  assert.equal(Object.keys(manifest).sort().join(), captures.join(), 'manifest.json lists exactly the fixtures (UPDATE_GOLDEN=1 to regenerate)');
});

for (const file of captures) {
  test(`${file}: imports as reviewed, with no error diagnostics`, () => {
    const imp = imported.get(file)!;
    const want = manifest[file];
    assert.ok(want, `no manifest entry for ${file}`);
    assert.equal(imp.report.connections, want.connections, 'connections');
    if (want.error) {
      assert.ok(imp.report.error, 'a damaged file reports its damage');
      assert.equal(imp.report.error.offset, want.error.offset);
      assert.equal(imp.report.error.message, want.error.message);
      assert.match(imp.report.error.message, new RegExp(`byte ${want.error.offset}\\b|^Not a pcap`), 'the message names the offset');
    } else assert.equal(imp.report.error, undefined, `unexpected damage: ${imp.report.error?.message}`);
    assert.equal(imp.traces.length, want.traces.length);
    imp.traces.forEach((t, i) => {
      const golden = join(EXPECTED, `${file.replace(/\.(pcap|pcapng)$/, '')}-${t.summary.id}.tcptrace`);
      assert.equal(t.text, readFileSync(golden, 'utf8'), `${golden} (UPDATE_GOLDEN=1 to accept a change)`);
      const errors = t.result.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(
        errors.map((d) => `${d.line + 1}: ${d.code} ${d.message}`),
        [],
        'real traffic from a correct stack gives no error',
      );
      assert.equal(t.summary.ended, want.traces[i].ended);
      assert.deepEqual(codeCounts(t.result), want.traces[i].diagnostics, 'diagnostics');
      // No endpoint acts on a segment it has not received: no ack of undelivered bytes, anywhere.
      if (!file.startsWith('missed-by-capture') && !file.startsWith('damaged')) {
        assert.ok(!t.result.diagnostics.some((d) => d.code === 'TT301' || d.code === 'TT300'), 'no ack of unseen bytes, no gap');
      }
    });
  });
}

/** The states each endpoint went through, in order, without repeats. */
function journey(r: CheckResult, ep: number): string[] {
  const out: string[] = [stateName(r.timeline.initialStates[ep])];
  for (let i = 0; i < r.timeline.length; i++) {
    const s = stateName(r.timeline.state(i, ep));
    if (out[out.length - 1] !== s) out.push(s);
  }
  return out;
}

function only(file: string): Imported['traces'][number] {
  const imp = imported.get(file)!;
  assert.equal(imp.traces.length, 1);
  return imp.traces[0];
}

test('crossing FINs captured on one host: both endpoints go through CLOSING', () => {
  const t = only('simultaneous-close.pcap');
  assert.match(t.text, /~> server: FIN,ACK .* as f\d+/);
  assert.deepEqual(journey(t.result, 0).slice(-3), ['FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
  assert.deepEqual(journey(t.result, 1).slice(-3), ['FIN_WAIT_1', 'CLOSING', 'TIME_WAIT']);
});

test('crossing SYNs: both endpoints go through SYN_RCVD, nobody listens', () => {
  const t = only('simultaneous-open.pcap');
  assert.doesNotMatch(t.text, /listen/);
  for (const ep of [0, 1]) assert.deepEqual(journey(t.result, ep).slice(0, 4), ['CLOSED', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED']);
});

test('the side that answered the first SYN listens; a refused SYN is answered from CLOSED', () => {
  assert.match(only('handshake-data-close.pcap').text, /^server: listen$/m);
  const refused = only('refused.pcapng');
  assert.doesNotMatch(refused.text, /listen/);
  assert.equal(refused.summary.end, 'refused');
  assert.deepEqual(journey(refused.result, 0), ['CLOSED', 'SYN_SENT', 'CLOSED']);
});

test('abort and close with unread data end in a RST', () => {
  for (const f of ['abort.pcap', 'unread-close.pcap']) {
    const t = only(f);
    assert.equal(t.summary.end, 'reset', f);
    assert.match(t.text, /: RST/);
  }
  assert.match(only('unread-close.pcap').summary.ended, /server/);
  assert.match(only('abort.pcap').summary.ended, /client/);
});

test('keep-alives, zero windows and their probes are information', () => {
  const ka = codeCounts(only('keepalive.pcapng').result);
  assert.ok((ka.information?.TT405 ?? 0) >= 2, 'keep-alive probes');
  const zw = codeCounts(only('zero-window.pcap').result);
  assert.ok((zw.information?.TT401 ?? 0) >= 1 && (zw.information?.TT402 ?? 0) >= 1, 'zero window and probes');
});

test('a retransmission seen at the sender: the original is lost, the receiver gets the rest out of order', () => {
  const t = only('retransmission.pcap');
  assert.equal((t.text.match(/^[\d.]+ server -x client:/gm) ?? []).length, 1);
  const c = codeCounts(t.result).information ?? {};
  assert.ok(c.TT303 >= 1 && c.TT305 >= 1 && c.TT304 >= 1);
});

test('a loss before a receiver-side capture point is inferred; a reordered original is moved to where it was sent', () => {
  const loss = only('loss-at-receiver.pcapng');
  assert.equal((loss.text.match(/^server -x client: .* # not captured: lost before the capture point/gm) ?? []).length, 2);
  const re = only('reorder.pcap');
  assert.match(re.text, /^server ~> client: .* as f\d+ {2}# frame \d+, captured at [\d.]+: sent before frame \d+, which overtook it$/m);
  assert.ok((codeCounts(re.result).information?.TT305 ?? 0) >= 1);
});

test('reordering on the way to the capture point: an endpoint never acts on what it cannot have had yet', () => {
  // The client's last ACK reached the server after the server had answered, from LAST_ACK, a stale
  // ACK of the client's: the server is not CLOSED before it sends that answer.
  const last = only('reordered-last-ack.pcap');
  assert.match(last.text, /^[\d.]+ client ~> server: ACK .* as f14 {2}# frame 14\n[\d.]+ server -> client: ACK .*# frame 15\ndeliver f14\n/m);
  assert.deepEqual(journey(last.result, 1).slice(-3), ['CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  // The server's retransmission with the older acknowledgment was sent before its FIN (which
  // acknowledges the client's FIN), and overtaken by it.
  const re = only('reordered-retransmission.pcap');
  assert.match(re.text, /^server ~> client: ACK seq=\d+ ack=(\d+) .* as f169 {2}# frame 169, captured at [\d.]+: sent before frame 167, which overtook it\n(?:.*\n){1,3}deliver f164\n[\d.]+ server -> client: FIN,ACK .*# frame 167$/m);
  for (const t of [last, re]) assert.deepEqual(t.result.diagnostics.filter((d) => d.severity !== 'information').map((d) => d.code), []);
});

test('ECN negotiated on the handshake: its flags are written and checked', () => {
  const t = only('ecn.pcap');
  assert.match(t.text, /^[\d.]+ client -> server: SYN,ECE,CWR seq=/m);
  assert.match(t.text, /^[\d.]+ server -> client: SYN,ACK,ECE seq=/m);
  assert.deepEqual(journey(t.result, 0).slice(0, 3), ['CLOSED', 'SYN_SENT', 'ESTABLISHED']);
});

test('TCP Fast Open: data on the SYN accepted (the server sends before the handshake completes) or declined (sent again)', () => {
  const imp = imported.get('fast-open.pcap')!;
  assert.equal(imp.traces.length, 3);
  const [cookie, accepted, declined] = imp.traces;
  assert.doesNotMatch(cookie.text, /: SYN seq=\d+ len=/);
  // Accepted: the SYN,ACK acknowledges the request, and the server sends its answer in SYN_RCVD.
  const syn = /client -> server: SYN seq=(\d+) len=(\d+) /.exec(accepted.text)!;
  const ack = Number(syn[1]) + 1 + Number(syn[2]);
  assert.match(accepted.text, new RegExp(`server -> client: SYN,ACK seq=\\d+ ack=${ack} `));
  const lines = accepted.text.split('\n');
  const tl = accepted.result.timeline;
  let sentInSynRcvd = 0;
  for (let i = 0; i < tl.length; i++) {
    if (/^[\d.]+ server (->|~>) client: .* len=\d+/.test(lines[tl.line(i)]) && stateName(tl.stateBefore(i, 1)) === 'SYN_RCVD') sentInSynRcvd++;
  }
  assert.ok(sentInSynRcvd >= 1, 'the server sends data while in SYN_RCVD');
  assert.deepEqual(accepted.result.diagnostics.filter((d) => d.severity !== 'information'), []);
  // Declined: the SYN,ACK acknowledges the SYN alone; the SYN still arrived (no ~>), and the request comes again.
  const dsyn = /client (->|~>) server: SYN seq=(\d+) len=(\d+) /.exec(declined.text)!;
  assert.equal(dsyn[1], '->');
  assert.match(declined.text, new RegExp(`server -> client: SYN,ACK seq=\\d+ ack=${Number(dsyn[2]) + 1} `));
  assert.ok((codeCounts(declined.result).information?.TT303 ?? 0) >= 1, 'the request sent again is a retransmission');
  assert.deepEqual(declined.result.diagnostics.filter((d) => d.severity !== 'information'), []);
});

test('a SYN whose SYN,ACK was lost is not itself lost: the SYN,ACK echoes its timestamp', () => {
  const t = only('synack-lost.pcap');
  assert.doesNotMatch(t.text, /client -x server: SYN/);
  assert.match(only('syn-lost.pcap').text, /client -x server: SYN/);
});

test('a reused 4-tuple is a second connection that says so', () => {
  const imp = imported.get('port-reuse.pcap')!;
  assert.equal(imp.traces.length, 2);
  assert.equal(imp.traces[0].summary.endpoints[0].text, imp.traces[1].summary.endpoints[0].text);
  assert.equal(imp.traces[1].summary.reuses, 1);
  assert.match(imp.traces[1].text, /reuses the 4-tuple of connection 1/);
});

test('a capture that starts mid-connection opens with an assumed handshake and says so', () => {
  const t = only('mid-connection.pcap');
  assert.equal(t.summary.opening, 'mid');
  assert.match(t.text, /== Before the capture \(assumed\) ==\nnote over client, server: The capture starts mid-connection/);
  assert.deepEqual(journey(t.result, 1).slice(0, 4), ['CLOSED', 'LISTEN', 'SYN_RCVD', 'ESTABLISHED']);
});

test('segments larger than the MSS (segmentation offload at the sender) are no problem', () => {
  const t = only('offload.pcap');
  const mss = Number(/mss=(\d+)/.exec(t.text)![1]);
  const lens = [...t.text.matchAll(/ len=(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(Math.max(...lens) > mss, 'the capture has super-segments');
});

test('IPv6 with a destination-options header and IPv4 with options decode', () => {
  assert.match(only('ipv6-dstopts.pcapng').text, /^endpoint client \[fd77::1\]:\d+$/m);
  assert.match(only('ipv4-options.pcap').text, /^endpoint client 10\.77\.0\.1:\d+$/m);
});

/** The trace without its first comment lines (which name the file). */
const body = (text: string): string => text.replace(/^# Imported from \S+:/, '# Imported:');

test('every link layer and byte order gives the same trace', () => {
  const base = body(only('handshake-data-close.pcap').text);
  for (const v of ['variant-raw-ip.pcap', 'variant-bsd-loopback.pcap', 'variant-vlan.pcap', 'variant-big-endian.pcap']) {
    assert.equal(body(only(v).text), base, v);
  }
  assert.equal(body(only('variant-big-endian-ns.pcap').text), body(only('abort.pcap').text));
  assert.match(only('abort.pcap').text, /^0\.000000000 /m, 'nanosecond captures keep nanoseconds');
});

test('captures that see each packet twice (on both interfaces of the middle host) write each once', () => {
  // The bridge dropped one frame after the capture saw it: that one is seen once, every other one twice.
  for (const [file, v6] of [
    ['copies-any.pcap', false],
    ['copies-any-v6.pcap', true],
    ['copies-two-interfaces.pcapng', false],
  ] as const) {
    const imp = imported.get(file)!;
    const t = only(file);
    assert.equal(imp.report.copies, imp.report.segments - imp.report.copies - 1, file);
    assert.equal(t.summary.copies, imp.report.copies, file);
    assert.match(t.text, new RegExp(`^# ${imp.report.copies} packets were copies of another`, 'm'), file);
    assert.equal(t.text.match(/ -x /g)?.length, 1, `${file}: only the dropped frame is lost`);
    if (v6) {
      // SACK is off: the client's duplicate ACKs are identical, and each stays (as the capture saw it once per interface).
      const ack = /^[\d.]+ client -> server: ACK seq=\d+ ack=(\d+) .*$/gm;
      const acks = [...t.text.matchAll(ack)].map((m) => m[0].replace(/^[\d.]+ /, '').replace(/ {2}#.*/, ''));
      const most = Math.max(...acks.map((a) => acks.filter((b) => b === a).length));
      assert.ok(most >= 3, `${file}: identical duplicate ACKs stay (${most})`);
    }
  }
});

test('a pcapng with two interfaces (different link types and resolutions) gives both connections', () => {
  const imp = imported.get('two-interfaces.pcapng')!;
  assert.deepEqual(imp.report.linkTypes, [1, 113]);
  assert.equal(imp.traces.length, 2);
  const byPort = (t: Imported['traces'][number]): string => t.summary.ended;
  assert.deepEqual(imp.traces.map(byPort), [only('half-close.pcap').summary.ended, only('abort.pcap').summary.ended]);
});

test('damaged files: located errors and the connections read before them', () => {
  const cut = imported.get('damaged-cut.pcap')!;
  assert.match(cut.report.error!.message, /cut short.*byte \d+/);
  assert.equal(cut.traces.length, 1);
  assert.ok(cut.traces[0].summary.packets < only('handshake-data-close.pcap').summary.packets);
  assert.match(imported.get('damaged-length.pcap')!.report.error!.message, /claims 2147483632 captured bytes/);
  assert.match(imported.get('damaged-block.pcapng')!.report.error!.message, /length at its end/);
  assert.match(imported.get('damaged-truncated.pcapng')!.report.error!.message, /cut short/);
  assert.equal(imported.get('damaged-not-a-capture.pcap')!.report.connections, 0);
});
