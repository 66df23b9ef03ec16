/**
 * The simulator: replays a parsed trace against both endpoints' control blocks
 * (the rules are in ../tcp/rfc9293.ts) and produces diagnostics with quick
 * fixes plus the timeline every other feature reads.
 */
import {
  ACK,
  RST,
  SYN,
  isEvent,
  type Arrow,
  type CallStmt,
  type DeliverStmt,
  type EventStmt,
  type NameTok,
  type NumField,
  type ParsedTrace,
  type SegmentStmt,
  type Statement,
  type Tok,
} from '../syntax/ast';
import { intField, lineOffset, newSegRecords, numField, parse, parseDuration, setName, setTok, timeSpec, utf8Length, type ParseTuning, type StatementSink } from '../syntax/parser';
import { flagText, segmentArrives, sendSegment, userCall, type Ctx, type Finding, type FindingAt, type Seg } from '../tcp/rfc9293';
import { seqAdd, seqDiff, seqGt, seqLe } from '../tcp/seq';
import { CLOSED, LISTEN, STATE_DOCS, TIME_WAIT, stateName } from '../tcp/states';
import { Tcb, type SegmentRef } from '../tcp/tcb';
import { CODES } from './codes';
import { Timeline } from './timeline';
import type {
  CheckOptions,
  CheckResult,
  Diagnostic,
  EndpointInfo,
  QuickFix,
  RelatedInfo,
  Severity,
  SymbolBinding,
  TextEdit,
  TraceOptions,
} from './types';

/**
 * Checks a `.tcptrace` document. Never throws on any input. With
 * `keepSyntax: false` each statement is checked as soon as it is parsed and
 * then dropped (`result.parsed.statements` is empty): what the command line
 * does, so that memory does not grow with the tree of a huge trace.
 */
export function check(text: string, options: CheckOptions = {}): CheckResult {
  if (options.keepSyntax === false) return checkStreaming([text], options);
  return checkParsed(parse(text), options);
}

/**
 * `check(parts.join(''), { ...options, keepSyntax: false })`, for a text in
 * pieces that each end a line (in `\n`), but the last. It is for the bytes
 * of an imported trace: ASCII but for a line or two of its header. Reading
 * the ASCII bulk as its own Latin-1 string gives the parser a flat one-byte
 * string; joining it to the UTF-8 head would give a concatenation, on which
 * every character read costs about a third more. `latin1[i]`, when given, is
 * the bytes part i was read from as Latin-1: the parser's fast paths read
 * them rather than copying the part's characters out of the string.
 */
export function checkParts(parts: readonly string[], options: CheckOptions = {}, latin1?: readonly (Uint8Array | undefined)[]): CheckResult {
  return checkStreaming(parts, { ...options, keepSyntax: false }, latin1);
}

/** The checker keeps no reference to a statement's records after stepping it. */
const REUSE = { reuse: true } as const;

/**
 * The context the rules see. A class, not an object with a closure per
 * checker: the rules call `num` on every checker's context, and optimized
 * code that met one closure is thrown away when it meets another.
 */
class CheckerCtx implements Ctx {
  constructor(
    private readonly checker: Checker,
    private readonly self: number,
    readonly me: string,
    readonly peer: string,
    readonly capture: boolean,
    readonly states: Ctx['states'],
  ) {}

  num(owner: 'me' | 'peer', v: number): string {
    return this.checker.fmt(owner === 'me' ? this.self : 1 - this.self, v);
  }
}

/**
 * A segment line as its writer wrote it, for StreamingCheck.segment: values
 * and the columns of its tokens (a field's value starts 4 columns after its
 * key: `seq=`, `ack=`, `len=`, `win=`, `urg=`). A start of -1: not written.
 */
export interface WrittenSegment {
  /** Seconds as the parser reads them from the line (secondsOfDigits); the time starts at column 0. */
  seconds: number;
  timeEnd: number;
  from: string;
  fromStart: number;
  arrow: Arrow;
  arrowStart: number;
  to: string;
  toStart: number;
  flags: number;
  flagsStart: number;
  flagsEnd: number;
  seq: number;
  seqStart: number;
  seqEnd: number;
  ack: number;
  ackStart: number;
  ackEnd: number;
  len: number;
  lenStart: number;
  lenEnd: number;
  win: number;
  winStart: number;
  winEnd: number;
  urg: number;
  urgStart: number;
  urgEnd: number;
  label: string;
  labelStart: number;
  labelEnd: number;
  /** End column of the segment text (before its comment). */
  end: number;
}

/**
 * The streaming check of a text fed to it line by line by the code that
 * writes the text (the capture import): lines given as text are parsed, and
 * the common event lines are handed over as the statements the parser would
 * read from them, which spares reading them again. `finish()` equals
 * `check(text, { ...options, keepSyntax: false })` of the text made of those
 * lines, each ended by a line feed (test/unit/capture-check.test.ts holds the
 * import to it).
 */
export class StreamingCheck {
  private readonly parsed: ParsedTrace = { statements: [], diagnostics: [], symbols: new Set(), lineCount: 0 };
  private readonly checker: Checker;
  private line = 0;
  private index = 0;
  /** Lines given as text and not parsed yet (parsed together, before the next statement). */
  private readonly pending: string[] = [];
  private pendingFrom = 0;
  /** The answer cannot be given here: a symbol (the check would start over) or a line end inside a line. */
  private unsure = false;
  private readonly sink: StatementSink = (st) => {
    if (this.parsed.symbols.size > 0) this.unsure = true;
    this.step(st);
  };
  /** One set of records for every line (the checker keeps no reference to a statement's records). */
  private readonly r = newSegRecords();

  constructor(options: CheckOptions = {}) {
    this.checker = new Checker(this.parsed, { ...options, keepSyntax: false }, false, 64);
  }

  /** The next line, as text (without its line end). */
  text(line: string): void {
    // A line end inside would make more lines than this counts.
    if (line.includes('\n') || line.includes('\r')) this.unsure = true;
    if (this.pending.length === 0) this.pendingFrom = this.line;
    this.pending.push(line);
    this.line++;
  }

  /** The next line is this segment. */
  segment(w: WrittenSegment): void {
    this.flush();
    const r = this.r;
    const s = r.seg;
    s.line = this.line++;
    s.time = w.timeEnd < 0 ? undefined : timeSpec(r.time, false, w.seconds, 0, w.timeEnd);
    setName(s.from, w.from, w.fromStart, w.fromStart + w.from.length);
    setName(s.to, w.to, w.toStart, w.toStart + w.to.length);
    s.arrow = w.arrow;
    setTok(s.arrowTok, w.arrowStart, w.arrowStart + 2);
    s.flags = w.flags;
    setTok(s.flagsTok, w.flagsStart, w.flagsEnd);
    // A field's value starts after its 4-character key (`seq=`).
    s.seq = w.seqStart < 0 ? undefined : numField(r.seq, w.seq, w.seqStart + 4, w.seqStart, w.seqEnd);
    s.ack = w.ackStart < 0 ? undefined : numField(r.ack, w.ack, w.ackStart + 4, w.ackStart, w.ackEnd);
    s.len = w.lenStart < 0 ? undefined : intField(r.len, w.len, w.lenStart + 4, w.lenStart, w.lenEnd);
    s.win = w.winStart < 0 ? undefined : intField(r.win, w.win, w.winStart + 4, w.winStart, w.winEnd);
    s.urg = w.urgStart < 0 ? undefined : intField(r.urg, w.urg, w.urgStart + 4, w.urgStart, w.urgEnd);
    if (w.labelStart < 0) s.label = undefined;
    else setName((s.label = r.label), w.label, w.labelStart, w.labelEnd);
    s.end = w.end;
    this.step(s);
  }

