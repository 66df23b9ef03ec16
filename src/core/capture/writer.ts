/**
 * A tracked connection as a `.tcptrace` file (spec section 8): `option
 * origin=capture`, real addresses, times and numbers, the options seen on the
 * SYNs, the calls the segments imply (`listen` on the side that answered the
 * first SYN), and `~>`/`deliver` wherever the far end received a segment
 * later than the capture point saw it (see reconstruct.ts). A capture that
 * starts mid-connection opens with an assumed handshake, labelled as such.
 */
import type { StreamingCheck, WrittenSegment } from '../check/checker';
import { ACK, RST, SYN, URG } from '../syntax/ast';
import { secondsOfDigits } from '../syntax/parser';
import { flagText } from '../tcp/rfc9293';
import { I_WRITER, PlanScratch, planDeliveries, type DeliveryPlan, type InferredLoss } from './reconstruct';
import { ByteSink, utf8 } from './textbuf';
import type { CaptureEndpoint, Connection, SegmentTable } from './tracker';

/** How a connection begins in the capture. */
export type OpeningKind = 'syn' | 'simultaneous' | 'synack' | 'mid';

export type EndKind = 'closed' | 'reset' | 'refused' | 'unanswered' | 'half-closed' | 'closing' | 'open';

export interface ConnectionSummary {
  /** 1-based, in the order of each connection's first packet. */
  id: number;
  /** Endpoint names in the trace, in the order they are declared (client first). */
  names: [string, string];
  endpoints: [CaptureEndpoint, CaptureEndpoint];
  /** Its packets, copies included (as Wireshark counts them). */
  packets: number;
  /** Packets that were copies of another, seen again by the capture: counted, not written again. */
  copies: number;
  /** Payload bytes each endpoint sent (same order as names). */
  bytes: [number, number];
  firstFrame: number;
  lastFrame: number;
  /** Seconds since the first packet of the capture. */
  start: number;
  duration: number;
  opening: OpeningKind;
  end: EndKind;
  /** How it ended, in words ("closed by client first", "reset by server", ...). */
  ended: string;
  /** The connection whose 4-tuple this one reuses. */
  reuses: number | undefined;
}

export interface WriteOptions {
  /** The capture's file name, for the header comment. */
  captureName?: string;
  /** Wall-clock time of time 0 (the capture's first packet): seconds and nanoseconds since the epoch. */
  epochSec?: number;
  epochNsec?: number;
  /** Decimals of the times written (6 for microsecond captures, 9 for nanosecond). */
  digits?: number;
}

interface Roles {
  /** Index (0/1 = connection side) of the endpoint declared first: the client. */
  first: number;
  names: [string, string]; // by side
  opening: OpeningKind;
  /** The side that listened (answered the first SYN with SYN,ACK), or -1. */
  listener: number;
}

/** Who is the client: from what the tracker kept of the connection (its segments may not be stored). */
function rolesOf(c: Connection): Roles {
  const by = (client: number, opening: OpeningKind, listener: number): Roles => {
    const names: [string, string] = client === 0 ? ['client', 'server'] : ['server', 'client'];
    return { first: client, names, opening, listener };
  };
  if (c.simultaneousOpen) return { first: 0, names: ['a', 'b'], opening: 'simultaneous', listener: -1 };
  const f0 = c.firstFlags;
  const answeredSyn = (server: number): number => (c.synAckFrom & (1 << server) ? server : -1);
  // The first segment is side 0's (the tracker numbers the sides so).
  if ((f0 & (SYN | ACK | RST)) === SYN) return by(0, 'syn', answeredSyn(1));
  if ((f0 & (SYN | ACK | RST)) === (SYN | ACK)) return by(1, 'synack', 0);
  // Mid-connection: the well-known or lower port is the server's.
  const server = guessServer(c.ep[0].port, c.ep[1].port);
  return by(1 - server, 'mid', server);
}

