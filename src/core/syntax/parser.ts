/**
 * Error-tolerant parser for `.tcptrace` (spec sections 2-4).
 *
 * Works line by line on character codes: linear in the input, no backtracking,
 * no regular expressions on user text. A malformed line yields a diagnostic and
 * is skipped (or kept without the bad field), and parsing goes on with the next
 * line, so one mistake never hides the rest of the file.
 */
import {
  ACK,
  CWR,
  ECE,
  FIN,
  PSH,
  RST,
  SYN,
  URG,
  type Arrow,
  type CallArg,
  type CallName,
  type DeliverStmt,
  type EventStmt,
  type ExpectItem,
  type IntField,
  type NameTok,
  type NumField,
  type ParsedTrace,
  type SackBlock,
  type SegmentOptions,
  type SegmentStmt,
  type Statement,
  type SyntaxDiagnostic,
  type TextTok,
  type TimeSpec,
  type Tok,
} from './ast';
import { parseState } from '../tcp/states';

export const FLAG_WORDS: Readonly<Record<string, number>> = {
  SYN,
  ACK,
  FIN,
  RST,
  PSH,
  URG,
  ECE,
  CWR,
};

const TCPDUMP_LETTERS: Readonly<Record<string, number>> = {
  S: SYN,
  F: FIN,
  R: RST,
  P: PSH,
  U: URG,
  E: ECE,
  W: CWR,
  '.': ACK,
};

export const CALLS: readonly CallName[] = [
  'socket',
  'bind',
  'listen',
  'connect',
  'accept',
  'send',
  'recv',
  'close',
  'shutdown',
  'abort',
  'timeout',
  'rto',
];

export const SEGMENT_FIELDS = ['seq', 'ack', 'len', 'data', 'win', 'urg'] as const;
export const SEGMENT_OPTIONS = ['mss', 'wscale', 'sackok', 'sack', 'ts'] as const;
export const OPTION_KEYS = ['msl', 'origin', 'states'] as const;

const MAX_U32 = 0xffffffff;

/** A line-local failure: the parser reports it and drops (or trims) the statement. */
class LineError {
  constructor(
    readonly code: string,
    readonly start: number,
    readonly end: number,
    readonly message: string,
  ) {}
}

const CH_SPACE = 32;
const CH_TAB = 9;
const CH_CR = 13;
const CH_HASH = 35;
const CH_QUOTE = 34;
const CH_BACKSLASH = 92;

/** Character classes of ASCII, as bits: a table lookup instead of a chain of comparisons (these run on every character). */
const C_NAME_START = 1;
const C_NAME = 2;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const start = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  const digit = c >= 48 && c <= 57;
  CLASSES[c] = (start ? C_NAME_START : 0) | (start || digit ? C_NAME : 0);
}

// `c < 128` also answers false for NaN (charCodeAt past the end), and keeps the load in bounds.
function isNameStart(c: number): boolean {
  return c < 128 && (CLASSES[c] & C_NAME_START) !== 0;
}
function isNameChar(c: number): boolean {
  return c < 128 && (CLASSES[c] & C_NAME) !== 0;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB;
}

/**
 * A lowercase ASCII word packed as `Parser.packed` packs name characters. Each character is at least
 * 0x30 after `| 0x20`, so words of different lengths never pack to the same number.
 */
function pack(word: string): number {
  let k = 0;
  for (let i = 0; i < word.length; i++) k = k * 128 + word.charCodeAt(i);
  return k;
}
const K_SEQ = pack('seq');
const K_ACK = pack('ack');
const K_LEN = pack('len');
const K_WIN = pack('win');
const K_URG = pack('urg');
const K_MSS = pack('mss');
const K_TS = pack('ts');
const K_DATA = pack('data');
const K_SACK = pack('sack');
const K_SACKOK = pack('sackok');
const K_WSCALE = pack('wscale');
const K_SYN = pack('syn');
const K_FIN = pack('fin');
const K_PSH = pack('psh');
const K_RST = pack('rst');
const K_ECE = pack('ece');
const K_CWR = pack('cwr');
const K_DELIVER = pack('deliver');
const K_AS = pack('as');

/** Slots of the parser's name table (a power of two): names repeat on every line, so they are shared, not re-sliced. */
const NAME_SLOTS = 256;

/** UTF-8 byte length of a string (payload lengths are in bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Reused records of a streaming parse (see `parse`'s `reuse`). */
export interface SegRecords {
  seg: SegmentStmt;
  label: NameTok;
  deliver: DeliverStmt;
  time: TimeSpec;
  seq: NumField;
  ack: NumField;
  len: IntField;
  win: IntField;
  urg: IntField;
}

/** A segment statement with nothing read into it yet (its tokens are objects of their own, to fill). */
function blankSegment(): SegmentStmt {
  return {
    kind: 'segment',
    line: 0,
    time: undefined,
    from: { name: '', start: 0, end: 0 },
    to: { name: '', start: 0, end: 0 },
    arrow: '->',
    arrowTok: { start: 0, end: 0 },
    flags: 0,
    flagsTok: { start: 0, end: 0 },
    tcpdumpFlags: false,
    seq: undefined,
    ack: undefined,
    len: undefined,
    data: undefined,
    win: undefined,
    urg: undefined,
    options: undefined,
    label: undefined,
    end: 0,
  };
}

/** A set of records for a streaming parse's statements (see `parse`'s `reuse`), or for a writer that steps a checker with them (StreamingCheck). */
export function newSegRecords(): SegRecords {
  const seg = blankSegment();
  const num = (): NumField => ({ sym: undefined, value: 0, valueStart: 0, start: 0, end: 0 });
  const int = (): IntField => ({ value: 0, valueStart: 0, start: 0, end: 0 });
  const deliver: DeliverStmt = { kind: 'deliver', line: 0, time: undefined, keyword: { start: 0, end: 0 }, label: { name: '', start: 0, end: 0 } };
  const time: TimeSpec = { relative: false, seconds: 0, msl: 0, start: 0, end: 0 };
  return { seg, label: { name: '', start: 0, end: 0 }, deliver, time, seq: num(), ack: num(), len: int(), win: int(), urg: int() };
}

export function setName(t: NameTok, name: string, start: number, end: number): void {
  t.name = name;
  t.start = start;
  t.end = end;
}

export function setTok(t: Tok, start: number, end: number): void {
  t.start = start;
  t.end = end;
}

/** A `seq=`/`ack=` number: `r` refilled, or a new record. */
export function numField(r: NumField | undefined, value: number, valueStart: number, start: number, end: number): NumField {
  if (!r) return { sym: undefined, value, valueStart, start, end };
  r.value = value;
  r.valueStart = valueStart;
  r.start = start;
  r.end = end;
  return r;
}

export function timeSpec(r: TimeSpec | undefined, relative: boolean, seconds: number, start: number, end: number): TimeSpec {
  if (!r) return { relative, seconds, msl: 0, start, end };
  r.relative = relative;
  r.seconds = seconds;
  r.start = start;
  r.end = end;
  return r;
}

/** time()'s fraction scales: 0.1, then divided by 10 again for each further digit. */
function fractionScale(k: number): number {
  let scale = 0.1;
  for (let i = 0; i < k; i++) scale /= 10;
  return scale;
}
const FRACTION_SCALES = Array.from({ length: 24 }, (_, k) => fractionScale(k));

/**
 * The seconds the parser reads from a time written as ASCII digits, with or
 * without a fraction (`12`, `1.140599`), in bytes[start, end): the same
 * arithmetic as the parser's, so the same double; NaN if they are not such
 * digits. For a writer that steps the checker with the statements of the
 * lines it writes (StreamingCheck).
 */