  /** The next line is `deliver LABEL`, the keyword at column 0. */
  deliver(label: string, labelStart: number, labelEnd: number): void {
    this.flush();
    const d = this.r.deliver;
    d.line = this.line++;
    setTok(d.keyword, 0, 7);
    setName(d.label, label, labelStart, labelEnd);
    this.step(d);
  }

  /** The result, or undefined when this check cannot give it (a symbol, a line end inside a line): check the text then. */
  finish(): CheckResult | undefined {
    this.flush();
    if (this.unsure) return undefined;
    // The text ends with a line end: the parser counts the empty line after it.
    this.parsed.lineCount = this.line + 1;
    this.checker.finish();
    return this.checker.result();
  }

  private step(st: Statement): void {
    if (!this.unsure) this.checker.step(st, this.index);
    this.index++;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    parse(this.pending.join('\n'), this.sink, this.parsed, { line: this.pendingFrom, offset: 0 }, REUSE);
    this.pending.length = 0;
  }
}

/**
 * Parses a text given in parts (see checkParts) as `parse(parts.join(''), sink, out, undefined, REUSE)` does;
 * `latin1[i]`, if given, holds the bytes part i was decoded from as Latin-1.
 */
function parseParts(parts: readonly string[], sink: StatementSink, out: ParsedTrace, latin1?: readonly (Uint8Array | undefined)[]): ParsedTrace {
  const tuning = (i: number): ParseTuning => (latin1?.[i] === undefined ? REUSE : { reuse: true, latin1: latin1[i] });
  if (parts.length === 1) return parse(parts[0], sink, out, undefined, tuning(0));
  let index = 0;
  const counted: StatementSink = (st) => sink(st, index++);
  let line = 0;
  for (let i = 0; i < parts.length; i++) {
    parse(parts[i], counted, out, i === 0 ? undefined : { line, offset: 0 }, tuning(i));
    // A part ends with a line end: the parser counted the empty line after it, where the next part starts.
    line = out.lineCount - 1;
  }
  return out;
}

/** Thrown out of the parser's sink when a streaming check meets the trace's first symbol. */
const SYMBOL_SEEN = { symbolSeen: true };

/**
 * The check of `check(text, { keepSyntax: false })`. Whether the trace is
 * symbolic, and which names it uses, decide how numbers are written and which
 * name a fresh ISN gets, from the first event on: a tree-keeping check knows
 * them before it starts. Most traces have no symbol and are checked in one
 * pass; at the first symbol the check starts over, with every symbol of the
 * text gathered first by a parse that keeps nothing.
 */
function checkStreaming(parts: readonly string[], options: CheckOptions, latin1?: readonly (Uint8Array | undefined)[]): CheckResult {
  // About one statement per 40 characters: saves most of the timeline's regrowth.
  let length = 0;
  for (const p of parts) length += p.length;
  const capacity = Math.ceil(length / 40);
  const parsed: ParsedTrace = { statements: [], diagnostics: [], symbols: new Set(), lineCount: 0 };
  const c = new Checker(parsed, options, false, capacity);
  const symbols = parsed.symbols;
  try {
    parseParts(
      parts,
      (s, i) => {
        if (symbols.size > 0) throw SYMBOL_SEEN;
        c.step(s, i);
      },
      parsed,
      latin1,
    );
  } catch (e) {
    if (e !== SYMBOL_SEEN) throw e;
  }
  if (symbols.size === 0) {
    c.finish();
    return c.result();
  }
  // Symbolic (a symbol on a line the parser dropped counts too): every symbol first, then the check.
  const all = parseParts(parts, () => undefined, { statements: [], diagnostics: [], symbols: new Set(), lineCount: 0 }, latin1).symbols;
  const again: ParsedTrace = { statements: [], diagnostics: [], symbols: all, lineCount: 0 };
  const c2 = new Checker(again, options, true, capacity);
  parseParts(parts, (s, i) => c2.step(s, i), again, latin1);
  c2.finish();
  return c2.result();
}

export function checkParsed(parsed: ParsedTrace, options: CheckOptions = {}): CheckResult {
  const c = new Checker(parsed, options, parsed.symbols.size > 0, parsed.statements.length + 1);
  const stmts = parsed.statements;
  for (let i = 0; i < stmts.length; i++) c.step(stmts[i], i);
  c.finish();
  return c.result();
}

interface InFlight {
  /** The segment, until it is delivered (then only the lines are kept, for TT110). */
  seg: Seg | undefined;
  /** Where it was sent: the line and its label's columns (not the statement, whose records a streaming parse reuses). */
  line: number;
  labelStart: number;
  labelEnd: number;
  from: number;
  to: number;
  gapFill: number | undefined;
  delivered: number; // line of its deliver, or -1
  senderErred: boolean;
}

/** How an endpoint writes its seq/ack numbers: not yet seen, numbers, or symbols. */
type Numbering = 0 | 1 | 2;
const NUMBERING_NONE = 0;
const NUMBERING_NUMERIC = 1;
const NUMBERING_SYMBOLIC = 2;

/** Seconds; 2 minutes per RFC 9293 unless `option msl=` says otherwise. */
const DEFAULT_MSL = 120;

/** A snapshot of the checker is kept every this many statements, to resume after an edit. */
const SNAPSHOT_EVERY = 256;

/** The checker's whole mutable state before statement `stmtIndex` (a deep enough copy). */
interface Snapshot {
  stmtIndex: number;
  diagCount: number;
  timelineLength: number;
  suppressed: Diagnostic[];
  endpoints: EndpointInfo[];
  tcbs: [Tcb, Tcb];
  opts: TraceOptions;
  title: string | undefined;
  symbols: Map<string, SymbolBinding>;
  bindingsBySpace: [SymbolBinding[], SymbolBinding[]];
  numbering: [Numbering, Numbering];
  labels: Map<string, InFlight>;
  symbolic: boolean;
  firstEventLine: number;
  now: number;
  lastLine: [number, number];
  lastTok: number[];
  headerSeen: Set<string>;
}

interface ResumeData {
  snapshots: Snapshot[];
  diags: Diagnostic[];
  suppressed: Set<Diagnostic>;
  timeline: Timeline;
  severities: CheckOptions['severities'];
}

function cloneTcb(t: Tcb): Tcb {
  const c = Object.assign(new Tcb(), t);
  // Nested records are replaced, never mutated, so sharing them is safe; the arrays are mutated.
  c.ooo = t.ooo.slice();
  c.unacked = t.unacked.slice();
  return c;
}

