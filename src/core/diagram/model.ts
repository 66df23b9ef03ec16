/**
 * The diagram model (spec section 7): what the sequence diagram shows, item by
 * item in source order, read entirely from a CheckResult and its Timeline. No
 * TCP state is derived here; states, effective numbers and whether they were
 * inferred all come from the timeline.
 *
 * Label conventions (also the diagram's legend):
 * - a number the trace gives is written as `seq=1000`; a number the checker
 *   inferred is written in parentheses, `(seq=1000)`, `(ack=y+1)`;
 * - in a symbolic trace, inferred numbers are written relative to the closest
 *   symbol bound so far in the same sequence space (`(seq=u+1)`);
 * - options in short form: `mss=1460 ws=7 sackOK sack=1-2,5-6 ts=100:0`;
 * - an in-flight segment is labelled `[LABEL sent]` where it leaves and
 *   `[LABEL arrives]` where it is delivered, with the full segment text both
 *   times so that either end reads on its own.
 *
 * The model is plain data (no Mermaid syntax, no escaping): `mermaid.ts` turns
 * it into text, and other consumers (the preview, tests) can read it directly.
 */
import type { CheckResult, Diagnostic, Severity, SymbolBinding } from '../check/types';
import type { SegmentNumbers } from '../check/timeline';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type CallStmt, type SegmentStmt, type Statement, type NumField } from '../syntax/ast';
import { CLOSED, TIME_WAIT, type State } from '../tcp/states';
import { utf8Length } from '../syntax/parser';
import type { LineMap } from '../syntax/lines';

export type { LineMap };
import { dataPreview } from './escape';

export type EndpointIndex = 0 | 1;

export interface DiagramParticipant {
  index: EndpointIndex;
  name: string;
  address: string | undefined;
  /** The `as "LABEL"` text, when given. */
  label: string | undefined;
}

export interface DiagramDiagnostic {
  severity: Severity;
  code: string;
  message: string;
  /** 0-based line and UTF-16 columns of the diagnostic. */
  line: number;
  start: number;
  end: number;
}

export interface StateChange {
  endpoint: EndpointIndex;
  from: State;
  to: State;
}

/**
 * How a segment arrow is drawn: `delivered` (sent and received at once),
 * `lost` (`-x`), `sent-in-flight` (the `~>` line: it leaves here) and
 * `delivered-later` (the `deliver` line: it arrives here).
 */
export type ArrowKind = 'delivered' | 'lost' | 'sent-in-flight' | 'delivered-later';

interface ItemBase {
  /** 0-based source line. */
  line: number;
  /** Index of the event in the timeline, or -1 (not an event, or not applied by the checker). */
  timelineIndex: number;
  /** Time of the event in seconds since the start; NaN when unknown. */
  time: number;
  /** Both endpoints' states after this item (the same object as the previous item's when nothing changed). */
  states: readonly [State, State];
  /** Endpoints whose state this item changed, in endpoint order. */
  stateChanges: readonly StateChange[];
  diagnostics: readonly DiagramDiagnostic[];
}

export interface DiagramSegment extends ItemBase {
  kind: 'segment';
  arrow: ArrowKind;
  from: EndpointIndex;
  to: EndpointIndex;
  /** Flags, numbers, length/data, window and options, with the in-flight marker where there is one. */
  label: string;
  /** The `as LABEL` name of an in-flight segment (on both its send and its arrival). */
  flight: string | undefined;
  /** For an arrival: the line of the `~>` send. */
  sentLine: number | undefined;
  /** Effective numbers from the timeline (of the send, for an arrival). */
  numbers: SegmentNumbers | undefined;
}

export interface DiagramCall extends ItemBase {
  kind: 'call';
  endpoint: EndpointIndex;
  /** Short text: `connect()`, `send(100)`, `timeout (2MSL)`, `rto`. */
  text: string;
}

export interface DiagramNote extends ItemBase {
  kind: 'note';
  /** The endpoints the note is over (one or both); empty when none of its names is known. */
  over: EndpointIndex[];
  text: string;
}

