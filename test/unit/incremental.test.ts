/**
 * checkIncremental must give exactly what a full check gives, for any edit,
 * wherever it falls relative to the snapshots it resumes from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { changedLines, check, checkIncremental, type CheckResult } from '../../src/core';
import { writeLongTrace } from '../support/trace-model';
import { applyLineEdit } from '../support/line-edits';
import { longTrace as longTraceOf } from '../support/long-trace';

const root = join(__dirname, '..', '..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.tcptrace'))
  .map((f) => readFileSync(join(root, 'examples', f), 'utf8'));

/** A long conversation (several snapshots' worth): handshake, many data/ACK rounds, close. */
const longTrace = (rounds: number): string => longTraceOf(rounds, { sectionEvery: 97, inFlightEvery: 50 });

/** Everything a consumer reads, in comparable form. */
function observable(r: CheckResult): unknown {
  const tl = r.timeline;
  const timeline = [];
  for (let i = 0; i < tl.length; i++) {
    timeline.push([tl.line(i), tl.stmtIndex(i), tl.time(i), tl.state(i, 0), tl.state(i, 1), tl.tcb(i, 0), tl.tcb(i, 1), tl.segment(i)]);
  }
  return {
    title: r.title,
    endpoints: r.endpoints,
    options: r.options,
    symbolic: r.symbolic,
    diagnostics: r.diagnostics,
    timeline,
    statements: r.parsed.statements.length,
    symbols: [...r.symbols.values()],
  };
}

type Edit = { line: number; kind: 'delete' | 'duplicate' | 'replace' | 'insert'; text: string };

const LINES = [
  '',
  '# a comment',
  'client -> server: ACK',
  'server -> client: ACK seq=5001 ack=1',
  'client: close',
  'client -> server: SYN seq=7',
  'deliver d7',
  'expect server CLOSED',
  '== a section ==',
  'title "late"',
  'client -> server: PSH,ACK len=10',
  'server -> client: RST',
  'bogus line',
];

const edit = (maxLine: number): fc.Arbitrary<Edit> =>
  fc.record({
    line: fc.nat({ max: maxLine }),
    kind: fc.constantFrom<Edit['kind']>('delete', 'duplicate', 'replace', 'insert'),
    text: fc.constantFrom(...LINES),
  });

/** Applies the edits one after the other, each re-checked incrementally from the last result, against a full check. */
function replay(base: string, edits: readonly Edit[]): void {
  let text = base;
  let prev = check(text);
  for (const e of edits) {
    const { text: next, first } = applyLineEdit(text, e);
    const inc = checkIncremental(prev, next, first);
    assert.deepEqual(observable(inc), observable(check(next)));
    text = next;
    prev = inc;
  }
}

test('incremental equals full: long traces, random edits anywhere (several snapshots)', () => {
  const base = longTrace(700);
  const n = base.split('\n').length;
  fc.assert(
    fc.property(fc.array(edit(n), { minLength: 1, maxLength: 3 }), (edits) => {
      replay(base, edits);
    }),
    { numRuns: 60, seed: 20261121 },
  );
});

test('incremental equals full: every example, random edits', () => {
  fc.assert(
    fc.property(fc.constantFrom(...examples), fc.array(edit(60), { minLength: 1, maxLength: 4 }), (base, edits) => {
      replay(base, edits);
    }),
    { numRuns: 150, seed: 7 },
  );
});

test('an edit near the end re-checks only from the last snapshot', () => {
  const base = longTrace(2000);
  const prev = check(base);
  const lines = base.split('\n');
  let at = lines.length - 1;
  while (!lines[at].includes('client -> server: PSH,ACK')) at--;
  lines[at] = lines[at].replace('ack=5001', 'ack=5002');
  const inc = checkIncremental(prev, lines.join('\n'), at);
  // The statements before the change are the very same objects: nothing before it was parsed again.
  assert.equal(inc.parsed.statements[10], prev.parsed.statements[10]);
  assert.ok(inc.diagnostics.some((d) => d.line === at && d.code === 'TT302'), 'ack=5002 is one past the SYN the server sent');
});

test('changing whether the trace is symbolic, or the severities, falls back to a full check', () => {
  const base = 'server: listen\nclient -> server: SYN seq=100\nserver -> client: SYN,ACK seq=300 ack=101\n';
  const prev = check(base);
  const next = base.replace('seq=100', 'seq=x');
  assert.deepEqual(observable(checkIncremental(prev, next, 1)), observable(check(next)));
  const sev = { TT209: 'off' as const };
  assert.deepEqual(observable(checkIncremental(check(base), base, 0, { severities: sev })), observable(check(base, { severities: sev })));
});

