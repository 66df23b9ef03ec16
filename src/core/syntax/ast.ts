/**
 * The syntax tree of a `.tcptrace` file (spec sections 2-4).
 *
 * One statement per line, so every position inside a statement is a column on
 * that statement's line: `start`/`end` are 0-based UTF-16 offsets (what LSP
 * uses), `end` exclusive. Nodes are flat objects with numeric fields because a
 * trace can hold a million events and the tree must stay cheap.
 */

/** A token's columns on its statement's line. */
export interface Tok {
  start: number;
  end: number;
}

export interface NameTok extends Tok {
  name: string;
}

export interface TextTok extends Tok {
  /** The text after unescaping (for strings) or trimming (free text). */
  text: string;
}

/** Segment flags as a bit mask in TCP header order (RFC 9293 3.1). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

/** `seq=`/`ack=` value: a number, a symbol, or a symbol plus or minus a number. */
export interface NumField extends Tok {
  /** Start column of the value (after `key=`), for edits that replace it. */
  valueStart: number;
  /** The literal value, or the offset added to `sym`. */
  value: number;
  sym: string | undefined;
}

/** A plain numeric field (`len=`, `win=`, `urg=`, `mss=`, `wscale=`). */
export interface IntField extends Tok {
  valueStart: number;
  value: number;
}

export interface SackBlock {
  left: number;
  right: number;
}

export interface SegmentOptions {
  mss?: IntField;
  wscale?: IntField;
  sackok?: Tok;
  sack?: Tok & { blocks: SackBlock[] };
  ts?: Tok & { val: number; ecr: number | undefined };
}

export type Arrow = '->' | '-x' | '~>';

export interface TimeSpec extends Tok {
  relative: boolean;
  /** Seconds, not counting the MSL multiple. */
  seconds: number;
  /** Multiple of MSL (`2MSL` gives 2); resolved by the checker once `msl` is known. */
  msl: number;
}

interface StatementBase {
  /** 0-based line number. */
  line: number;
}

export interface TitleStmt extends StatementBase {
  kind: 'title';
  keyword: Tok;
  text: TextTok;
}

export interface EndpointStmt extends StatementBase {
  kind: 'endpoint';
  keyword: Tok;
  name: NameTok;
  address: (Tok & { host: string; port: number; text: string }) | undefined;
  label: TextTok | undefined;
}

export interface OptionStmt extends StatementBase {
  kind: 'option';
  keyword: Tok;
  key: NameTok;
  value: TextTok;
}

interface EventBase extends StatementBase {
  time: TimeSpec | undefined;
}

export interface CallArg extends Tok {
  /** Raw text of the argument. */
  text: string;
  /** `key` of a `key=value` argument. */
  key: string | undefined;
  /** Numeric value, when the argument (or its value) is a number. */
  num: number | undefined;
  /** String value, when the argument is a string. */
  str: string | undefined;
}

export type CallName =
  | 'socket'
  | 'bind'
  | 'listen'
  | 'connect'
  | 'accept'
  | 'send'
  | 'recv'
  | 'close'
  | 'shutdown'
  | 'abort'
  | 'timeout'
  | 'rto';

export interface CallStmt extends EventBase {
  kind: 'call';
  endpoint: NameTok;
  call: CallName;
  callTok: Tok;
  args: CallArg[];
}

export interface SegmentStmt extends EventBase {
  kind: 'segment';
  from: NameTok;
  to: NameTok;
  arrow: Arrow;
  arrowTok: Tok;
  flags: number;
  flagsTok: Tok;
  /** True when written in tcpdump letters (`[S.]`). */
  tcpdumpFlags: boolean;
  seq: NumField | undefined;
  ack: NumField | undefined;
  len: IntField | undefined;
  data: TextTok | undefined;
  win: IntField | undefined;
  urg: IntField | undefined;
  options: SegmentOptions | undefined;
  /** `as LABEL` of an in-flight segment. */
  label: NameTok | undefined;
  /** End column of the segment text (before any comment), for edits that append. */
  end: number;
}

export interface DeliverStmt extends EventBase {
  kind: 'deliver';
  keyword: Tok;
  label: NameTok;
}

export interface ExpectItem {
  endpoint: NameTok;
  /** Index into STATE_NAMES, or -1 when the name is unknown. */
  state: number;
  stateTok: TextTok;
}

export interface ExpectStmt extends StatementBase {
  kind: 'expect';
  keyword: Tok;
  items: ExpectItem[];
}

export interface NoteStmt extends StatementBase {
  kind: 'note';
  keyword: Tok;
  over: NameTok[];
  text: TextTok;
}

export interface SectionStmt extends StatementBase {
  kind: 'section';
  text: TextTok;
}

export type HeaderStmt = TitleStmt | EndpointStmt | OptionStmt;
export type EventStmt = CallStmt | SegmentStmt | DeliverStmt;
export type Statement = HeaderStmt | EventStmt | ExpectStmt | NoteStmt | SectionStmt;

/** A syntax problem found by the parser (codes TT100-TT103, TT106, TT108). */
export interface SyntaxDiagnostic {
  code: string;
  line: number;
  start: number;
  end: number;
  message: string;
}

export interface ParsedTrace {
  statements: Statement[];
  diagnostics: SyntaxDiagnostic[];
  /** Every symbol name used in a `seq=`/`ack=` field, so generated names can avoid them. */
  symbols: Set<string>;
  lineCount: number;
}

export function isEvent(s: Statement): s is EventStmt {
  return s.kind === 'segment' || s.kind === 'call' || s.kind === 'deliver';
}
