/**
 * The preview's work after an edit is done only where the edit changed
 * something: the diagram model takes over the items of unchanged events, the
 * chunk plan re-cuts only around the change, and the layout travels as an
 * edit of the chunk list the webview holds. Each must equal doing it all
 * again: these properties hold them to it, over random edit sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { check, checkIncremental } from '../../src/core';
import { buildDiagram, buildWithReuse, type DiagramItem, type DiagramModel } from '../../src/core/diagram/model';
import { lineMap } from '../../src/core/syntax/lines';
import { planChunks, widestLabels, type PlannedChunk } from '../../src/client/preview/chunks';
import { DiagramSession, type SessionSettings } from '../../src/client/preview/session';
import { applyChunkEdit, diffChunks, layoutToPost } from '../../src/webview/chunkEdit';
import type { ChunkRef, LayoutMessage } from '../../src/webview/messages';
import { applyLineEdit, type LineEdit } from '../support/line-edits';
import { longTrace as longTraceOf } from '../support/long-trace';

const root = join(__dirname, '..', '..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.tcptrace'))
  .map((f) => readFileSync(join(root, 'examples', f), 'utf8'));
const runs = (n: number): number => Math.max(1, Math.round(n * Number(process.env.FC_RUNS ?? 1)));

/** A conversation long enough for many chunks: data rounds, in-flight segments delivered later, sections, expects. */
const longTrace = (rounds: number): string => longTraceOf(rounds, { sectionEvery: 37, inFlightEvery: 23, windows: true, notesEvery: 51 });

const LINES = [
  '',
  '# a comment',
  'client -> server: ACK',
  'server -> client: ACK seq=5001 ack=1',
  'client: close',
  'client -> server: SYN seq=7',
  'client ~> server: PSH,ACK len=5 as d7',
  'deliver d7',
  'deliver d30',
  'expect server CLOSED',
  '== a section ==',
  'title "late"',
  'endpoint third 10.0.0.3:1',
  'client -> server: PSH,ACK len=10',
  'server -> client: RST',
  'bogus line',
  'note over server: "hi"',
];

type Edit = LineEdit;

const editArb = (maxLine: number): fc.Arbitrary<Edit> =>
  fc.oneof(
    fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), line: fc.nat({ max: maxLine }) }),
    fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const), line: fc.nat({ max: maxLine }), text: fc.constantFrom(...LINES) }),
    // Typing: a digit, a letter, a space, a line break (CRLF and lone CR too), as an editor does.
    fc.record({ kind: fc.constant('type' as const), line: fc.nat({ max: maxLine }), at: fc.nat({ max: 60 }), text: fc.constantFrom('1', '9', 'x', ' ', '\n', '\r\n', '\r', '"', '#') }),
    fc.record({ kind: fc.constant('cut' as const), line: fc.nat({ max: maxLine }), count: fc.integer({ min: 2, max: 30 }) }),
  );

/** What a model shows, items compared whole. */
function shown(m: DiagramModel): unknown {
  return { ...m };
}

function planShape(plan: readonly PlannedChunk[]): unknown {
  return plan.map((c) => [c.key, c.range.from, c.range.to, c.weight, c.part]);
}

