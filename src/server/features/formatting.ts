/**
 * Formatting: one canonical spelling per statement — lower-case keywords and
 * calls, flag words in upper case joined by ',' in header order (`SYN,ACK`,
 * `FIN,PSH,ACK`), single spaces, fields in the order of the spec's grammar,
 * state names in the trace's spelling, no indentation, no trailing blanks.
 *
 * Two guarantees, both enforced rather than hoped for:
 * - meaning: a line is rewritten only when it parsed without a problem, and the
 *   rewrite is parsed again and compared with the original statement; if they
 *   differ in anything but spelling, the line is left as written;
 * - idempotence: the output is built only from the parsed statement, so
 *   formatting it again yields the same text. Comments are kept verbatim;
 *   aligned trailing comments stay aligned (see `commentColumns`).
 */
import type { TextEdit } from 'vscode-languageserver';
import type { ParsedTrace, SegmentStmt, Statement, TimeSpec, Tok } from '../../core/syntax/ast';
import { parse } from '../../core/syntax/parser';
import { stateName } from '../../core/tcp/states';
import { CANONICAL_FLAG_ORDER, FLAG_DOCS } from '../vocabulary';
import { commentStart, splitLines } from '../text';

export interface FormatOptions {
  tcpdumpFlags: 'convert' | 'keep';
}

/** Edits that format lines [fromLine, toLine] (default: the whole document). */
export function formatDocument(
  text: string,
  options: FormatOptions,
  fromLine = 0,
  toLine = Number.MAX_SAFE_INTEGER,
  parsed: ParsedTrace = parse(text),
): TextEdit[] {
  const lines = splitLines(text);
  const spelling = stateSpellingOf(parsed.statements);
  const byLine = new Map<number, Statement>();
  for (const st of parsed.statements) byLine.set(st.line, st);
  const badLines = new Set(parsed.diagnostics.map((d) => d.line));
  const parts = lines.map((original, line) => formatParts(original, badLines.has(line) ? undefined : byLine.get(line), spelling, options));
  const columns = commentColumns(parts);
  const edits: TextEdit[] = [];
  const last = Math.min(toLine, lines.length - 1);
  for (let line = Math.max(0, fromLine); line <= last; line++) {
    const original = lines[line];
    const { code, comment } = parts[line];
    const formatted = comment === '' ? code : code === '' ? comment : code.padEnd(columns[line], ' ') + comment;
    if (formatted !== original) {
      edits.push({ range: { start: { line, character: 0 }, end: { line, character: original.length } }, newText: formatted });
    }
  }
  return edits;
}

interface LineParts {
  /** The canonical code (no trailing blanks), or the code as written when it cannot be rewritten. */
  code: string;
  /** The comment, verbatim (without trailing blanks). */
  comment: string;
  /** Column where the comment started in the original line. */
  cut: number;
}

/** The canonical code and the comment of one line, given its parsed statement (undefined: keep the code as written). */
export function formatParts(original: string, st: Statement | undefined, spelling: 'socket' | 'rfc', options: FormatOptions): LineParts {
  const cut = commentStart(original);
  const comment = original.slice(cut).trimEnd();
  const rawCode = original.slice(0, cut);
  let code: string;
  if (rawCode.trim() === '') code = '';
  else if (st === undefined) code = rawCode.trimEnd();
  else {
    const rendered = renderStatement(st, rawCode, spelling, options);
    const asWritten = rawCode.trimEnd();
    // An already canonical line needs no proof that it means the same.
    code = rendered !== undefined && (rendered === asWritten || sameMeaning(st, rendered)) ? rendered : asWritten;
  }
  return { code, comment, cut };
}

/**
 * Where each trailing comment goes. A run of consecutive lines whose trailing
 * comments start in one column is an aligned block: it stays aligned, at that
 * column or further right if some code grew past it. Any other trailing
 * comment follows its code after one space. (Formatting the result again
 * finds the same blocks at the same columns, so this is idempotent.)
 */
function commentColumns(parts: readonly LineParts[]): number[] {
  const cols = parts.map((p) => p.code.length + 1);
  const trailing = (p: LineParts): boolean => p.code !== '' && p.comment !== '';
  let i = 0;
  while (i < parts.length) {
    if (!trailing(parts[i])) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < parts.length && trailing(parts[j]) && parts[j].cut === parts[i].cut) j++;
    if (j - i >= 2) {
      let col = parts[i].cut;
      for (let k = i; k < j; k++) col = Math.max(col, parts[k].code.length + 1);
      for (let k = i; k < j; k++) cols[k] = col;
    }
    i = j;
  }
  return cols;
}

/** The trace's `option states=` spelling, which `expect` lines follow. */
export function stateSpellingOf(statements: readonly Statement[]): 'socket' | 'rfc' {
  for (const st of statements) {
    if (st.kind === 'option' && st.key.name.toLowerCase() === 'states' && st.value.text === 'rfc') return 'rfc';
  }
  return 'socket';
}