function guessServer(p0: number, p1: number): number {
  const wellKnown = (p: number): boolean => p < 1024;
  const ephemeral = (p: number): boolean => p >= 32768;
  if (wellKnown(p0) !== wellKnown(p1)) return wellKnown(p0) ? 0 : 1;
  if (ephemeral(p0) !== ephemeral(p1)) return ephemeral(p0) ? 1 : 0;
  return p0 <= p1 ? 0 : 1;
}

function endOf(c: Connection, roles: Roles): { end: EndKind; ended: string } {
  const name = (side: number): string => roles.names[side];
  if (c.rstFrom >= 0) {
    // Refused: the only answer to the opening SYN was a RST.
    if (!c.anySynAck && roles.opening === 'syn' && c.rstFrom !== roles.first) return { end: 'refused', ended: `refused by ${name(c.rstFrom)} (RST)` };
    return { end: 'reset', ended: `reset by ${name(c.rstFrom)}` };
  }
  const fin0 = c.finEnd[0] !== undefined;
  const fin1 = c.finEnd[1] !== undefined;
  if (c.finAcked[0] && c.finAcked[1]) {
    const first = c.firstFinFrom;
    return { end: 'closed', ended: first < 0 ? 'closed' : `closed, ${name(first)} first` };
  }
  if (fin0 && fin1) return { end: 'closing', ended: 'closing at the end of the capture (a FIN not yet acknowledged)' };
  if (fin0 || fin1) return { end: 'half-closed', ended: `half-closed by ${name(fin0 ? 0 : 1)}, open at the end of the capture` };
  if (c.isn[0] !== undefined && c.isn[1] === undefined && roles.opening === 'syn' && !(c.sent & (1 << (1 - roles.first)))) {
    return { end: 'unanswered', ended: 'SYN never answered' };
  }
  return { end: 'open', ended: 'open at the end of the capture' };
}

export function summarize(c: Connection): ConnectionSummary {
  const roles = rolesOf(c);
  const a = roles.first;
  const b = 1 - a;
  const { end, ended } = endOf(c, roles);
  return {
    id: c.id,
    names: [roles.names[a], roles.names[b]],
    endpoints: [c.ep[a], c.ep[b]],
    packets: c.packets + c.copies,
    copies: c.copies,
    bytes: [c.bytes[a], c.bytes[b]],
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    start: c.firstTime,
    duration: c.lastTime - c.firstTime,
    opening: roles.opening,
    end,
    ended,
    reuses: c.previous,
  };
}

/** The smallest window scale that makes every data segment fit in the window `side` had advertised. */
function estimateWscale(s: SegmentTable, plan: DeliveryPlan, side: number): number {
  let lastAck = NaN;
  let lastWin = 0;
  let need = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.dir[i] === side) {
      if (s.flags[i] & ACK && !(s.flags[i] & (SYN | RST))) {
        lastAck = plan.uack[i];
        lastWin = s.win[i];
      }
    } else if (s.len[i] > 0 && !Number.isNaN(lastAck) && lastWin > 0) {
      const over = plan.useq[i] + s.len[i] - lastAck;
      if (over > lastWin) need = Math.max(need, Math.ceil(Math.log2(over / lastWin)));
    }
  }
  return Math.min(14, need);
}

function fmtTime(t: number, digits: number): string {
  return t.toFixed(digits);
}

function utcText(sec: number, nsec: number, digits: number): string {
  const d = new Date(sec * 1000);
  const frac = digits > 0 ? '.' + String(Math.floor(nsec / 10 ** (9 - digits))).padStart(digits, '0') : '';
  // Beyond the 275,760 years a Date covers (a damaged or odd timestamp): seconds since the epoch.
  if (Number.isNaN(d.getTime())) return `${sec}${frac} s after 1970-01-01 00:00:00 UTC`;
  const iso = d.toISOString().slice(0, 19).replace('T', ' ');
  return `${iso}${frac} UTC`;
}

function u32(v: number): number {
  return ((v % 4294967296) + 4294967296) % 4294967296;
}

