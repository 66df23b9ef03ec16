/**
 * The command line checks with `check(text, { keepSyntax: false })`: each
 * statement is checked as soon as it is parsed and the tree is not kept. It
 * must hand out exactly what the editor's tree-keeping check does:
 * diagnostics, endpoints, symbols, timeline. (Arbitrary and damaged text is
 * covered by the property tests in property.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from '../../src/core';
import { streamingDifference } from '../support/same-result';

const ROOT = join(__dirname, '..', '..');

function assertSame(text: string, what: string): void {
  const diff = streamingDifference(text);
  if (diff) assert.fail(`${what}: ${diff}`);
}

function tracesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tcptrace'))
    .sort()
    .map((f) => join(dir, f));
}

test('a streaming check equals a tree-keeping one on the examples, the mistakes and the imported capture fixtures', () => {
  const files = [...tracesIn(join(ROOT, 'examples')), ...tracesIn(join(ROOT, 'examples', 'mistakes')), ...tracesIn(join(ROOT, 'test', 'fixtures', 'captures', 'expected'))];
  assert.ok(files.length > 40, `only ${files.length} traces found`);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assertSame(text, f);
    // The same trace with CRLF line ends and without its comments' line structure changed.
    assertSame(text.replace(/\n/g, '\r\n'), `${f} (CRLF)`);
  }
});

test('a streaming check knows the symbols of the whole trace from its first event', () => {
  // A SYN without seq= before the first symbol: its ISN is a fresh symbol, which must avoid the x and y used later.
  const fresh = 'a -> b: SYN\nb -> a: SYN,ACK ack=x+1 seq=y\na -> b: ACK seq=x+1 ack=y+1';
  assertSame(fresh, 'fresh ISN before the first symbol');
  const r = check(fresh, { keepSyntax: false });
  assert.ok(r.symbols.has('u'), `the fresh ISN is not u: ${[...r.symbols.keys()]}`);
  assert.ok(r.diagnostics.some((d) => d.message.includes('seq=u')), r.diagnostics.map((d) => d.message).join('\n'));
  // The only symbol sits on a line dropped for another mistake (an unknown third endpoint): the trace is still symbolic.
  const dropped = 'endpoint c1\r\nendpoint s1 10.0.0.2:80\r\ns1: listen\r\nclient1 -> s1: SYN seq=isn_c win=8760 mss=536 wscale=2\r';
  assertSame(dropped, 'symbol on a dropped line');
  assert.equal(check(dropped, { keepSyntax: false }).symbolic, true);
  // A symbol on a line whose statement is not kept at all (a syntax error after it).
  assertSame('a: connect\na -> b: SYN seq=x bogus\na ~> b: ACK seq=z\n', 'symbol on a line with a syntax error');
});

test('a streaming check points at the right tokens after later lines reuse the parser\'s records', () => {
  // The trace ends ESTABLISHED (TT209 on each endpoint's last event); the segments after that are
  // dropped (a third endpoint), on other columns: TT209 must still point at line 3's names.
  const text = [
    'a -> b: SYN seq=0',
    'b -> a: SYN,ACK seq=0 ack=1',
    'a -> b: ACK seq=1 ack=1 win=100',
    '   c ->    a: ACK seq=1 ack=1 len=5',
    '      b   -> c: ACK seq=1 ack=1',
    'b ~> a: ACK seq=1 ack=1 as f1',
    'a -> b: ACK seq=1 ack=1 len=2',
    'deliver f1',
    '  a   -> d: SYN',
  ].join('\n');
  assertSame(text, 'records reused after the last accepted segment');
  const tt209 = check(text, { keepSyntax: false }).diagnostics.filter((d) => d.code === 'TT209');
  assert.ok(tt209.length > 0, 'no TT209');
});

test('a streaming check keeps no tree', () => {
  const r = check(readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8'), { keepSyntax: false });
  assert.equal(r.parsed.statements.length, 0);
  assert.equal(r.resume, undefined);
  assert.ok(r.timeline.length > 0);
});