/** Each edit built from the last model, plan and widest set, against building everything again. */
function replay(base: string, edits: readonly Edit[]): void {
  let text = base;
  let result = check(text);
  let model = buildDiagram(result);
  let plan = planChunks(model, model.stateSpelling);
  let widest = widestLabels(model, model.stateSpelling);
  for (const e of edits) {
    const next = applyLineEdit(text, e).text;
    const lines = lineMap(text, next);
    if (!lines) continue;
    const r = checkIncremental(result, next, lines.first, {}, lines.newTail === lines.oldTail ? lines.last : undefined);
    const fresh = buildDiagram(check(next));
    const { model: m, reuse } = buildWithReuse(r, { model, result, lines });
    const at = m.items.findIndex((it, k) => !isDeepStrictEqual(it, fresh.items[k]));
    assert.deepEqual(at < 0 ? null : [at, m.items[at]], at < 0 ? null : [at, fresh.items[at]], `item ${at} after ${JSON.stringify(e)}, reuse ${JSON.stringify(reuse)}`);
    assert.deepEqual(shown(m), shown(fresh));
    const spelling = m.stateSpelling;
    const same = reuse && spelling === model.stateSpelling ? reuse : undefined;
    const p = planChunks(m, spelling, same && { model, spelling, plan, reuse: same });
    assert.deepEqual(planShape(p), planShape(planChunks(fresh, spelling)));
    const w = widestLabels(m, spelling, same && { model, set: widest.set, reuse: same });
    assert.deepEqual(w.spacers, widestLabels(fresh, spelling).spacers);
    if (reuse) {
      // What `reuse` promises: the prefix is the prior's own items, the tail draws what the prior's did.
      for (let k = 0; k < reuse.from; k++) assert.equal(m.items[k], model.items[k]);
      for (let k = reuse.to; k < m.items.length; k++) {
        const was: DiagramItem = model.items[k - reuse.shift];
        const moved: DiagramItem = { ...was, line: was.line + reuse.lineShift, diagnostics: was.diagnostics.map((d) => ({ ...d, line: d.line + reuse.lineShift })) };
        assert.deepEqual({ ...m.items[k], timelineIndex: 0, sentLine: 0 }, { ...moved, timelineIndex: 0, sentLine: 0 });
        assert.equal(m.items[k].line, was.line + reuse.lineShift);
      }
    }
    text = next;
    result = r;
    model = m;
    plan = p;
    widest = w;
  }
}

test('lineMap: lines before `first` and from the tails on are the same text, and the tails differ by the change in line count', () => {
  const split = (s: string): string[] => s.split(/\r\n|\n|\r/);
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', ' '), maxLength: 40 }), fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', ' '), maxLength: 40 }), (a, b) => {
      const m = lineMap(a, b);
      if (a === b) return assert.equal(m, undefined);
      assert.ok(m);
      const la = split(a);
      const lb = split(b);
      assert.equal(m.newTail - m.oldTail, lb.length - la.length);
      assert.ok(m.first <= m.newTail && m.first <= m.oldTail && m.last >= m.first - 1);
      for (let i = 0; i < m.first; i++) assert.equal(lb[i], la[i]);
      for (let i = m.newTail; i < lb.length; i++) assert.equal(lb[i], la[i - m.newTail + m.oldTail]);
    }),
    { numRuns: runs(2000) },
  );
});

test('model, chunk plan and widest labels after an edit equal a fresh build: a long trace, random edit sequences', () => {
  const base = longTrace(400);
  const n = base.split('\n').length;
  fc.assert(
    fc.property(fc.array(editArb(n), { minLength: 1, maxLength: 4 }), (edits) => replay(base, edits)),
    { numRuns: runs(60) },
  );
});

test('model, chunk plan and widest labels after an edit equal a fresh build: the examples', () => {
  fc.assert(
    fc.property(fc.constantFrom(...examples), fc.array(editArb(60), { minLength: 1, maxLength: 5 }), (base, edits) => replay(base, edits)),
    { numRuns: runs(300) },
  );
});

test('an edit in the middle of a long trace rebuilds a few items and re-plans a few chunks', () => {
  const base = longTrace(3000);
  const lines = base.split('\n');
  const at = lines.findIndex((l, i) => i > lines.length / 2 && / win=\d+/.test(l));
  lines[at] = lines[at].replace(/ win=(\d+)/, ' win=7');
  const next = lines.join('\n');
  const r0 = check(base);
  const m0 = buildDiagram(r0);
  const map = lineMap(base, next)!;
  const r1 = checkIncremental(r0, next, map.first, {}, map.last);
  const { model, reuse } = buildWithReuse(r1, { model: m0, result: r0, lines: map });
  assert.ok(reuse);
  assert.ok(reuse.to - reuse.from <= 3, `rebuilt ${reuse.to - reuse.from} items`);
  assert.equal(reuse.shift, 0);
  const plan0 = planChunks(m0, 'socket');
  const plan1 = planChunks(model, 'socket', { model: m0, spelling: 'socket', plan: plan0, reuse });
  // Same objects outside the re-cut region: planned again only around the edit.
  let replanned = 0;
  for (let i = 0; i < plan1.length; i++) if (plan1[i] !== plan0[i]) replanned++;
  assert.ok(replanned <= 4, `re-planned ${replanned} of ${plan1.length} chunks`);
  assert.deepEqual(planShape(plan1), planShape(planChunks(buildDiagram(check(next)), 'socket')));
});