// The fixed pieces of segment lines, encoded once.
const NL = 10;
const SP = 32;
const B_ACK = utf8(' ack=');
const B_LEN = utf8(' len=');
const B_WIN = utf8(' win=');
const B_URG = utf8(' urg=');
const B_MSS = utf8(' mss=');
const B_WSCALE = utf8(' wscale=');
const B_SACKOK = utf8(' sackok');
const B_TS = utf8(' ts=');
const B_SACK = utf8(' sack=');
const B_AS = utf8(' as f');
const B_FRAME_NOTE = utf8('  # frame ');
const B_NOTE = utf8('  # ');
const B_DELIVER = utf8('deliver f');
type Arrow = '->' | '-x' | '~>';
const ARROWS: readonly Arrow[] = ['->', '-x', '~>'];

/**
 * The start of a segment line up to its seq: `client -> server: ACK seq=`,
 * per sending side, arrow and flags byte, for one pair of names (made as
 * lines need them).
 */
class LinePrefixes {
  /** [(side * 3 + arrow) * 256 + flags] */
  private readonly made: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(2 * 3 * 256).fill(undefined);
  constructor(private readonly names: [string, string]) {}

  get(side: number, arrow: number, flags: number): Uint8Array {
    const k = (side * 3 + arrow) * 256 + flags;
    return (this.made[k] ??= utf8(`${this.names[side]} ${ARROWS[arrow]} ${this.names[1 - side]}: ${flagText(flags)} seq=`));
  }
}
const prefixCache = new Map<string, LinePrefixes>();

function prefixesFor(names: [string, string]): LinePrefixes {
  const key = `${names[0]}\n${names[1]}`;
  let p = prefixCache.get(key);
  if (!p) {
    p = new LinePrefixes(names);
    prefixCache.set(key, p);
  }
  return p;
}

/** The arrays of every connection's plan, reused (one connection is written at a time). */
const scratch = new PlanScratch();

/** One sink for every trace: its buffer is reused (and dropped when a huge trace grew it). */
let shared: ByteSink | undefined;
const KEEP_SINK = 16 << 20;

function withSink<T>(fn: (sink: ByteSink) => T): T {
  const sink = shared ?? new ByteSink();
  shared = undefined; // a reentrant call (none today) gets its own
  sink.reset();
  try {
    return fn(sink);
  } finally {
    if (sink.buf.length <= KEEP_SINK) shared = sink;
  }
}

/** The `.tcptrace` text of one connection. */
export function writeTrace(c: Connection, opts: WriteOptions = {}): string {
  return withSink((sink) => {
    writeTraceTo(sink, c, opts);
    return sink.text();
  });
}

/**
 * Appends the `.tcptrace` text of one connection to `sink`, as UTF-8. With
 * `check`, each line is also handed to that streaming check as it is
 * written: the common event lines as their statements (not read again).
 */