export interface DiagramSection extends ItemBase {
  kind: 'section';
  text: string;
}

export interface DiagramExpect extends ItemBase {
  kind: 'expect';
  /** `client ESTABLISHED, server ESTABLISHED` as written (state names as the user spelled them). */
  text: string;
}

/**
 * A line that carries diagnostics but draws nothing of its own: a header
 * statement, a line that failed to parse, an event the checker could not
 * place between the two participants, or a `deliver` of an unknown label.
 */
export interface DiagramProblem extends ItemBase {
  kind: 'problem';
  /** What the line was, when known (`deliver s9`), for the highlight; else undefined. */
  text: string | undefined;
}

export type DiagramItem = DiagramSegment | DiagramCall | DiagramNote | DiagramSection | DiagramExpect | DiagramProblem;

export interface DiagramModel {
  title: string | undefined;
  /** Zero, one or two participants, index = endpoint index. */
  participants: DiagramParticipant[];
  initialStates: readonly [State, State];
  /** Spelling chosen by `option states=`. */
  stateSpelling: 'socket' | 'rfc';
  items: DiagramItem[];
}

const NO_DIAGNOSTICS: readonly DiagramDiagnostic[] = Object.freeze([]);
const NO_CHANGES: readonly StateChange[] = Object.freeze([]);

const FLAG_WORDS: ReadonlyArray<readonly [number, string]> = [
  [SYN, 'SYN'],
  [FIN, 'FIN'],
  [RST, 'RST'],
  [PSH, 'PSH'],
  [ACK, 'ACK'],
  [URG, 'URG'],
  [ECE, 'ECE'],
  [CWR, 'CWR'],
];
/** tcpdump's order and letters (print-tcp.c): F S R P . U E W. */
const TCPDUMP_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [FIN, 'F'],
  [SYN, 'S'],
  [RST, 'R'],
  [PSH, 'P'],
  [ACK, '.'],
  [URG, 'U'],
  [ECE, 'E'],
  [CWR, 'W'],
];

/** Flags as the user wrote them: words (`SYN,ACK`) or tcpdump letters (`[S.]`). */
export function segmentFlagText(flags: number, tcpdump: boolean): string {
  if (tcpdump) {
    let s = '';
    for (const [bit, l] of TCPDUMP_LETTERS) if (flags & bit) s += l;
    return '[' + (s || 'none') + ']';
  }
  const words: string[] = [];
  for (const [bit, w] of FLAG_WORDS) if (flags & bit) words.push(w);
  return words.length ? words.join(',') : '(no flags)';
}

/** Longest data preview inside a label, in code points (the label is bounded again as a whole). */
const DATA_PREVIEW = 24;

/** Maps a sequence number to a symbolic expression in one sequence space. */
class SymbolSpace {
  /** Bindings of this space in the order they were bound (by line). */
  private readonly bindings: SymbolBinding[] = [];

  add(b: SymbolBinding): void {
    this.bindings.push(b);
  }

  sort(): void {
    this.bindings.sort((a, b) => a.line - b.line || a.start - b.start);
  }

  get empty(): boolean {
    return this.bindings.length === 0;
  }

  /**
   * `u+1` for `value`, using the symbol bound at or before `line` whose value
   * is closest (preferring one at or below the value, then the latest bound);
   * undefined when no symbol is bound yet.
   */
  express(value: number, line: number): string | undefined {
    let best: SymbolBinding | undefined;
    let bestOff = 0;
    for (const b of this.bindings) {
      if (b.line > line) break;
      // Serial-number difference in (-2^31, 2^31].
      let off = (value - b.value) >>> 0;
      if (off > 0x80000000) off -= 0x100000000;
      const better =
        best === undefined ||
        (off >= 0 && bestOff < 0) ||
        ((off >= 0) === (bestOff >= 0) && Math.abs(off) <= Math.abs(bestOff));
      if (better) {
        best = b;
        bestOff = off;
      }
    }
    if (!best) return undefined;
    return best.name + (bestOff > 0 ? '+' + bestOff : bestOff < 0 ? '-' + -bestOff : '');
  }
}

