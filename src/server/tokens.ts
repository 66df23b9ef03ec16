/**
 * Every meaningful token of the parsed trace, with what it is: the one index
 * that semantic tokens, hover, references, rename and definition all read.
 *
 * The parser keeps ranges of whole fields (`seq=x+1`) and flag groups
 * (`SYN,ACK`); this splits them into the words a person points at, using the
 * line's text only inside ranges the parser already validated.
 */
import type { SegmentStmt, Statement } from '../core/syntax/ast';

export type TokenKind =
  | 'keyword'
  | 'endpoint'
  | 'label'
  | 'symbol'
  | 'flag'
  | 'field'
  | 'option'
  | 'headerOption'
  | 'call'
  | 'state'
  | 'arrow'
  | 'number'
  | 'string'
  | 'time'
  | 'section'
  | 'address'
  | 'value';

export interface Token {
  line: number;
  start: number;
  end: number;
  kind: TokenKind;
  /** The word as written (flag words upper-cased; tcpdump letters as the letter). */
  text: string;
  /** Declares a name: endpoint statement, `as LABEL`, a symbol's first use. */
  declaration: boolean;
  /** Index of the statement in `parsed.statements`. */
  stmt: number;
}

/** Tokens of one statement, in column order. */
export function statementTokens(st: Statement, stmt: number, lineText: string): Token[] {
  const out: Token[] = [];
  const line = st.line;
  const add = (start: number, end: number, kind: TokenKind, text = lineText.slice(start, end), declaration = false): void => {
    if (end > start) out.push({ line, start, end, kind, text, declaration, stmt });
  };
  switch (st.kind) {
    case 'title':
      add(st.keyword.start, st.keyword.end, 'keyword');
      add(st.text.start, st.text.end, 'string', st.text.text);
      break;
    case 'endpoint':
      add(st.keyword.start, st.keyword.end, 'keyword');
      add(st.name.start, st.name.end, 'endpoint', st.name.name, true);
      if (st.address) add(st.address.start, st.address.end, 'address');
      if (st.label) {
        const as = findWordBefore(lineText, st.label.start, 'as');
        if (as >= 0) add(as, as + 2, 'keyword');
        add(st.label.start, st.label.end, 'string', st.label.text);
      }
      break;
    case 'option':
      add(st.keyword.start, st.keyword.end, 'keyword');
      add(st.key.start, st.key.end, 'headerOption', st.key.name.toLowerCase());
      add(st.value.start, st.value.end, 'value', st.value.text);
      break;
    case 'section':
      add(st.text.start, st.text.end, 'section', st.text.text);
      break;
    case 'expect':
      add(st.keyword.start, st.keyword.end, 'keyword');
      for (const it of st.items) {
        add(it.endpoint.start, it.endpoint.end, 'endpoint', it.endpoint.name);
        if (it.state >= 0) add(it.stateTok.start, it.stateTok.end, 'state', it.stateTok.text);
      }
      break;
    case 'note': {
      add(st.keyword.start, st.keyword.end, 'keyword');
      if (st.over.length > 0) {
        const over = findWordBefore(lineText, st.over[0].start, 'over');
        if (over >= 0) add(over, over + 4, 'keyword');
      }
      for (const o of st.over) add(o.start, o.end, 'endpoint', o.name);
      if (lineText.charCodeAt(st.text.start) === 34) add(st.text.start, st.text.end, 'string', st.text.text);
      break;
    }
    case 'deliver':
      if (st.time) add(st.time.start, st.time.end, 'time');
      add(st.keyword.start, st.keyword.end, 'keyword');
      add(st.label.start, st.label.end, 'label', st.label.name);
      break;
    case 'call':
      if (st.time) add(st.time.start, st.time.end, 'time');
      add(st.endpoint.start, st.endpoint.end, 'endpoint', st.endpoint.name);
      add(st.callTok.start, st.callTok.end, 'call', st.call);
      for (const a of st.args) {
        if (a.str !== undefined) add(a.start, a.end, 'string', a.str);
        else if (a.key !== undefined) {
          const eq = a.start + a.text.indexOf('=');
          add(a.start, eq, 'field', a.key);
          add(eq + 1, a.end, a.num !== undefined ? 'number' : 'value');
        } else add(a.start, a.end, a.num !== undefined ? 'number' : 'address');
      }
      break;
    case 'segment':
      segmentTokens(st, lineText, add);
      break;
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

function segmentTokens(
  st: SegmentStmt,
  lineText: string,
  add: (start: number, end: number, kind: TokenKind, text?: string, declaration?: boolean) => void,
): void {
  if (st.time) add(st.time.start, st.time.end, 'time');
  add(st.from.start, st.from.end, 'endpoint', st.from.name);
  add(st.arrowTok.start, st.arrowTok.end, 'arrow');
  add(st.to.start, st.to.end, 'endpoint', st.to.name);
  // Flags: words separated by ',' or '+', or tcpdump letters inside brackets.
  const fs = st.flagsTok.start;
  const fe = st.flagsTok.end;
  if (st.tcpdumpFlags) {
    for (let i = fs + 1; i < fe - 1; i++) add(i, i + 1, 'flag', lineText[i] === '.' ? '.' : lineText[i].toUpperCase());
  } else {
    let i = fs;
    while (i < fe) {
      if (isWordChar(lineText.charCodeAt(i))) {
        const s = i;
        while (i < fe && isWordChar(lineText.charCodeAt(i))) i++;
        add(s, i, 'flag', lineText.slice(s, i).toUpperCase());
      } else i++;
    }
  }
  const keyed = (f: { start: number; valueStart: number } | undefined, key: string, kind: TokenKind): void => {
    if (f) add(f.start, f.valueStart - 1, kind, key);
  };
  for (const key of ['seq', 'ack'] as const) {
    const f = st[key];
    if (!f) continue;
    keyed(f, key, 'field');
    if (f.sym !== undefined) {
      add(f.valueStart, f.valueStart + f.sym.length, 'symbol', f.sym);
      if (f.valueStart + f.sym.length + 1 < f.end) add(f.valueStart + f.sym.length + 1, f.end, 'number');
    } else add(f.valueStart, f.end, 'number');
  }
  for (const key of ['len', 'win', 'urg'] as const) {
    const f = st[key];
    if (!f) continue;
    keyed(f, key, 'field');
    add(f.valueStart, f.end, 'number');
  }
  if (st.data) {
    const eq = lineText.indexOf('=', st.data.start);
    add(st.data.start, eq, 'field', 'data');
    add(eq + 1, st.data.end, 'string', st.data.text);
  }
  const o = st.options;
  if (o) {
    for (const key of ['mss', 'wscale'] as const) {
      const f = o[key];
      if (!f) continue;
      keyed(f, key, 'option');
      add(f.valueStart, f.end, 'number');
    }
    if (o.sackok) add(o.sackok.start, o.sackok.end, 'option', 'sackok');
    for (const key of ['sack', 'ts'] as const) {
      const f = o[key];
      if (!f) continue;
      add(f.start, f.start + key.length, 'option', key);
      add(f.start + key.length + 1, f.end, 'number');
    }
  }
  if (st.label) {
    const as = findWordBefore(lineText, st.label.start, 'as');
    if (as >= 0) add(as, as + 2, 'keyword');
    add(st.label.start, st.label.end, 'label', st.label.name, true);
  }
}

function isWordChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
}

/** Column of `word` (case-insensitive) immediately before `col`, skipping blanks; -1 if absent. */
function findWordBefore(text: string, col: number, word: string): number {
  let i = col;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === ',')) i--;
  const s = i - word.length;
  if (s < 0 || text.slice(s, i).toLowerCase() !== word) return -1;
  return s;
}

/** The token containing the position (a position at a token's end counts, as editors expect). */
export function tokenAt(tokens: readonly Token[], character: number): Token | undefined {
  let best: Token | undefined;
  for (const t of tokens) {
    if (t.start <= character && character < t.end) return t;
    if (t.end === character) best = t;
  }
  return best;
}
