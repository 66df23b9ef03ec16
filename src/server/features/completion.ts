/**
 * Completion, from the text before the cursor (the line being typed usually
 * does not parse yet) and the timeline before the line (what the trace has
 * established so far). Offers, by position on the line: keywords and endpoint
 * pairs, arrows, the peer, calls ranked by the endpoint's state, flag
 * combinations ranked by the sender's state, fields and options not yet given
 * — with the expected `seq=`/`ack=` first, computed from the sender's TCB —
 * states for `expect` (the actual one first), and in-flight labels for
 * `deliver`.
 */
import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
  type Position,
  type Range,
} from 'vscode-languageserver';
import type { TcbSnapshot } from '../../core/check/timeline';
import { isEvent } from '../../core/syntax/ast';
import {
  CLOSE_WAIT,
  CLOSED,
  ESTABLISHED,
  LAST_ACK,
  LISTEN,
  SOCKET_NAMES,
  STATE_DOCS,
  SYN_RCVD,
  SYN_SENT,
  type State,
} from '../../core/tcp/states';
import type { Analysis } from '../analysis';
import { commentStart } from '../text';
import {
  ARROW_DOCS,
  CALL_DOCS,
  FIELD_DOCS,
  FLAG_DOCS,
  HEADER_OPTION_DOCS,
  KEYWORD_DOCS,
  OPTION_DOCS,
  type WordDoc,
} from '../vocabulary';

const TRIGGER_SUGGEST = { title: 'Suggest', command: 'editor.action.triggerSuggest' };

/** Characters after which the client asks for completions without a word typed. */
export const COMPLETION_TRIGGERS = [' ', ':', '=', ',', '>'];

interface Ctx {
  a: Analysis;
  line: number;
  character: number;
  /** The line's text up to the cursor. */
  prefix: string;
  /** The whole line (to replace the rest of a token under the cursor). */
  text: string;
  items: CompletionItem[];
}

export function computeCompletion(a: Analysis, pos: Position): CompletionList {
  const text = a.lines[pos.line] ?? '';
  const prefix = text.slice(0, pos.character);
  const ctx: Ctx = { a, line: pos.line, character: pos.character, prefix, text, items: [] };
  // Nothing to offer inside a comment or a string.
  if (commentStart(prefix) < prefix.length || insideString(prefix)) return { isIncomplete: false, items: [] };
  complete(ctx);
  return { isIncomplete: false, items: ctx.items };
}

