/**
 * Document symbols and folding ranges: the trace's title and endpoints, its
 * `== sections ==`, and inside them the connection's phases — handshake, data
 * transfer, teardown — derived from the timeline's states, so the outline
 * shows where the connection opens and closes even without sections.
 */
import { FoldingRangeKind, SymbolKind, type DocumentSymbol, type FoldingRange, type Range } from 'vscode-languageserver';
import type { Timeline } from '../../core/check/timeline';
import type { Statement } from '../../core/syntax/ast';
import { CLOSED, FIN_WAIT_1, isSynchronized, LISTEN, SYN_RCVD, SYN_SENT, TIME_WAIT, type State } from '../../core/tcp/states';
import type { Analysis } from '../analysis';

export type Phase = 'handshake' | 'data' | 'teardown';

const PHASE_NAMES: Readonly<Record<Phase, string>> = { handshake: 'Handshake', data: 'Data transfer', teardown: 'Teardown' };

/** A run of consecutive statements in one phase (never crossing a section). */
export interface PhaseGroup {
  phase: Phase;
  firstLine: number;
  lastLine: number;
  events: number;
}

interface SectionGroup {
  line: number;
  title: string;
  lastLine: number;
  phases: PhaseGroup[];
}

const inTeardown = (s: State): boolean => s >= FIN_WAIT_1 && s <= TIME_WAIT;
const opening = (s: State): boolean => s === SYN_SENT || s === SYN_RCVD;
const idle = (s: State): boolean => s === CLOSED || s === LISTEN;

/** The phase of timeline entry `i`, or undefined when the event alone does not tell (it joins its neighbours). */
export function phaseOf(tl: Timeline, i: number, endpoints: number, st: Statement | undefined): Phase | undefined {
  let handshake = false;
  let teardown = false;
  let allIdle = true;
  for (let e = 0; e < endpoints; e++) {
    const b = tl.stateBefore(i, e);
    const a = tl.state(i, e);
    if (inTeardown(b) || inTeardown(a) || (isSynchronized(b) && idle(a))) teardown = true;
    if (opening(a) || (a !== b && isSynchronized(a) && !isSynchronized(b))) handshake = true;
    if (!idle(a) || !idle(b)) allIdle = false;
  }
  // accept() only hands over a connection already established: it belongs with the handshake before it.
  if (st?.kind === 'call' && st.call === 'accept' && !teardown && !handshake) return undefined;
  if (teardown) return 'teardown';
  if (handshake) return 'handshake';
  if (allIdle) {
    // Setting up (socket, bind, listen, connect) starts a connection; anything else between connections joins its neighbours.
    return st?.kind === 'call' && ['socket', 'bind', 'listen', 'connect'].includes(st.call) ? 'handshake' : undefined;
  }
  return 'data';
}

function groups(a: Analysis): { before: PhaseGroup[]; sections: SectionGroup[] } {
  const tl = a.result.timeline;
  const n = a.result.endpoints.length;
  const before: PhaseGroup[] = [];
  const sections: SectionGroup[] = [];
  let target = before;
  let current: PhaseGroup | undefined;
  let ev = 0;
  for (const st of a.statements) {
    if (st.kind === 'section') {
      if (sections.length > 0) sections[sections.length - 1].lastLine = lastContentLine(a, st.line - 1);
      sections.push({ line: st.line, title: st.text.text, lastLine: st.line, phases: [] });
      target = sections[sections.length - 1].phases;
      current = undefined;
      continue;
    }
    while (ev < tl.length && tl.line(ev) < st.line) ev++;
    if (ev < tl.length && tl.line(ev) === st.line) {
      const phase = phaseOf(tl, ev, n, st) ?? current?.phase ?? 'handshake';
      if (!current || current.phase !== phase) {
        current = { phase, firstLine: st.line, lastLine: st.line, events: 0 };
        target.push(current);
      }
      current.events++;
      current.lastLine = st.line;
    } else if (current && (st.kind === 'expect' || st.kind === 'note')) current.lastLine = st.line;
  }
  if (sections.length > 0) sections[sections.length - 1].lastLine = lastContentLine(a, a.lines.length - 1);
  return { before, sections };
}

/** The last non-blank line at or before `line`. */
function lastContentLine(a: Analysis, line: number): number {
  let l = line;
  while (l > 0 && (a.lines[l] ?? '').trim() === '') l--;
  return Math.max(l, 0);
}

function lineRange(a: Analysis, first: number, last: number): Range {
  return { start: { line: first, character: 0 }, end: { line: last, character: (a.lines[last] ?? '').length } };
}

function phaseSymbol(a: Analysis, g: PhaseGroup): DocumentSymbol {
  const range = lineRange(a, g.firstLine, g.lastLine);
  return {
    name: PHASE_NAMES[g.phase],
    detail: `${g.events} event${g.events === 1 ? '' : 's'}, lines ${g.firstLine + 1}-${g.lastLine + 1}`,
    kind: SymbolKind.Event,
    range,
    selectionRange: { start: range.start, end: { line: g.firstLine, character: (a.lines[g.firstLine] ?? '').length } },
  };
}

export function computeDocumentSymbols(a: Analysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const st of a.statements) {
    if (st.kind === 'title') {
      const r = lineRange(a, st.line, st.line);
      out.push({ name: st.text.text || 'title', detail: 'title', kind: SymbolKind.String, range: r, selectionRange: tokRange(st.line, st.text) });
    } else if (st.kind === 'endpoint') {
      out.push({
        name: st.name.name,
        detail: [st.address?.text, st.label ? `"${st.label.text}"` : undefined].filter(Boolean).join(' '),
        kind: SymbolKind.Object,
        range: lineRange(a, st.line, st.line),
        selectionRange: tokRange(st.line, st.name),
      });
    }
  }
  const { before, sections } = groups(a);
  for (const g of before) out.push(phaseSymbol(a, g));
  for (const s of sections) {
    const st = a.statementAt(s.line);
    const sel = st?.kind === 'section' ? tokRange(s.line, st.text) : lineRange(a, s.line, s.line);
    out.push({
      name: s.title,
      detail: 'section',
      kind: SymbolKind.Namespace,
      range: lineRange(a, s.line, s.lastLine),
      selectionRange: sel,
      children: s.phases.map((g) => phaseSymbol(a, g)),
    });
  }
  return out;
}

function tokRange(line: number, t: { start: number; end: number }): Range {
  return { start: { line, character: t.start }, end: { line, character: t.end } };
}

export function computeFoldingRanges(a: Analysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  const { before, sections } = groups(a);
  const phase = (g: PhaseGroup): void => {
    if (g.lastLine > g.firstLine) out.push({ startLine: g.firstLine, endLine: g.lastLine, kind: FoldingRangeKind.Region });
  };
  before.forEach(phase);
  for (const s of sections) {
    if (s.lastLine > s.line) out.push({ startLine: s.line, endLine: s.lastLine, kind: FoldingRangeKind.Region });
    s.phases.forEach(phase);
  }
  // Runs of comment lines.
  let start = -1;
  const lines = a.lines;
  for (let l = 0; l <= lines.length; l++) {
    const isComment = l < lines.length && lines[l].trimStart().startsWith('#');
    if (isComment && start < 0) start = l;
    else if (!isComment && start >= 0) {
      if (l - 1 > start) out.push({ startLine: start, endLine: l - 1, kind: FoldingRangeKind.Comment });
      start = -1;
    }
  }
  return out.sort((x, y) => x.startLine - y.startLine || y.endLine - x.endLine);
}