/** Replaces lines [at, at+k) by as many lines: the line count stays, so the suffix can be reused. */
function replaceLines(text: string, at: number, with_: string[]): { text: string; first: number; last: number } {
  const lines = text.split('\n');
  const a = Math.min(at, lines.length - with_.length);
  lines.splice(a, with_.length, ...with_);
  return { text: lines.join('\n'), first: a, last: a + with_.length - 1 };
}

test('incremental with an unchanged line count equals full, chained edits (suffix reused)', () => {
  const base = longTrace(900);
  const n = base.split('\n').length;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: n - 3 }), fc.array(fc.constantFrom(...LINES), { minLength: 1, maxLength: 2 })), { minLength: 1, maxLength: 4 }), (edits) => {
      let text = base;
      let prev = check(text);
      for (const [at, with_] of edits) {
        const e = replaceLines(text, at, with_);
        const inc = checkIncremental(prev, e.text, e.first, {}, e.last);
        assert.deepEqual(observable(inc), observable(check(e.text)));
        text = e.text;
        prev = inc;
      }
    }),
    { numRuns: 80, seed: 4242 },
  );
});

test('incremental with an unchanged line count: a harmless edit in the middle reuses the rest of the earlier run', () => {
  const base = longTrace(2000);
  const prev = check(base);
  const lines = base.split('\n');
  const at = Math.floor(lines.length / 2);
  const edited = lines.map((l, i) => (i === at ? `${l}   # a comment` : l)).join('\n');
  const inc = checkIncremental(prev, edited, at, {}, at);
  assert.deepEqual(observable(inc), observable(check(edited)));
  type R = { snapshots: { tcbs: unknown }[] };
  const before = (prev.resume as R).snapshots;
  const after = (inc.resume as R).snapshots;
  // The last snapshots are the earlier run's own records: nothing after the edit was checked again.
  assert.equal(after[after.length - 1].tcbs, before[before.length - 1].tcbs);
  assert.equal(inc.parsed.statements[inc.parsed.statements.length - 1], prev.parsed.statements[prev.parsed.statements.length - 1]);
});

test('incremental with an unchanged line count: an edit that changes the numbers after it re-checks them', () => {
  const base = longTrace(600);
  const prev = check(base);
  const lines = base.split('\n');
  let at = Math.floor(lines.length / 3);
  while (!lines[at].includes('client -> server: PSH,ACK')) at++;
  lines[at] = lines[at].replace(/len=100/, 'len=99');
  const next = lines.join('\n');
  assert.deepEqual(observable(checkIncremental(prev, next, at, {}, at)), observable(check(next)));
});

test('incremental with an unchanged line count: statements added or removed without changing the state (the rest shifts)', () => {
  const base = longTrace(1500);
  const lines = base.split('\n');
  const expects = lines.map((l, i) => (l.startsWith('expect') ? i : -1)).filter((i) => i >= 0);
  const comments = [lines.findIndex((l) => l.startsWith('== round'))];
  let text = base;
  let prev = check(text);
  // An expect becomes a comment (one statement fewer), a section becomes a note (same count),
  // a comment becomes a note (one more), each far from the end, chained.
  for (const [at, line] of [
    [expects[3], '# no longer checked'],
    [comments[0], 'note over client: a note'],
    [expects[5], 'note over client, server: hello'],
    [expects[1], ''],
  ] as [number, string][]) {
    const { text: next, first, last } = replaceLines(text, at, [line]);
    const inc = checkIncremental(prev, next, first, {}, last);
    assert.deepEqual(observable(inc), observable(check(next)));
    type R = { snapshots: { tcbs: unknown }[] };
    const a = (inc.resume as R).snapshots;
    const b = (prev.resume as R).snapshots;
    assert.equal(a[a.length - 1].tcbs, b[b.length - 1].tcbs, 'the earlier run was reused');
    text = next;
    prev = inc;
  }
});