function cloneLabels(m: Map<string, InFlight>): Map<string, InFlight> {
  const out = new Map<string, InFlight>();
  for (const [k, f] of m) out.set(k, { ...f });
  return out;
}

function sameSeverities(a: CheckOptions['severities'], b: CheckOptions['severities']): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

/**
 * Re-checks `text` after an edit. Every line before `firstChangedLine` is as it
 * was in `prev`'s text; when the edit kept the number of lines, `lastChangedLine`
 * (the last line it touched) says every line after it is unchanged too. The
 * statements, diagnostics and timeline before the change are reused and
 * checking resumes from the last snapshot before it; with `lastChangedLine`,
 * only the changed lines are parsed again, and once the checker's state after
 * them equals the earlier run's at the same statement, the rest of that run is
 * reused as well. The result equals `check(text, options)`; `prev` is left as
 * it was.
 */
export function checkIncremental(prev: CheckResult, text: string, firstChangedLine: number, options: CheckOptions = {}, lastChangedLine?: number): CheckResult {
  const data = prev.resume as ResumeData | undefined;
  const offset = lineOffset(text, firstChangedLine);
  if (!data || offset < 0 || options.keepSyntax === false || !sameSeverities(data.severities, options.severities)) return check(text, options);
  const old = prev.parsed.statements;
  // Statements before the first changed line are unchanged.
  const keep = firstIndexFrom(old, firstChangedLine);
  const si = lastSnapshotAtOrBefore(data.snapshots, keep);
  if (si < 0) return check(text, options);
  const snap = data.snapshots[si];

  const parsed: ParsedTrace = {
    statements: old.slice(0, keep),
    diagnostics: prev.parsed.diagnostics.filter((d) => d.line < firstChangedLine),
    symbols: new Set(),
    lineCount: 0,
  };
  // With the line count unchanged, the statements after the changed lines are the old ones, at the
  // same lines: only the changed lines are parsed. `tail` is the first of them in `old`.
  const bounded = lastChangedLine !== undefined && lastChangedLine >= firstChangedLine;
  let tail = -1;
  let middleEnd = -1;
  if (bounded) {
    tail = firstIndexFrom(old, lastChangedLine + 1);
    parse(text, undefined, parsed, { line: firstChangedLine, offset, untilLine: lastChangedLine });
    middleEnd = parsed.statements.length;
    for (let i = tail; i < old.length; i++) parsed.statements.push(old[i]);
    for (const d of prev.parsed.diagnostics) if (d.line > lastChangedLine) parsed.diagnostics.push(d);
    parsed.lineCount = prev.parsed.lineCount;
  } else {
    parse(text, undefined, parsed, { line: firstChangedLine, offset });
  }
  // The unchanged statements hold no symbol unless the trace was symbolic (then gather them all).
  if (prev.symbolic) {
    for (const st of parsed.statements) {
      if (st.kind === 'segment') {
        if (st.seq?.sym) parsed.symbols.add(st.seq.sym);
        if (st.ack?.sym) parsed.symbols.add(st.ack.sym);
      }
    }
  }
  // Whether the trace is symbolic decides how every message writes numbers: when that changes, start over.
  if (parsed.symbols.size > 0 !== prev.symbolic) return checkParsed(parsed, options);

  const c = new Checker(parsed, options, parsed.symbols.size > 0, 64);
  c.restore(snap, data, si);
  const stmts = parsed.statements;
  // The earlier run's snapshots in the unchanged tail, where its state may be met again.
  const shift = middleEnd - tail;
  let k = bounded ? lastSnapshotAtOrBefore(data.snapshots, old.length) : -1;
  if (bounded) while (k > 0 && data.snapshots[k - 1].stmtIndex >= tail) k--;
  if (k >= 0 && data.snapshots[k].stmtIndex < tail) k = -1;
  for (let i = snap.stmtIndex; i < stmts.length; i++) {
    if (k >= 0 && i >= middleEnd) {
      while (k < data.snapshots.length && data.snapshots[k].stmtIndex + shift < i) k++;
      if (k < data.snapshots.length && data.snapshots[k].stmtIndex + shift === i && c.sameStateAs(data.snapshots[k])) {
        c.spliceFrom(data, k, shift, prev);
        return c.result();
      }
    }
    c.step(stmts[i], i);
  }
  c.finish();
  return c.result();
}

/** Index of the first statement on or after `line` (statements are in line order). */
function firstIndexFrom(stmts: readonly Statement[], line: number): number {
  let lo = 0;
  let hi = stmts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stmts[mid].line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last snapshot taken at or before statement `index`; -1 if none. */
function lastSnapshotAtOrBefore(snaps: readonly Snapshot[], index: number): number {
  let lo = 0;
  let hi = snaps.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (snaps[mid].stmtIndex <= index) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** Structural equality of checker state (plain objects, arrays, maps, sets; NaN equals NaN). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [key, v] of a) if (!b.has(key) || !deepEqual(v, b.get(key))) return false;
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of ka) if (!(key in rb) || !deepEqual(ra[key], rb[key])) return false;
  return true;
}

class Checker {
  private diags: Diagnostic[] = [];
  private suppressed = new Set<Diagnostic>();
  private endpoints: EndpointInfo[] = [];
  private tcbs: [Tcb, Tcb] = [new Tcb(), new Tcb()];
  private timeline: Timeline;
  private opts: TraceOptions = { msl: DEFAULT_MSL, origin: 'model', states: 'socket' };
  private title: string | undefined;
  private symbols = new Map<string, SymbolBinding>();
  private bindingsBySpace: [SymbolBinding[], SymbolBinding[]] = [[], []];
  /** How each endpoint writes its numbers, from its first seq=/ack=. */
  private numbering: [Numbering, Numbering] = [NUMBERING_NONE, NUMBERING_NONE];
  private labels = new Map<string, InFlight>();
  /** The trace writes symbols; when streaming, this turns on at the first symbol. */
  private symbolic: boolean;
  private firstEventLine = -1;
  private now = NaN;
  /** The last event that involved each endpoint, and the token naming it there (for TT209). */
  private lastLine: [number, number] = [-1, -1];
  /**
   * Columns [start, end] of that token for endpoint 0 then 1 (-1: none). Numbers, not the token: a
   * streaming check's parser may reuse its records for the next statement.
   */
  private lastTok: number[] = [-1, -1, -1, -1];
  private headerSeen = new Set<string>();
  private readonly keepTimeline: boolean;

  constructor(
    private readonly parsed: ParsedTrace,
    private readonly options: CheckOptions,
    symbolic: boolean,
    capacity: number,
  ) {
    this.keepTimeline = options.timeline !== false || options.keepSyntax !== false;
    this.timeline = new Timeline(this.keepTimeline ? capacity : 0);
    this.symbolic = symbolic;
    if (options.keepSyntax !== false) this.snapshots = [];
  }

  // ---- diagnostics ----

  private severityOf(code: string): Severity | 'off' {
    const o = this.options.severities?.[code];
    if (o) return o;
    const info = CODES[code];
    if (this.opts.origin === 'capture' && info.capture) return info.capture;
    return info.severity;
  }