export function secondsOfDigits(bytes: Uint8Array, start: number, end: number): number {
  let p = start;
  let v = 0;
  while (p < end && bytes[p] !== 46) {
    const d = bytes[p++] - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  if (p === start) return NaN;
  if (p < end) {
    p++;
    let frac = 0;
    for (let k = 0; p < end; k++) {
      const d = bytes[p++] - 48;
      if (d < 0 || d > 9) return NaN;
      frac += d * (k < FRACTION_SCALES.length ? FRACTION_SCALES[k] : fractionScale(k));
    }
    v += frac;
  }
  return v;
}

export function intField(r: IntField | undefined, value: number, valueStart: number, start: number, end: number): IntField {
  if (!r) return { value, valueStart, start, end };
  r.value = value;
  r.valueStart = valueStart;
  r.start = start;
  r.end = end;
  return r;
}

/** The segment's options record, created on first use (most segments have none). */
function optionsOf(seg: SegmentStmt): SegmentOptions {
  return (seg.options ??= {});
}

const NO_CODES = new Uint8Array(0);
/** Characters of the text read into codes at a time (see Parser.cover). */
const CODES_WINDOW = 1 << 16;
const encoder = new TextEncoder();
const NON_ASCII = /[^\x00-\x7f]+/g;

/** out[0, b - a) := the char codes of text[a, b) where ASCII, 0x80 where not. */
function asciiCodes(text: string, a: number, b: number, out: Uint8Array): void {
  const t = text.slice(a, b);
  // All ASCII (the common case) exactly when UTF-8 takes one byte per character.
  if (encoder.encodeInto(t, out.subarray(0, b - a)).read === b - a) return;
  let at = 0;
  NON_ASCII.lastIndex = 0;
  for (let m = NON_ASCII.exec(t); m !== null; m = NON_ASCII.exec(t)) {
    if (m.index > at) encoder.encodeInto(t.slice(at, m.index), out.subarray(at, m.index));
    at = m.index + m[0].length;
    out.fill(0x80, m.index, at);
  }
  if (at < t.length) encoder.encodeInto(t.slice(at), out.subarray(at, t.length));
}

/** Position of the next `ch` at or after `from`, or the text's length when there is none. */
function indexOrEnd(text: string, ch: string, from: number): number {
  const i = text.indexOf(ch, from);
  return i < 0 ? text.length : i;
}

/** Called for each statement, in order, when the tree is not kept. */
export type StatementSink = (s: Statement, index: number) => void;

export interface ParseTuning {
  /** false: every line through the general path (for tests that hold the fast one equal to it). */
  fastLines?: boolean;
  /**
   * With a sink: the common event lines are read into one set of records, refilled for each such
   * line, so a million-line parse does not allocate a tree's worth of objects. The sink must then
   * keep no reference to a statement's records once it returns.
   */
  reuse?: boolean;
  /**
   * The bytes the text was decoded from as Latin-1 (one character per
   * byte), if it was: the fast paths read them instead of making their own
   * copy of its characters.
   */
  latin1?: Uint8Array;
}

/**
 * Parses a whole document. With `sink`, each statement goes to it as soon as
 * it is parsed and is not kept (`statements` stays empty): a million-event
 * trace is then checked without holding its tree. `result.diagnostics` and
 * `result.symbols` fill as parsing goes.
 */
export function parse(
  text: string,
  sink?: StatementSink,
  result?: ParsedTrace,
  from?: { line: number; offset: number; untilLine?: number },
  tuning: ParseTuning = {},
): ParsedTrace {
  const out: ParsedTrace = result ?? { statements: [], diagnostics: [], symbols: new Set(), lineCount: 0 };
  const p = new Parser(text, out, sink, tuning.fastLines !== false, sink !== undefined && tuning.reuse === true, tuning.latin1?.length === text.length ? tuning.latin1 : undefined);
  p.run(from?.line ?? 0, from?.offset ?? -1, from?.untilLine ?? Infinity);
  out.lineCount = p.lineCount;
  return out;
}

/** Offset of the start of `line` (line ends as the parser counts them), or -1 past the end. */
export function lineOffset(text: string, line: number): number {
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let nextCr = -1;
  for (let l = 0; l < line; l++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let next = end + 1;
    if (nextCr < start) nextCr = indexOrEnd(text, '\r', start);
    if (nextCr < end - 1) next = nextCr + 1;
    if (next > text.length) return -1;
    start = next;
  }
  return start;
}

class Parser {
  readonly statements: Statement[];
  readonly diagnostics: SyntaxDiagnostic[];
  readonly symbols: Set<string>;
  lineCount = 0;
  /** Index of the next statement (continues after those already in the result). */
  private index: number;
  private nextHash = -1;
  /** Whether event lines go through fastEvent() first (off only to test it against the general path). */
  private readonly fast: boolean;
  private nextQuote = -1;
  /**
   * The current line's characters as the fast paths read them, from a typed
   * array (cheaper than charCodeAt on a string, in time and in optimised
   * code): codes[i - codesBase] is the char code of text[i] when it is ASCII,
   * and 0x80 or more when it is not. It covers the current line and the
   * character after it (0 past the end); see cover().
   */
  private codes: Uint8Array = NO_CODES;
  private codesBase = 0;
  /** The last line end it covers. */
  private codesLimit = -1;
  /** A window of codes made from the text, reused line after line. */
  private window: Uint8Array | undefined;

  /** The current line: text[ls, le) with the comment already cut off. */
  private ls = 0;
  private le = 0;
  private pos = 0;
  private line = 0;

  constructor(
    private readonly text: string,
    out: ParsedTrace,
    private readonly sink: StatementSink | undefined,
    fast: boolean,
    private readonly reuse: boolean,
    /** The bytes `text` was decoded from as Latin-1, if it was (as long as the text): already its codes. */
    private readonly latin1?: Uint8Array,
  ) {
    this.fast = fast;
    this.statements = out.statements;
    this.diagnostics = out.diagnostics;
    this.symbols = out.symbols;
    this.index = out.statements.length;
  }

  /** Parses from `firstLine`, which starts at `offset` (-1: from the top), through `lastLine`. */
  run(firstLine: number, offset: number, lastLine: number): void {
    const text = this.text;
    const n = text.length;
    let start = offset;
    let line = firstLine;
    // A leading byte-order mark is not part of the first line's text.
    if (start < 0) start = n > 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
    // Line ends are \n, \r\n and a lone \r, as in LSP. The next \r is remembered (linear time).
    let nextCr = -1;
    while (start <= n && line <= lastLine) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      let next = end + 1;
      if (nextCr < start) nextCr = indexOrEnd(text, '\r', start);
      if (nextCr < end - 1) {
        end = nextCr; // a lone \r ends this line
        next = nextCr + 1;
      }
      this.parseLine(line, start, end);
      line++;
      start = next;
    }
    this.lineCount = line;
  }

  // ---- low-level scanning (columns are relative to the line start) ----

  private col(abs: number): number {
    return abs - this.ls;
  }
  private peek(): number {
    return this.pos < this.le ? this.text.charCodeAt(this.pos) : -1;
  }
  private skipWs(): void {
    while (this.pos < this.le && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
  }
  private atEnd(): boolean {
    return this.pos >= this.le;
  }
  private err(code: string, absStart: number, absEnd: number, message: string): LineError {
    // Never past the end of the line; something missing at the end marks the line's last character.
    let s = Math.min(absStart, this.le);
    let e = Math.min(Math.max(absEnd, s + 1), this.le);
    if (e <= s) {
      s = Math.max(this.ls, this.le - 1);
      e = this.le;
    }
    return new LineError(code, this.col(s), this.col(e), message);
  }
  private report(e: LineError): void {
    this.diagnostics.push({ code: e.code, line: this.line, start: e.start, end: e.end, message: e.message });
  }
  /** The token that starts here (up to whitespace), for error ranges. */
  private tokenEnd(abs: number): number {
    let i = abs;
    while (i < this.le && !isSpace(this.text.charCodeAt(i))) i++;
    return i;
  }
  /** The end of the token at `abs`, taking a quoted string inside it (`data="a b"`) as one piece. */
  private skipToken(abs: number): number {
    let i = abs;
    while (i < this.le && !isSpace(this.text.charCodeAt(i))) {
      if (this.text.charCodeAt(i) === CH_QUOTE) {
        i++;
        while (i < this.le && this.text.charCodeAt(i) !== CH_QUOTE) i += this.text.charCodeAt(i) === CH_BACKSLASH ? 2 : 1;
      }
      i++;
    }
    return Math.min(i, this.le);
  }
  private describeHere(): string {
    if (this.atEnd()) return 'the end of the line';
    return `'${this.text.slice(this.pos, this.tokenEnd(this.pos)).slice(0, 20)}'`;
  }

  /** Recently seen names: endpoint names repeat on every line, so they are shared, not re-sliced. */
  private readonly names: (string | undefined)[] = new Array(NAME_SLOTS).fill(undefined);

  /** Moves pos over name characters; returns their hash, for `intern`. */
  private scanName(): number {
    const text = this.text;
    const le = this.le;
    let i = this.pos;
    let h = 0;
    while (i < le) {
      const c = text.charCodeAt(i);
      if (!isNameChar(c)) break;
      h = (Math.imul(h, 31) + c) | 0;
      i++;
    }
    this.pos = i;
    return h;
  }

  /** text[s, e) as a string: the same string as the last time these characters (hash `h`) were seen in its slot. */
  private intern(s: number, e: number, h: number): string {
    const slot = (h ^ (h >>> 8)) & (NAME_SLOTS - 1);
    const n = this.names[slot];
    if (n !== undefined && n.length === e - s) {
      // By hand: startsWith at a position costs a builtin call, and names are short.
      // A name is ASCII: its characters are the same in `codes`.
      const codes = this.codes;
      const at = s - this.codesBase;
      let i = 0;
      while (i < n.length && n.charCodeAt(i) === codes[at + i]) i++;
      if (i === n.length) return n;
    }
    const m = this.text.slice(s, e);
    this.names[slot] = m;
    return m;
  }

  private readName(what: string): NameTok {
    const s = this.pos;
    if (!isNameStart(this.peek())) {
      throw this.err('TT100', s, this.tokenEnd(s), `Expected ${what} (a name such as client or server), found ${this.describeHere()}.`);
    }
    const h = this.scanName();
    return { name: this.intern(s, this.pos, h), start: this.col(s), end: this.col(this.pos) };
  }

  /** Case-insensitive match of text[s, e) against a lowercase ASCII word, without allocating. */
  private is(s: number, e: number, word: string): boolean {
    if (e - s !== word.length) return false;
    for (let i = 0; i < word.length; i++) {
      if ((this.text.charCodeAt(s + i) | 0x20) !== word.charCodeAt(i)) return false;
    }
    return true;
  }

  private expectChar(c: number, what: string): void {
    if (this.peek() !== c) {
      throw this.err('TT100', this.pos, this.tokenEnd(this.pos), `Expected ${what}, found ${this.describeHere()}.`);
    }
    this.pos++;
  }

  /** Reads an unsigned integer (decimal or 0x hex) at pos: its value, or -1 (pos unmoved) if there is none. */
  private readUint(): number {
    const s = this.pos;
    const text = this.text;
    const le = this.le;
    let v = 0;
    if (s < le && text.charCodeAt(s) === 48 && (text.charCodeAt(s + 1) | 0x20) === 120 /* 0x */) {
      let i = s + 2;
      const h = i;
      while (i < le) {
        const c = text.charCodeAt(i);
        const d = isDigit(c) ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1;
        if (d < 0) break;
        v = v * 16 + d;
        i++;
      }
      if (i === h) return -1;
      this.pos = i;
      return v;
    }
    let i = s;
    while (i < le) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) break;
      v = v * 10 + (c - 48);
      i++;
    }
    if (i === s) return -1;
    this.pos = i;
    return v;
  }

  /** Requires the value to end at a token boundary (whitespace, end, or one of `stops`). */
  private requireBoundary(tokStart: number, what: string, stops = ''): void {
    if (this.atEnd()) return;
    const c = this.peek();
    if (isSpace(c) || stops.includes(String.fromCharCode(c))) return;
    throw this.err('TT102', tokStart, this.tokenEnd(tokStart), `Malformed ${what}: '${this.text.slice(tokStart, this.tokenEnd(tokStart))}'.`);
  }

  private readString(): TextTok {
    const text = this.text;
    const s = this.pos;
    this.pos++; // opening quote
    let out = '';
    let chunk = this.pos;
    while (true) {
      if (this.pos >= this.le) {
        throw this.err('TT100', s, this.le, 'Unterminated string: add the closing ".');
      }
      const c = text.charCodeAt(this.pos);
      if (c === CH_QUOTE) {
        out += text.slice(chunk, this.pos);
        this.pos++;
        break;
      }
      if (c === CH_BACKSLASH) {
        out += text.slice(chunk, this.pos);
        const e = text.charCodeAt(this.pos + 1);
        if (e === CH_QUOTE) out += '"';
        else if (e === CH_BACKSLASH) out += '\\';
        else if (e === 110) out += '\n';
        else if (e === 116) out += '\t';
        else if (e === 114) out += '\r'; // an extension: payloads such as "GET / HTTP/1.1\r\n"
        else if (e === 120) {
          const hex = text.slice(this.pos + 2, this.pos + 4);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
            throw this.err('TT100', this.pos, this.pos + 4, 'Bad escape: \\x must be followed by two hex digits.');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 2;
        } else {
          throw this.err('TT100', this.pos, this.pos + 2, 'Unknown escape: strings accept \\" \\\\ \\n \\r \\t and \\xHH.');
        }
        this.pos += 2;
        chunk = this.pos;
        continue;
      }
      this.pos++;
    }
    return { text: out, start: this.col(s), end: this.col(this.pos) };
  }

  /** Free text to the end of the line, or a string. */
  private readText(): TextTok {
    this.skipWs();
    if (this.peek() === CH_QUOTE) {
      const t = this.readString();
      this.skipWs();
      if (!this.atEnd()) throw this.err('TT100', this.pos, this.le, 'Unexpected text after the closing quote.');
      return t;
    }
    let e = this.le;
    while (e > this.pos && isSpace(this.text.charCodeAt(e - 1))) e--;
    const t = { text: this.text.slice(this.pos, e), start: this.col(this.pos), end: this.col(e) };
    this.pos = this.le;
    return t;
  }

  // ---- statements ----

  private parseLine(line: number, start: number, end: number): void {
    const text = this.text;
    if (end > start && text.charCodeAt(end - 1) === CH_CR) end--;
    // Cut the comment: `#` outside a string. Native indexOf first; scan by hand only when a
    // quote comes before the `#` (this runs on every line).
    // The next `#` and `"` are remembered across lines, so the whole document is searched once.
    if (this.nextHash < start) this.nextHash = indexOrEnd(text, '#', start);
    const hash = this.nextHash;
    if (hash < end) {
      if (this.nextQuote < start) this.nextQuote = indexOrEnd(text, '"', start);
      const quote = this.nextQuote;
      if (quote > hash) end = hash;
      else {
        let inStr = false;
        for (let i = start; i < end; i++) {
          const c = text.charCodeAt(i);
          if (inStr) {
            if (c === CH_BACKSLASH) i++;
            else if (c === CH_QUOTE) inStr = false;
          } else if (c === CH_QUOTE) inStr = true;
          else if (c === CH_HASH) {
            end = i;
            break;
          }
        }
      }
    }
    if (start < this.codesBase || end > this.codesLimit) this.cover(start, end);
    this.ls = start;
    this.le = end;
    this.pos = start;
    this.line = line;
    this.skipWs();
    if (this.atEnd()) return;
    try {
      const st = (this.fast ? this.fastEvent() : undefined) ?? this.statement();
      if (st) {
        if (this.sink) this.sink(st, this.index++);
        else this.statements.push(st);
      }
    } catch (e) {
      if (e instanceof LineError) this.report(e);
      else throw e;
    }
  }

  /**
   * The common event lines (`[TIME] A -> B: FLAGS seq=N ack=N len=N win=N ...`, `[TIME] deliver L`)
   * read in one pass over local variables: a million-event trace is mostly such lines. Anything
   * else, or anything wrong, returns undefined before any effect (no diagnostic, no symbol), and
   * `statement()` reads the line again; so for the lines it accepts this gives exactly the
   * statement `statement()` gives (test/unit/parser-fast.test.ts holds the two equal).
   */
  private fastEvent(): EventStmt | undefined {
    // Positions in `codes` (see cover()): `base` less than in the text. Columns are differences, the same in both.
    const codes = this.codes;
    const base = this.codesBase;
    const le = this.le - base;
    const ls = this.ls - base;
    let p = this.pos - base;
    let c = codes[p];
    // The time, if any: kept in locals until the line is accepted.
    let timeStart = -1;
    let timeEnd = 0;
    let timeRelative = false;
    let timeSeconds = 0;
    if (isDigit(c) || c === 43 || c === 46) {
      const ts = p;
      let relative = false;
      if (c === 43) {
        relative = true;
        p++;
      }
      // As in time(): the same arithmetic, so the same seconds.
      let v = 0;
      let digits = 0;
      while (p < le && isDigit((c = codes[p]))) {
        v = v * 10 + (c - 48);
        p++;
        digits++;
      }
      if (p < le && codes[p] === 46) {
        p++;
        let k = 0;
        let frac = 0;
        while (p < le && isDigit((c = codes[p]))) {
          // time()'s scale after k divisions by 10, from a table (the same doubles, without a division per digit).
          frac += (c - 48) * (k < FRACTION_SCALES.length ? FRACTION_SCALES[k] : fractionScale(k));
          p++;
          k++;
          digits++;
        }
        v += frac;
      }
      if (digits === 0) return undefined;
      let seconds = v;
      c = codes[p];
      if (c === 115 /* s */) p++;
      else if ((c === 109 /* m */ || c === 117) /* u */ && codes[p + 1] === 115) {
        seconds = c === 109 ? v / 1e3 : v / 1e6;
        p += 2;
      }
      if (p >= le || !isSpace(codes[p])) return undefined;
      timeStart = ts;
      timeEnd = p;
      timeRelative = relative;
      timeSeconds = seconds;
      while (p < le && isSpace(codes[p])) p++;
      if (p >= le) return undefined;
      c = codes[p];
    }
    // The first word: an endpoint (a segment follows) or `deliver`.
    if (!isNameStart(c)) return undefined;
    const ws = p;
    let h = 0;
    while (p < le && isNameChar((c = codes[p]))) {
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    const we = p;
    while (p < le && isSpace(codes[p])) p++;
    c = p < le ? codes[p] : -1;
    if (c !== 45 && c !== 126) {
      if (c === 58 || we - ws !== 7 || this.packed(ws + base, we + base) !== K_DELIVER) return undefined;
      // deliver LABEL
      if (!isNameStart(c)) return undefined;
      const lsStart = p;
      let lh = 0;
      while (p < le && isNameChar((c = codes[p]))) {
        lh = (Math.imul(lh, 31) + c) | 0;
        p++;
      }
      const lEnd = p;
      while (p < le && isSpace(codes[p])) p++;
      if (p < le) return undefined;
      const name = this.intern(lsStart + base, lEnd + base, lh);
      const r = this.reuse ? this.records() : undefined;
      const d: DeliverStmt = r ? r.deliver : { kind: 'deliver', line: 0, time: undefined, keyword: { start: 0, end: 0 }, label: { name, start: 0, end: 0 } };
      d.line = this.line;
      d.time = timeStart < 0 ? undefined : timeSpec(r ? r.time : undefined, timeRelative, timeSeconds, timeStart - ls, timeEnd - ls);
      setTok(d.keyword, ws - ls, we - ls);
      setName(d.label, name, lsStart - ls, lEnd - ls);
      this.pos = p + base;
      return d;
    }
    // The arrow.
    const as = p;
    const c1 = codes[p + 1];
    let arrow: Arrow;
    if (c === 45 && c1 === 62) arrow = '->';
    else if (c === 45 && (c1 === 120 || c1 === 88)) arrow = '-x';
    else if (c === 126 && c1 === 62) arrow = '~>';
    else return undefined;
    p += 2;
    while (p < le && isSpace(codes[p])) p++;
    // The receiver, then ':'.
    if (p >= le || !isNameStart(codes[p])) return undefined;
    const ts = p;
    let th = 0;
    while (p < le && isNameChar((c = codes[p]))) {
      th = (Math.imul(th, 31) + c) | 0;
      p++;
    }
    const te = p;
    while (p < le && isSpace(codes[p])) p++;
    if (p >= le || codes[p] !== 58) return undefined;
    p++;
    while (p < le && isSpace(codes[p])) p++;
    // Flags, as words (`SYN,ACK`, `SYN, ACK`, `SYN+ACK`); tcpdump letters are left to flags().
    const fs = p;
    let flags = 0;
    while (true) {
      const fw = p;
      let k = 0;
      while (p < le && isNameChar((c = codes[p]))) {
        k = (k << 7) | (c | 0x20);
        p++;
      }
      if (p - fw !== 3) return undefined;
      const f = k === K_ACK ? ACK : k === K_SYN ? SYN : k === K_FIN ? FIN : k === K_PSH ? PSH : k === K_RST ? RST : this.flagWord(fw + base, p + base);
      if (f === undefined || flags & f) return undefined;
      flags |= f;
      let q = p;
      while (q < le && isSpace(codes[q])) q++;
      c = codes[q];
      if (q < le && (c === 44 || c === 43)) {
        p = q + 1;
        while (p < le && isSpace(codes[p])) p++;
        continue;
      }
      break;
    }
    const fe = p;
    // Fields: decimal numbers only (no symbol, hex or string), each once, each in range; timestamps and
    // SACK blocks too, which a capture of Linux has on every segment and after every loss.
    // Read into locals first: the records are made (or refilled) only for a line that is accepted.
    let seqK = -1, seqV = 0, seqE = 0; // prettier-ignore
    let ackK = -1, ackV = 0, ackE = 0; // prettier-ignore
    let lenK = -1, lenV = 0, lenE = 0; // prettier-ignore
    let winK = -1, winV = 0, winE = 0; // prettier-ignore
    let urgK = -1, urgV = 0, urgE = 0; // prettier-ignore
    let options: SegmentOptions | undefined;
    let labelS = -1;
    let labelE = 0;
    let labelH = 0;
    while (true) {
      while (p < le && isSpace(codes[p])) p++;
      if (p >= le) break;
      const ks = p;
      // The key packed as packed() packs it; up to four characters it is a small integer.
      let k = 0;
      while (p < le && isNameChar((c = codes[p]))) {
        k = ((k << 7) | (c | 0x20)) & 0x7fffffff;
        p++;
      }
      const klen = p - ks;
      if (klen < 2 || klen > 6) return undefined;
      const key = klen <= 4 ? k : this.packed(ks + base, p + base);
      if (key === K_AS) {
        // `as LABEL`, the end of the line.
        if (arrow !== '~>' || p >= le || !isSpace(codes[p])) return undefined;
        while (p < le && isSpace(codes[p])) p++;
        if (p >= le || !isNameStart(codes[p])) return undefined;
        labelS = p;
        while (p < le && isNameChar((c = codes[p]))) {
          labelH = (Math.imul(labelH, 31) + c) | 0;
          p++;
        }
        labelE = p;
        while (p < le && isSpace(codes[p])) p++;
        if (p < le) return undefined;
        break;
      }
      if (key === K_SACKOK) {
        if (p < le && !isSpace(codes[p])) return undefined;
        options ??= {};
        if (options.sackok) return undefined;
        options.sackok = { start: ks - ls, end: p - ls };
        continue;
      }
      if (p >= le || codes[p] !== 61) return undefined;
      p++;
      const vs = p;
      // An unsigned decimal number.
      let v = 0;
      while (p < le && isDigit((c = codes[p]))) {
        v = v * 10 + (c - 48);
        p++;
      }
      if (p === vs) return undefined;
      if (key === K_TS) {
        // ts=VAL or ts=VAL:ECR
        let ecr: number | undefined;
        if (p < le && codes[p] === 58) {
          const es = ++p;
          let e = 0;
          while (p < le && isDigit((c = codes[p]))) {
            e = e * 10 + (c - 48);
            p++;
          }
          if (p === es) return undefined;
          ecr = e;
        }
        if ((p < le && !isSpace(codes[p])) || v > MAX_U32 || (ecr ?? 0) > MAX_U32) return undefined;
        options ??= {};
        if (options.ts) return undefined;
        options.ts = { val: v, ecr, start: ks - ls, end: p - ls };
        continue;
      }
      if (key === K_SACK) {
        // sack=LEFT-RIGHT[,LEFT-RIGHT...]; `v` is the first LEFT.
        const blocks: SackBlock[] = [];
        let left = v;
        while (true) {
          if (p >= le || codes[p] !== 45) return undefined;
          const rs = ++p;
          let right = 0;
          while (p < le && isDigit((c = codes[p]))) {
            right = right * 10 + (c - 48);
            p++;
          }
          if (p === rs || left > MAX_U32 || right > MAX_U32) return undefined;
          blocks.push({ left, right });
          if (p >= le || codes[p] !== 44) break;
          const ls2 = ++p;
          left = 0;
          while (p < le && isDigit((c = codes[p]))) {
            left = left * 10 + (c - 48);
            p++;
          }
          if (p === ls2) return undefined;
        }
        if (p < le && !isSpace(codes[p])) return undefined;
        options ??= {};
        if (options.sack) return undefined;
        options.sack = { blocks, start: ks - ls, end: p - ls };
        continue;
      }
      if (p < le && !isSpace(codes[p])) return undefined;
      switch (key) {
        case K_SEQ:
          if (seqK >= 0 || v > MAX_U32) return undefined;
          seqK = ks;
          seqV = v;
          seqE = p;
          break;
        case K_ACK:
          if (ackK >= 0 || v > MAX_U32) return undefined;
          ackK = ks;
          ackV = v;
          ackE = p;
          break;
        case K_LEN:
          if (lenK >= 0 || v > 0x7fffffff) return undefined;
          lenK = ks;
          lenV = v;
          lenE = p;
          break;
        case K_WIN:
          if (winK >= 0 || v > 0xffff) return undefined;
          winK = ks;
          winV = v;
          winE = p;
          break;
        case K_URG:
          if (urgK >= 0 || v > 0xffff) return undefined;
          urgK = ks;
          urgV = v;
          urgE = p;
          break;
        case K_MSS:
          options ??= {};
          if (options.mss || v > 0xffff) return undefined;
          options.mss = { value: v, valueStart: vs - ls, start: ks - ls, end: p - ls };
          break;
        case K_WSCALE:
          options ??= {};
          if (options.wscale || v > 14) return undefined;
          options.wscale = { value: v, valueStart: vs - ls, start: ks - ls, end: p - ls };
          break;
        default:
          return undefined;
      }
    }
    if (arrow === '~>' && labelS < 0) return undefined;
    let e = le;
    while (e > ls && isSpace(codes[e - 1])) e--;
    // Accepted. `key=` is 4 characters for these five fields: the value starts there.
    const from = this.intern(ws + base, we + base, h);
    const to = this.intern(ts + base, te + base, th);
    const r = this.reuse ? this.records() : undefined;
    const seg: SegmentStmt = r ? r.seg : blankSegment();
    seg.line = this.line;
    seg.time = timeStart < 0 ? undefined : timeSpec(r ? r.time : undefined, timeRelative, timeSeconds, timeStart - ls, timeEnd - ls);
    setName(seg.from, from, ws - ls, we - ls);
    setName(seg.to, to, ts - ls, te - ls);
    seg.arrow = arrow;
    setTok(seg.arrowTok, as - ls, as + 2 - ls);
    seg.flags = flags;
    setTok(seg.flagsTok, fs - ls, fe - ls);
    seg.seq = seqK < 0 ? undefined : numField(r ? r.seq : undefined, seqV, seqK + 4 - ls, seqK - ls, seqE - ls);
    seg.ack = ackK < 0 ? undefined : numField(r ? r.ack : undefined, ackV, ackK + 4 - ls, ackK - ls, ackE - ls);
    seg.len = lenK < 0 ? undefined : intField(r ? r.len : undefined, lenV, lenK + 4 - ls, lenK - ls, lenE - ls);
    seg.win = winK < 0 ? undefined : intField(r ? r.win : undefined, winV, winK + 4 - ls, winK - ls, winE - ls);
    seg.urg = urgK < 0 ? undefined : intField(r ? r.urg : undefined, urgV, urgK + 4 - ls, urgK - ls, urgE - ls);
    seg.options = options;
    if (labelS < 0) seg.label = undefined;
    else {
      const name = this.intern(labelS + base, labelE + base, labelH);
      if (r) setName((seg.label = r.label), name, labelS - ls, labelE - ls);
      else seg.label = { name, start: labelS - ls, end: labelE - ls };
    }
    seg.end = e - ls;
    this.pos = p + base;
    return seg;
  }

  /** The records a streaming check's segments are read into, one set for the whole document. */
  private recs: SegRecords | undefined;

  /** Makes `codes` cover text[start, end] (see its comment). */
  private cover(start: number, end: number): void {
    const given = this.latin1;
    if (given !== undefined && end < given.length) {
      this.codes = given;
      this.codesBase = 0;
      this.codesLimit = given.length - 1;
      return;
    }
    // A window from `start` to at least the character after `end`: of the text, and a 0 past its end.
    const n = this.text.length;
    const hi = Math.min(n, Math.max(end + 1, start + CODES_WINDOW));
    if (this.window === undefined || this.window.length < hi - start + 1) this.window = new Uint8Array(hi - start + 1);
    asciiCodes(this.text, start, hi, this.window);
    this.window[hi - start] = 0;
    this.codes = this.window;
    this.codesBase = start;
    this.codesLimit = hi === n ? n : hi - 1;
  }

  private records(): SegRecords {
    return (this.recs ??= newSegRecords());
  }

  private statement(): Statement | undefined {
    const c = this.peek();
    if (c === 61 /* = */ && this.text.charCodeAt(this.pos + 1) === 61) return this.section();
    let time: TimeSpec | undefined;
    if (isDigit(c) || c === 43 /* + */ || c === 46 /* . */) {
      time = this.time();
      this.skipWs();
      if (this.atEnd()) throw this.err('TT100', time.start + this.ls, time.end + this.ls, 'A time must be followed by an event on the same line.');
    }
    const wordStart = this.pos;
    const first = this.readName('an endpoint name or a keyword');
    const afterWord = this.pos;
    this.skipWs();
    const next = this.peek();
    const isEventHead = next === 58 /* : */ || next === 45 /* - */ || next === 126; /* ~ */
    if (!isEventHead) {
      const kw = first.name.toLowerCase();
      const keyword: Tok = { start: first.start, end: first.end };
      switch (kw) {
        case 'title':
        case 'endpoint':
        case 'option':
          if (time) throw this.err('TT100', time.start + this.ls, time.end + this.ls, `A header statement (${kw}) cannot have a time.`);
          return kw === 'title' ? this.title(keyword) : kw === 'endpoint' ? this.endpoint(keyword) : this.option(keyword);
        case 'expect':
          return this.expect(keyword);
        case 'note':
          return this.note(keyword);
        case 'deliver':
          return this.deliver(keyword, time);
        default:
          this.pos = afterWord;
          throw this.err(
            'TT100',
            wordStart,
            this.tokenEnd(afterWord),
            `'${first.name}' is not a statement: write 'NAME: CALL', 'A -> B: FLAGS ...', or one of title, endpoint, option, expect, note, deliver.`,
          );
      }
    }
    if (next === 58) {
      this.pos++;
      return this.call(first, time);
    }
    return this.segment(first, time);
  }

  private time(): TimeSpec {
    const s = this.pos;
    let relative = false;
    if (this.peek() === 43) {
      relative = true;
      this.pos++;
    }
    const text = this.text;
    // Digits, an optional fraction: parsed by hand (this runs on every line of a timed trace).
    let v = 0;
    let digits = 0;
    while (this.pos < this.le && isDigit(text.charCodeAt(this.pos))) {
      v = v * 10 + (text.charCodeAt(this.pos++) - 48);
      digits++;
    }
    if (this.peek() === 46) {
      this.pos++;
      let scale = 0.1;
      let frac = 0;
      while (this.pos < this.le && isDigit(text.charCodeAt(this.pos))) {
        frac += (text.charCodeAt(this.pos++) - 48) * scale;
        scale /= 10;
        digits++;
      }
      v += frac;
    }
    if (digits === 0) throw this.badTime(s);
    // Unit: s, ms, us, or MSL (for `2MSL`).
    const us = this.pos;
    while (this.pos < this.le && isNameChar(text.charCodeAt(this.pos))) this.pos++;
    const ue = this.pos;
    if (!isSpace(this.peek()) && !this.atEnd()) throw this.badTime(s);
    let seconds = v;
    let msl = 0;
    if (ue === us || this.is(us, ue, 's')) {
      // seconds
    } else if (this.is(us, ue, 'ms')) seconds = v / 1e3;
    else if (this.is(us, ue, 'us')) seconds = v / 1e6;
    else if (text.startsWith('MSL', us) && ue - us === 3) {
      seconds = 0;
      msl = v;
    } else throw this.badTime(s);
    return { relative, seconds, msl, start: this.col(s), end: this.col(this.pos) };
  }

  private badTime(s: number): LineError {
    const e = this.tokenEnd(s);
    return this.err('TT102', s, e, `Malformed time '${this.text.slice(s, e)}': write seconds (0.250), a relative time (+10ms), or +2MSL.`);
  }

  private section(): Statement {
    const s = this.pos;
    this.pos += 2;
    let e = this.le;
    while (e > this.pos && isSpace(this.text.charCodeAt(e - 1))) e--;
    if (e - 2 >= this.pos && this.text.charCodeAt(e - 1) === 61 && this.text.charCodeAt(e - 2) === 61) e -= 2;
    while (e > this.pos && isSpace(this.text.charCodeAt(e - 1))) e--;
    this.skipWs();
    const ts = Math.min(this.pos, e);
    const text = this.text.slice(ts, e);
    if (text.length === 0) throw this.err('TT100', s, this.le, 'A section needs a title: == TEXT ==');
    return { kind: 'section', line: this.line, text: { text, start: this.col(ts), end: this.col(e) } };
  }

  private endOfLine(what: string): void {
    this.skipWs();
    if (!this.atEnd()) {
      throw this.err('TT100', this.pos, this.le, `Unexpected '${this.text.slice(this.pos, this.le).slice(0, 30)}' after ${what}.`);
    }
  }

  private title(keyword: Tok): Statement {
    const text = this.readText();
    if (text.text.length === 0) throw this.err('TT100', this.ls + keyword.start, this.ls + keyword.end, 'title needs a text: title "..."');
    return { kind: 'title', line: this.line, keyword, text };
  }

  private endpoint(keyword: Tok): Statement {
    this.skipWs();
    const name = this.readName('the endpoint name');
    this.skipWs();
    let address: (Tok & { host: string; port: number; text: string }) | undefined;
    let label: TextTok | undefined;
    if (!this.atEnd() && !this.atWord('as')) {
      address = this.address();
      this.skipWs();
    }
    if (this.atWord('as')) {
      this.pos += 2;
      this.skipWs();
      if (this.peek() !== CH_QUOTE) throw this.err('TT100', this.pos, this.tokenEnd(this.pos), 'Expected a quoted label after as: as "Web server".');
      label = this.readString();
    }
    this.endOfLine('the endpoint declaration');
    return { kind: 'endpoint', line: this.line, keyword, name, address, label };
  }

  private atWord(w: string): boolean {
    const e = this.pos + w.length;
    if (e > this.le || !this.is(this.pos, e, w)) return false;
    return e === this.le || !isNameChar(this.text.charCodeAt(e));
  }

  private address(): Tok & { host: string; port: number; text: string } {
    const s = this.pos;
    const e = this.tokenEnd(s);
    const raw = this.text.slice(s, e);
    this.pos = e;
    const bad = (why: string): LineError => this.err('TT102', s, e, `Malformed address '${raw}': ${why}`);
    let host: string;
    let portText: string;
    if (raw.startsWith('[')) {
      const close = raw.indexOf(']');
      if (close < 0 || raw[close + 1] !== ':') throw bad('write IPv6 addresses in brackets with a port: [2001:db8::1]:443.');
      host = raw.slice(1, close);
      portText = raw.slice(close + 2);
      if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) throw bad('not an IPv6 address.');
    } else {
      const colon = raw.lastIndexOf(':');
      if (colon <= 0) throw bad('write ADDRESS:PORT, e.g. 10.0.0.1:40000.');
      host = raw.slice(0, colon);
      portText = raw.slice(colon + 1);
      if (host.includes(':')) throw bad('write IPv6 addresses in brackets: [2001:db8::1]:443.');
      if (/^[0-9.]+$/.test(host)) {
        const parts = host.split('.');
        if (parts.length !== 4 || parts.some((q) => q === '' || Number(q) > 255)) throw bad('an IPv4 address has four numbers from 0 to 255.');
      } else if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
        throw bad('not an IP address or host name.');
      }
    }
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad('the port is a number from 0 to 65535.');
    return { host, port: Number(portText), text: raw, start: this.col(s), end: this.col(e) };
  }

  private option(keyword: Tok): Statement {
    this.skipWs();
    const key = this.readName('an option name (msl, origin or states)');
    this.expectChar(61, `'=' after ${key.name}`);
    const vs = this.pos;
    const ve = this.tokenEnd(vs);
    const value: TextTok = { text: this.text.slice(vs, ve), start: this.col(vs), end: this.col(ve) };
    this.pos = ve;
    this.endOfLine('the option');
    const k = key.name.toLowerCase();
    if (!(OPTION_KEYS as readonly string[]).includes(k)) {
      throw this.err('TT101', this.ls + key.start, this.ls + key.end, `Unknown option '${key.name}': the options are msl, origin and states.`);
    }
    const v = value.text;
    if (k === 'msl' && parseDuration(v) === undefined) {
      throw this.err('TT102', vs, ve, `Malformed duration '${v}': write e.g. msl=30s, msl=500ms or msl=2m (a number with s, ms, us or m; seconds by default).`);
    }
    if (k === 'origin' && v !== 'model' && v !== 'capture') {
      throw this.err('TT101', vs, ve, `Unknown origin '${v}': origin=model (hand-written) or origin=capture (an observation).`);
    }
    if (k === 'states' && v !== 'socket' && v !== 'rfc') {
      throw this.err('TT101', vs, ve, `Unknown state spelling '${v}': states=socket (SYN_RCVD) or states=rfc (SYN-RECEIVED).`);
    }
    return { kind: 'option', line: this.line, keyword, key, value };
  }

  private expect(keyword: Tok): Statement {
    const items: ExpectItem[] = [];
    while (true) {
      this.skipWs();
      const endpoint = this.readName('an endpoint name');
      this.skipWs();
      const ss = this.pos;
      while (this.pos < this.le) {
        const c = this.text.charCodeAt(this.pos);
        if (!(isNameChar(c) || c === 45)) break;
        this.pos++;
      }
      if (this.pos === ss) throw this.err('TT100', ss, this.tokenEnd(ss), `Expected a state after ${endpoint.name}, e.g. expect ${endpoint.name} ESTABLISHED.`);
      const stateText = this.text.slice(ss, this.pos);
      const state = parseState(stateText);
      const stateTok = { text: stateText, start: this.col(ss), end: this.col(this.pos) };
      if (state < 0) {
        this.report(this.err('TT106', ss, this.pos, `Unknown state '${stateText}': the states are CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT.`));
      }
      items.push({ endpoint, state, stateTok });
      this.skipWs();
      if (this.peek() === 44 /* , */) {
        this.pos++;
        continue;
      }
      break;
    }
    this.endOfLine('the expected states');
    return { kind: 'expect', line: this.line, keyword, items };
  }

  private note(keyword: Tok): Statement {
    this.skipWs();
    const over: NameTok[] = [];
    if (this.atWord('over')) {
      this.pos += 4;
      this.skipWs();
    }
    while (true) {
      over.push(this.readName('the endpoint the note is over'));
      this.skipWs();
      if (this.peek() === 44) {
        this.pos++;
        this.skipWs();
        continue;
      }
      break;
    }
    this.expectChar(58, "':' before the note text");
    const text = this.readText();
    return { kind: 'note', line: this.line, keyword, over, text };
  }

  private deliver(keyword: Tok, time: TimeSpec | undefined): EventStmt {
    this.skipWs();
    const label = this.readName('the label of the in-flight segment');
    this.endOfLine('the label');
    return { kind: 'deliver', line: this.line, time, keyword, label };
  }

  private call(endpoint: NameTok, time: TimeSpec | undefined): EventStmt {
    this.skipWs();
    const cs = this.pos;
    const word = this.readName('a call (listen, connect, close, ...)');
    const call = word.name.toLowerCase() as CallName;
    if (!CALLS.includes(call)) {
      throw this.err('TT108', cs, this.pos, `Unknown call '${word.name}': the calls are ${CALLS.join(', ')}.`);
    }
    const args: CallArg[] = [];
    while (true) {
      this.skipWs();
      if (this.atEnd()) break;
      const as = this.pos;
      if (this.peek() === CH_QUOTE) {
        const s = this.readString();
        args.push({ text: this.text.slice(as, this.pos), key: undefined, num: undefined, str: s.text, start: s.start, end: s.end });
        continue;
      }
      const ae = this.tokenEnd(as);
      const raw = this.text.slice(as, ae);
      this.pos = ae;
      const eq = raw.indexOf('=');
      const key = eq > 0 ? raw.slice(0, eq).toLowerCase() : undefined;
      const valText = eq > 0 ? raw.slice(eq + 1) : raw;
      const num = /^(\d+|0x[0-9a-fA-F]+)$/.test(valText) ? Number(valText) : undefined;
      args.push({ text: raw, key, num, str: undefined, start: this.col(as), end: this.col(ae) });
    }
    this.checkCallArgs(call, args, cs);
    return { kind: 'call', line: this.line, time, endpoint, call, callTok: word, args };
  }

  private checkCallArgs(call: CallName, args: CallArg[], callStart: number): void {
    const at = (a: CallArg, msg: string): LineError => new LineError('TT108', a.start, a.end, msg);
    const none = (): void => {
      if (args.length > 0) throw at(args[0], `${call} takes no arguments.`);
    };
    switch (call) {
      case 'listen':
        if (args.length > 1) throw at(args[1], 'listen takes at most one argument: listen backlog=N.');
        if (args.length === 1 && (args[0].key !== 'backlog' || args[0].num === undefined)) throw at(args[0], 'listen accepts only backlog=N.');
        return;
      case 'send':
        if (args.length !== 1) {
          throw args.length === 0
            ? this.err('TT108', callStart, this.pos, 'send needs what is sent: send N (bytes) or send "TEXT".')
            : at(args[1], 'send takes one argument: send N or send "TEXT".');
        }
        if (args[0].key !== undefined || (args[0].num === undefined && args[0].str === undefined)) throw at(args[0], 'send takes a byte count or a string: send 100, send "GET /".');
        return;
      case 'recv':
        if (args.length > 1) throw at(args[1], 'recv takes at most one argument: recv [N].');
        if (args.length === 1 && (args[0].key !== undefined || args[0].num === undefined)) throw at(args[0], 'recv takes an optional byte count: recv 100.');
        return;
      case 'bind':
        if (args.length > 1) throw at(args[1], 'bind takes at most one argument: bind ADDRESS:PORT.');
        if (args.length === 1 && !/:\d+$/.test(args[0].text)) throw at(args[0], 'bind takes ADDRESS:PORT, e.g. bind 0.0.0.0:80.');
        return;
      default:
        none();
    }
  }

  private segment(from: NameTok, time: TimeSpec | undefined): EventStmt {
    const as = this.pos;
    const c0 = this.peek();
    const c1 = this.text.charCodeAt(this.pos + 1);
    let arrow: Arrow;
    if (c0 === 45 && c1 === 62) arrow = '->';
    else if (c0 === 45 && (c1 === 120 || c1 === 88)) arrow = '-x';
    else if (c0 === 126 && c1 === 62) arrow = '~>';
    else throw this.err('TT100', as, this.tokenEnd(as), `Expected an arrow (->, -x or ~>) or ':' after ${from.name}, found ${this.describeHere()}.`);
    this.pos += 2;
    const arrowTok = { start: this.col(as), end: this.col(this.pos) };
    this.skipWs();
    const to = this.readName('the receiving endpoint');
    this.skipWs();
    this.expectChar(58, `':' after ${to.name}`);
    this.skipWs();
    const seg: SegmentStmt = {
      kind: 'segment',
      line: this.line,
      time,
      from,
      to,
      arrow,
      arrowTok,
      flags: 0,
      flagsTok: { start: 0, end: 0 },
      tcpdumpFlags: false,
      seq: undefined,
      ack: undefined,
      len: undefined,
      data: undefined,
      win: undefined,
      urg: undefined,
      options: undefined,
      label: undefined,
      end: 0,
    };
    this.flags(seg);
    // Fields and options, each a whitespace-separated token.
    while (true) {
      this.skipWs();
      if (this.atEnd()) break;
      const ts = this.pos;
      if (this.atWord('as')) {
        this.pos += 2;
        this.skipWs();
        const label = this.readName('a label after as');
        if (arrow !== '~>') {
          this.report(this.err('TT100', ts, this.pos, `Only an in-flight segment (~>) takes a label; this one is ${arrow === '->' ? 'delivered at once' : 'lost'}.`));
        } else seg.label = label;
        this.endOfLine('the label');
        break;
      }
      try {
        this.field(seg);
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        // A bad field is reported and left out; the rest of the segment still counts. A bad string is
        // skipped whole, so its words are not read as fields.
        this.report(e);
        this.pos = this.skipToken(ts);
      }
    }
    if (arrow === '~>' && !seg.label) {
      throw this.err('TT100', as, this.pos, 'An in-flight segment needs a label so that it can be delivered later: A ~> B: ... as f1, then deliver f1.');
    }
    let e = this.le;
    while (e > this.ls && isSpace(this.text.charCodeAt(e - 1))) e--;
    seg.end = this.col(e);
    return seg;
  }

  private flags(seg: SegmentStmt): void {
    const text = this.text;
    const s = this.pos;
    let flags = 0;
    if (this.peek() === 91 /* [ */) {
      this.pos++;
      while (this.pos < this.le && text.charCodeAt(this.pos) !== 93) {
        const ch = text[this.pos];
        const f = TCPDUMP_LETTERS[ch];
        if (f === undefined) {
          throw this.err('TT101', this.pos, this.pos + 1, `Unknown tcpdump flag letter '${ch}': the letters are S F R P U E W and '.' for ACK.`);
        }
        flags |= f;
        this.pos++;
      }
      if (this.atEnd()) throw this.err('TT100', s, this.le, "Unclosed tcpdump flags: add ']'.");
      this.pos++;
      if (flags === 0) throw this.err('TT100', s, this.pos, 'Empty flags []: write at least one letter, e.g. [.] for a pure ACK.');
      seg.tcpdumpFlags = true;
    } else {
      while (true) {
        const ws = this.pos;
        while (this.pos < this.le && isNameChar(text.charCodeAt(this.pos))) this.pos++;
        if (this.pos === ws) {
          throw this.err('TT100', ws, this.tokenEnd(ws), `Expected segment flags (SYN, ACK, FIN, RST, PSH, URG, ECE, CWR) or tcpdump letters like [S.], found ${this.describeHere()}.`);
        }
        const f = this.flagWord(ws, this.pos);
        if (f === undefined) {
          const word = text.slice(ws, this.pos);
          const hint = /^(SYN|FIN|RST|PSH)ACK$/i.test(word) ? ` (write ${word.slice(0, 3).toUpperCase()},ACK)` : '';
          const isField = text.charCodeAt(this.pos) === 61;
          throw this.err(
            isField ? 'TT100' : 'TT101',
            ws,
            this.pos,
            isField ? `A segment starts with its flags: write e.g. 'ACK ${word}=...'.` : `Unknown flag '${word}'${hint}: the flags are SYN, ACK, FIN, RST, PSH, URG, ECE, CWR.`,
          );
        }
        if (flags & f) throw this.err('TT103', ws, this.pos, `Flag ${text.slice(ws, this.pos).toUpperCase()} is given twice.`);
        flags |= f;
        // A separator may have spaces around it: `SYN, ACK`.
        let q = this.pos;
        while (q < this.le && isSpace(text.charCodeAt(q))) q++;
        const c = text.charCodeAt(q);
        if (q < this.le && (c === 44 || c === 43)) {
          this.pos = q + 1;
          this.skipWs();
          continue;
        }
        break;
      }
    }
    seg.flags = flags;
    seg.flagsTok = { start: this.col(s), end: this.col(this.pos) };
  }

  /** A flag word (any case) to its bit, without allocating. */
  private flagWord(s: number, e: number): number | undefined {
    if (e - s !== 3) return undefined;
    // Name characters are ASCII: three of them, lowercased, packed into one number.
    switch (this.packed(s, e)) {
      case K_ACK:
        return ACK;
      case K_SYN:
        return SYN;
      case K_FIN:
        return FIN;
      case K_PSH:
        return PSH;
      case K_RST:
        return RST;
      case K_URG:
        return URG;
      case K_ECE:
        return ECE;
      case K_CWR:
        return CWR;
    }
    return undefined;
  }

  /** The name characters text[s, e) lowercased (| 0x20) and packed 7 bits each: a word compares as one number. */
  private packed(s: number, e: number): number {
    const codes = this.codes;
    const base = this.codesBase;
    let k = 0;
    for (let i = s; i < e; i++) k = k * 128 + (codes[i - base] | 0x20);
    return k;
  }

  /** The field or option name at text[s, e), lowercased; only known keys are returned as constants. */
  private fieldKey(s: number, e: number): string {
    if (e - s >= 2 && e - s <= 6) {
      switch (this.packed(s, e)) {
        case K_SEQ:
          return 'seq';
        case K_ACK:
          return 'ack';
        case K_LEN:
          return 'len';
        case K_WIN:
          return 'win';
        case K_TS:
          return 'ts';
        case K_URG:
          return 'urg';
        case K_MSS:
          return 'mss';
        case K_DATA:
          return 'data';
        case K_SACK:
          return 'sack';
        case K_SACKOK:
          return 'sackok';
        case K_WSCALE:
          return 'wscale';
      }
    }
    return this.text.slice(s, e).toLowerCase();
  }

  private field(seg: SegmentStmt): void {
    const text = this.text;
    const ks = this.pos;
    while (this.pos < this.le && isNameChar(text.charCodeAt(this.pos))) this.pos++;
    const key = this.pos === ks ? '' : this.fieldKey(ks, this.pos);
    if (key === '') {
      throw this.err('TT100', ks, this.tokenEnd(ks), `Expected a field (seq=, ack=, len=, data=, win=, urg=) or an option (mss=, wscale=, sackok, sack=, ts=), found ${this.describeHere()}.`);
    }
    if (key === 'sackok') {
      if (this.peek() === 61) throw this.err('TT100', ks, this.tokenEnd(ks), 'sackok takes no value.');
      this.requireBoundary(ks, 'option');
      if (optionsOf(seg).sackok) throw this.dup(ks, 'sackok');
      optionsOf(seg).sackok = { start: this.col(ks), end: this.col(this.pos) };
      return;
    }
    if (this.peek() !== 61) {
      const known = (SEGMENT_FIELDS as readonly string[]).includes(key) || (SEGMENT_OPTIONS as readonly string[]).includes(key);
      if (known) throw this.err('TT100', ks, this.tokenEnd(ks), `Expected '=' and a value after ${key}.`);
      throw this.unknownField(ks);
    }
    this.pos++;
    const vs = this.pos;
    switch (key) {
      // One branch per field: a store through a computed key (seg[key]) takes V8's slow path, on every line.
      case 'seq':
        if (seg.seq) throw this.dup(ks, key);
        seg.seq = this.numExpr(ks, vs, key);
        return;
      case 'ack':
        if (seg.ack) throw this.dup(ks, key);
        seg.ack = this.numExpr(ks, vs, key);
        return;
      case 'len':
        if (seg.len) throw this.dup(ks, key);
        seg.len = this.intField(ks, vs, key, 0x7fffffff, '');
        return;
      case 'win':
        if (seg.win) throw this.dup(ks, key);
        seg.win = this.intField(ks, vs, key, 0xffff, ' (the 16-bit field as sent; the scale comes from wscale)');
        return;
      case 'urg':
        if (seg.urg) throw this.dup(ks, key);
        seg.urg = this.intField(ks, vs, key, 0xffff, '');
        return;
      case 'data': {
        if (seg.data) throw this.dup(ks, key);
        if (this.peek() !== CH_QUOTE) throw this.err('TT100', vs, this.tokenEnd(vs), 'data takes a quoted string: data="GET /".');
        const str = this.readString();
        this.requireBoundary(ks, 'data field');
        seg.data = { text: str.text, start: this.col(ks), end: str.end };
        return;
      }
      case 'mss':
      case 'wscale': {
        if (optionsOf(seg)[key]) throw this.dup(ks, key);
        optionsOf(seg)[key] = this.intField(ks, vs, key, key === 'mss' ? 0xffff : 14, key === 'wscale' ? ' (RFC 7323 caps the shift at 14)' : '');
        return;
      }
      case 'sack': {
        if (optionsOf(seg).sack) throw this.dup(ks, key);
        const blocks: { left: number; right: number }[] = [];
        while (true) {
          const l = this.readUint();
          if (l < 0 || this.peek() !== 45) throw this.err('TT102', ks, this.tokenEnd(ks), 'Malformed SACK blocks: write sack=LEFT-RIGHT[,LEFT-RIGHT...].');
          this.pos++;
          const r = this.readUint();
          if (r < 0 || l > MAX_U32 || r > MAX_U32) throw this.err('TT102', ks, this.tokenEnd(ks), 'Malformed SACK blocks: write sack=LEFT-RIGHT[,LEFT-RIGHT...] with 32-bit numbers.');
          blocks.push({ left: l, right: r });
          if (this.peek() === 44) {
            this.pos++;
            continue;
          }
          break;
        }
        this.requireBoundary(ks, 'SACK blocks');
        optionsOf(seg).sack = { blocks, start: this.col(ks), end: this.col(this.pos) };
        return;
      }
      case 'ts': {
        if (optionsOf(seg).ts) throw this.dup(ks, key);
        const v = this.readUint();
        let ecr: number | undefined;
        if (v >= 0 && this.peek() === 58) {
          this.pos++;
          const e = this.readUint();
          if (e < 0) throw this.err('TT102', ks, this.tokenEnd(ks), 'Malformed timestamps: write ts=VAL or ts=VAL:ECR.');
          ecr = e;
        }
        if (v < 0 || v > MAX_U32 || (ecr ?? 0) > MAX_U32) throw this.err('TT102', ks, this.tokenEnd(ks), 'Malformed timestamps: write ts=VAL or ts=VAL:ECR (32-bit numbers).');
        this.requireBoundary(ks, 'timestamps');
        optionsOf(seg).ts = { val: v, ecr, start: this.col(ks), end: this.col(this.pos) };
        return;
      }
      default:
        throw this.unknownField(ks);
    }
  }

  private dup(ks: number, key: string): LineError {
    return this.err('TT103', ks, this.tokenEnd(ks), `${key} is given twice in this segment.`);
  }

  private unknownField(ks: number): LineError {
    const raw = this.text.slice(ks, this.tokenEnd(ks));
    return this.err(
      'TT101',
      ks,
      this.tokenEnd(ks),
      `Unknown field or option '${raw.split('=')[0]}': fields are seq, ack, len, data, win, urg; options are mss, wscale, sackok, sack, ts.`,
    );
  }

  private intField(ks: number, vs: number, key: string, max: number, why: string): IntField {
    const v = this.readUint();
    if (v < 0) throw this.err('TT102', ks, this.tokenEnd(ks), `Malformed ${key}: expected a number after ${key}=.`);
    this.requireBoundary(ks, key);
    if (v > max) throw this.err('TT102', ks, this.pos, `${key}=${v} is out of range: at most ${max}${why}.`);
    return { value: v, valueStart: this.col(vs), start: this.col(ks), end: this.col(this.pos) };
  }

  private numExpr(ks: number, vs: number, key: string): NumField {
    if (isNameStart(this.peek())) {
      const ss = this.pos;
      const h = this.scanName();
      const sym = this.intern(ss, this.pos, h);
      let value = 0;
      const c = this.peek();
      if (c === 43 || c === 45) {
        this.pos++;
        const n = this.readUint();
        if (n < 0) throw this.err('TT102', ks, this.tokenEnd(ks), `Malformed ${key}: write ${key}=${sym}+1 (a symbol plus or minus a number).`);
        value = c === 43 ? n : -n;
        if (n > MAX_U32) throw this.err('TT102', ks, this.pos, `${key}: the offset ${n} is larger than 2^32-1.`);
      }
      this.requireBoundary(ks, key);
      this.symbols.add(sym);
      return { sym, value, valueStart: this.col(vs), start: this.col(ks), end: this.col(this.pos) };
    }
    const n = this.readUint();
    if (n < 0) throw this.err('TT102', ks, this.tokenEnd(ks), `Malformed ${key}: expected a number (1000, 0x3e8) or a symbol (x, x+1).`);
    this.requireBoundary(ks, key);
    if (n > MAX_U32) throw this.err('TT102', ks, this.pos, `${key}=${n} is out of range: sequence numbers are 32-bit (0 to 4294967295).`);
    return { sym: undefined, value: n, valueStart: this.col(vs), start: this.col(ks), end: this.col(this.pos) };
  }
}

/** Parses a duration (`30s`, `500ms`, `120`, `1m`, `2MSL` is handled by callers) to seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(s|ms|us|m)?$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  switch (m[2]) {
    case 'ms':
      return v / 1e3;
    case 'us':
      return v / 1e6;
    case 'm':
      return v * 60;
    default:
      return v;
  }
}
