/**
 * Hover. On an event: both endpoints' states and control blocks after it, the
 * numbers the segment carried (given or inferred) and the symbols it uses. On
 * a word (flag, field, option, call, state, keyword, arrow): what it means.
 * On a name (endpoint, label, symbol): what it stands for.
 */
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import type { TcbSnapshot } from '../../core/check/timeline';
import type { Statement } from '../../core/syntax/ast';
import { parseState, RFC_NAMES, SOCKET_NAMES, STATE_DOCS } from '../../core/tcp/states';
import type { Analysis } from '../analysis';
import type { Token } from '../tokens';
import {
  ARROW_DOCS,
  CALL_DOCS,
  FIELD_DOCS,
  FLAG_BY_LETTER,
  FLAG_BY_WORD,
  HEADER_OPTION_DOCS,
  KEYWORD_DOCS,
  OPTION_DOCS,
  TCB_DOCS,
  type WordDoc,
} from '../vocabulary';
import { flagWords } from './formatting';

export function computeHover(a: Analysis, pos: Position): Hover | null {
  const st = a.statementAt(pos.line);
  if (!st) return null;
  const tok = a.tokenAt(pos.line, pos.character);
  const parts: string[] = [];
  const word = tok ? wordHover(a, st, tok) : undefined;
  if (word) parts.push(word);
  const ev = a.eventAt(pos.line);
  if (ev >= 0) parts.push(eventHover(a, st, ev));
  else if (st.kind === 'expect') parts.push(statesHover(a, a.eventBefore(pos.line), 'Actual states here (after the previous event):'));
  if (parts.length === 0) return null;
  const value = parts.join('\n\n---\n\n');
  const h: Hover = { contents: { kind: MarkupKind.Markdown, value } };
  if (tok) h.range = { start: { line: tok.line, character: tok.start }, end: { line: tok.line, character: tok.end } };
  return h;
}

function doc(d: WordDoc, code = d.label): string {
  return `**\`${code}\`** — ${d.summary}\n\n${d.detail}`;
}

function wordHover(a: Analysis, st: Statement, tok: Token): string | undefined {
  switch (tok.kind) {
    case 'flag': {
      const f = tok.text.length === 1 ? FLAG_BY_LETTER.get(tok.text) : FLAG_BY_WORD.get(tok.text);
      return f ? doc(f, tok.text.length === 1 ? `${tok.text}` : f.label) + (tok.text.length === 1 ? ` (tcpdump letter for ${f.label})` : '') : undefined;
    }
    case 'field': {
      const f = FIELD_DOCS.find((d) => d.label === tok.text);
      if (f) return doc(f);
      return tok.text === 'backlog' ? '**`backlog`** — the length of the listen queue; no effect on the state machine.' : undefined;
    }
    case 'option': {
      const o = OPTION_DOCS.find((d) => d.label === tok.text);
      return o ? doc(o) : undefined;
    }
    case 'headerOption': {
      const o = HEADER_OPTION_DOCS.find((d) => d.label === tok.text);
      return o ? doc(o) : undefined;
    }
    case 'call': {
      const c = CALL_DOCS.find((d) => d.label === tok.text);
      return c ? `**\`${c.signature}\`** — ${c.summary}\n\n${c.detail}` : undefined;
    }
    case 'keyword': {
      const k = KEYWORD_DOCS.find((d) => d.label === tok.text.toLowerCase());
      return k ? doc(k) : undefined;
    }
    case 'arrow': {
      const r = ARROW_DOCS.find((d) => d.label === tok.text.toLowerCase());
      return r ? doc(r) : undefined;
    }
    case 'state': {
      const s = parseState(tok.text);
      if (s < 0) return undefined;
      const spellings = SOCKET_NAMES[s] === RFC_NAMES[s] ? `\`${SOCKET_NAMES[s]}\`` : `\`${SOCKET_NAMES[s]}\` (RFC 9293: \`${RFC_NAMES[s]}\`)`;
      return `**State ${spellings}** — ${STATE_DOCS[s]}`;
    }
    case 'endpoint': {
      const i = a.endpointIndex(tok.text);
      const e = a.result.endpoints[i];
      if (!e) return undefined;
      const bits = [`**Endpoint \`${e.name}\`**`];
      if (e.address) bits.push(`address \`${e.address}\``);
      if (e.label) bits.push(`shown as "${escapeMd(e.label)}"`);
      if (st.kind === 'endpoint') return bits.join(' · ');
      const declared = a.statements.some((x) => x.kind === 'endpoint' && x.name.name === e.name);
      return `${bits.join(' · ')}\n\n${declared ? 'Declared' : 'Declared by its first use'} on line ${e.line + 1}.`;
    }
    case 'symbol': {
      const b = a.result.symbols.get(tok.text);
      if (!b) return `**Symbol \`${tok.text}\`** — not bound (the checker could not infer a value for it).`;
      const owner = a.result.endpoints[b.space]?.name ?? `endpoint ${b.space + 1}`;
      const what = b.isn ? `${owner}'s initial sequence number` : `a number in ${owner}'s sequence space`;
      const rel = b.isn ? '' : ` (${a.formatSeq(b.value, b.space)})`;
      return `**Symbol \`${b.name}\`** = ${b.value >>> 0}${rel} — ${what}, bound on line ${b.line + 1}.`;
    }
    case 'label':
      return labelHover(a, tok.text);
    case 'time': {
      const ev = a.eventAt(tok.line);
      const t = ev >= 0 ? a.result.timeline.time(ev) : NaN;
      return Number.isNaN(t) ? undefined : `**Time** — ${formatSeconds(t)} since the start of the trace.`;
    }
    default:
      return undefined;
  }
}

