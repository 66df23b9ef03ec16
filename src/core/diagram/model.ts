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

/** Builds the diagram model of a checked trace. Linear in the number of statements. */
export function buildDiagram(result: CheckResult): DiagramModel {
  const tl = result.timeline;
  const participants: DiagramParticipant[] = result.endpoints.slice(0, 2).map((e, i) => ({
    index: i as EndpointIndex,
    name: e.name,
    address: e.address,
    label: e.label,
  }));
  const indexOf = new Map<string, EndpointIndex>();
  for (const p of participants) indexOf.set(p.name, p.index);
  const nEp = participants.length;

  const spaces = [new SymbolSpace(), new SymbolSpace()] as const;
  for (const b of result.symbols.values()) if (b.space === 0 || b.space === 1) spaces[b.space].add(b);
  for (const sp of spaces) sp.sort();

  // Diagnostics by line, most severe first, then left to right: the first note under an event is its worst problem.
  const byLine = new Map<number, DiagramDiagnostic[]>();
  for (const d of result.diagnostics) {
    const list = byLine.get(d.line);
    if (list) list.push(toDiagnostic(d));
    else byLine.set(d.line, [toDiagnostic(d)]);
  }
  for (const list of byLine.values()) {
    if (list.length > 1) list.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.start - b.start);
  }
  /** Lines whose diagnostics an item took; the others become problem items. */
  const claimed = new Set<number>();

  const initialStates: readonly [State, State] = [tl.initialStates[0] ?? CLOSED, tl.initialStates[1] ?? CLOSED];
  let states: readonly [State, State] = initialStates;
  const items: DiagramItem[] = [];
  /** In-flight sends not yet delivered, by label, with their label text before the `[L sent]` prefix. */
  const inFlight = new Map<string, { item: DiagramSegment; text: string }>();

  const statements: readonly Statement[] = result.parsed.statements;
  const nTl = tl.length;
  let t = 0;
  for (let s = 0; s < statements.length; s++) {
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
            st.kind === 'segment' ? indexOf.get(st.from.name) : st.kind === 'call' ? indexOf.get(st.endpoint.name) : st.kind === 'deliver' ? inFlight.get(st.label.name)?.item.from : undefined;
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
        const pending = inFlight.get(st.label.name);
        if (!pending) {
          items.push(problemItem(line, ti, time, states, changes, diags, `deliver ${st.label.name}`));
          break;
        }
        inFlight.delete(st.label.name);
        const sent = pending.item;
        items.push({
          kind: 'segment',
          line,
          timelineIndex: ti,
          time,
          states,
          stateChanges: changes,
          diagnostics: diags,
          arrow: 'delivered-later',
          from: sent.from,
          to: sent.to,
          label: `[${st.label.name} arrives] ${pending.text}`,
          flight: st.label.name,
          sentLine: sent.line,
          numbers: sent.numbers,
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

  const model: DiagramModel = { title: result.title, participants, initialStates, stateSpelling: result.options.states, items };
  if (claimed.size < byLine.size) model.items = withOrphans(items, byLine, claimed, initialStates);
  return model;
}

/**
 * Merges a problem item, in source order, for every line that has diagnostics
 * and no item: header statements, lines that did not parse.
 */
function withOrphans(
  items: DiagramItem[],
  byLine: ReadonlyMap<number, readonly DiagramDiagnostic[]>,
  claimed: ReadonlySet<number>,
  initialStates: readonly [State, State],
): DiagramItem[] {
  const orphans: number[] = [];
  for (const line of byLine.keys()) if (!claimed.has(line)) orphans.push(line);
  orphans.sort((a, b) => a - b);
  const merged: DiagramItem[] = [];
  let k = 0;
  let prev = initialStates;
  for (let i = 0; i <= items.length; i++) {
    const next = i < items.length ? items[i].line : Infinity;
    while (k < orphans.length && orphans[k] < next) {
      const l = orphans[k++];
      merged.push(problemItem(l, -1, NaN, prev, NO_CHANGES, byLine.get(l)!, undefined));
    }
    if (i < items.length) {
      merged.push(items[i]);
      prev = items[i].states;
    }
  }
  return merged;
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