export function writeTraceTo(sink: ByteSink, c: Connection, opts: WriteOptions, check?: StreamingCheck): void {
  const s = c.segs;
  const n = s.length;
  const digits = opts.digits ?? 6;
  const roles = rolesOf(c);
  const sum = summarize(c);
  const plan = planDeliveries(s, scratch);
  const names = roles.names;
  const first = roles.first;
  const second = 1 - first;
  const w = (line: string): void => {
    sink.str(line);
    sink.byte(NL);
    check?.text(line);
  };

  // ---- header ----
  // A file name may hold any character but '/': control characters (a line break would end the comment) are escaped.
  const where = opts.captureName ? ` from ${opts.captureName.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}` : '';
  const copies = c.copies > 0 ? `, and ${c.copies === 1 ? 'a copy' : `${c.copies} copies`}` : '';
  w(`# Imported${where}: connection ${c.id}, frames ${s.frame[0]}-${c.lastFrame} (${n} packet${n === 1 ? '' : 's'}${copies}), ${sum.ended}.`);
  if (opts.epochSec !== undefined) {
    const t0 = c.firstTime;
    const whole = Math.floor(t0);
    const ns = Math.round((t0 - whole) * 1e9) + (opts.epochNsec ?? 0);
    w(`# First packet at ${utcText(opts.epochSec + whole + Math.floor(ns / 1e9), ns % 1e9, digits)}; times are seconds since the capture's first packet.`);
  } else w(`# Times are seconds since the capture's first packet.`);
  w(`# Segments are in the order the capture point saw them; where the far end got one later (as its`);
  w(`# acknowledgments show), it is sent with ~> and arrives at its deliver line; -x: lost (sent again`);
  w(`# before anything acknowledged it). "# frame N" is the packet's number in the capture.`);
  if (c.previous !== undefined) w(`# This connection reuses the 4-tuple of connection ${c.previous}.`);
  if (c.copies > 0) {
    w(`# ${c.copies === 1 ? 'A packet was a copy' : `${c.copies} packets were copies`} of another, seen again by the capture (on another`);
    w(`# interface, or twice on one: a bridge, a router, a mirror port); each segment is written once, as first seen.`);
  }
  if (c.timeFixes > 0) w(`# ${c.timeFixes} packet${c.timeFixes === 1 ? ' was' : 's were'} stamped earlier than the one before; written at the earlier packet's time.`);
  w(`title ${quote(`${c.ep[first].text} → ${c.ep[second].text}`)}`);
  w('option origin=capture');
  w(`endpoint ${names[first]} ${c.ep[first].text}`);
  w(`endpoint ${names[second]} ${c.ep[second].text}`);
  w('');

  // ---- what happened before the capture ----
  if (roles.opening === 'mid' || roles.opening === 'synack') prologue(c, roles, plan, w);
  else if (roles.listener >= 0) w(`${names[roles.listener]}: listen`);

  // ---- the segments, with late deliveries, reordered originals and inferred losses ----
  // Lists threaded through typed arrays: the deliveries due after each event, the moved sends before it.
  const head = scratch.i32(I_WRITER, n).fill(-1);
  const tail = scratch.i32(I_WRITER + 1, n).fill(-1);
  const next = scratch.i32(I_WRITER + 2, n).fill(-1);
  let anyMoved = false;
  const pos = plan.pos;
  const moved = plan.moved;
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    const m = moved[i];
    // A moved send is always followed by a deliver line, even at its own capture position.
    if (p > i || (m >= 0 && p >= 0)) {
      if (head[p] < 0) head[p] = i;
      else next[tail[p]] = i;
      tail[p] = i;
    }
    if (m >= 0) anyMoved = true;
  }
  let movedHead: Int32Array | undefined;
  let movedNext: Int32Array | undefined;
  if (anyMoved) {
    movedHead = scratch.i32(I_WRITER + 3, n).fill(-1);
    movedNext = scratch.i32(I_WRITER + 4, n).fill(-1);
    const movedTail = scratch.i32(I_WRITER + 5, n).fill(-1);
    for (let i = 0; i < n; i++) {
      const m = moved[i];
      if (m < 0) continue;
      if (movedHead[m] < 0) movedHead[m] = i;
      else movedNext[movedTail[m]] = i;
      movedTail[m] = i;
    }
  }
  const pre = prefixesFor(names);
  let inf = 0;
  const inferred = plan.inferred;
  const frame = s.frame;
  for (let i = 0; i < n; i++) {
    for (; inf < inferred.length && inferred[inf].before === i; inf++) w(inferredLine(s, inferred[inf], names));
    if (movedHead !== undefined) {
      for (let k = movedHead[i]; k >= 0; k = movedNext![k]) {
        const lost = pos[k] < 0;
        segmentLine(sink, s, k, names, pre, digits, lost ? 1 : 2, check, `frame ${frame[k]}, captured at ${fmtTime(s.time[k], digits)}: sent before frame ${frame[plan.overtaken?.get(k) ?? i]}, which overtook it`);
      }
    }
    const p = pos[i];
    if (moved[i] < 0) segmentLine(sink, s, i, names, pre, digits, p < 0 ? 1 : p === i ? 0 : 2, check);
    for (let j = head[i]; j >= 0; j = next[j]) {
      const ls = sink.len;
      sink.bytes(B_DELIVER);
      sink.u32(frame[j]);
      // `deliver fN`: the label from column 8.
      check?.deliver(`f${frame[j]}`, 8, sink.len - ls);
      sink.byte(NL);
    }
    sink.lineDone();
  }
}

