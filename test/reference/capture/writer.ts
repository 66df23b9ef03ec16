// FROZEN REFERENCE: src/core/capture/writer.ts as of commit 45b3c5a, before the import was made faster.
// The equivalence tests (test/unit/capture-equivalence.test.ts) compare the optimized import with it. Do not edit,
// except to make a deliberate change of behaviour here too, each listed below:
// - A packet seen again by the capture (a copy) is counted in the summary and the header, not written.
// - A send moved because its acknowledgment went back names the segment that overtook it (plan.overtaken).
/**
 * A tracked connection as a `.tcptrace` file (spec section 8): `option
 * origin=capture`, real addresses, times and numbers, the options seen on the
 * SYNs, the calls the segments imply (`listen` on the side that answered the
 * first SYN), and `~>`/`deliver` wherever the far end received a segment
 * later than the capture point saw it (see reconstruct.ts). A capture that
 * starts mid-connection opens with an assumed handshake, labelled as such.
 */
import { ACK, FIN, RST, SYN, URG } from '../../../src/core/syntax/ast';
import { flagText } from '../../../src/core/tcp/rfc9293';
import { planDeliveries, type DeliveryPlan, type InferredLoss } from './reconstruct';
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
  packets: number;
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

function rolesOf(c: Connection): Roles {
  const s = c.segs;
  const by = (client: number, opening: OpeningKind, listener: number): Roles => {
    const names: [string, string] = client === 0 ? ['client', 'server'] : ['server', 'client'];
    return { first: client, names, opening, listener };
  };
  if (c.simultaneousOpen) return { first: 0, names: ['a', 'b'], opening: 'simultaneous', listener: -1 };
  const f0 = s.flags[0];
  const answeredSyn = (server: number): number => {
    for (let i = 0; i < s.length; i++) if (s.dir[i] === server && (s.flags[i] & (SYN | ACK | RST)) === (SYN | ACK)) return server;
    return -1;
  };
  if ((f0 & (SYN | ACK | RST)) === SYN) {
    const client = s.dir[0];
    return by(client, 'syn', answeredSyn(1 - client));
  }
  if ((f0 & (SYN | ACK | RST)) === (SYN | ACK)) {
    const server = s.dir[0];
    return by(1 - server, 'synack', server);
  }
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
  const s = c.segs;
  if (c.rstFrom >= 0) {
    // Refused: the only answer to the opening SYN was a RST.
    let synAck = false;
    for (let i = 0; i < s.length; i++) if ((s.flags[i] & (SYN | ACK)) === (SYN | ACK)) synAck = true;
    if (!synAck && roles.opening === 'syn' && c.rstFrom !== roles.first) return { end: 'refused', ended: `refused by ${name(c.rstFrom)} (RST)` };
    return { end: 'reset', ended: `reset by ${name(c.rstFrom)}` };
  }
  const fin0 = c.finEnd[0] !== undefined;
  const fin1 = c.finEnd[1] !== undefined;
  if (c.finAcked[0] && c.finAcked[1]) {
    const first = firstFin(s);
    return { end: 'closed', ended: first < 0 ? 'closed' : `closed, ${name(first)} first` };
  }
  if (fin0 && fin1) return { end: 'closing', ended: 'closing at the end of the capture (a FIN not yet acknowledged)' };
  if (fin0 || fin1) return { end: 'half-closed', ended: `half-closed by ${name(fin0 ? 0 : 1)}, open at the end of the capture` };
  if (c.isn[0] !== undefined && c.isn[1] === undefined && roles.opening === 'syn' && !hasFrom(s, 1 - roles.first)) {
    return { end: 'unanswered', ended: 'SYN never answered' };
  }
  return { end: 'open', ended: 'open at the end of the capture' };
}

function firstFin(s: SegmentTable): number {
  for (let i = 0; i < s.length; i++) if (s.flags[i] & FIN) return s.dir[i];
  return -1;
}

function hasFrom(s: SegmentTable, side: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.dir[i] === side) return true;
  return false;
}

