/**
 * Property-based tests of the checker against an independent model
 * (test/support/trace-model.ts) and against arbitrary text.
 *
 * Seeds: fixed under CI (reproducible), random locally (more ground covered);
 * FC_SEED and FC_RUNS override. fast-check prints the seed and the shrunk
 * counterexample on failure; rerun with FC_SEED=<seed> to reproduce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CODES, check, stateName, type CheckResult, type Diagnostic, type TextEdit } from '../../src/core';
import {
  BODY_KINDS,
  CLOSE_KINDS,
  OPEN_KINDS,
  generateTrace,
  normalizePlan,
  writeLongTrace,
  type GeneratedTrace,
  type TracePlan,
} from '../support/trace-model';
import { streamingDifference } from '../support/same-result';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 0x7cc0ffee : Date.now() % 0x7fffffff;
/** Scales every property's number of runs (FC_RUNS=4 runs four times as many). */
const SCALE = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 1;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const params = (n: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(n) });
const SEVERITIES = new Set(['error', 'warning', 'information', 'hint']);

// ---------------------------------------------------------------- arbitraries

const planArb: fc.Arbitrary<TracePlan> = fc
  .record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    symbolic: fc.boolean(),
    isn: fc.constantFrom('random', 'wrap', 'small', 'zero'),
    omit: fc.constantFrom('never', 'sometimes', 'always'),
    flags: fc.constantFrom('words', 'tcpdump', 'mixed'),
    times: fc.constantFrom('none', 'absolute', 'relative', 'mixed'),
    windows: fc.constantFrom('explicit', 'explicit', 'syn', 'none'),
    wscale: fc.constantFrom('both', 'one', 'none'),
    sack: fc.boolean(),
    declare: fc.boolean(),
    msl: fc.constantFrom(undefined, 0.5, 1, 30, 60),
    statesOption: fc.constantFrom(undefined, 'socket', 'rfc'),
    open: fc.constantFrom(...OPEN_KINDS),
    body: fc.array(fc.record({ kind: fc.constantFrom(...BODY_KINDS), fromClient: fc.boolean() }), { maxLength: 7 }),
    close: fc.constantFrom(...CLOSE_KINDS),
    clientCloses: fc.boolean(),
    timeWaitTimeout: fc.boolean(),
    expectRate: fc.constantFrom(0, 0.1, 0.3, 1),
    decorate: fc.boolean(),
    crlf: fc.boolean(),
    bom: fc.boolean(),
  })
  .map((p) => normalizePlan(p as TracePlan));


/** The language's own tokens, for lines that are nearly statements. */
const TOKENS = [
  'client', 'server', 'alice', 'A', 'B', ':', '->', '-x', '~>', '-X', '~', '-', '>', 'SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG',
  'ECE', 'CWR', 'SYNACK', 'syn', ',', '+', '[S]', '[S.]', '[P.]', '[F.]', '[R]', '[.]', '[', ']', '[SX]', '[]', 'seq=', 'seq=0',
  'seq=4294967295', 'seq=4294967296', 'seq=x', 'seq=x+1', 'seq=x-1', 'seq=0x', 'seq=0xffffffff', 'ack=', 'ack=1', 'ack=y+1',
  'ack=u', 'len=', 'len=100', 'len=-1', 'data="hi"', 'data="', 'data="\\x4"', 'data="\\q"', 'win=0', 'win=65536', 'urg=1',
  'mss=1460', 'wscale=15', 'wscale=7', 'sackok', 'sackok=1', 'sack=1-2', 'sack=1-', 'ts=1:2', 'ts=:', 'as', 'as f1', 'f1',
  'deliver', 'deliver f1', 'expect', 'ESTABLISHED', 'SYN-RECEIVED', 'TIME_WAIT', 'BOGUS', 'listen', 'connect', 'close',
  'shutdown', 'abort', 'timeout', 'rto', 'send', 'send 10', 'send "x"', 'recv', 'recv 5', 'accept', 'socket', 'bind',
  'bind 0.0.0.0:80', 'backlog=5', '0.5', '+10ms', '+2MSL', '2MSL', '+', '.', '1e9', '99999999999999999999', 'title', '"t"',
  'endpoint', '10.0.0.1:80', '[::1]:443', '[::1]', '999.1.1.1:1', 'option', 'msl=1s', 'msl=', 'origin=capture',
  'origin=model', 'states=rfc', 'note', 'note over', '==', '== x ==', '#', '"', '\\', '\t', 'é', '😀', '\u0000', '\ufeff',
];

