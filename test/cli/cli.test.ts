/**
 * The command-line contract of spec section 8, through the built CLI as a user
 * (or an outside test) runs it: `node bin/tcptrace-cli.js ...`.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'tcptrace-cli.js');

function run(args: string[], input?: string, env?: Record<string, string>): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input, env: env && { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'tcptrace-cli-'));
const ok = join(dir, 'ok.tcptrace');
const bad = join(dir, 'bad.tcptrace');

before(() => {
  if (!existsSync(join(root, 'dist', 'cli.js')) || !existsSync(join(root, 'dist', 'check-worker.js'))) spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  writeFileSync(
    ok,
    [
      'endpoint client 10.0.0.1:40000',
      'endpoint server 10.0.0.2:80',
      'server: listen',
      'client -> server: SYN seq=1000',
      'server -> client: SYN,ACK seq=5000 ack=1001',
      'client -> server: ACK seq=1001 ack=5001',
      'expect client ESTABLISHED, server ESTABLISHED',
      'client -> server: FIN,ACK seq=1001 ack=5001',
      'server -> client: FIN,ACK seq=5001 ack=1002',
      'client -> server: ACK seq=1002 ack=5002',
      'client: timeout',
      '',
    ].join('\n'),
  );
  writeFileSync(bad, 'server: listen\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1000\n');
});

test('--help prints the usage of every command and exits 0', () => {
  const r = run(['--help']);
  assert.equal(r.code, 0);
  for (const w of ['check', 'render', '--format', 'text|json', 'mermaid', '-o']) assert.ok(r.out.includes(w), w);
});

test('--version', () => {
  const r = run(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^\d+\.\d+\.\d+\n$/);
});

test('usage errors exit 2 with a clear message', () => {
  for (const [args, what] of [
    [[], /missing command/],
    [['frob'], /unknown command 'frob'/],
    [['check'], /check needs at least one FILE/],
    [['check', '--format', 'xml', ok], /unknown format 'xml'/],
    [['check', '--bogus', ok], /unknown option '--bogus'/],
    [['render'], /render needs exactly one FILE/],
    [['check', '--format'], /--format needs a value/],
  ] as [string[], RegExp][]) {
    const r = run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, what);
    assert.equal(r.out, '');
  }
});

test('a missing file is an I/O error: exit 2, the other files still checked', () => {
  const r = run(['check', join(dir, 'nope.tcptrace'), ok]);
  assert.equal(r.code, 2);
  assert.match(r.err, /nope\.tcptrace: no such file/);
  assert.match(r.out, /1 file checked: 0 errors/);
});

test('a directory is an I/O error', () => {
  const r = run(['check', dir]);
  assert.equal(r.code, 2);
  assert.match(r.err, /is a directory/);
});

test('check: exit 0 without errors, 1 with an error', () => {
  assert.equal(run(['check', ok]).code, 0);
  assert.equal(run(['check', ok, bad]).code, 1);
});

test('check text: FILE:LINE:COL: severity CODE: message, then a summary', () => {
  const r = run(['check', bad]);
  const lines = r.out.trim().split('\n');
  assert.ok(lines.some((l) => /^.*bad\.tcptrace:3:36: error TT302: SYN consumes one sequence number: .*ack=1001.*$/.test(l)), r.out);
  for (const l of lines.slice(0, -1)) assert.match(l, /^.+:\d+:\d+: (error|warning|information|hint) TT\d{3}: .+$/);
  assert.match(lines[lines.length - 1], /^1 file checked: 1 error, \d+ warnings?, \d+ information$/);
});

test('check --format json: the document of spec section 8, field for field', () => {
  const r = run(['check', '--format', 'json', ok, bad]);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.out);
  assert.deepEqual(Object.keys(doc), ['files']);
  assert.equal(doc.files.length, 2);
  const [a, b] = doc.files;
  assert.deepEqual(Object.keys(a), ['file', 'endpoints', 'diagnostics', 'timeline']);
  assert.equal(a.file, ok);
  assert.deepEqual(a.endpoints, [
    { name: 'client', address: '10.0.0.1:40000', finalState: 'CLOSED' },
    { name: 'server', address: '10.0.0.2:80', finalState: 'CLOSED' },
  ]);
  assert.deepEqual(a.diagnostics, []);
  // One entry per call, segment and deliver line; states after it, socket spelling.
  assert.equal(a.timeline.length, 8);
  assert.deepEqual(a.timeline[0], { line: 3, states: { client: 'CLOSED', server: 'LISTEN' } });
  assert.deepEqual(a.timeline[1], { line: 4, states: { client: 'SYN_SENT', server: 'SYN_RCVD' } });
  assert.deepEqual(a.timeline[3], { line: 6, states: { client: 'ESTABLISHED', server: 'ESTABLISHED' } });
  assert.deepEqual(a.timeline[7], { line: 11, states: { client: 'CLOSED', server: 'CLOSED' } });
  const d = b.diagnostics.find((x: { code: string }) => x.code === 'TT302');
  assert.deepEqual(Object.keys(d), ['code', 'severity', 'message', 'line', 'column', 'endLine', 'endColumn']);
  assert.deepEqual({ ...d, message: undefined }, { code: 'TT302', severity: 'error', message: undefined, line: 3, column: 36, endLine: 3, endColumn: 44 });
  assert.equal(readFileSync(bad, 'utf8').split('\n')[2].slice(d.column - 1, d.endColumn - 1), 'ack=1000');
  for (const x of b.diagnostics) assert.ok(['error', 'warning', 'information', 'hint'].includes(x.severity));
});

test('check reads standard input as -', () => {
  const r = run(['check', '--format', 'json', '-'], readFileSync(bad, 'utf8'));
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.out).files[0].file, '-');
});

test('endpoints without addresses give address null; unused endpoints are CLOSED', () => {
  const f = join(dir, 'noaddr.tcptrace');
  writeFileSync(f, 'server: listen\n');
  const doc = JSON.parse(run(['check', '--format', 'json', f]).out);
  assert.deepEqual(doc.files[0].endpoints, [{ name: 'server', address: null, finalState: 'LISTEN' }]);
  assert.deepEqual(doc.files[0].timeline, [{ line: 1, states: { server: 'LISTEN' } }]);
});

test('render --format mermaid writes a sequence diagram, to stdout or -o', () => {
  const r = run(['render', ok, '--format', 'mermaid']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^sequenceDiagram/m);
  const out = join(dir, 'out.mmd');
  const w = run(['render', ok, '-o', out]);
  assert.equal(w.code, 0);
  assert.equal(readFileSync(out, 'utf8'), r.out);
});

test('render of a missing file: exit 2', () => {
  const r = run(['render', join(dir, 'nope.tcptrace')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no such file/);
});

test('output piped into a reader that stops early (| head) is no crash: the status is still the check\'s', async () => {
  const { spawn } = await import('node:child_process');
  const files = Array.from({ length: 40 }, () => bad);
  const child = spawn(process.execPath, [bin, 'check', ...files], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // Read one chunk, then close the pipe, as `head -1` does.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(err, '', 'no stack trace');
  assert.equal(code, 1, 'exit status of the check (an error was found)');
});

test('import with the checks on the bundled worker thread (dist/check-worker.js) prints and writes what it does without', () => {
  const capture = join(root, 'test', 'fixtures', 'captures', 'lossy-both-ways-server.pcap');
  const outs = ['never', 'always'].map((mode) => {
    const out = join(dir, `import-${mode}`);
    const r = run(['import', capture, '-o', out], undefined, { TCPTRACE_IMPORT_WORKER: mode });
    return { code: r.code, out: r.out.split(out).join('DIR'), err: r.err, trace: readFileSync(join(out, 'lossy-both-ways-server-1.tcptrace'), 'utf8') };
  });
  assert.equal(outs[0].err, '');
  assert.deepEqual(outs[1], outs[0]);
});