/**
 * One segment, and its newline. `movedNote` marks a send written before its
 * capture position (a reordered original): it then has no time of its own,
 * and says when it was captured. `arrow`: 0 ->, 1 -x, 2 ~>.
 */
function segmentLine(
  sink: ByteSink,
  s: SegmentTable,
  i: number,
  names: [string, string],
  pre: LinePrefixes,
  digits: number,
  arrow: number,
  check: StreamingCheck | undefined,
  movedNote?: string,
): void {
  const d = s.dir[i];
  const f = s.flags[i];
  const ls = sink.len;
  if (f === 0) {
    // The language has no flag-less segment (a "null scan"): say what was there.
    const note = `note over ${names[d]}: ${fmtTime(s.time[i], digits)} frame ${s.frame[i]}: a segment with no flags from ${names[d]} (seq=${s.seq[i]}, len=${s.len[i]}), not part of TCP's state machine`;
    sink.str(note);
    check?.text(note);
    sink.byte(NL);
    return;
  }
  let timeEnd = -1;
  if (movedNote === undefined) {
    sink.time(s.time[i], digits);
    timeEnd = sink.len - ls;
    sink.byte(SP);
  }
  sink.bytes(pre.get(d, arrow, f));
  // Where the fields end, for stepSegment (stored whether or not it runs: cheaper than a test).
  const W = written;
  sink.u32(s.seq[i]);
  W.seqEnd = sink.len - ls;
  if (f & ACK) {
    sink.bytes(B_ACK);
    sink.u32(s.ack[i]);
    W.ackEnd = sink.len - ls;
  }
  const len = s.len[i];
  if (len > 0) {
    sink.bytes(B_LEN);
    sink.u32(len);
    W.lenEnd = sink.len - ls;
  }
  sink.bytes(B_WIN);
  sink.u32(s.win[i]);
  W.winEnd = sink.len - ls;
  if (f & URG) {
    sink.bytes(B_URG);
    sink.u32(s.urg[i]);
    W.urgEnd = sink.len - ls;
  }
  const e = s.hasExtra[i] ? s.extra.get(i) : undefined;
  if (e) {
    if (e.mss >= 0) {
      sink.bytes(B_MSS);
      sink.u32(e.mss);
    }
    if (e.wscale >= 0) {
      sink.bytes(B_WSCALE);
      sink.u32(e.wscale);
    }
    if (e.sackOk) sink.bytes(B_SACKOK);
    if (e.tsVal >= 0) {
      sink.bytes(B_TS);
      sink.u32(e.tsVal);
      sink.byte(58); // ':'
      sink.u32(e.tsEcr);
    }
    if (e.sack) {
      sink.bytes(B_SACK);
      for (let b = 0; b < e.sack.length; b += 2) {
        if (b > 0) sink.byte(44); // ','
        sink.u32(e.sack[b]);
        sink.byte(45); // '-'
        sink.u32(e.sack[b + 1]);
      }
    }
  }
  if (arrow === 2) {
    sink.bytes(B_AS);
    sink.u32(s.frame[i]);
  }
  if (check) {
    // The common line (a time, no options): its statement; any other, its text.
    if (timeEnd < 0 || e !== undefined || !stepSegment(check, sink, ls, s, i, names, arrow, timeEnd)) check.text(lineText(sink, ls));
  }
  if (movedNote === undefined) {
    sink.bytes(B_FRAME_NOTE);
    sink.u32(s.frame[i]);
  } else {
    sink.bytes(B_NOTE);
    sink.str(movedNote);
  }
  sink.byte(NL);
}