const tokenLineArb = fc
  .array(fc.constantFrom(...TOKENS), { maxLength: 12 })
  .chain((toks) => fc.array(fc.constantFrom(' ', '', '  ', '\t', ','), { minLength: toks.length, maxLength: toks.length }).map((seps) => toks.map((t, i) => t + seps[i]).join('')));

const tokenDocArb = fc.array(tokenLineArb, { maxLength: 30 }).chain((lines) => fc.constantFrom('\n', '\r\n').map((eol) => lines.join(eol)));

/** Any UTF-16 code unit, lone surrogates included, with line breaks and the language's punctuation weighted up. */
const unitArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('\n', '\r\n', '\r', ' ', '\t', '#', '"', '\\', ':', '=', '-', '>', '[', ']', ',', '+', '.', '0', '9', 'x') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
);
const anyTextArb = fc.oneof(
  fc.string({ unit: unitArb, maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  // Long lines: a token repeated, or a long run of one character.
  fc.tuple(fc.constantFrom(...TOKENS), fc.integer({ min: 100, max: 3000 })).map(([t, n]) => `client -> server: SYN ${t.repeat(n)}`),
  fc.tuple(fc.constantFrom('a', '9', ' ', '"', '#', '=', 'é', '😀'), fc.integer({ min: 1000, max: 20000 })).map(([c, n]) => c.repeat(n)),
);

type Mutation =
  | { op: 'delete' | 'duplicate'; at: number }
  | { op: 'swap'; at: number; with: number }
  | { op: 'replace' | 'insert'; at: number; col: number; text: string }
  | { op: 'erase'; at: number; col: number; n: number }
  | { op: 'truncate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    op: fc.constantFrom('replace' as const, 'insert' as const),
    at: fc.nat(),
    col: fc.nat(),
    text: fc.oneof(fc.string({ unit: unitArb, minLength: 1, maxLength: 3 }), fc.constantFrom(...TOKENS)),
  }),
  fc.record({ op: fc.constant('erase' as const), at: fc.nat(), col: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(text: string, ms: readonly Mutation[]): string {
  const lines = text.split('\n');
  for (const m of ms) {
    if (lines.length === 0) lines.push('');
    const i = m.at % lines.length;
    switch (m.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, lines[i]);
        break;
      case 'swap': {
        const j = m.with % lines.length;
        [lines[i], lines[j]] = [lines[j], lines[i]];
        break;
      }
      case 'replace':
      case 'insert': {
        const l = lines[i];
        const c = m.col % (l.length + 1);
        lines[i] = l.slice(0, c) + m.text + l.slice(m.op === 'replace' ? c + 1 : c);
        break;
      }
      case 'erase': {
        const l = lines[i];
        const c = m.col % (l.length + 1);
        lines[i] = l.slice(0, c) + l.slice(c + m.n);
        break;
      }
      case 'truncate':
        lines.length = i;
        break;
    }
  }
  return lines.join('\n');
}

// Plans, not traces, are what fast-check prints on failure: small and enough to regenerate the text.
const mutatedArb = fc.tuple(planArb, fc.array(mutationArb, { minLength: 1, maxLength: 6 })).map(([p, ms]) => mutate(generateTrace(p).text, ms));

// ---------------------------------------------------------------- helpers

/**
 * The document's lines as LSP and VS Code number them: line ends are \n, \r\n
 * and a lone \r; a leading BOM is not text.
 */
function docLines(text: string): string[] {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.split(/\r\n|\r|\n/);
}

function assertRange(lines: readonly string[], r: { line: number; start: number; end: number }, what: string): void {
  const ok =
    Number.isInteger(r.line) &&
    Number.isInteger(r.start) &&
    Number.isInteger(r.end) &&
    r.line >= 0 &&
    r.line < lines.length &&
    r.start >= 0 &&
    r.start <= r.end &&
    r.end <= lines[r.line].length;
  if (!ok) {
    const l = lines[r.line];
    assert.fail(`${what} out of the document: line ${r.line} [${r.start}, ${r.end}) — the document has ${lines.length} lines${l !== undefined ? `, that line has ${l.length} characters: ${JSON.stringify(l.slice(0, 120))}` : ''}`);
  }
}

/** Every position the result hands out lies inside the document. */
function assertWellFormed(text: string, r: CheckResult): void {
  const lines = docLines(text);
  for (const d of r.diagnostics) {
    const what = `${d.code} "${d.message}"`;
    assertRange(lines, d, `range of ${what}`);
    assert.ok(d.message.length > 0, `${d.code} has an empty message`);
    assert.ok(d.code in CODES, `${what}: not a code of spec section 6`);
    assert.ok(SEVERITIES.has(d.severity), `${what}: severity ${d.severity}`);
    for (const rel of d.related) assertRange(lines, rel, `related information of ${what}`);
    for (const f of d.fixes) {
      assert.ok(f.edits.length > 0, `fix "${f.title}" for ${what} has no edit`);
      for (const e of f.edits) assertRange(lines, e, `edit of fix "${f.title}" for ${what}`);
    }
  }
  for (let i = 0; i < r.timeline.length; i++) {
    const line = r.timeline.line(i);
    assert.ok(line >= 0 && line < lines.length, `timeline entry ${i} on line ${line}, outside the ${lines.length} lines`);
  }
  for (const e of r.endpoints) assertRange(lines, e, `endpoint ${e.name}`);
  for (const s of r.symbols.values()) assertRange(lines, s, `symbol ${s.name}`);
}

/** Applies one fix's edits (single-line, non-overlapping) to the text, keeping its line ends. */
function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const hasBom = text.charCodeAt(0) === 0xfeff;
  // Lines at even indexes, the line ends between them at odd ones.
  const parts = (hasBom ? text.slice(1) : text).split(/(\r\n|\r|\n)/);
  const sorted = [...edits].sort((a, b) => b.line - a.line || b.start - a.start);
  for (const e of sorted) {
    const l = parts[2 * e.line];
    parts[2 * e.line] = l.slice(0, e.start) + e.newText + l.slice(e.end);
  }
  return (hasBom ? '\ufeff' : '') + parts.join('');
}

function describe(d: Diagnostic, lines: readonly string[]): string {
  return `  line ${d.line + 1} ${d.code} ${d.severity}: ${d.message}\n    | ${lines[d.line] ?? ''}`;
}

function numberedText(text: string): string {
  return docLines(text)
    .map((l, i) => `${String(i + 1).padStart(4)}  ${l}`)
    .join('\n');
}

/** Value of a `seq=`/`ack=` written in the trace (number or SYMBOL±N), for rewriting it. */
function parseNum(v: string): { sym: string | undefined; n: number } | undefined {
  let m = /^(0x[0-9a-fA-F]+|\d+)$/.exec(v);
  if (m) return { sym: undefined, n: Number(m[1]) };
  m = /^([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(\d+))?$/.exec(v);
  if (m) return { sym: m[1], n: m[2] === '-' ? -Number(m[3]) : Number(m[3] ?? 0) };
  return undefined;
}
function formatNum(sym: string | undefined, n: number): string {
  if (sym === undefined) return String(((n % 2 ** 32) + 2 ** 32) % 2 ** 32);
  return n === 0 ? sym : n > 0 ? `${sym}+${n}` : `${sym}-${-n}`;
}

// ---------------------------------------------------------------- properties

test('traces of two correct endpoints check clean, and the timeline follows the model', () => {
  fc.assert(
    fc.property(planArb, (plan) => {
      const g = generateTrace(plan);
      const r = check(g.text);
      const lines = docLines(g.text);
      const context = (): string => `\nplan: ${JSON.stringify(g.plan)}\n${numberedText(g.text)}`;
      // No error, no warning: nothing in a correct trace is suspicious. Every expect holds.
      const bad = r.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning' || d.code === 'TT206');
      if (bad.length) assert.fail(`the checker reports problems in a correct trace:\n${bad.map((d) => describe(d, lines)).join('\n')}${context()}`);

      const index = new Map(r.endpoints.map((e, i) => [e.name, i]));
      const checkerState = (name: string, at: number): string => {
        const i = index.get(name);
        return i === undefined ? 'CLOSED' : stateName(r.timeline.state(at, i));
      };
      // States after every event.
      for (const ev of g.events) {
        const at = r.timeline.indexOfLine(ev.line);
        if (at < 0) assert.fail(`no timeline entry for the event on line ${ev.line + 1}: ${lines[ev.line]}${context()}`);
        for (let k = 0; k < 2; k++) {
          const got = checkerState(g.names[k], at);
          if (got !== ev.states[k]) {
            assert.fail(`after line ${ev.line + 1} (${lines[ev.line]}) ${g.names[k]} is ${got} in the checker, ${ev.states[k]} in the model${context()}`);
          }
        }
        // Segment numbers, given or inferred.
        if (!ev.seg) continue;
        const sn = r.timeline.segment(at);
        if (!sn) assert.fail(`no segment numbers for line ${ev.line + 1}${context()}`);
        const m = ev.seg;
        const where = `line ${ev.line + 1} (${lines[ev.line]})`;
        assert.equal(sn.len, m.len, `len on ${where}${context()}`);
        assert.equal(sn.seqInferred, !m.seqGiven, `seq inferred flag on ${where}${context()}`);
        assert.equal(sn.ack === undefined, m.ack === undefined, `ACK presence on ${where}${context()}`);
        if (m.ack !== undefined) assert.equal(sn.ackInferred, !m.ackGiven, `ack inferred flag on ${where}${context()}`);
        if (!g.plan.symbolic) {
          assert.equal(sn.seq, m.seq, `seq on ${where}${context()}`);
          if (m.ack !== undefined) assert.equal(sn.ack, m.ack, `ack on ${where}${context()}`);
        } else if (g.isnSymbols) {
          // Symbolic: the checker picks the ISNs' values; offsets from them are what the trace fixes.
          const isn = g.isnSymbols.map((s) => r.symbols.get(s)?.value);
          const sender = isn[m.from];
          const receiver = isn[1 - m.from];
          if (sender === undefined || receiver === undefined) assert.fail(`ISN symbols ${g.isnSymbols.join(', ')} not bound${context()}`);
          assert.equal((sn.seq - sender + 2 ** 32) % 2 ** 32, m.seqOff, `seq offset on ${where}${context()}`);
          if (m.ackOff !== undefined && sn.ack !== undefined) assert.equal((sn.ack - receiver + 2 ** 32) % 2 ** 32, m.ackOff, `ack offset on ${where}${context()}`);
        }
      }
      // Final states.
      for (let k = 0; k < 2; k++) {
        const got = r.timeline.length ? checkerState(g.names[k], r.timeline.length - 1) : 'CLOSED';
        assert.equal(got, g.final[k], `final state of ${g.names[k]}${context()}`);
      }
      assert.equal(r.symbolic, g.plan.symbolic, `symbolic flag${context()}`);
    }),
    params(400),
  );
});

test('check() never throws on arbitrary text, and every range lies inside the document', () => {
  fc.assert(
    fc.property(fc.oneof(anyTextArb, tokenDocArb), (text) => {
      assertWellFormed(text, check(text));
    }),
    params(500),
  );
});

test('check() never throws on damaged valid traces, and every range lies inside the document', () => {
  fc.assert(
    fc.property(mutatedArb, (text) => {
      assertWellFormed(text, check(text));
    }),
    params(400),
  );
});

test('applying a quick fix to a damaged trace gives text that re-checks without throwing', () => {
  fc.assert(
    fc.property(mutatedArb, (text) => {
      const r = check(text);
      // At most a few diagnostics per trace, to bound the time.
      for (const d of r.diagnostics.filter((x) => x.fixes.length > 0).slice(0, 4)) {
        const fixed = applyEdits(text, d.fixes[0].edits);
        assertWellFormed(fixed, check(fixed));
      }
    }),
    params(250),
  );
});

test('a wrong seq or ack in a correct trace is an error on its line, and the first fix makes the trace correct again', () => {
  const caseArb = fc.tuple(planArb, fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 5000 }));
  fc.assert(
    fc.property(caseArb, ([plan, pick, useAck, delta]) => {
      const g: GeneratedTrace = generateTrace(plan);
      // Segments whose number has exactly one right value: new data or a FIN at SND.NXT (seq),
      // or any given ack pushed above what the peer has sent (not on a RST, whose ACK field
      // its receiver ignores: RFC 5961 3.2).
      const candidates = g.events.filter((e) => e.seg && (useAck ? e.seg.ackGiven && !e.seg.rst : e.seg.seqGiven && e.seg.freshSeq && !e.seg.bindsSymbol));
      fc.pre(candidates.length > 0);
      const ev = candidates[pick % candidates.length];
      const seg = ev.seg!;
      const lines = g.text.split('\n');
      const key = useAck ? 'ack' : 'seq';
      const re = new RegExp(`\\b${key}=([^\\s#]+)`);
      const line = lines[ev.line];
      const m = re.exec(line);
      assert.ok(m, `no ${key}= on line ${ev.line + 1}: ${line}`);
      const v = parseNum(m[1].replace(/\r$/, ''));
      assert.ok(v, `cannot read ${m[1]}`);
      // ack: past the peer's SND.NXT (TT301/TT302); seq: past the sender's SND.NXT (a gap, TT300).
      const bump = useAck ? ((seg.peerSndNxt - seg.ack! + 2 ** 32) % 2 ** 32) + delta : delta;
      const wrong = formatNum(v.sym, v.n + bump);
      lines[ev.line] = line.slice(0, m.index) + `${key}=${wrong}` + line.slice(m.index + m[0].length);
      const broken = lines.join('\n');
      const field = { start: m.index, end: m.index + key.length + 1 + wrong.length };
      const r = check(broken);
      const dl = docLines(broken);
      const all = (): string => `${r.diagnostics.map((d) => describe(d, dl)).join('\n')}\n${numberedText(broken)}`;
      const here = r.diagnostics.filter((d) => d.line === ev.line && d.severity === 'error');
      const onField = here.filter((d) => d.start < field.end && d.end > field.start);
      // Reported on the offending token, and only there: one mistake, one diagnostic (spec section 5).
      if (onField.length === 0) assert.fail(`${key}=${wrong} (was ${m[1]}) on line ${ev.line + 1} is not reported as an error on that field:\n${all()}`);
      const elsewhere = here.filter((d) => !onField.includes(d));
      if (elsewhere.length) assert.fail(`${key}=${wrong} (was ${m[1]}) on line ${ev.line + 1} also draws errors on other, correct tokens:\n${all()}`);
      const withFix = onField.find((d) => d.fixes.length > 0);
      if (!withFix) assert.fail(`no quick fix for ${onField.map((d) => d.code).join(', ')} on line ${ev.line + 1}:\n${all()}`);
      const fixed = applyEdits(broken, withFix.fixes[0].edits);
      const again = check(fixed);
      const left = again.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
      if (left.length) {
        assert.fail(`after "${withFix.fixes[0].title}" (${withFix.code}) the trace still has problems:\n${left.map((d) => describe(d, docLines(fixed))).join('\n')}\n${numberedText(fixed)}`);
      }
    }),
    params(250),
  );
});