export function summarize(c: Connection): ConnectionSummary {
  const roles = rolesOf(c);
  const a = roles.first;
  const b = 1 - a;
  const s = c.segs;
  const { end, ended } = endOf(c, roles);
  return {
    id: c.id,
    names: [roles.names[a], roles.names[b]],
    endpoints: [c.ep[a], c.ep[b]],
    packets: s.length + c.copies,
    copies: c.copies,
    bytes: [c.bytes[a], c.bytes[b]],
    firstFrame: s.frame[0],
    lastFrame: Math.max(s.frame[s.length - 1], c.lastCopy),
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
  const iso = d.toISOString().slice(0, 19).replace('T', ' ');
  const frac = digits > 0 ? '.' + String(Math.floor(nsec / 10 ** (9 - digits))).padStart(digits, '0') : '';
  return `${iso}${frac} UTC`;
}

function u32(v: number): number {
  return ((v % 4294967296) + 4294967296) % 4294967296;
}

/** The `.tcptrace` text of one connection. */
export function writeTrace(c: Connection, opts: WriteOptions = {}): string {
  const s = c.segs;
  const n = s.length;
  const digits = opts.digits ?? 6;
  const roles = rolesOf(c);
  const sum = summarize(c);
  const plan = planDeliveries(s);
  const names = roles.names;
  const first = roles.first;
  const second = 1 - first;
  const out: string[] = [];
  const w = (line: string): void => {
    out.push(line);
  };

  // ---- header ----
  const where = opts.captureName ? ` from ${opts.captureName}` : '';
  const copies = c.copies === 0 ? '' : c.copies === 1 ? ', and a copy' : `, and ${c.copies} copies`;
  w(`# Imported${where}: connection ${c.id}, frames ${s.frame[0]}-${Math.max(s.frame[n - 1], c.lastCopy)} (${n} packet${n === 1 ? '' : 's'}${copies}), ${sum.ended}.`);
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
  if (c.copies === 1) w('# A packet was a copy of another, seen again by the capture (on another');
  if (c.copies > 1) w(`# ${c.copies} packets were copies of another, seen again by the capture (on another`);
  if (c.copies > 0) w('# interface, or twice on one: a bridge, a router, a mirror port); each segment is written once, as first seen.');
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
  const head = new Int32Array(n).fill(-1);
  const tail = new Int32Array(n).fill(-1);
  const next = new Int32Array(n).fill(-1);
  const movedHead = new Int32Array(n).fill(-1);
  const movedNext = new Int32Array(n).fill(-1);
  const movedTail = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const p = plan.pos[i];
    const m = plan.moved[i];
    // A moved send is always followed by a deliver line, even at its own capture position.
    if (p > i || (m >= 0 && p >= 0)) {
      if (head[p] < 0) head[p] = i;
      else next[tail[p]] = i;
      tail[p] = i;
    }
    if (m >= 0) {
      if (movedHead[m] < 0) movedHead[m] = i;
      else movedNext[movedTail[m]] = i;
      movedTail[m] = i;
    }
  }
  let inf = 0;
  const inferred = plan.inferred;
  for (let i = 0; i < n; i++) {
    for (; inf < inferred.length && inferred[inf].before === i; inf++) w(inferredLine(s, inferred[inf], names));
    for (let k = movedHead[i]; k >= 0; k = movedNext[k]) {
      const lost = plan.pos[k] < 0;
      w(segmentLine(s, k, names, digits, lost ? '-x' : '~>', `frame ${s.frame[k]}, captured at ${fmtTime(s.time[k], digits)}: sent before frame ${s.frame[plan.overtaken?.get(k) ?? i]}, which overtook it`));
    }
    const p = plan.pos[i];
    if (plan.moved[i] < 0) w(segmentLine(s, i, names, digits, p < 0 ? '-x' : p === i ? '->' : '~>'));
    for (let j = head[i]; j >= 0; j = next[j]) w(`deliver f${s.frame[j]}`);
  }
  return out.join('\n') + '\n';
}

/**
 * One segment. `movedNote` marks a send written before its capture position
 * (a reordered original): it then has no time of its own, and says when it was captured.
 */
function segmentLine(s: SegmentTable, i: number, names: [string, string], digits: number, arrow: '->' | '-x' | '~>', movedNote?: string): string {
  const d = s.dir[i];
  const f = s.flags[i];
  const time = fmtTime(s.time[i], digits);
  if (f === 0) {
    // The language has no flag-less segment (a "null scan"): say what was there.
    return `note over ${names[d]}: ${time} frame ${s.frame[i]}: a segment with no flags from ${names[d]} (seq=${s.seq[i]}, len=${s.len[i]}), not part of TCP's state machine`;
  }
  let line = `${movedNote ? '' : `${time} `}${names[d]} ${arrow} ${names[1 - d]}: ${flagText(f)} seq=${s.seq[i]}`;
  if (f & ACK) line += ` ack=${s.ack[i]}`;
  if (s.len[i] > 0) line += ` len=${s.len[i]}`;
  line += ` win=${s.win[i]}`;
  if (f & URG) line += ` urg=${s.urg[i]}`;
  const e = s.extra.get(i);
  if (e) {
    if (e.mss >= 0) line += ` mss=${e.mss}`;
    if (e.wscale >= 0) line += ` wscale=${e.wscale}`;
    if (e.sackOk) line += ' sackok';
    if (e.tsVal >= 0) line += ` ts=${e.tsVal}:${e.tsEcr}`;
    if (e.sack) {
      const blocks: string[] = [];
      for (let b = 0; b < e.sack.length; b += 2) blocks.push(`${e.sack[b]}-${e.sack[b + 1]}`);
      line += ` sack=${blocks.join(',')}`;
    }
  }
  if (arrow === '~>') line += ` as f${s.frame[i]}`;
  return `${line}  # ${movedNote ?? `frame ${s.frame[i]}`}`;
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