/** The line being written, from `ls` to the end of the sink, as text. */
function lineText(sink: ByteSink, ls: number): string {
  return lineDecoder.decode(sink.buf.subarray(ls, sink.len));
}
const lineDecoder = new TextDecoder();

/** The statement the parser reads from a segment line, filled in here (one record for all lines). */
const written: WrittenSegment = {
  seconds: 0,
  timeEnd: 0,
  from: '',
  fromStart: 0,
  arrow: '->',
  arrowStart: 0,
  to: '',
  toStart: 0,
  flags: 0,
  flagsStart: 0,
  flagsEnd: 0,
  seq: 0,
  seqStart: 0,
  seqEnd: 0,
  ack: 0,
  ackStart: -1,
  ackEnd: 0,
  len: 0,
  lenStart: -1,
  lenEnd: 0,
  win: 0,
  winStart: -1,
  winEnd: 0,
  urg: 0,
  urgStart: -1,
  urgEnd: 0,
  label: '',
  labelStart: -1,
  labelEnd: 0,
  end: 0,
};

/** Characters of flagText(flags), by flags byte (-1: not computed yet). */
const FLAG_TEXT_LENGTH = new Int16Array(256).fill(-1);

/**
 * Steps `check` with the segment line segmentLine just wrote from `ls` (a
 * time, the prefix, seq, ack, len, win, urg, `as` LABEL; no options), whose
 * field ends segmentLine noted in `written`. The prefix's columns follow from
 * its layout; the time must read as digits, else (false) the caller hands
 * the line over as text.
 */
function stepSegment(check: StreamingCheck, sink: ByteSink, ls: number, s: SegmentTable, i: number, names: [string, string], arrow: number, timeEnd: number): boolean {
  const W = written;
  const d = s.dir[i];
  const f = s.flags[i];
  W.seconds = secondsOfDigits(sink.buf, ls, ls + timeEnd);
  if (Number.isNaN(W.seconds)) return false;
  W.timeEnd = timeEnd;
  // `FROM ARROW TO: FLAGS seq=`
  let p = timeEnd + 1;
  W.from = names[d];
  W.fromStart = p;
  p += W.from.length + 1;
  W.arrow = ARROWS[arrow];
  W.arrowStart = p;
  p += 3;
  W.to = names[1 - d];
  W.toStart = p;
  p += W.to.length + 2;
  W.flags = f;
  W.flagsStart = p;
  let fl = FLAG_TEXT_LENGTH[f];
  if (fl < 0) fl = FLAG_TEXT_LENGTH[f] = flagText(f).length;
  W.flagsEnd = p + fl;
  // Each field starts one column after the previous one ends (` key=value`).
  W.seq = s.seq[i];
  W.seqStart = W.flagsEnd + 1;
  p = W.seqEnd;
  if (f & ACK) {
    W.ack = s.ack[i];
    W.ackStart = p + 1;
    p = W.ackEnd;
  } else W.ackStart = -1;
  if (s.len[i] > 0) {
    W.len = s.len[i];
    W.lenStart = p + 1;
    p = W.lenEnd;
  } else W.lenStart = -1;
  W.win = s.win[i];
  W.winStart = p + 1;
  p = W.winEnd;
  if (f & URG) {
    W.urg = s.urg[i];
    W.urgStart = p + 1;
    p = W.urgEnd;
  } else W.urgStart = -1;
  if (arrow === 2) {
    // ` as fN`: the label starts at the f, and ends the line's text.
    W.label = `f${s.frame[i]}`;
    W.labelStart = p + 4;
    p = W.labelEnd = sink.len - ls;
  } else W.labelStart = -1;
  W.end = p;
  check.segment(W);
  return true;
}