test('the benchmark trace generator writes a correct trace: no errors or warnings, one timeline entry per event', () => {
  let text = '';
  const stats = writeLongTrace(runs(6000), 0x5eed, (chunk) => {
    text += chunk;
  });
  const r = check(text);
  const lines = docLines(text);
  const bad = r.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
  if (bad.length) assert.fail(`the long trace has problems:\n${bad.slice(0, 10).map((d) => describe(d, lines)).join('\n')}`);
  assert.equal(r.timeline.length, stats.events);
  assert.ok(stats.connections > 5, `only ${stats.connections} connections`);
  // Every connection ends with TIME_WAIT timed out: both endpoints finish CLOSED.
  const last = r.timeline.length - 1;
  assert.deepEqual([stateName(r.timeline.state(last, 0)), stateName(r.timeline.state(last, 1))], ['CLOSED', 'CLOSED']);
});

// ------------------------------------------------- streaming check == tree-keeping check

/** The command line checks with keepSyntax: false (each statement checked as parsed); it must hand out exactly what the editor's check does. */
function assertStreamingSame(text: string): void {
  const diff = streamingDifference(text);
  if (diff) assert.fail(`${diff}\n${numberedText(text).slice(0, 4000)}`);
}

test('a streaming check equals a tree-keeping one on generated traces', () => {
  fc.assert(
    fc.property(planArb, (plan) => assertStreamingSame(generateTrace(plan).text)),
    params(300),
  );
});

test('a streaming check equals a tree-keeping one on arbitrary text', () => {
  fc.assert(
    fc.property(fc.oneof(anyTextArb, tokenDocArb), (text) => assertStreamingSame(text)),
    params(500),
  );
});

test('a streaming check equals a tree-keeping one on damaged traces', () => {
  fc.assert(
    fc.property(mutatedArb, (text) => assertStreamingSame(text)),
    params(500),
  );
});

test('a streaming check equals a tree-keeping one on the long benchmark trace', () => {
  let text = '';
  writeLongTrace(runs(20000), 0x5eed + 1, (chunk) => {
    text += chunk;
  });
  assertStreamingSame(text);
});