  private add(code: string, line: number, tok: Tok, message: string, fixes: QuickFix[] = [], related: RelatedInfo[] = [], severityDefault?: Severity): Diagnostic | undefined {
    const severity = severityDefault && !this.options.severities?.[code] ? severityDefault : this.severityOf(code);
    if (severity === 'off') return undefined;
    const d: Diagnostic = { code, severity, message, line, start: tok.start, end: Math.max(tok.end, tok.start), related, fixes };
    this.diags.push(d);
    return d;
  }

  result(): CheckResult {
    const syntax: Diagnostic[] = [];
    for (const d of this.parsed.diagnostics) {
      const severity = this.severityOf(d.code);
      if (severity === 'off') continue;
      syntax.push({ code: d.code, severity, message: d.message, line: d.line, start: d.start, end: d.end, related: [], fixes: [] });
    }
    const all = syntax.concat(this.diags.filter((d) => !this.suppressed.has(d)));
    all.sort((a, b) => a.line - b.line || a.start - b.start);
    return {
      parsed: this.parsed,
      title: this.title,
      endpoints: this.endpoints,
      options: this.opts,
      diagnostics: all,
      timeline: this.timeline,
      symbols: this.symbols,
      symbolic: this.symbolic,
      resume: this.snapshots
        ? ({ snapshots: this.snapshots, diags: this.diags, suppressed: this.suppressed, timeline: this.timeline, severities: this.options.severities } satisfies ResumeData)
        : undefined,
    };
  }

  // ---- snapshots ----

  private snapshot(stmtIndex: number): Snapshot {
    return {
      stmtIndex,
      diagCount: this.diags.length,
      timelineLength: this.timeline.length,
      suppressed: [...this.suppressed],
      endpoints: this.endpoints.map((e) => ({ ...e })),
      tcbs: [cloneTcb(this.tcbs[0]), cloneTcb(this.tcbs[1])],
      opts: { ...this.opts },
      title: this.title,
      symbols: new Map(this.symbols),
      bindingsBySpace: [this.bindingsBySpace[0].slice(), this.bindingsBySpace[1].slice()],
      numbering: [this.numbering[0], this.numbering[1]],
      labels: cloneLabels(this.labels),
      symbolic: this.symbolic,
      firstEventLine: this.firstEventLine,
      now: this.now,
      lastLine: [this.lastLine[0], this.lastLine[1]],
      lastTok: this.lastTok.slice(),
      headerSeen: new Set(this.headerSeen),
    };
  }

  /** Continues from a snapshot of an earlier run (copied again: the snapshot stays as it was). */
  restore(snap: Snapshot, data: ResumeData, snapIndex: number): void {
    this.diags = data.diags.slice(0, snap.diagCount);
    this.suppressed = new Set(snap.suppressed);
    // Room for the whole timeline: a resumed run usually ends about where the earlier one did.
    this.timeline = data.timeline.slice(snap.timelineLength, data.timeline.length + 1024);
    this.endpoints = snap.endpoints.map((e) => ({ ...e }));
    this.tcbs = [cloneTcb(snap.tcbs[0]), cloneTcb(snap.tcbs[1])];
    this.opts = { ...snap.opts };
    this.title = snap.title;
    this.symbols = new Map(snap.symbols);
    this.bindingsBySpace = [snap.bindingsBySpace[0].slice(), snap.bindingsBySpace[1].slice()];
    this.numbering = [snap.numbering[0], snap.numbering[1]];
    this.labels = cloneLabels(snap.labels);
    this.symbolic = snap.symbolic;
    this.firstEventLine = snap.firstEventLine;
    this.now = snap.now;
    this.lastLine = [snap.lastLine[0], snap.lastLine[1]];
    this.lastTok = snap.lastTok.slice();
    this.headerSeen = new Set(snap.headerSeen);
    this.ctxCache.fill(undefined);
    // The snapshot at `stmtIndex` is taken again when that statement is stepped.
    this.snapshots = data.snapshots.slice(0, snapIndex);
  }

  /**
   * Whether the state now is the one an earlier run had at `old` (lines and
   * statements unchanged after the edit). A SYN refused while CLOSED is left
   * out: its diagnostic may be withdrawn later, and that one is not reused.
   */
  sameStateAs(old: Snapshot): boolean {
    if (this.tcbs[0].refusedSyn || this.tcbs[1].refusedSyn || old.tcbs[0].refusedSyn || old.tcbs[1].refusedSyn) return false;
    const cur = this.snapshot(old.stmtIndex);
    return (
      deepEqual(cur.tcbs, old.tcbs) &&
      deepEqual(cur.labels, old.labels) &&
      deepEqual(cur.now, old.now) &&
      deepEqual(cur.endpoints, old.endpoints) &&
      deepEqual(cur.opts, old.opts) &&
      cur.title === old.title &&
      deepEqual(cur.symbols, old.symbols) &&
      deepEqual(cur.bindingsBySpace, old.bindingsBySpace) &&
      deepEqual(cur.numbering, old.numbering) &&
      cur.symbolic === old.symbolic &&
      cur.firstEventLine === old.firstEventLine &&
      deepEqual(cur.lastLine, old.lastLine) &&
      deepEqual(cur.lastTok, old.lastTok) &&
      deepEqual(cur.headerSeen, old.headerSeen)
    );
  }

  /**
   * Takes the rest of an earlier run from its snapshot `k` on (the states are
   * equal and the statements after it are the same, `shift` places later):
   * its diagnostics (those of the end of the trace included), timeline,
   * snapshots and final state.
   */
  spliceFrom(data: ResumeData, k: number, shift: number, prev: CheckResult): void {
    const from = data.snapshots[k];
    // The earlier run's snapshots count positions in its own lists; here those lists continue from ours.
    const diagShift = this.diags.length - from.diagCount;
    const timelineShift = this.timeline.length - from.timelineLength;
    const appended = data.diags.slice(from.diagCount);
    const appendedSet = new Set(appended);
    for (const d of appended) this.diags.push(d);
    for (const d of data.suppressed) if (appendedSet.has(d)) this.suppressed.add(d);
    this.timeline.appendFrom(data.timeline, from.timelineLength, shift);
    // Their suppressed diagnostics: ours before the splice point (this run's may differ from the
    // earlier one's there), then theirs after it.
    const ours = [...this.suppressed].filter((d) => !appendedSet.has(d));
    for (let m = k; m < data.snapshots.length; m++) {
      const o = data.snapshots[m];
      const suppressed = ours.concat(o.suppressed.filter((d) => appendedSet.has(d)));
      this.snapshots?.push({ ...o, stmtIndex: o.stmtIndex + shift, diagCount: o.diagCount + diagShift, timelineLength: o.timelineLength + timelineShift, suppressed });
    }
    this.endpoints = prev.endpoints;
    this.title = prev.title;
    this.opts = prev.options;
    this.symbols = prev.symbols;
    this.symbolic = prev.symbolic;
  }

  // ---- main loop ----

  /** Snapshots for checkIncremental (not kept when streaming). */
  private snapshots: Snapshot[] | undefined;

  step(s: Statement, index: number): void {
    if (this.snapshots && index % SNAPSHOT_EVERY === 0) this.snapshots.push(this.snapshot(index));
    if (isEvent(s)) {
      if (this.firstEventLine < 0) this.firstEventLine = s.line;
      this.event(s, index);
    } else this.other(s);
  }