function renderStatement(st: Statement, code: string, spelling: 'socket' | 'rfc', options: FormatOptions): string | undefined {
  const raw = (t: Tok): string => code.slice(t.start, t.end);
  const time = (t: TimeSpec | undefined): string => (t ? raw(t) + ' ' : '');
  switch (st.kind) {
    case 'title':
      return `title ${raw(st.text)}`;
    case 'endpoint':
      return `endpoint ${st.name.name}${st.address ? ' ' + raw(st.address) : ''}${st.label ? ' as ' + raw(st.label) : ''}`;
    case 'option':
      return `option ${st.key.name.toLowerCase()}=${st.value.text}`;
    case 'section':
      return `== ${st.text.text} ==`;
    case 'expect':
      return `expect ${st.items.map((it) => `${it.endpoint.name} ${it.state >= 0 ? stateName(it.state, spelling) : it.stateTok.text}`).join(', ')}`;
    case 'note': {
      const hasOver = /^\s*over\b/i.test(code.slice(st.keyword.end));
      return `note ${hasOver ? 'over ' : ''}${st.over.map((o) => o.name).join(', ')}: ${raw(st.text)}`;
    }
    case 'deliver':
      return `${time(st.time)}deliver ${st.label.name}`;
    case 'call':
      return `${time(st.time)}${st.endpoint.name}: ${[st.call, ...st.args.map(raw)].join(' ')}`;
    case 'segment':
      return renderSegment(st, code, options);
  }
}

function renderSegment(st: SegmentStmt, code: string, options: FormatOptions): string {
  const raw = (t: Tok): string => code.slice(t.start, t.end);
  const value = (f: { valueStart: number; end: number }): string => code.slice(f.valueStart, f.end);
  const parts: string[] = [];
  parts.push(`${st.time ? raw(st.time) + ' ' : ''}${st.from.name} ${st.arrow} ${st.to.name}:`);
  parts.push(st.tcpdumpFlags && options.tcpdumpFlags === 'keep' ? raw(st.flagsTok) : flagWords(st.flags));
  if (st.seq) parts.push(`seq=${value(st.seq)}`);
  if (st.ack) parts.push(`ack=${value(st.ack)}`);
  if (st.len) parts.push(`len=${value(st.len)}`);
  if (st.data) parts.push(`data=${code.slice(code.indexOf('=', st.data.start) + 1, st.data.end)}`);
  if (st.win) parts.push(`win=${value(st.win)}`);
  if (st.urg) parts.push(`urg=${value(st.urg)}`);
  const o = st.options;
  if (o) {
    if (o.mss) parts.push(`mss=${value(o.mss)}`);
    if (o.wscale) parts.push(`wscale=${value(o.wscale)}`);
    if (o.sackok) parts.push('sackok');
    if (o.sack) parts.push(`sack=${code.slice(o.sack.start + 5, o.sack.end)}`);
    if (o.ts) parts.push(`ts=${code.slice(o.ts.start + 3, o.ts.end)}`);
  }
  if (st.label) parts.push(`as ${st.label.name}`);
  return parts.join(' ');
}

/** `SYN,ACK`: the flags as words in canonical order. */
export function flagWords(flags: number): string {
  const words: string[] = [];
  for (const bit of CANONICAL_FLAG_ORDER) {
    if (flags & bit) words.push(FLAG_DOCS.find((f) => f.bit === bit)!.label);
  }
  return words.join(',');
}

/** Parses the rendered line alone and compares what it says with the original statement. */
function sameMeaning(st: Statement, rendered: string): boolean {
  const again = parse(rendered);
  if (again.diagnostics.length > 0 || again.statements.length !== 1) return false;
  return meaning(again.statements[0]) === meaning(st);
}

/** Everything a statement says, without positions or spelling. */
function meaning(st: Statement): string {
  const time = (t: TimeSpec | undefined): unknown => (t ? [t.relative, t.seconds, t.msl] : null);
  switch (st.kind) {
    case 'title':
      return JSON.stringify([st.kind, st.text.text]);
    case 'endpoint':
      return JSON.stringify([st.kind, st.name.name, st.address?.text ?? null, st.label?.text ?? null]);
    case 'option':
      return JSON.stringify([st.kind, st.key.name.toLowerCase(), st.value.text]);
    case 'section':
      return JSON.stringify([st.kind, st.text.text]);
    case 'expect':
      return JSON.stringify([st.kind, st.items.map((i) => [i.endpoint.name, i.state, i.state < 0 ? i.stateTok.text : null])]);
    case 'note':
      return JSON.stringify([st.kind, st.over.map((o) => o.name), st.text.text]);
    case 'deliver':
      return JSON.stringify([st.kind, time(st.time), st.label.name]);
    case 'call':
      return JSON.stringify([st.kind, time(st.time), st.endpoint.name, st.call, st.args.map((a) => [a.key ?? null, a.num ?? null, a.str ?? null, a.text])]);
    case 'segment': {
      const num = (f: { value: number; sym?: string } | undefined): unknown => (f ? [f.value, f.sym ?? null] : null);
      const o = st.options;
      return JSON.stringify([
        st.kind,
        time(st.time),
        st.from.name,
        st.to.name,
        st.arrow,
        st.flags,
        num(st.seq),
        num(st.ack),
        num(st.len),
        st.data?.text ?? null,
        num(st.win),
        num(st.urg),
        o ? [num(o.mss), num(o.wscale), !!o.sackok, o.sack?.blocks ?? null, o.ts ? [o.ts.val, o.ts.ecr ?? null] : null] : null,
        st.label?.name ?? null,
      ]);
    }
  }
}