function insideString(prefix: string): boolean {
  let inStr = false;
  for (let i = 0; i < prefix.length; i++) {
    const c = prefix[i];
    if (inStr && c === '\\') i++;
    else if (c === '"') inStr = !inStr;
  }
  return inStr;
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const TIME = String.raw`(?:\+?(?:\d+(?:\.\d*)?|\.\d+)[A-Za-z]*\s+)?`;
const ARROW = '(->|-[xX]|~>)';

function complete(c: Ctx): void {
  const body = c.prefix.replace(/^\s+/, '');
  let m: RegExpExecArray | null;
  if (body.startsWith('==')) return;

  // The first word of the line (possibly after a time).
  if ((m = new RegExp(`^${TIME}(${NAME})?$`).exec(body))) {
    lineStarts(c, body.length > 0 && /^\+?[\d.]/.test(body));
    return;
  }
  if ((m = new RegExp(`^option\\s+(${NAME})=(\\S*)$`, 'i').exec(body))) return optionValues(c, m[1], m[2]);
  if (/^option\s+\w*$/i.test(body)) return optionKeys(c);
  if ((m = new RegExp(`^endpoint\\s+${NAME}\\s+(?:\\S+\\s+)?(\\w*)$`, 'i').exec(body))) {
    if (!/^as$/i.test(m[1])) addKeyword(c, 'as', 'as "${1:label}"', true);
    return;
  }
  if (/^(title|endpoint)\b/i.test(body)) return;
  if ((m = /^expect\s+(.*)$/i.exec(body))) return expectItems(c, m[1]);
  if ((m = /^note\s+(.*)$/i.exec(body))) return noteItems(c, m[1]);
  if ((m = new RegExp(`^${TIME}deliver\\s+(\\w*)$`, 'i').exec(body))) return inFlightLabels(c);
  // `A ` or `A -`: an arrow or ':' comes next.
  if ((m = new RegExp(`^${TIME}(${NAME})\\s+[-~]?$`).exec(body))) return arrows(c, m[1]);
  // `A -> ` : the receiver.
  if ((m = new RegExp(`^${TIME}(${NAME})\\s*${ARROW}\\s*(\\w*)$`).exec(body))) return receivers(c, m[1]);
  // `A: ` : a call.
  if ((m = new RegExp(`^${TIME}(${NAME})\\s*:\\s*(\\w*)$`).exec(body))) return calls(c, m[1]);
  if ((m = new RegExp(`^${TIME}(${NAME})\\s*:\\s*listen\\s+(\\w*)$`, 'i').exec(body))) {
    addItem(c, { label: 'backlog=', kind: CompletionItemKind.Property, detail: 'listen queue length', insertText: 'backlog=${1:128}', insertTextFormat: InsertTextFormat.Snippet });
    return;
  }
  // `A -> B: ...` : flags, then fields and options.
  if ((m = new RegExp(`^${TIME}(${NAME})\\s*${ARROW}\\s*(${NAME})\\s*:\\s*(.*)$`).exec(body))) {
    return segmentRest(c, m[1], m[2].toLowerCase(), m[3], m[4]);
  }
}

// ---- helpers ----

/** Range of the token being typed: from after the last blank (or `from`) to the end of the token under the cursor. */
function replaceRange(c: Ctx, startCol?: number): Range {
  let s = startCol ?? c.character;
  if (startCol === undefined) while (s > 0 && !/[\s:,=]/.test(c.prefix[s - 1])) s--;
  let e = c.character;
  while (e < c.text.length && !/[\s#]/.test(c.text[e])) e++;
  return { start: { line: c.line, character: s }, end: { line: c.line, character: e } };
}

function md(d: WordDoc): { kind: 'markdown'; value: string } {
  return { kind: MarkupKind.Markdown, value: `${d.summary}\n\n${d.detail}` };
}

function addItem(c: Ctx, item: CompletionItem, range?: Range): void {
  const r = range ?? replaceRange(c);
  const newText = item.insertText ?? item.label;
  item.textEdit = { range: r, newText };
  delete item.insertText;
  item.sortText ??= String(c.items.length).padStart(4, '0');
  c.items.push(item);
}

function addKeyword(c: Ctx, label: string, snippet?: string, retrigger = false): void {
  const d = KEYWORD_DOCS.find((k) => k.label === label);
  addItem(c, {
    label,
    kind: CompletionItemKind.Keyword,
    detail: d?.summary,
    documentation: d ? md(d) : undefined,
    insertText: snippet ?? label + ' ',
    insertTextFormat: snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
    command: retrigger ? TRIGGER_SUGGEST : undefined,
  });
}

function endpointNames(c: Ctx): string[] {
  return c.a.result.endpoints.map((e) => e.name);
}

/** The sender's TCB before this line (the state the line starts from). */
function tcbBefore(c: Ctx, ep: number): TcbSnapshot | undefined {
  if (ep < 0) return undefined;
  const tl = c.a.result.timeline;
  const ev = c.a.eventBefore(c.line);
  if (ev >= 0) return tl.tcb(ev, ep);
  return { state: tl.initialStates[ep] ?? CLOSED, iss: undefined, irs: undefined, sndUna: undefined, sndNxt: undefined, sndWnd: undefined, rcvNxt: undefined, rcvWnd: undefined };
}

// ---- contexts ----

function lineStarts(c: Ctx, afterTime: boolean): void {
  const names = endpointNames(c);
  // Endpoint pairs first: the usual start of a line is a segment or a call.
  for (const from of names) {
    for (const to of names) {
      if (from === to) continue;
      addItem(c, {
        label: `${from} -> ${to}: `,
        filterText: from,
        kind: CompletionItemKind.Variable,
        detail: `segment from ${from} to ${to}`,
        command: TRIGGER_SUGGEST,
      });
    }
    addItem(c, { label: `${from}: `, filterText: from, kind: CompletionItemKind.Variable, detail: `call on ${from}`, command: TRIGGER_SUGGEST });
  }
  addKeyword(c, 'deliver', undefined, true);
  if (afterTime) return;
  addKeyword(c, 'expect', undefined, true);
  addKeyword(c, 'note', undefined, true);
  addItem(c, { label: '== section ==', kind: CompletionItemKind.Keyword, detail: 'section divider', insertText: '== ${1:Section} ==', insertTextFormat: InsertTextFormat.Snippet });
  // Header statements only where they are still allowed: before the first event.
  const firstEvent = c.a.statements.find(isEvent);
  if (firstEvent === undefined || firstEvent.line >= c.line) {
    const has = (k: string): number => c.a.statements.filter((s) => s.kind === k && s.line !== c.line).length;
    if (has('title') === 0) addKeyword(c, 'title', 'title "${1:Title}"');
    if (has('endpoint') < 2) addKeyword(c, 'endpoint', 'endpoint ${1:name} ${2:10.0.0.1:40000}');
    addKeyword(c, 'option', undefined, true);
  }
}

function optionKeys(c: Ctx): void {
  for (const o of HEADER_OPTION_DOCS) {
    addItem(c, { label: `${o.label}=`, kind: CompletionItemKind.Property, detail: o.summary, documentation: md(o), command: TRIGGER_SUGGEST });
  }
}

function optionValues(c: Ctx, key: string, typed: string): void {
  const o = HEADER_OPTION_DOCS.find((d) => d.label === key.toLowerCase());
  if (!o) return;
  const start = c.character - typed.length;
  for (const v of o.values) addItem(c, { label: v, kind: CompletionItemKind.Value, detail: `${o.label}=${v}` }, replaceRange(c, start));
}

function expectItems(c: Ctx, rest: string): void {
  // After `expect ` or `, ` an endpoint; after `NAME ` a state.
  const m = new RegExp(`(?:^|,\\s*)(${NAME})\\s+([\\w-]*)$`).exec(rest);
  if (m) {
    const ep = c.a.endpointIndex(m[1]);
    const actual = ep >= 0 ? tcbBefore(c, ep)?.state : undefined;
    states(c, actual, c.character - m[2].length);
    return;
  }
  if (/(?:^|,\s*)\w*$/.test(rest)) {
    const written = new Set([...rest.matchAll(new RegExp(`(?:^|,)\\s*(${NAME})\\s`, 'g'))].map((x) => x[1]));
    for (const n of endpointNames(c)) {
      if (!written.has(n)) addItem(c, { label: n, kind: CompletionItemKind.Variable, insertText: n + ' ', command: TRIGGER_SUGGEST });
    }
  }
}

function states(c: Ctx, actual: State | undefined, start: number): void {
  const range = replaceRange(c, start);
  for (let s = 0; s < SOCKET_NAMES.length; s++) {
    const name = c.a.stateName(s);
    addItem(
      c,
      {
        label: name,
        kind: CompletionItemKind.EnumMember,
        detail: s === actual ? 'the state here' : undefined,
        documentation: STATE_DOCS[s],
        sortText: s === actual ? '0000' : `1${String(s).padStart(3, '0')}`,
        preselect: s === actual,
      },
      range,
    );
  }
}

function noteItems(c: Ctx, rest: string): void {
  if (rest.includes(':')) return;
  if (/^\w*$/.test(rest)) addKeyword(c, 'over', undefined, true);
  if (/(?:^|over\s+|,\s*)\w*$/i.test(rest)) {
    for (const n of endpointNames(c)) addItem(c, { label: n, kind: CompletionItemKind.Variable });
  }
}

function inFlightLabels(c: Ctx): void {
  const pending = new Map<string, number>();
  for (const st of c.a.statements) {
    if (st.line >= c.line) break;
    if (st.kind === 'segment' && st.label) pending.set(st.label.name, st.line);
    else if (st.kind === 'deliver') pending.delete(st.label.name);
  }
  for (const [label, line] of pending) {
    addItem(c, { label, kind: CompletionItemKind.Event, detail: `in flight since line ${line + 1}` });
  }
}

function arrows(c: Ctx, from: string): void {
  const others = endpointNames(c).filter((n) => n !== from);
  const start = c.prefix.length - (/[-~]$/.test(c.prefix) ? 1 : 0);
  const range = replaceRange(c, start);
  for (const arrow of ARROW_DOCS) {
    for (const to of others.length > 0 ? others : ['']) {
      const label = to ? `${arrow.label} ${to}: ` : `${arrow.label} `;
      addItem(c, { label, kind: CompletionItemKind.Operator, detail: arrow.summary, documentation: md(arrow), command: TRIGGER_SUGGEST }, range);
    }
  }
  addItem(c, { label: ': ', kind: CompletionItemKind.Operator, detail: `a call on ${from}`, command: TRIGGER_SUGGEST }, { start: { line: c.line, character: c.prefix.trimEnd().length }, end: { line: c.line, character: c.character } });
}

function receivers(c: Ctx, from: string): void {
  for (const n of endpointNames(c)) {
    if (n !== from) addItem(c, { label: n, kind: CompletionItemKind.Variable, insertText: `${n}: `, command: TRIGGER_SUGGEST });
  }
}

/** Calls that make sense in each state come first. */
function likelyCalls(s: State | undefined): string[] {
  switch (s) {
    case CLOSED:
      return ['listen', 'connect', 'socket', 'bind'];
    case LISTEN:
      return ['accept', 'close'];
    case SYN_SENT:
      return ['close', 'abort', 'timeout'];
    case SYN_RCVD:
      return ['accept', 'close', 'abort'];
    case ESTABLISHED:
      return ['send', 'recv', 'close', 'shutdown', 'accept', 'abort'];
    case CLOSE_WAIT:
      return ['close', 'recv', 'send', 'shutdown'];
    default:
      return ['timeout', 'recv', 'abort', 'rto'];
  }
}

function calls(c: Ctx, ep: string): void {
  const state = tcbBefore(c, c.a.endpointIndex(ep))?.state;
  const likely = likelyCalls(state ?? CLOSED);
  for (const call of CALL_DOCS) {
    const rank = likely.indexOf(call.label);
    const args = call.label === 'send' ? ' ${1:100}' : '';
    addItem(c, {
      label: call.label,
      kind: CompletionItemKind.Function,
      detail: call.signature,
      documentation: md(call),
      insertText: call.label + args,
      insertTextFormat: args ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
      sortText: rank >= 0 ? `0${rank}` : `1${call.label}`,
    });
  }
}

/** Flag combinations a sender in each state typically sends, most likely first. */
function likelyFlags(s: State | undefined): string[] {
  switch (s) {
    case CLOSED:
      return ['SYN', 'RST', 'RST,ACK'];
    case LISTEN:
      return ['RST', 'SYN'];
    case SYN_SENT:
      return ['SYN', 'SYN,ACK', 'RST'];
    case SYN_RCVD:
      return ['SYN,ACK', 'ACK', 'FIN,ACK', 'RST'];
    case ESTABLISHED:
      return ['ACK', 'PSH,ACK', 'FIN,ACK', 'RST', 'RST,ACK'];
    case CLOSE_WAIT:
      return ['FIN,ACK', 'ACK', 'PSH,ACK', 'RST'];
    case LAST_ACK:
      return ['ACK', 'FIN,ACK', 'RST'];
    default:
      return ['ACK', 'RST'];
  }
}

function segmentRest(c: Ctx, from: string, arrow: string, to: string, rest: string): void {
  const sender = c.a.endpointIndex(from);
  const receiver = c.a.endpointIndex(to);
  const tcb = tcbBefore(c, sender);
  const restStart = c.character - rest.length;
  // Still in the flags: no blank typed after them yet.
  if (/^(\[[^\]]*|[A-Za-z]*(?:\s*[,+]\s*[A-Za-z]*)*)$/.test(rest) && !rest.includes('[')) {
    const likely = likelyFlags(tcb?.state);
    const range = replaceRange(c, restStart);
    const lastSep = Math.max(rest.lastIndexOf(','), rest.lastIndexOf('+'));
    // Whole combinations while nothing is written yet; after a separator only single flags.
    if (lastSep < 0) likely.forEach((combo, i) => {
      addItem(c, { label: combo, kind: CompletionItemKind.EnumMember, detail: i === 0 ? `typical from ${tcb ? c.a.stateName(tcb.state) : 'here'}` : 'flags', insertText: combo + ' ', sortText: `0${i}`, command: TRIGGER_SUGGEST }, range);
    });
    // Single flags, to build any combination (appended after a ',').
    const wordRange = replaceRange(c, lastSep >= 0 ? restStart + lastSep + 1 + (rest.slice(lastSep + 1).length - rest.slice(lastSep + 1).trimStart().length) : restStart);
    const present = new Set(rest.slice(0, lastSep + 1).toUpperCase().split(/[\s,+]+/));
    for (const f of FLAG_DOCS) {
      if ((lastSep < 0 && likely.includes(f.label)) || present.has(f.label)) continue;
      addItem(c, { label: f.label, kind: CompletionItemKind.EnumMember, detail: f.summary, documentation: md(f), sortText: `1${f.label}` }, wordRange);
    }
    return;
  }
  if (rest.startsWith('[') && !rest.includes(']')) return;
  const words = rest.split(/\s+/);
  const current = words[words.length - 1];
  const given = new Set(words.slice(1, -1).map((w) => w.split('=')[0].toLowerCase()));
  const flags = words[0].toUpperCase();
  const hasAck = /\bACK\b/.test(flags) || /^\[[^\]]*\.[^\]]*\]$/.test(words[0]);
  if (/^as$/i.test(words[words.length - 2] ?? '') && arrow === '~>') return freshLabel(c);

  const expectedSeq = tcb?.sndNxt !== undefined && tcb.state !== CLOSED && tcb.state !== LISTEN ? c.a.formatSeq(tcb.sndNxt, sender) : undefined;
  const expectedAck = tcb?.rcvNxt !== undefined && receiver >= 0 ? c.a.formatSeq(tcb.rcvNxt, receiver) : undefined;
  const kv = /^(\w+)=(.*)$/.exec(current);
  if (kv) {
    // A value: the expected number first.
    const key = kv[1].toLowerCase();
    const range = replaceRange(c, c.character - kv[2].length);
    if (key === 'seq' && expectedSeq) addItem(c, { label: expectedSeq, kind: CompletionItemKind.Value, detail: "the sender's SND.NXT", preselect: true, sortText: '00' }, range);
    if (key === 'ack' && expectedAck) addItem(c, { label: expectedAck, kind: CompletionItemKind.Value, detail: "the sender's RCV.NXT: everything it has received", preselect: true, sortText: '00' }, range);
    if (key === 'seq' || key === 'ack') {
      for (const b of c.a.result.symbols.values()) {
        addItem(c, { label: b.name, kind: CompletionItemKind.Variable, detail: `= ${b.value >>> 0}`, sortText: `1${b.name}` }, range);
      }
    }
    return;
  }
  const range = replaceRange(c, c.character - current.length);
  if (expectedSeq && !given.has('seq')) {
    addItem(c, { label: `seq=${expectedSeq}`, kind: CompletionItemKind.Field, detail: "expected: the sender's SND.NXT", preselect: true, sortText: '00', command: TRIGGER_SUGGEST, insertText: `seq=${expectedSeq} ` }, range);
  }
  if (expectedAck && hasAck && !given.has('ack')) {
    addItem(c, { label: `ack=${expectedAck}`, kind: CompletionItemKind.Field, detail: "expected: the sender's RCV.NXT", sortText: '01', command: TRIGGER_SUGGEST, insertText: `ack=${expectedAck} ` }, range);
  }
  FIELD_DOCS.forEach((f, i) => {
    if (given.has(f.label)) return;
    if (f.label === 'ack' && !hasAck) return;
    const insert = f.label === 'data' ? 'data="${1}"' : `${f.label}=`;
    addItem(
      c,
      {
        label: `${f.label}=`,
        kind: CompletionItemKind.Field,
        detail: f.summary,
        documentation: md(f),
        insertText: insert,
        insertTextFormat: f.label === 'data' ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
        sortText: `1${i}`,
        command: f.label === 'data' ? undefined : TRIGGER_SUGGEST,
      },
      range,
    );
  });
  OPTION_DOCS.forEach((o, i) => {
    if (given.has(o.label)) return;
    addItem(c, { label: o.label === 'sackok' ? 'sackok' : `${o.label}=`, kind: CompletionItemKind.Property, detail: o.summary, documentation: md(o), sortText: `2${i}` }, range);
  });
  if (arrow === '~>') addKeyword(c, 'as', undefined, true);
}

function freshLabel(c: Ctx): void {
  const used = new Set<string>();
  for (const st of c.a.statements) if (st.kind === 'segment' && st.label) used.add(st.label.name);
  let n = 1;
  while (used.has(`f${n}`)) n++;
  addItem(c, { label: `f${n}`, kind: CompletionItemKind.Event, detail: 'a new label for this in-flight segment' });
}