const NO_SYMBOLS = new SymbolSpace();

function writtenNum(f: NumField): string {
  if (f.sym === undefined) return String(f.value);
  return f.sym + (f.value > 0 ? '+' + f.value : f.value < 0 ? '-' + -f.value : '');
}

/**
 * ` seq=1000`, ` (seq=x+1)` or '' for one of a segment's numbers. A field the
 * user wrote shows as written (also when it failed the check); otherwise the
 * value the checker inferred, in parentheses.
 */
function numText(key: string, field: NumField | undefined, value: number | undefined, inferred: boolean, space: SymbolSpace, line: number): string {
  if (field !== undefined && !(inferred && value !== undefined)) return ' ' + key + '=' + writtenNum(field);
  if (value === undefined) return '';
  const text = (!space.empty && space.express(value, line)) || String(value);
  return inferred ? ' (' + key + '=' + text + ')' : ' ' + key + '=' + text;
}

/** Builds the label of a segment: `PSH,ACK seq=1001 (ack=5001) len=5 "hello" win=512 mss=1460`. */
function segmentLabel(st: SegmentStmt, nums: SegmentNumbers | undefined, from: SymbolSpace, to: SymbolSpace): string {
  let s = segmentFlagText(st.flags, st.tcpdumpFlags);
  s += numText('seq', st.seq, nums?.seq, nums !== undefined && nums.seqInferred, from, st.line);
  s += numText('ack', st.ack, nums?.ack, nums !== undefined && nums.ackInferred, to, st.line);
  if (st.data) {
    const len = nums ? nums.len : st.len ? st.len.value : utf8Length(st.data.text);
    s += ' len=' + len + ' ' + dataPreview(st.data.text, DATA_PREVIEW);
  } else {
    const len = nums ? nums.len : st.len?.value;
    if (len !== undefined && (len > 0 || st.len)) s += ' len=' + len;
  }
  if (st.win) s += ' win=' + st.win.value;
  if (st.urg) s += ' urg=' + st.urg.value;
  const o = st.options;
  if (o) {
    if (o.mss) s += ' mss=' + o.mss.value;
    if (o.wscale) s += ' ws=' + o.wscale.value;
    if (o.sackok) s += ' sackOK';
    if (o.sack) s += ' sack=' + o.sack.blocks.map((b) => b.left + '-' + b.right).join(',');
    if (o.ts) s += ' ts=' + o.ts.val + (o.ts.ecr !== undefined ? ':' + o.ts.ecr : '');
  }
  return s;
}

function callText(st: CallStmt, stateBefore: State): string {
  switch (st.call) {
    case 'timeout':
      return stateBefore === TIME_WAIT ? 'timeout (2MSL)' : 'timeout (user)';
    case 'rto':
      return 'rto (retransmission timeout)';
    default: {
      if (st.args.length === 0) return st.call + '()';
      const args = st.args.map((a) => (a.str !== undefined ? dataPreview(a.str, DATA_PREVIEW) : a.text));
      return st.call + '(' + args.join(', ') + ')';
    }
  }
}

function toDiagnostic(d: Diagnostic): DiagramDiagnostic {
  return { severity: d.severity, code: d.code, message: d.message, line: d.line, start: d.start, end: d.end };
}

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, information: 2, hint: 3 };

/**
 * Fills the fields every item shares, always in the same order so that all
 * items share one hidden class (the model of a large trace has 10^5 items).
 */
function problemItem(line: number, ti: number, time: number, states: readonly [State, State], changes: readonly StateChange[], diags: readonly DiagramDiagnostic[], text: string | undefined): DiagramProblem {
  return { kind: 'problem', line, timelineIndex: ti, time, states, stateChanges: changes, diagnostics: diags, text };
}


/** The model of the text before an edit, for `buildDiagram` to reuse its items. */
export interface DiagramPrior {
  model: DiagramModel;
  result: CheckResult;
  lines: LineMap;
  /**
   * The prior model is not used again: items after the edit are moved to
   * their new lines in place instead of being copied (tens of thousands of
   * copies when a line is inserted early in a long trace).
   */
  consume?: boolean;
}