test('changedLines finds what an edit changed: resuming from it equals a full check (any edit, CRs included)', () => {
  const base = longTrace(300).replace(/\n/g, (m, i: number) => (i % 7 === 0 ? '\r\n' : m));
  fc.assert(
    fc.property(fc.nat({ max: base.length }), fc.nat({ max: 40 }), fc.constantFrom('', 'x', '\n', '\r', '\r\n', 'ack=1 ', '# c\n', 'client: close\n', '9'), (at, del, ins) => {
      const next = base.slice(0, at) + ins + base.slice(Math.min(base.length, at + del));
      const prev = check(base);
      const ch = changedLines(base, next);
      if (!ch) return assert.equal(next, base);
      assert.deepEqual(observable(checkIncremental(prev, next, ch.first, {}, ch.last)), observable(check(next)));
    }),
    { numRuns: 300, seed: 99 },
  );
});

test('changedLines: equal texts, same line count, changed line count', () => {
  assert.equal(changedLines('a\nb\n', 'a\nb\n'), undefined);
  assert.deepEqual(changedLines('a\nb\nc\n', 'a\nB\nc\n'), { first: 1, last: 1 });
  assert.deepEqual(changedLines('a\nb\nc\n', 'a\nb\nx\nc\n'), { first: 2, last: undefined });
});

test('chained edits resuming from snapshots taken over from an earlier run (diagnostics before the splice point)', () => {
  // A model trace with retransmissions (information diagnostics everywhere), edited 60 times at random:
  // later edits resume from snapshots an earlier splice took over, whose positions must be its own.
  let t = '';
  writeLongTrace(600, 21, (c: string) => (t += c));
  let x = 9;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  let lines = t.split('\n');
  let prevText = t;
  let prev = check(prevText);
  for (let k = 0; k < 60; k++) {
    const at = Math.floor(rnd() * lines.length);
    const op = Math.floor(rnd() * 4);
    lines = [...lines];
    if (op === 0) lines.splice(at, 0, 'note over server: added');
    else if (op === 1) lines.splice(at, 1);
    else if (op === 2) lines[at] = lines[at].replace(/win=(\d+)/, (_m, w: string) => `win=${Number(w) - 1}`);
    else lines[at] = lines[at].replace(/seq=(\d+)/, (_m, q: string) => `seq=${Number(q) + 1}`);
    const text = lines.join('\n');
    const ch = changedLines(prevText, text);
    const inc = ch ? checkIncremental(prev, text, ch.first, {}, ch.last) : prev;
    assert.deepEqual(observable(inc), observable(check(text)), `edit ${k} (${op} at ${at})`);
    prevText = text;
    prev = inc;
  }
});

test('stress: model traces, chained edits of every kind (insert, delete, change numbers, replace lines)', () => {
  const EDITS = ['note over client: n', '# c', '', 'client -> server: ACK', 'server: close', 'deliver zz', 'expect client CLOSED', '== s =='];
  // Seeds that once exposed bugs: stale suppressions in snapshots a splice took over, and a context
  // cached before both endpoints were known.
  for (const seed of [3, 99]) {
    let x = seed;
    const rnd = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 0x100000000;
    };
    for (let trace = 0; trace < 2; trace++) {
      let t = '';
      writeLongTrace(300 + Math.floor(rnd() * 900), Math.floor(rnd() * 1e6), (c: string) => (t += c));
      let lines = t.split('\n');
      let prevText = t;
      let prev = check(t);
      for (let k = 0; k < 40; k++) {
        const at = Math.floor(rnd() * lines.length);
        const op = Math.floor(rnd() * 6);
        lines = [...lines];
        if (op === 0) lines.splice(at, 0, EDITS[Math.floor(rnd() * EDITS.length)]);
        else if (op === 1) lines.splice(at, 1);
        else if (op === 2) lines[at] = lines[at].replace(/win=(\d+)/, (_m, w: string) => `win=${Number(w) + 7}`);
        else if (op === 3) lines[at] = lines[at].replace(/seq=(\d+)/, (_m, q: string) => `seq=${Number(q) + 1}`);
        else if (op === 4) lines[at] = EDITS[Math.floor(rnd() * EDITS.length)];
        else lines[at] = lines[at].replace(/ack=(\d+)/, (_m, q: string) => `ack=${Number(q) - 1}`);
        const text = lines.join('\n');
        const ch = changedLines(prevText, text);
        const inc = ch ? checkIncremental(prev, text, ch.first, {}, ch.last) : prev;
        assert.deepEqual(observable(inc), observable(check(text)), `seed ${seed}, trace ${trace}, edit ${k} (${op} at ${at})`);
        prevText = text;
        prev = inc;
      }
    }
  }
});