  private other(s: Statement): void {
    switch (s.kind) {
      case 'title':
      case 'endpoint':
      case 'option':
        this.header(s);
        return;
      case 'expect':
        for (const item of s.items) {
          const ep = this.knownEndpoint(item.endpoint, s.line);
          if (ep < 0 || item.state < 0) continue;
          const actual = this.tcbs[ep].state;
          if (actual !== item.state) {
            const name = stateName(actual, this.opts.states);
            this.add(
              'TT206',
              s.line,
              item.stateTok,
              `${item.endpoint.name} is ${name} here, not ${stateName(item.state, this.opts.states)}${this.explainState(ep)}.`,
              [{ title: `Expect ${name}`, edits: [{ line: s.line, start: item.stateTok.start, end: item.stateTok.end, newText: name }], preferred: true }],
            );
          }
        }
        return;
      case 'note':
        for (const n of s.over) this.knownEndpoint(n, s.line);
        return;
      case 'section':
        return;
    }
  }

  /** Why the endpoint is in its actual state, to make TT206 teach. */
  private explainState(ep: number): string {
    const t = this.tcbs[ep];
    if (t.lastDropped) return ` (${t.lastDropped.why})`;
    const doc = STATE_DOCS[t.state];
    // The state's meaning, in the endpoint's voice ("our SYN" becomes "its SYN").
    return doc ? `: ${doc.charAt(0).toLowerCase()}${doc.slice(1, -1).replace(/\bour\b/g, 'its').replace(/\bOur\b/g, 'Its')}` : '';
  }

  private header(s: Statement & { kind: 'title' | 'endpoint' | 'option' }): void {
    if (this.firstEventLine >= 0) {
      this.add('TT107', s.line, s.keyword, `${s.kind} is a header statement: it goes before the first event (line ${this.firstEventLine + 1}).`);
      return;
    }
    if (s.kind === 'title') {
      if (this.headerSeen.has('title')) {
        this.add('TT107', s.line, s.keyword, 'The title is given twice.');
        return;
      }
      this.headerSeen.add('title');
      this.title = s.text.text;
      return;
    }
    if (s.kind === 'option') {
      const key = s.key.name.toLowerCase();
      if (this.headerSeen.has(`option:${key}`)) {
        this.add('TT107', s.line, s.key, `option ${key} is given twice.`);
        return;
      }
      this.headerSeen.add(`option:${key}`);
      const v = s.value.text;
      if (key === 'msl') this.opts.msl = parseDuration(v) ?? DEFAULT_MSL;
      else if (key === 'origin') this.opts.origin = v === 'capture' ? 'capture' : 'model';
      else if (key === 'states') this.opts.states = v === 'rfc' ? 'rfc' : 'socket';
      return;
    }
    if (this.endpoints.some((e) => e.name === s.name.name)) {
      this.add('TT107', s.line, s.name, `Endpoint ${s.name.name} is declared twice.`);
      return;
    }
    if (this.endpoints.length >= 2) {
      this.add('TT105', s.line, s.name, `A trace has two endpoints (${this.endpoints.map((e) => e.name).join(' and ')}); ${s.name.name} would be a third.`);
      return;
    }
    this.endpoints.push({
      name: s.name.name,
      address: s.address?.text,
      label: s.label?.text,
      line: s.line,
      start: s.name.start,
      end: s.name.end,
    });
  }

  /** Index of a named endpoint, declaring it implicitly if there is room; -1 (and TT105) otherwise. */
  private indexOfName(name: string): number {
    const e = this.endpoints;
    // At most two endpoints: a loop, not findIndex with a closure, on every event.
    return e.length > 0 && e[0].name === name ? 0 : e.length > 1 && e[1].name === name ? 1 : -1;
  }

  private setLastTok(ep: number, tok: Tok): void {
    this.lastTok[2 * ep] = tok.start;
    this.lastTok[2 * ep + 1] = tok.end;
  }

  private endpointOf(tok: NameTok, line: number): number {
    const i = this.indexOfName(tok.name);
    if (i >= 0) return i;
    if (this.endpoints.length < 2) {
      this.endpoints.push({ name: tok.name, address: undefined, label: undefined, line, start: tok.start, end: tok.end });
      return this.endpoints.length - 1;
    }
    this.add('TT105', line, tok, `Unknown endpoint ${tok.name}: this trace is between ${this.endpoints[0].name} and ${this.endpoints[1].name}, and a trace has two endpoints.`);
    return -1;
  }

  /** Index of an endpoint that must already exist (expect, note). */
  private knownEndpoint(tok: NameTok, line: number): number {
    const i = this.indexOfName(tok.name);
    if (i < 0) {
      const known = this.endpoints.map((e) => e.name);
      this.add('TT105', line, tok, `Unknown endpoint ${tok.name}${known.length ? `: the endpoints are ${known.join(' and ')}` : ''}.`);
    }
    return i;
  }

  private readonly ctxCache: (Ctx | undefined)[] = [undefined, undefined];

  /** The context the rules see for endpoint `me`; built once names and options are final. */
  private ctx(me: number): Ctx {
    const cached = this.ctxCache[me];
    if (cached) return cached;
    const c = this.makeCtx(me, this.opts.origin === 'capture');
    // Only once both names are known: a context built earlier says "the peer".
    if (this.endpoints.length === 2) this.ctxCache[me] = c;
    return c;
  }

  private makeCtx(me: number, capture: boolean): Ctx {
    return new CheckerCtx(this, me, this.endpoints[me]?.name ?? '?', this.endpoints[1 - me]?.name ?? 'the peer', capture, this.opts.states);
  }

  /** A number of endpoint `space`'s sequence space, symbolic when the trace is. */
  fmt(space: number, v: number): string {
    if (!this.symbolic) return String(v);
    let best: SymbolBinding | undefined;
    let bestD = 0;
    for (const b of this.bindingsBySpace[space] ?? []) {
      const d = seqDiff(v, b.value);
      if (best === undefined || (d >= 0 && (bestD < 0 || d <= bestD)) || (d < 0 && bestD < 0 && d > bestD)) {
        best = b;
        bestD = d;
      }
    }
    if (!best) return String(v);
    return bestD === 0 ? best.name : bestD > 0 ? `${best.name}+${bestD}` : `${best.name}-${-bestD}`;
  }

  // ---- events ----

  private time(s: EventStmt): void {
    const t = s.time;
    if (!t) return;
    const secs = t.seconds + t.msl * this.opts.msl;
    const base = Number.isNaN(this.now) ? 0 : this.now;
    const at = t.relative ? base + secs : secs;
    if (!t.relative && !Number.isNaN(this.now) && at < this.now - 1e-12) {
      this.add('TT112', s.line, t, `Time goes backwards: the previous event was at ${fmtTime(this.now)}, this one says ${fmtTime(at)}.`);
      return;
    }
    this.now = at;
    // 2MSL passed: TIME_WAIT is over (the endpoint is CLOSED at its next event).
    for (let e = 0; e < 2; e++) {
      const tcb = this.tcbs[e];
      if (tcb.state === TIME_WAIT && tcb.timeWaitSince !== undefined && this.now - tcb.timeWaitSince >= 2 * this.opts.msl - 1e-9) {
        const isItsTimeout = s.kind === 'call' && s.call === 'timeout' && this.endpoints[e]?.name === s.endpoint.name;
        if (!isItsTimeout) tcb.reset();
      }
    }
  }