/**
 * Which items a model built with a prior kept: items `[0, from)` are the
 * prior's own objects at the same indices; items `[to, length)` draw exactly
 * what the prior's items `[to - shift, ...)` drew, their lines moved by
 * `lineShift` (the same objects when nothing moved). Items in between are new.
 */
export interface DiagramReuse {
  from: number;
  to: number;
  shift: number;
  lineShift: number;
}

/** Builds the diagram model of a checked trace. Linear in the number of statements. */
export function buildDiagram(result: CheckResult): DiagramModel {
  return buildWithReuse(result).model;
}

/**
 * Builds the model, and with a `prior` (the model of the text before an edit)
 * builds only the items of the lines the edit changed, widened over the
 * events the checker now sees differently (see `changedRegion`); the others
 * are taken over, and `reuse` says which, so that the preview re-plans only
 * the chunks between. The result equals `buildDiagram(result)`. Comparing the
 * timelines is a pass over typed arrays; building labels is what costs.
 */
export function buildWithReuse(result: CheckResult, prior?: DiagramPrior): { model: DiagramModel; reuse: DiagramReuse | undefined } {
  const b = new ModelBuilder(result);
  const model: DiagramModel = { title: result.title, participants: b.participants, initialStates: b.initialStates, stateSpelling: result.options.states, items: [] };
  const region = prior && reusable(prior, result, b.participants, b.initialStates) ? changedRegion(prior, result, b) : undefined;
  if (!region) {
    b.emit(0, result.parsed.statements.length, 0, Infinity, model.items);
    return { model, reuse: undefined };
  }
  const { L0, L1, lineShift } = region;
  const oldItems = prior!.model.items;
  // Items on lines before L0 are the prior's; so are those from L1 on (from L1 - lineShift before the edit).
  const from = firstFrom(oldItems, L0);
  const oldTo = firstFrom(oldItems, L1 - lineShift);
  const items = oldItems.slice(0, from);
  const s0 = firstFrom(result.parsed.statements, L0);
  const s1 = firstFrom(result.parsed.statements, L1);
  b.emit(s0, s1, L0, L1, items);
  const to = items.length;
  const shift = to - oldTo;
  const tShift = result.timeline.length - prior!.result.timeline.length;
  if (lineShift === 0 && tShift === 0) {
    for (let k = oldTo; k < oldItems.length; k++) items.push(oldItems[k]);
  } else {
    // The same items, at their new lines and timeline indexes (an arrival's send is in the tail or before L0).
    const oldL1 = L1 - lineShift;
    const inPlace = prior!.consume === true;
    for (let k = oldTo; k < oldItems.length; k++) {
      const o = oldItems[k];
      let diagnostics = o.diagnostics;
      if (diagnostics.length > 0 && lineShift !== 0) {
        if (inPlace) for (const d of diagnostics as DiagramDiagnostic[]) d.line += lineShift;
        else diagnostics = diagnostics.map((d) => ({ ...d, line: d.line + lineShift }));
      }
      const it = inPlace ? o : { ...o };
      it.line = o.line + lineShift; // `it` may be `o`: each field is read before it is written
      it.timelineIndex = o.timelineIndex < 0 ? -1 : o.timelineIndex + tShift;
      it.diagnostics = diagnostics;
      if (it.kind === 'segment' && it.sentLine !== undefined && it.sentLine >= oldL1) it.sentLine += lineShift;
      items.push(it);
    }
  }
  model.items = items;
  return { model, reuse: { from, to, shift, lineShift } };
}