/** A segment lost before the capture point: the hole it left and its retransmission show it was sent. */
function inferredLine(s: SegmentTable, loss: InferredLoss, names: [string, string]): string {
  const c = loss.before;
  const d = loss.dir;
  let line = `${names[d]} -x ${names[1 - d]}: ACK seq=${loss.seq}`;
  if (s.flags[c] & ACK) line += ` ack=${s.ack[c]}`;
  else line = line.replace(': ACK', ': PSH');
  line += ` len=${loss.len} win=${s.win[c]}`;
  return `${line}  # not captured: lost before the capture point (inferred from the hole before frame ${s.frame[c]}; frame ${s.frame[loss.resentBy]} resends it)`;
}

/**
 * The capture missed the handshake (or the SYN): the endpoints start
 * synchronized from the numbers of the first segments, through an assumed
 * handshake that says so.
 */
function prologue(c: Connection, roles: Roles, plan: DeliveryPlan, w: (line: string) => void): void {
  const s = c.segs;
  const names = roles.names;
  const client = roles.first;
  const server = 1 - client;
  const C = names[client];
  const S = names[server];
  if (roles.opening === 'synack') {
    const i0 = 0; // the SYN,ACK
    const e = s.extra.get(i0);
    let opts = '';
    if (e && e.wscale >= 0) opts += ` wscale=${estimateWscale(s, plan, client)}`;
    if (e?.sackOk) opts += ' sackok';
    if (e && e.tsEcr >= 0) opts += ` ts=${e.tsEcr}:0`;
    w(`== Before the capture (assumed) ==`);
    w(`note over ${C}, ${S}: The capture starts after ${C}'s SYN: it is assumed from the SYN,ACK (ack=${s.ack[i0]})${e && e.wscale >= 0 ? '; its window scale is estimated from the data in flight' : ''}.`);
    w(`${S}: listen`);
    w(`${C} -> ${S}: SYN seq=${u32(s.ack[i0] - 1)}${opts}`);
    w(`== Captured ==`);
    return;
  }
  // Where side x's stream stood when the capture began: what the peer had acknowledged if that was
  // captured first (x's first bytes may then be a retransmission, or leave a gap the capture missed),
  // else the lower of x's first seq and the peer's first ack.
  const base = (x: number): number | undefined => {
    let a: number | undefined;
    let aAt = -1;
    let b: number | undefined;
    let bAt = -1;
    for (let i = 0; i < s.length && (a === undefined || b === undefined); i++) {
      const f = s.flags[i];
      if (s.dir[i] === x && a === undefined && !(f & RST)) {
        a = plan.useq[i];
        aAt = i;
      } else if (s.dir[i] !== x && b === undefined && f & ACK) {
        b = plan.uack[i];
        bAt = i;
      }
    }
    if (b !== undefined && (a === undefined || bAt < aAt)) return b;
    if (a !== undefined && b !== undefined) return Math.min(a, b);
    if (a !== undefined) return a;
    for (let i = 0; i < s.length; i++) if (s.dir[i] === x) return plan.useq[i];
    return undefined;
  };
  const bc = base(client) ?? 0;
  const bs = base(server) ?? 0;
  const ws = [estimateWscale(s, plan, 0), estimateWscale(s, plan, 1)];
  const scaled = ws[0] > 0 || ws[1] > 0;
  const wopt = (side: number): string => (scaled ? ` wscale=${ws[side]}` : '');
  w(`== Before the capture (assumed) ==`);
  w(
    `note over ${C}, ${S}: The capture starts mid-connection (no SYN was captured): this handshake is assumed, with the numbers the first segments continue from${scaled ? ', and window scales estimated from the data in flight' : ''}. Which side is the client is a guess from the ports.`,
  );
  w(`${S}: listen`);
  w(`${C} -> ${S}: SYN seq=${u32(bc - 1)} win=65535${wopt(client)}`);
  w(`${S} -> ${C}: SYN,ACK seq=${u32(bs - 1)} ack=${u32(bc)} win=65535${wopt(server)}`);
  w(`${C} -> ${S}: ACK seq=${u32(bc)} ack=${u32(bs)}`);
  w(`== Captured ==`);
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