  private event(s: EventStmt, index: number): void {
    this.time(s);
    if (s.kind === 'call') this.call(s);
    else if (s.kind === 'segment') this.segment(s);
    else this.deliver(s);
    // TIME_WAIT starts now, for the 2MSL timer.
    for (let e = 0; e < 2; e++) {
      const t = this.tcbs[e];
      if (t.state === TIME_WAIT && t.timeWaitSince === undefined && !Number.isNaN(this.now)) t.timeWaitSince = this.now;
    }
    if (this.keepTimeline) this.timeline.push(s.line, index, this.now, this.tcbs, this.segDone === s ? this.segNums : undefined);
    this.segDone = undefined;
  }

  /** The numbers of the segment just processed (reused: one object for the whole run). */
  private readonly segNums = { seq: 0, ack: undefined as number | undefined, len: 0, seqInferred: false, ackInferred: false };
  private segDone: SegmentStmt | undefined;

  private call(s: CallStmt): void {
    const ep = this.endpointOf(s.endpoint, s.line);
    if (ep < 0) return;
    const tcb = this.tcbs[ep];
    const ref: SegmentRef = { line: s.line, start: s.callTok.start, end: s.callTok.end };
    this.lastLine[ep] = s.line;
    this.setLastTok(ep, s.endpoint);
    const before = tcb.state;
    const sinceTW = tcb.timeWaitSince;
    const arg = s.args[0];
    const bytes = s.call === 'send' && arg ? (arg.str !== undefined ? utf8Length(arg.str) : (arg.num ?? 0)) : undefined;
    const r = userCall(tcb, s.call, this.ctx(ep), ref, { bytes });
    if (!r.ok) {
      this.add('TT201', s.line, s.callTok, r.message);
      return;
    }
    if (s.call === 'timeout' && before === TIME_WAIT && sinceTW !== undefined && !Number.isNaN(this.now)) {
      const lasted = this.now - sinceTW;
      const need = 2 * this.opts.msl;
      if (lasted < need - 1e-9) {
        this.add(
          'TT207',
          s.line,
          s.callTok,
          `TIME_WAIT lasted ${fmtTime(lasted)}, but it must last 2MSL = ${fmtTime(need)} (msl=${fmtTime(this.opts.msl)}) so that old duplicates die out and the last ACK can be repeated.`,
          s.time
            ? []
            : [
                {
                  title: 'Time the timeout at +2MSL',
                  edits: [{ line: s.line, start: s.endpoint.start, end: s.endpoint.start, newText: '+2MSL ' }],
                  preferred: true,
                },
              ],
        );
      }
    }
  }

  /** The sender's endpoint index times 2 plus the receiver's (no pair array on every segment), or -1 (reported). */
  private resolveEndpoints(s: SegmentStmt): number {
    const a = this.endpointOf(s.from, s.line);
    const b = this.endpointOf(s.to, s.line);
    if (a < 0 || b < 0) return -1;
    if (a === b) {
      this.add('TT105', s.line, s.to, `A segment goes from one endpoint to the other; ${s.from.name} cannot send to itself.`);
      return -1;
    }
    return a * 2 + b;
  }

  private segment(s: SegmentStmt): void {
    const eps = this.resolveEndpoints(s);
    if (eps < 0) return;
    const a = eps >> 1;
    const b = eps & 1;
    const S = this.tcbs[a];
    const P = this.tcbs[b];
    this.lastLine[a] = this.lastLine[b] = s.line;
    this.setLastTok(a, s.from);
    this.setLastTok(b, s.to);

    // Payload length: len= and data= must agree.
    let len = s.len?.value ?? 0;
    if (s.data) {
      const dl = utf8Length(s.data.text);
      if (s.len && s.len.value !== dl) {
        this.add('TT111', s.line, s.len, `len=${s.len.value} but data is ${dl} bytes long; give one or make them agree.`, [
          { title: `Set len=${dl}`, edits: [{ line: s.line, start: s.len.valueStart, end: s.len.end, newText: String(dl) }], preferred: true },
        ]);
      }
      len = dl;
    }

    let flags = s.flags;
    // ack= without ACK: report, then treat it as carrying ACK (so there is no cascade).
    if (s.ack && !(flags & ACK)) {
      this.add('TT111', s.line, s.ack, `ack=${s.ack.sym ?? s.ack.value}${s.ack.sym && s.ack.value ? '…' : ''} is given but the ACK flag is not set: the acknowledgment field counts only with ACK.`, [
        this.addAckFix(s),
      ]);
      flags |= ACK;
    }

    // --- resolve seq ---
    const ctx = this.ctx(a);
    const firstSyn = (flags & SYN) !== 0 && !(flags & RST) && S.iss === undefined;
    let expectSeq: number | undefined;
    if (flags & RST) expectSeq = S.abortRst && S.state === CLOSED ? S.abortRst.seq : (S.owedRst?.seq ?? S.sndNxt ?? 0);
    else if (flags & SYN) expectSeq = S.iss;
    else expectSeq = S.sndNxt ?? 0;
    let seq: number;
    let seqInferred = false;
    const prescribedZero = (flags & RST) !== 0 && s.seq !== undefined && s.seq.sym === undefined && s.seq.value === 0;
    if (s.seq) seq = this.resolveNum(s.seq, a, a, firstSyn ? undefined : expectSeq, s.line, firstSyn, prescribedZero);
    else {
      seqInferred = true;
      seq = expectSeq ?? (firstSyn ? this.freshIsn(a, s.line, s.flagsTok) : 0);
    }

    // --- resolve ack ---
    let ack: number | undefined;
    let ackInferred = false;
    if (flags & ACK) {
      const expectAck = flags & RST && S.owedRst?.ack !== undefined ? S.owedRst.ack : flags & RST && S.abortRst && S.state === CLOSED ? S.abortRst.ack : S.rcvNxt;
      if (s.ack) ack = this.resolveNum(s.ack, a, b, expectAck, s.line, false);
      else {
        ackInferred = true;
        ack = expectAck;
      }
    }

    const seg: Seg = {
      flags,
      seq,
      ack,
      len,
      win: s.win?.value,
      wscale: s.options?.wscale?.value,
      ref: { line: s.line, start: s.flagsTok.start, end: s.flagsTok.end },
    };

    // --- the sender ---
    const refusedSyn = S.refusedSyn;
    const nxtBefore = S.sndNxt;
    const out = sendSegment(S, P, seg, ctx);
    if (!out.refused && S.sndNxt !== undefined && (nxtBefore === undefined || seqGt(S.sndNxt, nxtBefore)) && !(flags & RST)) {
      // New sequence space went out: it waits for an acknowledgment (TT210 if none ever comes).
      S.unacked.push(S.sndNxt, s.line, s.flagsTok.start, s.flagsTok.end, seg.seq);
    }
    const findings = out.findings;
    for (let i = 0; i < findings.length; i++) {
      const f = findings[i];
      if (f.code === 'TT200' && f.fix?.kind === 'listen' && refusedSyn) {
        // The RST the CLOSED endpoint owed is not the point: the missing listen is.
        this.suppressTT202(refusedSyn.ref);
      }
      this.finding(f, s, a, b);
    }
    const n = this.segNums;
    n.seq = seg.seq;
    n.ack = seg.ack;
    n.len = seg.len;
    n.seqInferred = seqInferred;
    n.ackInferred = ackInferred;
    this.segDone = s;

    // --- the receiver ---
    // A segment the sender could not send still arrives (the RFC's reaction applies), but its line
    // already carries the root error: the receiver's side would only repeat it.
    let senderErred = false;
    for (let i = 0; i < findings.length; i++) if (findings[i].code === 'TT200' || findings[i].code === 'TT204') senderErred = true;
    if (s.arrow === '->') {
      this.arrive(b, seg, out.gapFill, s, s.line, undefined, senderErred);
    } else if (s.arrow === '~>' && s.label) {
      const name = s.label.name;
      const prev = this.labels.get(name);
      if (prev) {
        this.add('TT110', s.line, s.label, `Label ${name} is already used at line ${prev.line + 1}; each in-flight segment needs its own label.`);
      } else {
        // `seg` is this segment's own object, and nothing changes it once sent: kept as it is.
        this.labels.set(name, { seg, line: s.line, labelStart: s.label.start, labelEnd: s.label.end, from: a, to: b, gapFill: out.gapFill, delivered: -1, senderErred });
      }
    }
  }