/** Index of the first of `list` (items or statements, in line order) on or after `line`. */
function firstFrom(list: readonly { line: number }[], line: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The lines `[L0, L1)` whose items must be built again after an edit: the
 * edited lines, widened over every unchanged line whose event the checker now
 * sees differently (timeline entry or diagnostics), the event after the last
 * such one (its "before" states), and the deliveries of in-flight segments
 * sent or delivered in between. Undefined when the prior cannot be used.
 */
function changedRegion(prior: DiagramPrior, result: CheckResult, b: ModelBuilder): { L0: number; L1: number; lineShift: number } | undefined {
  const lm = prior.lines;
  const lineShift = lm.newTail - lm.oldTail;
  const stmts = result.parsed.statements;
  const olds = prior.result.parsed.statements;
  const stmtShift = stmts.length - olds.length;
  const sA = firstFrom(stmts, lm.first);
  const sB = firstFrom(stmts, lm.newTail);
  // Unchanged lines hold the same statements: as many before the edit, as many after it.
  if (firstFrom(olds, lm.first) !== sA || firstFrom(olds, lm.oldTail) !== sB - stmtShift) return undefined;
  let L0 = lm.first;
  let L1 = lm.newTail;

  const tl = result.timeline;
  const otl = prior.result.timeline;
  // Timeline entries of the statements before the edit, from the start, while they are as before.
  const e = tl.firstDifference(otl, Math.min(timelineFrom(tl, sA), timelineFrom(otl, sA)));
  if (e < tl.length && tl.stmtIndex(e) < sA) L0 = Math.min(L0, stmts[tl.stmtIndex(e)].line);
  if (e < otl.length && otl.stmtIndex(e) < sA) L0 = Math.min(L0, olds[otl.stmtIndex(e)].line);
  // And of the statements after it, from the end.
  const tail = tl.commonTail(otl, stmtShift, Math.min(tl.length - timelineFrom(tl, sB), otl.length - timelineFrom(otl, sB - stmtShift)));
  const i = tl.length - 1 - tail;
  const j = otl.length - 1 - tail;
  // Items after an entry that may have changed carry its states up to the next entry, which is drawn again too
  // (its "before" states): with no next entry, everything to the end is.
  if (i + 1 < tl.length) L1 = Math.max(L1, stmts[tl.stmtIndex(i + 1)].line + 1);
  else if (i >= e) L1 = Infinity;
  if (j + 1 >= otl.length && j >= e) L1 = Infinity;
  if (i >= 0 && tl.stmtIndex(i) >= sB) L1 = Math.max(L1, stmts[tl.stmtIndex(i)].line + 1);
  if (j >= 0 && otl.stmtIndex(j) >= sB - stmtShift) L1 = Math.max(L1, olds[otl.stmtIndex(j)].line + lineShift + 1);

  // Lines whose diagnostics changed.
  const before = new Map<number, Diagnostic[]>();
  for (const d of prior.result.diagnostics) {
    const line = d.line < lm.first ? d.line : d.line >= lm.oldTail ? d.line + lineShift : -1;
    if (line < 0) continue;
    const list = before.get(line);
    if (list) list.push(d);
    else before.set(line, [d]);
  }
  const changedLine = (line: number): void => {
    if (line >= L0 && line < L1) return;
    L0 = Math.min(L0, line);
    L1 = Math.max(L1, line + 1);
  };
  for (const [line, now] of b.byLine) {
    if (line >= lm.first && line < lm.newTail) continue;
    const was = before.get(line);
    before.delete(line);
    if (!was || !sameDiagnosticList(was, now)) changedLine(line);
  }
  for (const line of before.keys()) changedLine(line);
  if (L0 >= L1) return { L0, L1, lineShift };

  // An in-flight label sent or delivered inside the region: its next use after it is drawn again (and all between).
  for (;;) {
    const labels = new Set<string>();
    // L0 is at or before the edit, L1 at or after it: before the edit, the region was [L0, L1 - lineShift).
    for (let s = firstFrom(stmts, L0); s < stmts.length && stmts[s].line < L1; s++) flightLabel(stmts[s], labels);
    for (let s = firstFrom(olds, L0); s < olds.length && olds[s].line < L1 - lineShift; s++) flightLabel(olds[s], labels);
    if (labels.size === 0) break;
    let end = L1;
    for (let s = firstFrom(stmts, L1); s < stmts.length && labels.size > 0; s++) {
      const st = stmts[s];
      const label = st.kind === 'deliver' ? st.label.name : st.kind === 'segment' && st.arrow === '~>' ? st.label?.name : undefined;
      if (label === undefined || !labels.has(label)) continue;
      labels.delete(label);
      if (st.kind === 'deliver') end = st.line + 1;
    }
    if (end === L1) break;
    L1 = end;
  }
  return { L0, L1, lineShift };
}

function flightLabel(st: Statement, into: Set<string>): void {
  if (st.kind === 'deliver') into.add(st.label.name);
  else if (st.kind === 'segment' && st.arrow === '~>' && st.label) into.add(st.label.name);
}

function sameDiagnosticList(a: readonly Diagnostic[], b: readonly DiagramDiagnostic[]): boolean {
  if (a.length !== b.length) return false;
  // `b` is sorted for display; compare as multisets of what is shown.
  const key = (d: Diagnostic | DiagramDiagnostic): string => `${d.severity}\u0000${d.code}\u0000${d.start}\u0000${d.end}\u0000${d.message}`;
  if (a.length === 1) return key(a[0]) === key(b[0]);
  const keys = a.map(key).sort();
  const other = b.map(key).sort();
  return keys.every((k, n) => k === other[n]);
}

/** What every item of one model is built from: participants, symbol spaces, diagnostics by line. */
class ModelBuilder {
  readonly participants: DiagramParticipant[];
  readonly initialStates: readonly [State, State];
  /** Diagnostics by line, most severe first, then left to right: the first note under an event is its worst problem. */
  readonly byLine = new Map<number, DiagramDiagnostic[]>();
  private readonly indexOf = new Map<string, EndpointIndex>();
  private readonly spaces: readonly [SymbolSpace, SymbolSpace] = [new SymbolSpace(), new SymbolSpace()];

  constructor(private readonly result: CheckResult) {
    this.participants = result.endpoints.slice(0, 2).map((e, i) => ({ index: i as EndpointIndex, name: e.name, address: e.address, label: e.label }));
    for (const p of this.participants) this.indexOf.set(p.name, p.index);
    for (const bnd of result.symbols.values()) if (bnd.space === 0 || bnd.space === 1) this.spaces[bnd.space].add(bnd);
    for (const sp of this.spaces) sp.sort();
    for (const d of result.diagnostics) {
      const list = this.byLine.get(d.line);
      if (list) list.push(toDiagnostic(d));
      else this.byLine.set(d.line, [toDiagnostic(d)]);
    }
    for (const list of this.byLine.values()) {
      if (list.length > 1) list.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.start - b.start);
    }
    const tl = result.timeline;
    this.initialStates = [tl.initialStates[0] ?? CLOSED, tl.initialStates[1] ?? CLOSED];
  }

  /**
   * Appends to `items` the items of statements `[s0, s1)`, and a problem item
   * for each line in `[L0, L1)` that has diagnostics and no statement; the
   * items already in `items` are those of every line before.
   */
  emit(s0: number, s1: number, L0: number, L1: number, items: DiagramItem[]): void {
    const result = this.result;
    const tl = result.timeline;
    const indexOf = this.indexOf;
    const spaces = this.spaces;
    const byLine = this.byLine;
    const nEp = this.participants.length;
    const base = items.length;
    /** Lines whose diagnostics an item took; the others become problem items. */
    const claimed = new Set<number>();
    let states: readonly [State, State] = base > 0 ? items[base - 1].states : this.initialStates;
    /** In-flight sends not yet delivered, by label, with their label text before the `[L sent]` prefix (null: none). */
    const inFlight = new Map<string, { item: DiagramSegment; text: string } | null>();
    const pending = (label: string): { item: DiagramSegment; text: string } | undefined => {
      let p = inFlight.get(label);
      if (p === undefined) {
        // Sent before these statements: the last use of the label among the items before them.
        p = null;
        for (let k = base - 1; k >= 0; k--) {
          const it = items[k];
          if (it.kind !== 'segment' || it.flight !== label) continue;
          if (it.arrow === 'sent-in-flight') p = { item: it, text: it.label.slice(label.length + 8) };
          break;
        }
        inFlight.set(label, p);
      }
      return p ?? undefined;
    };

    const statements: readonly Statement[] = result.parsed.statements;
    const nTl = tl.length;
    let t = timelineFrom(tl, s0);
    for (let s = s0; s < s1; s++) {
      const st = statements[s];
      if (st.kind === 'title' || st.kind === 'endpoint' || st.kind === 'option') continue; // header lines draw nothing

      // Timeline entries belong to statements by index; skip any the loop has passed.
      while (t < nTl && tl.stmtIndex(t) < s) t++;
      let ti = -1;
      while (t < nTl && tl.stmtIndex(t) === s) ti = t++;

      const before = states;
      let changes: readonly StateChange[] = NO_CHANGES;
      if (ti >= 0) {
        const a = tl.state(ti, 0);
        const b = tl.state(ti, 1);
        if (a !== before[0] || b !== before[1]) {
          const list: StateChange[] = [];
          if (a !== before[0] && nEp > 0) list.push({ endpoint: 0, from: before[0], to: a });
          if (b !== before[1] && nEp > 1) list.push({ endpoint: 1, from: before[1], to: b });
          // A segment's sender changed when it left, the receiver when it arrived: read the sender's first.
          if (list.length === 2) {
            const actor =
              st.kind === 'segment' ? indexOf.get(st.from.name) : st.kind === 'call' ? indexOf.get(st.endpoint.name) : st.kind === 'deliver' ? pending(st.label.name)?.item.from : undefined;
            if (actor === 1) list.reverse();
          }
          changes = list;
          states = [a, b];
        }
      }
      const line = st.line;
      const time = ti >= 0 ? tl.time(ti) : NaN;
      const found = byLine.get(line);
      let diags: readonly DiagramDiagnostic[] = NO_DIAGNOSTICS;
      if (found) {
        diags = found;
        claimed.add(line);
      }

      switch (st.kind) {
        case 'segment': {
          const from = indexOf.get(st.from.name);
          const to = indexOf.get(st.to.name);
          if (from === undefined || to === undefined || from === to) {
            // No arrow can be drawn: show the segment as written instead.
            const written = segmentLabel(st, undefined, NO_SYMBOLS, NO_SYMBOLS);
            items.push(problemItem(line, ti, time, states, changes, diags, `${st.from.name} ${st.arrow} ${st.to.name}: ${written}`));
            break;
          }
          const nums = ti >= 0 ? tl.segment(ti) : undefined;
          const text = segmentLabel(st, nums, spaces[from], spaces[to]);
          const flight = st.arrow === '~>' ? st.label?.name : undefined;
          const item: DiagramSegment = {
            kind: 'segment',
            line,
            timelineIndex: ti,
            time,
            states,
            stateChanges: changes,
            diagnostics: diags,
            arrow: st.arrow === '->' ? 'delivered' : st.arrow === '-x' ? 'lost' : 'sent-in-flight',
            from,
            to,
            label: flight !== undefined ? `[${flight} sent] ${text}` : text,
            flight,
            sentLine: undefined,
            numbers: nums,
          };
          if (flight !== undefined) inFlight.set(flight, { item, text });
          items.push(item);
          break;
        }
        case 'deliver': {
          const sent = pending(st.label.name);
          if (!sent) {
            items.push(problemItem(line, ti, time, states, changes, diags, `deliver ${st.label.name}`));
            break;
          }
          inFlight.set(st.label.name, null);
          items.push({
            kind: 'segment',
            line,
            timelineIndex: ti,
            time,
            states,
            stateChanges: changes,
            diagnostics: diags,
            arrow: 'delivered-later',
            from: sent.item.from,
            to: sent.item.to,
            label: `[${st.label.name} arrives] ${sent.text}`,
            flight: st.label.name,
            sentLine: sent.item.line,
            numbers: sent.item.numbers,
          });
          break;
        }
        case 'call': {
          const ep = indexOf.get(st.endpoint.name);
          if (ep === undefined) items.push(problemItem(line, ti, time, states, changes, diags, `${st.endpoint.name}: ${st.call}`));
          else items.push({ kind: 'call', line, timelineIndex: ti, time, states, stateChanges: changes, diagnostics: diags, endpoint: ep, text: callText(st, before[ep]) });
          break;
        }
        case 'note': {
          const over: EndpointIndex[] = [];
          for (const n of st.over) {
            const i = indexOf.get(n.name);
            if (i !== undefined && !over.includes(i)) over.push(i);
          }
          over.sort();
          items.push({ kind: 'note', line, timelineIndex: ti, time, states, stateChanges: changes, diagnostics: diags, over, text: st.text.text });
          break;
        }
        case 'section':
          items.push({ kind: 'section', line, timelineIndex: ti, time, states, stateChanges: changes, diagnostics: diags, text: st.text.text });
          break;
        case 'expect': {
          const text = st.items.map((x) => `${x.endpoint.name} ${x.stateTok.text}`).join(', ');
          items.push({ kind: 'expect', line, timelineIndex: ti, time, states, stateChanges: changes, diagnostics: diags, text });
          break;
        }
      }
    }
    // Lines with diagnostics and no item of their own: header statements, lines that did not parse.
    const orphans: number[] = [];
    for (const line of byLine.keys()) if (line >= L0 && line < L1 && !claimed.has(line)) orphans.push(line);
    if (orphans.length > 0) mergeOrphans(items, base, orphans, byLine, this.initialStates);
  }
}