function labelHover(a: Analysis, label: string): string {
  let sent: number | undefined;
  const delivered: number[] = [];
  for (const st of a.statements) {
    if (st.kind === 'segment' && st.label?.name === label && sent === undefined) sent = st.line;
    else if (st.kind === 'deliver' && st.label.name === label) delivered.push(st.line);
  }
  const where = [
    sent === undefined ? 'never sent' : `sent on line ${sent + 1}`,
    delivered.length === 0 ? 'never delivered (still in flight at the end)' : `delivered on line ${delivered.map((l) => l + 1).join(', ')}`,
  ];
  return `**In-flight segment \`${label}\`** — ${where.join(', ')}.`;
}

function eventHover(a: Analysis, st: Statement, ev: number): string {
  const tl = a.result.timeline;
  const out: string[] = [];
  if (st.kind === 'segment') {
    const seg = tl.segment(ev);
    const sender = a.endpointIndex(st.from.name);
    const receiver = a.endpointIndex(st.to.name);
    const head = `**\`${st.from.name} ${st.arrow} ${st.to.name}: ${flagWords(st.flags)}\`**`;
    if (seg) {
      const nums = [`seq=${numberWithRel(a, seg.seq, sender)}${seg.seqInferred ? ' *(inferred)*' : ''}`];
      if (seg.ack !== undefined) nums.push(`ack=${numberWithRel(a, seg.ack, receiver)}${seg.ackInferred ? ' *(inferred)*' : ''}`);
      nums.push(`len=${seg.len}`);
      const space = (st.flags & 0x02 ? 1 : 0) + (st.flags & 0x01 ? 1 : 0) + seg.len;
      if (space > 0) nums.push(`next seq=${numberWithRel(a, (seg.seq + space) >>> 0, sender)}`);
      out.push(`${head} ${nums.join(' · ')}`);
    } else out.push(head);
    const syms = symbolsOn(st);
    if (syms.length > 0) {
      const vals = syms.map((name) => {
        const b = a.result.symbols.get(name);
        return b ? `\`${name}\` = ${b.value >>> 0}` : `\`${name}\` unbound`;
      });
      out.push(`Symbols: ${vals.join(', ')}`);
    }
  } else if (st.kind === 'call') out.push(`**\`${st.endpoint.name}: ${st.call}\`**`);
  else if (st.kind === 'deliver') out.push(`**\`deliver ${st.label.name}\`**`);
  out.push(statesHover(a, ev, 'After this event:'));
  const t = tl.time(ev);
  if (!Number.isNaN(t)) out.push(`Time: ${formatSeconds(t)}`);
  return out.join('\n\n');
}