  private suppressTT202(ref: SegmentRef): void {
    for (let i = this.diags.length - 1; i >= 0; i--) {
      const d = this.diags[i];
      if (d.code === 'TT202' && d.line === ref.line) {
        this.suppressed.add(d);
        return;
      }
    }
    // Delivered later: the TT202 sits on the deliver line.
    for (let i = this.diags.length - 1; i >= 0; i--) {
      const d = this.diags[i];
      if (d.code === 'TT202') {
        this.suppressed.add(d);
        return;
      }
    }
  }

  private deliver(s: DeliverStmt): void {
    const f = this.labels.get(s.label.name);
    if (!f) {
      this.add('TT110', s.line, s.label, `No segment is in flight as ${s.label.name}: label it where it is sent (A ~> B: ... as ${s.label.name}).`);
      return;
    }
    if (f.delivered >= 0) {
      this.add('TT110', s.line, s.label, `${s.label.name} was already delivered at line ${f.delivered + 1}; a segment arrives once.`);
      return;
    }
    const seg = f.seg!;
    f.seg = undefined;
    f.delivered = s.line;
    this.lastLine[f.to] = s.line;
    this.setLastTok(f.to, s.label);
    this.arrive(f.to, seg, f.gapFill, undefined, s.line, s.label, f.senderErred);
  }

  /** `s`: the statement of a segment that arrives on its own line; `at`: the deliver line's label, for one delivered later. */
  private arrive(r: number, seg: Seg, gapFill: number | undefined, s: SegmentStmt | undefined, line: number, at: Tok | undefined, quiet: boolean): void {
    const R = this.tcbs[r];
    // Written out rather than spread: the same shape as every other Seg.
    const arrivalSeg: Seg = at
      ? { flags: seg.flags, seq: seg.seq, ack: seg.ack, len: seg.len, win: seg.win, wscale: seg.wscale, ref: { line, start: at.start, end: at.end } }
      : seg;
    const out = segmentArrives(R, arrivalSeg, this.ctx(r), gapFill);
    pruneAcked(R);
    if (quiet) return;
    for (const f of out.findings) {
      const tok = at ?? (f.at === 'len' ? (s!.len ?? s!.data ?? s!.flagsTok) : s!.flagsTok);
      this.add(f.code, line, tok, f.message, [], this.relatedOf(f));
    }
  }

  private relatedOf(f: Finding): RelatedInfo[] {
    return f.related ? [{ line: f.related.line, start: f.related.start, end: f.related.end, message: f.related.message }] : [];
  }

  /** Turns a sender-side finding into a diagnostic on its token, with its quick fix. */
  private finding(f: Finding, s: SegmentStmt, a: number, b: number): void {
    const tok = this.tokenFor(f.at, s);
    const fixes: QuickFix[] = [];
    const fix = f.fix;
    if (fix) {
      if (fix.kind === 'seq' && s.seq) {
        const text = this.fmt(a, fix.value);
        fixes.push({ title: `Set seq=${text}`, edits: [{ line: s.line, start: s.seq.valueStart, end: s.seq.end, newText: text }], preferred: true });
      } else if (fix.kind === 'ack' && s.ack) {
        const text = this.fmt(b, fix.value);
        fixes.push({ title: `Set ack=${text}`, edits: [{ line: s.line, start: s.ack.valueStart, end: s.ack.end, newText: text }], preferred: true });
      } else if (fix.kind === 'addAck') {
        fixes.push(this.addAckFix(s));
      } else if (fix.kind === 'listen') {
        const name = this.endpoints[a].name;
        const at = this.firstEventLine >= 0 ? this.firstEventLine : s.line;
        fixes.push({ title: `Insert '${name}: listen' before the first event`, edits: [{ line: at, start: 0, end: 0, newText: `${name}: listen\n` }], preferred: true });
      }
    }
    this.add(f.code, s.line, tok, f.message, fixes, this.relatedOf(f));
  }

  private tokenFor(at: FindingAt, s: SegmentStmt): Tok {
    switch (at) {
      case 'seq':
        return s.seq ?? s.flagsTok;
      case 'ack':
        return s.ack ?? s.flagsTok;
      case 'len':
        return s.len ?? s.data ?? s.flagsTok;
      case 'win':
        return s.win ?? s.flagsTok;
      case 'from':
        return s.from;
      default:
        return s.flagsTok;
    }
  }

  /** The edit that adds the ACK flag, in the style the line is written in. */
  private addAckFix(s: SegmentStmt): QuickFix {
    const edit: TextEdit = s.tcpdumpFlags
      ? { line: s.line, start: s.flagsTok.end - 1, end: s.flagsTok.end - 1, newText: '.' }
      : { line: s.line, start: s.flagsTok.start, end: s.flagsTok.end, newText: flagText(s.flags | ACK) };
    return { title: 'Add the ACK flag', edits: [edit], preferred: true };
  }

  // ---- numbers and symbols ----