/** Index of the first timeline entry of statement `s` or a later one. */
function timelineFrom(tl: CheckResult['timeline'], s: number): number {
  let lo = 0;
  let hi = tl.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tl.stmtIndex(mid) < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Merges into `items[base..]`, in source order, a problem item for each of
 * the `orphans` lines (diagnostics and no item).
 */
function mergeOrphans(items: DiagramItem[], base: number, orphans: number[], byLine: ReadonlyMap<number, readonly DiagramDiagnostic[]>, initialStates: readonly [State, State]): void {
  orphans.sort((a, b) => a - b);
  const built = items.splice(base);
  let k = 0;
  let prev = base > 0 ? items[base - 1].states : initialStates;
  for (let i = 0; i <= built.length; i++) {
    const next = i < built.length ? built[i].line : Infinity;
    while (k < orphans.length && orphans[k] < next) {
      const l = orphans[k++];
      items.push(problemItem(l, -1, NaN, prev, NO_CHANGES, byLine.get(l)!, undefined));
    }
    if (i < built.length) {
      items.push(built[i]);
      prev = built[i].states;
    }
  }
}

/** Whether a prior's items can be taken over at all: same participants, title, spelling, initial states and symbols. */
function reusable(prior: DiagramPrior, result: CheckResult, participants: readonly DiagramParticipant[], initialStates: readonly [State, State]): boolean {
  const m = prior.model;
  if (m.title !== result.title || m.stateSpelling !== result.options.states) return false;
  if (m.initialStates[0] !== initialStates[0] || m.initialStates[1] !== initialStates[1]) return false;
  if (m.participants.length !== participants.length) return false;
  for (let i = 0; i < participants.length; i++) {
    const p = participants[i];
    const q = m.participants[i];
    if (p.name !== q.name || p.address !== q.address || p.label !== q.label) return false;
  }
  // Inferred numbers are written relative to symbols: any change to them may change any label.
  const a = prior.result.symbols;
  const b = result.symbols;
  if (a.size !== b.size) return false;
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y || x.value !== y.value || x.space !== y.space || x.line !== y.line || x.start !== y.start || x.end !== y.end || x.isn !== y.isn) return false;
  }
  return true;
}

/** States of both endpoints just before item `k` (what a chunk starting at `k` shows at its top). */
export function statesBefore(model: DiagramModel, k: number): readonly [State, State] {
  return k <= 0 || model.items.length === 0 ? model.initialStates : model.items[Math.min(k, model.items.length) - 1].states;
}

/** Index of the item on `line`, or else of the last item before it; -1 when none (binary search). */
export function itemAtOrBefore(model: DiagramModel, line: number): number {
  const items = model.items;
  let lo = 0;
  let hi = items.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].line <= line) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