test('the session after edits shows what a fresh session shows', () => {
  const base = longTrace(300);
  const n = base.split('\n').length;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.option(editArb(n)), fc.constantFrom<SessionSettings>({}, { spelling: 'rfc' }, { severities: { TT404: 'off', TT209: 'error' } })), { minLength: 1, maxLength: 4 }), (steps) => {
      const s = new DiagramSession();
      let text = base;
      s.update(text, 1);
      let v = 1;
      // Edits, and settings changed with or without an edit.
      for (const [e, settings] of steps) {
        if (e) text = applyLineEdit(text, e).text;
        const got = s.update(text, ++v, settings);
        const want = new DiagramSession().update(text, v, settings);
        // A text that does not parse keeps the last good layout (marked stale): only then may they differ.
        if (got.stale) continue;
        assert.deepEqual(got, want);
        const keys = got.chunks.map((c) => c.key);
        const fresh = new DiagramSession();
        fresh.update(text, v, settings);
        assert.deepEqual(s.chunks(keys), fresh.chunks(keys));
      }
    }),
    { numRuns: runs(25) },
  );
});

const ref = (key: string, firstLine: number, items = 3): ChunkRef => ({ key, firstLine, lastLine: firstLine + items - 1, items, weight: items * 2 });

test('a chunk edit applied to the list it was made against gives the new list', () => {
  // Lists of chunk refs as an edit leaves them: a prefix kept, a run replaced, the rest moved by a line shift.
  const list = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 30 });
  fc.assert(
    fc.property(list, fc.nat({ max: 30 }), fc.nat({ max: 10 }), list, fc.integer({ min: -20, max: 20 }), (keys, at, remove, insert, shift) => {
      const prev = keys.map((k, i) => ref(k, i * 3));
      const from = Math.min(at, prev.length);
      const cut = Math.min(remove, prev.length - from);
      const mid = insert.map((k, i) => ref(k + 'x', from * 3 + i * 3));
      const next = [...prev.slice(0, from), ...mid, ...prev.slice(from + cut).map((r) => ({ ...r, firstLine: r.firstLine + shift, lastLine: r.lastLine + shift }))];
      const edit = diffChunks(prev, next);
      assert.deepEqual(applyChunkEdit(prev, { base: 1, ...edit }), next);
      assert.ok(edit.insert.length <= mid.length + cut + 1 || edit.insert.length <= next.length);
    }),
    { numRuns: runs(1000) },
  );
  // Unrelated lists too: the edit is then the whole list.
  fc.assert(
    fc.property(list, list, (a, b) => {
      const prev = a.map((k, i) => ref(k, i * 2, 2));
      const next = b.map((k, i) => ref(k, i * 5, 1));
      assert.deepEqual(applyChunkEdit(prev, { base: 1, ...diffChunks(prev, next) }), next);
    }),
    { numRuns: runs(500) },
  );
});

test('layoutToPost: an edit only for the same document, against what the page holds, when most of it is unchanged', () => {
  const layout = (seq: number, resource: string, chunks: ChunkRef[]): LayoutMessage => ({
    type: 'layout',
    seq,
    version: seq,
    resource,
    fileName: 'x',
    locked: false,
    participants: [],
    stateNames: [],
    chunks,
    spacers: { messages: [], notes: [] },
    counts: { items: 0, events: 0, errors: 0, warnings: 0, infos: 0 },
    problem: null,
    stale: false,
  });
  const many = Array.from({ length: 200 }, (_, i) => ref(`k${i}`, i * 3));
  const edited = many.map((r, i) => (i === 100 ? ref('new', r.firstLine) : r));
  const a = layout(1, 'file:///a', many);
  const b = layout(2, 'file:///a', edited);
  const sent = layoutToPost(a, b);
  assert.deepEqual(sent.chunks, []);
  assert.deepEqual(sent.edit, { base: 1, from: 100, remove: 1, insert: [ref('new', 300)], lineShift: 0 });
  assert.equal(layoutToPost(undefined, b), b);
  assert.equal(layoutToPost(layout(1, 'file:///other', many), b), b);
  // Mostly changed: the whole list is shorter than an edit of it.
  const changed = layout(2, 'file:///a', many.map((r) => ({ ...r, key: r.key + '!' })));
  assert.equal(layoutToPost(a, changed), changed);
});