  /**
   * The value of a seq/ack field. `writer` wrote it; `space` is whose sequence
   * space it lives in. An unbound symbol is bound to `expected` (minus its offset).
   */
  private resolveNum(field: NumField, writer: number, space: number, expected: number | undefined, line: number, isIsn: boolean, prescribed = false): number {
    const first = this.numbering[writer];
    // A number the RFC prescribes (seq=0 on a RST answering a segment without ACK) is not a choice of numbering.
    if (prescribed && field.sym === undefined) return field.value >>> 0;
    const kind = field.sym === undefined ? NUMBERING_NUMERIC : NUMBERING_SYMBOLIC;
    if (first === NUMBERING_NONE) this.numbering[writer] = kind;
    else if (first !== kind) {
      const who = this.endpoints[writer].name;
      this.add(
        'TT111',
        line,
        field,
        `${who}'s numbers are ${first === NUMBERING_NUMERIC ? 'numeric' : 'symbolic'} elsewhere; one endpoint's numbers are either all numeric or all symbolic.`,
      );
    }
    if (field.sym === undefined) return field.value >>> 0;
    this.symbolic = true;
    const bound = this.symbols.get(field.sym);
    if (bound) {
      if (bound.space !== space) {
        this.add(
          'TT111',
          line,
          field,
          `${field.sym} is a sequence number of ${this.endpoints[bound.space].name} (bound at line ${bound.line + 1}); here the field counts ${this.endpoints[space].name}'s bytes.`,
        );
      }
      return seqAdd(bound.value, field.value);
    }
    const value = expected === undefined ? 0 : expected;
    this.bind(field.sym, seqAdd(value, -field.value), space, line, field, isIsn || expected === undefined);
    return value;
  }

  private bind(name: string, value: number, space: number, line: number, tok: Tok, isn: boolean): void {
    const b: SymbolBinding = { name, value: value >>> 0, space, line, start: tok.start, end: tok.end, isn };
    this.symbols.set(name, b);
    this.bindingsBySpace[space].push(b);
  }

  /** ISN for a SYN whose seq is left out: 0, or a fresh symbol in a symbolic trace. */
  private freshIsn(ep: number, line: number, tok: Tok): number {
    if (this.symbolic) {
      const name = ['x', 'y', 'u', 'v', 'w', 'z', 'a', 'b'].find((n) => !this.parsed.symbols.has(n) && !this.symbols.has(n)) ?? `isn_${this.endpoints[ep].name}`;
      this.bind(name, 0, ep, line, tok, true);
    }
    return 0;
  }

  // ---- the end of the trace ----

  finish(): void {
    for (const [name, f] of this.labels) {
      if (f.delivered < 0) {
        // Still in flight at the end is a warning, a bad label an error (spec section 6).
        this.add('TT110', f.line, { start: f.labelStart, end: f.labelEnd }, `${name} is still in flight at the end of the trace: deliver it (deliver ${name}) or send it with -x if it is lost.`, [], [], 'warning');
      }
    }
    // A capture may simply stop in the middle of an exchange: TT210 then says so rather than blame the endpoint.
    const capture = this.opts.origin === 'capture';
    for (let e = 0; e < this.endpoints.length; e++) {
      const t = this.tcbs[e];
      const name = this.endpoints[e].name;
      if (t.pendingConnect) {
        this.add('TT210', t.pendingConnect.line, t.pendingConnect, `${name} called connect, but its SYN never appears: connect sends a SYN (write '${name} -> PEER: SYN').`);
      }
      if (t.pendingClose && t.finSeq === undefined && t.state !== CLOSED) {
        this.add('TT210', t.pendingClose.line, t.pendingClose, `${name} closed, but its FIN never appears: close sends a FIN after any queued data.`);
      }
      if (t.abortRst && !t.abortRst.optional) {
        this.add('TT210', t.abortRst.ref.line, t.abortRst.ref, `${name} aborted, but the RST it sends never appears: abort resets the connection with a RST (seq=${this.fmt(e, t.abortRst.seq)}).`);
      }
      if (t.sendQueued > 0 && t.sendRef) {
        this.add('TT210', t.sendRef.line, t.sendRef, `${t.sendQueued === 1 ? '1 byte' : `${t.sendQueued} bytes`} given to send never appear in ${name}'s segments.`);
      }
      let answeredLine = -1;
      if (t.unanswered && t.state !== CLOSED) {
        const u = t.unanswered;
        answeredLine = u.ref.line;
        const ack = u.ackNeeded !== undefined ? ` (ack=${this.fmt(1 - e, u.ackNeeded)})` : '';
        this.add(
          'TT210',
          u.ref.line,
          u.ref,
          capture && u.what !== 'SYN'
            ? `The capture ends before ${name} answers this ${u.what}${ack}: it stopped first, or the answer was lost or not captured.`
            : `${name} never answers this ${u.what}: ${u.what === 'SYN' ? 'a SYN is answered with SYN,ACK (or a RST)' : 'what arrives is acknowledged'}${ack}.`,
        );
      }
      // What this endpoint sent and never saw acknowledged: every copy lost, or the answer never came.
      const peer = this.tcbs[1 - e];
      if (t.state !== CLOSED && t.unackedHead < t.unacked.length) {
        const q = t.unacked;
        const h = t.unackedHead;
        const line = q[h + 1];
        const peerName = this.endpoints[1 - e]?.name ?? 'the peer';
        // Not when the peer did answer (its ACK was lost, or wrong and reported there), nor when the peer
        // got data it never answered (reported on that segment): its side is the story. An ACK only counts
        // if it covers part of this segment: an earlier ACK up to its first byte answered something else.
        const peerAnswered = peer.lastAckSent !== undefined && seqGt(peer.lastAckSent, q[h + 4]);
        const peerReported = peer.unanswered !== undefined && peer.state !== CLOSED;
        if (!peerAnswered && !peerReported && line !== answeredLine) {
          const from = this.fmt(e, t.sndUna ?? q[h]);
          this.add(
            'TT210',
            line,
            { start: q[h + 2], end: q[h + 3] },
            capture
              ? `This segment of ${name} is not acknowledged by the end of the capture: ${peerName} has not acknowledged ${from} onward (the capture stopped first, or the segment or its answer was lost).`
              : `This segment of ${name} is never acknowledged: by the end of the trace ${peerName} has not acknowledged ${from} onward (the segment or its answer was lost), so ${name} keeps retransmitting or gives up.`,
          );
        }
      }
      if (t.state !== CLOSED && t.state !== LISTEN) {
        const start = this.lastTok[2 * e];
        if (start >= 0) {
          this.add('TT209', this.lastLine[e], { start, end: this.lastTok[2 * e + 1] }, `The trace ends with ${name} in ${stateName(t.state, this.opts.states)}${t.state === TIME_WAIT ? ' (it closes after 2MSL: end it with timeout)' : ''}.`);
        }
      }
    }
  }
}

const UNACKED_STRIDE = 5;

/** Drops the segments that SND.UNA now covers. */
function pruneAcked(t: Tcb): void {
  const q = t.unacked;
  if (t.sndUna === undefined || q.length === 0) return;
  let h = t.unackedHead;
  while (h < q.length && seqLe(q[h], t.sndUna)) h += UNACKED_STRIDE;
  if (h >= q.length) {
    q.length = 0;
    h = 0;
  } else if (h > 4096) {
    t.unacked = q.slice(h);
    h = 0;
  }
  t.unackedHead = h;
}

function fmtTime(s: number): string {
  if (s >= 1 || s === 0) return `${+s.toFixed(3)} s`;
  if (s >= 1e-3) return `${+(s * 1e3).toFixed(3)} ms`;
  return `${+(s * 1e6).toFixed(1)} us`;
}