/** A table of both endpoints' states and TCBs after timeline entry `ev` (before the first event when -1). */
function statesHover(a: Analysis, ev: number, caption: string): string {
  const eps = a.result.endpoints;
  if (eps.length === 0) return caption + ' no endpoint yet.';
  const tl = a.result.timeline;
  const tcbs: TcbSnapshot[] = eps.map((_, e) => (ev >= 0 ? tl.tcb(ev, e) : emptyTcb(tl.initialStates[e])));
  const changed = eps.map((_, e) => ev >= 0 && tl.stateBefore(ev, e) !== tl.state(ev, e));
  const rows: string[] = [];
  rows.push(`| | ${eps.map((e) => `\`${e.name}\``).join(' | ')} |`);
  rows.push(`|---|${eps.map(() => '---').join('|')}|`);
  rows.push(
    `| state | ${eps
      .map((_, e) => (changed[e] ? `${a.stateName(tl.stateBefore(ev, e))} → **${a.stateName(tcbs[e].state)}**` : a.stateName(tcbs[e].state)))
      .join(' | ')} |`,
  );
  const other = (e: number): number => (e === 0 ? 1 : 0);
  const row = (name: string, f: (t: TcbSnapshot, e: number) => string | undefined): void => {
    const cells = tcbs.map((t, e) => f(t, e) ?? '—');
    if (cells.some((c) => c !== '—')) rows.push(`| ${name} | ${cells.join(' | ')} |`);
  };
  const seqCell = (v: number | undefined, space: number, isn: number | undefined, isnName: string): string | undefined => {
    if (v === undefined) return undefined;
    const shown = a.formatSeq(v, space);
    const rel = a.result.symbolic ? undefined : a.relativeSeq(v, isn, isnName);
    return rel && rel !== isnName ? `${shown} (${rel})` : shown === String(v >>> 0) ? shown : `${shown} = ${v >>> 0}`;
  };
  row('SND.UNA', (t, e) => seqCell(t.sndUna, e, t.iss, 'ISS'));
  row('SND.NXT', (t, e) => seqCell(t.sndNxt, e, t.iss, 'ISS'));
  row('SND.WND', (t) => (t.sndWnd === undefined ? undefined : String(t.sndWnd)));
  row('RCV.NXT', (t, e) => seqCell(t.rcvNxt, other(e), t.irs, 'IRS'));
  row('RCV.WND', (t) => (t.rcvWnd === undefined ? undefined : String(t.rcvWnd)));
  row('ISS', (t, e) => (t.iss === undefined ? undefined : a.formatSeq(t.iss, e) === String(t.iss >>> 0) ? String(t.iss >>> 0) : `${a.formatSeq(t.iss, e)} = ${t.iss >>> 0}`));
  row('IRS', (t, e) => (t.irs === undefined ? undefined : a.formatSeq(t.irs, other(e)) === String(t.irs >>> 0) ? String(t.irs >>> 0) : `${a.formatSeq(t.irs, other(e))} = ${t.irs >>> 0}`));
  const legend = Object.entries(TCB_DOCS)
    .filter(([k]) => rows.some((r) => r.startsWith(`| ${k} |`)))
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  return `${caption}\n\n${rows.join('\n')}${legend ? `\n\n*${legend}*` : ''}`;
}

function emptyTcb(state: number): TcbSnapshot {
  return { state, iss: undefined, irs: undefined, sndUna: undefined, sndNxt: undefined, sndWnd: undefined, rcvNxt: undefined, rcvWnd: undefined };
}

function numberWithRel(a: Analysis, v: number, space: number): string {
  const shown = a.formatSeq(v, space);
  return shown === String(v >>> 0) ? shown : `${shown} (${v >>> 0})`;
}

function symbolsOn(st: Statement): string[] {
  if (st.kind !== 'segment') return [];
  const names: string[] = [];
  for (const f of [st.seq, st.ack]) if (f?.sym !== undefined && !names.includes(f.sym)) names.push(f.sym);
  return names;
}

function formatSeconds(t: number): string {
  if (t === 0) return '0 s';
  if (Math.abs(t) < 1) return `${+(t * 1000).toFixed(3)} ms`;
  return `${+t.toFixed(6)} s`;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => '\\' + c);
}
