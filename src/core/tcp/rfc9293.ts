/**
 * The rules of RFC 9293 section 3.10 (event processing), with the RFC 5961
 * (blind-attack mitigations), RFC 7323 (window scaling) and RFC 6191
 * (TIME-WAIT reuse) refinements the spec names. Everything the checker knows
 * about TCP lives here; the checker only resolves numbers, places
 * diagnostics and records the timeline.
 *
 * Each function mutates the control blocks as the RFC prescribes and returns
 * findings: what a teacher would point at, with the code of spec section 6.
 */
import { ACK, FIN, RST, SYN } from '../syntax/ast';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq';
import {
  CLOSED,
  CLOSE_WAIT,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  LISTEN,
  SYN_RCVD,
  SYN_SENT,
  TIME_WAIT,
  isSynchronized,
  stateName,
  type State,
} from './states';
import type { SegmentRef, Tcb } from './tcb';

/** A segment with its numbers resolved (given or inferred). */
export interface Seg {
  flags: number;
  seq: number;
  /** The acknowledgment number; defined when the segment carries ACK. */
  ack: number | undefined;
  /** Payload bytes. */
  len: number;
  win: number | undefined;
  wscale: number | undefined;
  /** Where the segment was sent (its line), for later references. */
  ref: SegmentRef;
}

/** Which token of the segment a finding belongs on. */
export type FindingAt = 'flags' | 'seq' | 'ack' | 'len' | 'win' | 'arrival' | 'from';

export type FixHint =
  | { kind: 'seq'; value: number }
  | { kind: 'ack'; value: number }
  | { kind: 'addAck'; value: number | undefined }
  | { kind: 'listen' };

export interface Finding {
  code: string;
  message: string;
  at: FindingAt;
  fix?: FixHint;
  related?: SegmentRef & { message: string };
}

export interface Ctx {
  /** Names of the sender/receiver (or the endpoint acting). */
  me: string;
  peer: string;
  capture: boolean;
  /** Formats a number of `owner`'s sequence space (symbolically in symbolic traces). */
  num(owner: 'me' | 'peer', v: number): string;
  states: 'socket' | 'rfc';
}

/** SEG.LEN: the payload plus one for SYN and one for FIN (RFC 9293 3.4). */
/** 2 ** shift for the shifts RFC 7323 allows (0-14): a table, as `**` is a floating-point power on every ACK. */
const POW2 = Array.from({ length: 15 }, (_, i) => 2 ** i);

/** A window field scaled by a window-scale shift (RFC 7323 2.2). */
function scaleWindow(win: number, shift: number | undefined): number {
  const s = shift ?? 0;
  return win * (s >= 0 && s <= 14 ? POW2[s] : 2 ** s);
}

export function segLen(seg: Seg): number {
  return seg.len + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
}

function bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

function st(ctx: Ctx, s: State): string {
  return stateName(s, ctx.states);
}

export function flagText(flags: number): string {
  const out: string[] = [];
  if (flags & SYN) out.push('SYN');
  if (flags & FIN) out.push('FIN');
  if (flags & RST) out.push('RST');
  if (flags & 0x08) out.push('PSH');
  if (flags & ACK) out.push('ACK');
  if (flags & 0x20) out.push('URG');
  if (flags & 0x40) out.push('ECE');
  if (flags & 0x80) out.push('CWR');
  return out.join(',') || 'no flags';
}

// ---------------------------------------------------------------------------
// 3.10.1-3.10.6  User calls
// ---------------------------------------------------------------------------

export type CallResult = { ok: true; note?: string } | { ok: false; message: string };

/** OPEN, CLOSE, ABORT, SEND, RECEIVE and the timers, as section 3.10 prescribes for each state. */
export function userCall(tcb: Tcb, call: string, ctx: Ctx, ref: SegmentRef, arg: { bytes?: number }): CallResult {
  const s = tcb.state;
  const me = ctx.me;
  const no = (message: string): CallResult => ({ ok: false, message });
  switch (call) {
    case 'socket':
      if (tcb.used || tcb.socketCalled) return no(`socket comes once, before anything else on ${me}.`);
      tcb.socketCalled = true;
      return { ok: true };
    case 'bind':
      if (s !== CLOSED) return no(`${me} is ${st(ctx, s)}: bind comes before listen or connect.`);
      return { ok: true };
    case 'listen':
      // 3.10.1 OPEN (passive) in CLOSED: create a TCB, enter LISTEN.
      if (s !== CLOSED) return no(`${me} is ${st(ctx, s)}: listen (a passive OPEN) is possible only from CLOSED.`);
      tcb.state = LISTEN;
      tcb.passive = true;
      return { ok: true };
    case 'connect':
      // 3.10.1 OPEN (active) in CLOSED: select an ISS, send a SYN, enter SYN-SENT.
      if (s === LISTEN) return no(`${me} is LISTEN: a listening socket cannot connect; the SYN it would send is a SEND in LISTEN, written as a SYN segment.`);
      if (s !== CLOSED) return no(`${me} is ${st(ctx, s)}: connection already exists (connect needs CLOSED).`);
      tcb.state = SYN_SENT;
      tcb.passive = false;
      tcb.pendingConnect = ref;
      return { ok: true };
    case 'accept':
      if (!tcb.passive) return no(`${me} never listened: accept returns connections that came through LISTEN.`);
      if (!isSynchronized(s)) return no(`${me} is ${st(ctx, s)}: accept returns only once the handshake is complete (ESTABLISHED).`);
      return { ok: true };
    case 'send':
      // 3.10.2 SEND: CLOSED -> error; after our CLOSE -> "connection closing".
      if (s === CLOSED) return no(`${me} is CLOSED: connection does not exist, nothing can be sent.`);
      if (tcb.finSeq !== undefined || tcb.finPending || s === FIN_WAIT_1 || s === FIN_WAIT_2 || s === CLOSING || s === LAST_ACK || s === TIME_WAIT) {
        return no(`${me} has closed its sending side (${st(ctx, s)}): connection closing, no more data can be sent.`);
      }
      if (tcb.sendQueued === 0) tcb.sendRef = ref;
      tcb.sendQueued += arg.bytes ?? 0;
      return { ok: true };
    case 'recv':
      // 3.10.3 RECEIVE: CLOSED -> error; LISTEN -> nothing to receive from yet.
      if (s === CLOSED || s === LISTEN) return no(`${me} is ${st(ctx, s)}: connection does not exist, there is nothing to receive.`);
      return { ok: true };
    case 'close':
    case 'shutdown':
      // 3.10.4 CLOSE.
      switch (s) {
        case CLOSED:
          return no(`${me} is CLOSED: connection does not exist, there is nothing to close.`);
        case LISTEN:
        case SYN_SENT:
          tcb.reset();
          return { ok: true, note: 'no FIN: the connection was never established' };
        case SYN_RCVD:
        case ESTABLISHED:
          tcb.state = FIN_WAIT_1;
          tcb.finPending = true;
          tcb.pendingClose = ref;
          return { ok: true };
        case CLOSE_WAIT:
          tcb.state = LAST_ACK;
          tcb.finPending = true;
          tcb.pendingClose = ref;
          return { ok: true };
        default:
          return no(`${me} is ${st(ctx, s)}: connection closing — it has already closed (its FIN is ${tcb.finSeq === undefined ? 'queued' : 'sent'}).`);
      }
    case 'abort': {
      // 3.10.5 ABORT.
      if (s === CLOSED) return no(`${me} is CLOSED: connection does not exist, there is nothing to abort.`);
      const sendsRst = s === SYN_RCVD || s === ESTABLISHED || s === FIN_WAIT_1 || s === FIN_WAIT_2 || s === CLOSE_WAIT;
      const optional = s === CLOSING || s === LAST_ACK || s === TIME_WAIT;
      const seq = tcb.sndNxt;
      const ack = tcb.rcvNxt;
      tcb.reset();
      if ((sendsRst || optional) && seq !== undefined) tcb.abortRst = { seq, ack, ref, optional };
      return { ok: true };
    }
    case 'timeout':
      // The 2MSL timer in TIME-WAIT, or the user timeout (3.10.8) in any other state.
      if (s === CLOSED) return no(`${me} is CLOSED: no timer is running.`);
      tcb.reset();
      return { ok: true };
    case 'rto':
      if (tcb.sndUna === undefined || tcb.sndNxt === undefined || !seqLt(tcb.sndUna, tcb.sndNxt)) {
        return no(`${me} has nothing waiting to be acknowledged: the retransmission timer is not running.`);
      }
      tcb.rtoPending = true;
      return { ok: true };
  }
  return no(`unknown call ${call}`);
}

// ---------------------------------------------------------------------------
// Sending: what the sender's own state allows (3.10.2, 3.10.4, 3.10.7 answers)
// ---------------------------------------------------------------------------

export interface SendOutcome {
  findings: Finding[];
  /** The sender jumped over bytes (missed by a capture, or a slip): the receiver is taken to have them. */
  gapFill: number | undefined;
  /** The stack refuses to send this (data after its own FIN). */
  refused: boolean;
}

/**
 * Checks a segment against its sender's control block and applies it there.
 * `peer` is read only (for "beyond what the peer ever sent").
 */
export function sendSegment(S: Tcb, peer: Tcb, seg: Seg, ctx: Ctx): SendOutcome {
  const f: Finding[] = [];
  const out: SendOutcome = { findings: f, gapFill: undefined, refused: false };
  const me = ctx.me;
  const flags = seg.flags;
  const s = S.state;
  S.used = true;

  if (flags & RST) {
    sendRst(S, peer, seg, ctx, out);
    return out;
  }

  // --- the flags the state allows ---
  if (s === CLOSED || s === LISTEN) {
    if (flags & SYN && !(flags & ACK)) {
      // Active OPEN (implied connect), or a SEND in LISTEN (3.10.2).
      openSyn(S, seg);
      checkAck(S, peer, seg, ctx, f);
      return out;
    }
    if (flags & SYN && S.refusedSyn) {
      // Answering a SYN with SYN,ACK needs a passive open first.
      f.push({
        code: 'TT200',
        message: `${me} is CLOSED: it never listened, so it cannot answer a SYN. Add '${me}: listen' before the first event; without it ${me} answers the SYN with a RST.`,
        at: 'flags',
        fix: { kind: 'listen' },
      });
      // Recover as if it had listened: the SYN took it to SYN_RCVD.
      const irs = S.refusedSyn.seq;
      S.passive = true;
      S.irs = irs;
      S.rcvNxt = seqAdd(irs, 1);
      S.state = SYN_RCVD;
      S.owedRst = undefined;
      S.refusedSyn = undefined;
      synAckFromSynRcvd(S, peer, seg, ctx, f);
      return out;
    }
    if (flags & SYN && s === LISTEN && peer.iss !== undefined && peer.state === SYN_SENT) {
      f.push({
        code: 'TT200',
        message: `${me} is LISTEN: ${ctx.peer}'s SYN has not arrived (it is still in flight or was lost), so there is nothing to answer with SYN,ACK.`,
        at: 'flags',
      });
      // Recover as if the SYN had arrived.
      S.irs = peer.iss;
      S.rcvNxt = seqAdd(peer.iss, 1);
      S.state = SYN_RCVD;
      synAckFromSynRcvd(S, peer, seg, ctx, f);
      return out;
    }
    f.push({
      code: 'TT200',
      message:
        s === CLOSED
          ? `${me} is CLOSED: no connection exists, so it can only send a SYN (connect) or a RST answering a segment that arrived.`
          : `${me} is LISTEN: it waits for a SYN; it can only send a RST (to refuse an ACK) or a SYN of its own.`,
      at: 'flags',
      related: S.lastDropped ? { ...S.lastDropped.ref, message: S.lastDropped.why } : undefined,
    });
    return out;
  }

  if (s === SYN_SENT) {
    if (flags & SYN && !(flags & ACK)) {
      if (seg.len === 0 && !(flags & FIN)) {
        if (S.iss === undefined) openSyn(S, seg);
        else retransmitSyn(S, seg, ctx, f);
        return out;
      }
    }
    const why = S.lastDropped
      ? `the segment at line ${S.lastDropped.ref.line + 1} was refused: ${S.lastDropped.why}`
      : `it has not received ${ctx.peer}'s SYN,ACK yet`;
    f.push({
      code: 'TT200',
      message: `${me} is still ${st(ctx, SYN_SENT)} because ${why}. Until a valid SYN,ACK arrives it can only retransmit its SYN${S.iss !== undefined ? ` (seq=${ctx.num('me', S.iss)})` : ''}.`,
      at: 'flags',
      related: S.lastDropped ? { ...S.lastDropped.ref, message: S.lastDropped.why } : undefined,
    });
    if (flags & ACK && !(flags & (SYN | RST)) && peer.iss !== undefined && seg.ack === seqAdd(peer.iss, 1) && S.iss !== undefined) {
      // The sender takes the state its segment implies: acknowledging the peer's SYN, it acts as if the
      // handshake completed. Going on from ESTABLISHED keeps one slip from flagging every later line.
      S.irs = peer.iss;
      S.rcvNxt = seqAdd(peer.iss, 1);
      S.sndUna = S.sndNxt;
      S.owedRst = undefined;
      S.state = ESTABLISHED;
      S.peerWin = peer.advWin;
      S.peerWinAck = S.sndNxt;
    } else return out;
  }

  if (s !== SYN_RCVD && flags & SYN) {
    f.push({
      code: 'TT200',
      message: `${me} is ${st(ctx, s)}: a SYN belongs to a new connection; this one is already synchronized.`,
      at: 'flags',
    });
    return out;
  }

  // SYN_RCVD and the synchronized states: everything but a RST carries ACK.
  if (!(flags & ACK)) {
    f.push({
      code: 'TT203',
      message: `${me} is ${st(ctx, s)}: every segment but a RST carries ACK once the peer's SYN has arrived${S.rcvNxt !== undefined ? ` (here ack=${ctx.num('peer', S.rcvNxt)})` : ''}.`,
      at: 'flags',
      fix: { kind: 'addAck', value: S.rcvNxt },
    });
    // Go on as the fix would: without ACK the receiver would drop it and every later line would cascade.
    seg.flags |= ACK;
    seg.ack ??= S.rcvNxt;
  }

  if (s === SYN_RCVD) {
    if (flags & SYN) {
      synAckFromSynRcvd(S, peer, seg, ctx, f);
      return out;
    }
    if (S.iss === undefined) {
      f.push({
        code: 'TT200',
        message: `${me} is ${st(ctx, s)}: it must answer the SYN with its own SYN,ACK before anything else.`,
        at: 'flags',
      });
      return out;
    }
    if (seg.len > 0 && !S.fastOpen) {
      f.push({
        code: 'TT200',
        message: `${me} is ${st(ctx, s)}: data cannot be sent before the handshake completes (RFC 9293 queues it until ESTABLISHED; only a TCP Fast Open server, which accepted data on the SYN, may).`,
        at: 'len',
      });
      seg.len = 0;
    }
  }

  // --- sequence number ---
  checkSeq(S, seg, ctx, out);
  // --- acknowledgment ---
  checkAck(S, peer, seg, ctx, f);

  // --- effects on the sender ---
  if (out.refused) return out; // "connection closing": the data never goes out
  const end = seqAdd(seg.seq, seg.len);
  if (seg.len > 0 && S.sndNxt !== undefined && seqGt(end, S.sndNxt)) {
    S.sendQueued = Math.max(0, S.sendQueued - seqDiff(end, S.sndNxt));
    if (S.sendQueued === 0) S.sendRef = undefined;
  }
  if (flags & FIN) {
    const finAt = end;
    if (S.finSeq === undefined) {
      S.finSeq = finAt;
      S.finPending = false;
      S.pendingClose = undefined;
      // An implied CLOSE (4.1): ESTABLISHED or SYN_RCVD -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK.
      if (S.state === ESTABLISHED || S.state === SYN_RCVD) S.state = FIN_WAIT_1;
      else if (S.state === CLOSE_WAIT) S.state = LAST_ACK;
    }
    advanceSndNxt(S, seqAdd(finAt, 1));
  } else if (seg.len > 0) {
    advanceSndNxt(S, end);
  }
  return out;
}

function advanceSndNxt(S: Tcb, to: number): void {
  if (S.sndNxt === undefined || seqGt(to, S.sndNxt)) S.sndNxt = to;
}

/** A first SYN: the ISS is chosen (active OPEN, 3.10.1). */
function openSyn(S: Tcb, seg: Seg): void {
  // From LISTEN this is a SEND that turns the passive open into an active one (3.10.2).
  S.state = SYN_SENT;
  S.passive = false;
  S.iss = seg.seq;
  S.sndUna = seg.seq;
  S.sndNxt = seqAdd(seg.seq, 1 + seg.len);
  S.pendingConnect = undefined;
  S.wscaleSent = seg.wscale;
  S.refusedSyn = undefined;
  S.owedRst = undefined;
  if (seg.win !== undefined) {
    S.advWin = seg.win;
    S.advAt = undefined;
  }
}

function retransmitSyn(S: Tcb, seg: Seg, ctx: Ctx, f: Finding[]): void {
  if (S.iss !== undefined && seg.seq !== S.iss) {
    f.push({
      code: 'TT307',
      message: `A retransmitted SYN keeps its ISN: ${ctx.me} chose seq=${ctx.num('me', S.iss)} for its first SYN; a new ISN would start another connection.`,
      at: 'seq',
      fix: { kind: 'seq', value: S.iss },
    });
    // The sender goes on with the ISN its segment shows (what the following lines will use).
    S.iss = seg.seq;
    S.sndUna = seg.seq;
    S.sndNxt = seqAdd(seg.seq, 1);
  } else {
    f.push({ code: 'TT303', message: `Retransmission of ${ctx.me}'s SYN (seq=${ctx.num('me', seg.seq)}).`, at: 'seq' });
  }
  S.rtoPending = false;
}

/** SYN,ACK from SYN_RCVD: the first one picks the ISS, later ones retransmit it. */
function synAckFromSynRcvd(S: Tcb, peer: Tcb, seg: Seg, ctx: Ctx, f: Finding[]): void {
  const dataAt = S.synDataAt;
  if (dataAt !== undefined && !S.synAckSent) {
    // The first SYN,ACK answers the data on the SYN: accepted (RFC 7413: then we may send data
    // before the handshake completes), or, acknowledging only the SYN, dropped: the peer sends it again.
    if (seg.ack === dataAt) S.rcvNxt = dataAt;
    else if (seg.ack === S.rcvNxt) S.fastOpen = true;
    S.synDataAt = undefined;
  }
  if (S.iss === undefined) {
    S.iss = seg.seq;
    S.sndUna = seg.seq;
    // Data on the SYN,ACK (RFC 7413 allows it) follows the SYN, as on a SYN (openSyn).
    S.sndNxt = seqAdd(seg.seq, 1 + seg.len);
    S.wscaleSent = seg.wscale;
    S.pendingConnect = undefined;
  } else if (!S.synAckSent && seg.seq === S.iss) {
    // After crossing SYNs the SYN,ACK repeats our ISS: it is the answer, not a retransmission.
  } else {
    retransmitSyn(S, seg, ctx, f);
  }
  S.synAckSent = true;
  if (seg.win !== undefined) {
    S.advWin = seg.win;
    S.advAt = S.rcvNxt;
  }
  checkAck(S, peer, seg, ctx, f);
}

function sendRst(S: Tcb, peer: Tcb, seg: Seg, ctx: Ctx, out: SendOutcome): void {
  const s = S.state;
  const f = out.findings;
  if (S.abortRst && s === CLOSED) {
    // The RST that ABORT sends (3.10.5), from the deleted TCB.
    S.abortRst = undefined;
    return;
  }
  if (S.owedRst && (s === CLOSED || s === LISTEN || s === SYN_SENT || s === SYN_RCVD)) {
    // The reset that answers an unacceptable segment (3.10.7.1-3.10.7.4): state unchanged.
    const owed = S.owedRst;
    S.owedRst = undefined;
    S.refusedSyn = undefined;
    if (owed.ack !== undefined && seg.ack !== undefined && seg.ack !== owed.ack) {
      f.push({
        code: 'TT302',
        message: `The RST answering that segment acknowledges exactly what it occupied: ack=${ctx.num('peer', owed.ack)} (SYN and FIN count one each).`,
        at: 'ack',
        fix: { kind: 'ack', value: owed.ack },
      });
    }
    return;
  }
  if (s === CLOSED || s === LISTEN || s === SYN_SENT) {
    f.push({
      code: 'TT200',
      message: `${ctx.me} is ${st(ctx, s)}: a RST from this state only answers a segment that arrived (nothing is waiting for one).`,
      at: 'flags',
    });
    return;
  }
  // ABORT implied by a RST from SYN_RCVD or a synchronized state. Its receiver ignores the ACK field
  // (RFC 5961 3.2), but what the sender claims to have received is still judged like any ack.
  if (seg.ack !== undefined) checkAck(S, peer, seg, ctx, f);
  S.reset();
}

/**
 * The sequence number: new data or a FIN starts at SND.NXT; below it is a
 * retransmission (or a keep-alive / zero-window probe); above it a gap.
 */
function checkSeq(S: Tcb, seg: Seg, ctx: Ctx, out: SendOutcome): void {
  const f = out.findings;
  const nxt = S.sndNxt;
  const una = S.sndUna;
  if (nxt === undefined || S.iss === undefined) return;
  const hasFin = (seg.flags & FIN) !== 0;
  const occupies = seg.len + (hasFin ? 1 : 0);
  const end = seqAdd(seg.seq, occupies);
  const dataStart = seqAdd(S.iss, 1);
  const peerWindowZero = S.peerWin === 0;

  // After our FIN nothing new may follow (3.10.2: "connection closing").
  if (S.finSeq !== undefined) {
    const finEnd = seqAdd(S.finSeq, 1);
    if (seqGt(end, finEnd) || (hasFin && seg.seq !== seqAdd(S.finSeq, -seg.len)) || (seg.len > 0 && seqGt(seqAdd(seg.seq, seg.len), S.finSeq))) {
      f.push({
        code: 'TT204',
        message: `${ctx.me} already sent its FIN (seq=${ctx.num('me', S.finSeq)}): after a FIN no new data or FIN may follow; only retransmissions of what was sent.`,
        at: seg.len > 0 ? 'len' : 'flags',
      });
      out.refused = true;
      return;
    }
  }

  if (seg.seq === nxt) {
    if (seg.len === 1 && peerWindowZero && !hasFin) {
      f.push({ code: 'TT402', message: `Zero-window probe: ${ctx.peer} advertised a zero window, so ${ctx.me} sends one byte to learn when it opens.`, at: 'seq' });
    }
    return;
  }

  if (seqGt(seg.seq, nxt)) {
    if (occupies === 0 && !ctx.capture) {
      f.push({
        code: 'TT300',
        message: `A segment without data carries seq = SND.NXT: ${ctx.me} has sent up to ${ctx.num('me', nxt)}, so seq=${ctx.num('me', nxt)}.`,
        at: 'seq',
        fix: { kind: 'seq', value: nxt },
      });
      seg.seq = nxt;
      return;
    }
    f.push({
      code: 'TT300',
      message: ctx.capture
        ? `Sequence gap: ${ctx.me} had sent up to ${ctx.num('me', nxt)}, this segment starts at ${ctx.num('me', seg.seq)}; the capture missed ${bytes(seqDiff(seg.seq, nxt))}.`
        : `Sequence gap: new ${seg.len > 0 ? 'data' : 'FIN'} starts at SND.NXT; ${ctx.me} has sent up to ${ctx.num('me', nxt)}, so seq=${ctx.num('me', nxt)}, not ${ctx.num('me', seg.seq)} (${bytes(seqDiff(seg.seq, nxt))} never sent).`,
      at: 'seq',
      fix: { kind: 'seq', value: nxt },
    });
    // Go on from the numbers the segment uses: in a capture the skipped bytes are segments it
    // missed; in a hand-written trace the lines after a slip usually continue from it. Either way the
    // receiver is taken to have the skipped bytes, so that one slip gives one diagnostic.
    out.gapFill = nxt;
    advanceSndNxt(S, seg.seq);
    return;
  }

  // seq < SND.NXT
  if (occupies === 0) {
    // RFC 1122 4.2.3.6 keep-alive, Linux's zero-window probe: seq = SND.UNA-1. A probe never
    // acknowledges data it has newly received; a segment that does, with seq = SND.UNA-1, is the
    // "SYN consumes one number" slip (the handshake's last ACK written with seq=ISS). A wrong ack
    // on a probe is reported on the ack only.
    const acksNew =
      seg.ack !== undefined && S.rcvNxt !== undefined && (S.lastAckSent === undefined || seqGt(seg.ack, S.lastAckSent)) && seqLe(seg.ack, S.rcvNxt);
    if (una !== undefined && seg.seq === seqAdd(una, -1) && (ctx.capture || !acksNew) && seqGe(una, dataStart)) {
      f.push(
        peerWindowZero
          ? { code: 'TT402', message: `Zero-window probe: seq=${ctx.num('me', seg.seq)} is SND.UNA-1, an old byte, so that ${ctx.peer} answers with its current window.`, at: 'seq' }
          : { code: 'TT405', message: `Keep-alive: seq=${ctx.num('me', seg.seq)} is SND.UNA-1 (RFC 1122 4.2.3.6), so that ${ctx.peer} answers with an ACK if it is still there.`, at: 'seq' },
      );
      return;
    }
    if (ctx.capture || S.rtoPending || (una !== undefined && seqGe(seg.seq, una))) {
      // After a retransmission timeout the sender goes back to SND.UNA (go-back-N).
      if (ctx.capture || S.rtoPending) return;
    }
    f.push({
      code: seg.seq === S.iss ? 'TT302' : 'TT300',
      message:
        seg.seq === S.iss
          ? `SYN consumes one sequence number: after SYN seq=${ctx.num('me', S.iss)}, ${ctx.me}'s next seq is ${ctx.num('me', nxt)}.`
          : `A segment without data carries seq = SND.NXT: ${ctx.me} has sent up to ${ctx.num('me', nxt)}, so seq=${ctx.num('me', nxt)}.`,
      at: 'seq',
      fix: { kind: 'seq', value: nxt },
    });
    seg.seq = nxt;
    return;
  }

  if (seqLt(seg.seq, dataStart)) {
    f.push({
      code: 'TT300',
      message: `SYN consumes one sequence number: ${ctx.me}'s data starts at ${ctx.num('me', dataStart)}, not ${ctx.num('me', seg.seq)}; here seq=${ctx.num('me', nxt)}.`,
      at: 'seq',
      fix: { kind: 'seq', value: nxt },
    });
    seg.seq = nxt;
    return;
  }
  if (!ctx.capture && !S.rtoPending && seqGt(end, nxt)) {
    // Real stacks may repacketize after a timeout, but in a hand-written trace old bytes plus new ones is an off-by-one.
    f.push({
      code: 'TT300',
      message: `New data starts at SND.NXT: ${ctx.me} has sent up to ${ctx.num('me', nxt)}, so seq=${ctx.num('me', nxt)}; seq=${ctx.num('me', seg.seq)} repeats ${bytes(seqDiff(nxt, seg.seq))} already sent.`,
      at: 'seq',
      fix: { kind: 'seq', value: nxt },
    });
    seg.seq = nxt;
    return;
  }
  // A retransmission of bytes already sent (maybe with new data after them).
  const zwpByte = seg.len === 1 && peerWindowZero && una !== undefined && seg.seq === una;
  f.push(
    zwpByte
      ? { code: 'TT402', message: `Zero-window probe: ${ctx.peer}'s window is zero, so ${ctx.me} repeats one byte at SND.UNA to learn when it opens.`, at: 'seq' }
      : { code: 'TT303', message: `Retransmission: ${ctx.me} already sent ${ctx.num('me', seg.seq)}-${ctx.num('me', end)} (SND.NXT is ${ctx.num('me', nxt)})${S.rtoPending ? ', here after its retransmission timeout' : ''}.`, at: 'seq' },
  );
  S.rtoPending = false;
}

/**
 * The acknowledgment, judged from the sender's side: an endpoint acknowledges
 * exactly what it has received, its RCV.NXT.
 */
function checkAck(S: Tcb, peer: Tcb, seg: Seg, ctx: Ctx, f: Finding[]): void {
  const v = seg.ack;
  if (v === undefined) return;
  const expected = S.rcvNxt;
  if (expected !== undefined && v !== expected) {
    const irs = S.irs;
    const fin = S.peerFin;
    const finIn = fin !== undefined && expected === seqAdd(fin, 1);
    if (irs !== undefined && expected === seqAdd(irs, 1) && (v === irs || v === seqAdd(irs, 2))) {
      f.push({
        code: 'TT302',
        message: `SYN consumes one sequence number: the ACK of SYN seq=${ctx.num('peer', irs)} is ack=${ctx.num('peer', expected)}, not ${ctx.num('peer', v)}.`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
      });
    } else if (finIn && (v === fin || v === seqAdd(fin!, 2))) {
      f.push({
        code: 'TT302',
        message: `FIN consumes one sequence number: ${ctx.peer}'s FIN is at ${ctx.num('peer', fin!)}, so its ACK is ack=${ctx.num('peer', expected)}, not ${ctx.num('peer', v)}.`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
      });
    } else if (peer.sndNxt === undefined || seqGt(v, peer.sndNxt)) {
      f.push({
        code: 'TT301',
        message:
          peer.sndNxt === undefined
            ? `${ctx.peer} has sent nothing yet, so there is nothing for ${ctx.me} to acknowledge.`
            : ctx.capture
              ? `ack=${ctx.num('peer', v)} acknowledges data ${ctx.peer} was not seen sending (it sent up to ${ctx.num('peer', peer.sndNxt)}): the capture missed a segment.`
              : `ack=${ctx.num('peer', v)} acknowledges data ${ctx.peer} never sent: it has sent up to ${ctx.num('peer', peer.sndNxt)}, and ${ctx.me} has received up to ${ctx.num('peer', expected)}, so ack=${ctx.num('peer', expected)}.`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
      });
    } else if (seqGt(v, expected)) {
      f.push({
        code: 'TT301',
        message: `${ctx.me} has received only up to ${ctx.num('peer', expected)}: bytes from there to ${ctx.num('peer', v)} were sent but have not arrived (lost or still in flight), so ack=${ctx.num('peer', expected)}.`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
        related: S.lastDropped ? { ...S.lastDropped.ref, message: S.lastDropped.why } : undefined,
      });
    } else if (S.lastAckSent !== undefined && seqLt(v, S.lastAckSent)) {
      f.push({
        code: 'TT306',
        message: `Acknowledgment goes backwards: ${ctx.me} already acknowledged up to ${ctx.num('peer', S.lastAckSent)}, and an ACK never takes that back; ack=${ctx.num('peer', v)} is below it (here it is ack=${ctx.num('peer', expected)}).`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
      });
    } else if (!ctx.capture) {
      f.push({
        code: 'TT308',
        message: `${ctx.me} has received everything up to ${ctx.num('peer', expected)}, so it acknowledges ack=${ctx.num('peer', expected)}; ack=${ctx.num('peer', v)} leaves ${bytes(seqDiff(expected, v))} received but unacknowledged.`,
        at: 'ack',
        fix: { kind: 'ack', value: expected },
      });
    }
  } else if (
    expected !== undefined &&
    v === S.lastAckSent &&
    seg.len === 0 &&
    !(seg.flags & (SYN | FIN | RST)) &&
    S.ooo.length > 0 &&
    seg.win === S.lastWinSent
  ) {
    f.push({ code: 'TT304', message: `Duplicate ACK: ${ctx.me} repeats ack=${ctx.num('peer', v)} because data arrived out of order beyond it; three in a row trigger fast retransmit.`, at: 'ack' });
  }
  if (seg.win === 0 && S.lastWinSent !== 0) {
    f.push({ code: 'TT401', message: `Zero window: ${ctx.me} has no room left, so ${ctx.peer} must stop sending data (it may probe).`, at: 'win' });
  }
  S.lastAckSent = v;
  // Each ACK advertises the window again from its ack (the last win= given, if this one has none).
  S.advAt = v;
  if (seg.win !== undefined) {
    S.lastWinSent = seg.win;
    S.advWin = seg.flags & SYN || !S.scaling ? seg.win : scaleWindow(seg.win, S.wscaleSent);
  }
  S.owedAck = false;
  // Any acknowledgment answers what arrived; a wrong value is diagnosed above, not here again.
  S.unanswered = undefined;
}

// ---------------------------------------------------------------------------
// 3.10.7  SEGMENT ARRIVES
// ---------------------------------------------------------------------------

export interface ArrivalOutcome {
  findings: Finding[];
  /** The receiver moved to another connection state. */
  changed: boolean;
}

/** Processes an arriving segment exactly as 3.10.7 prescribes for the receiver's state. */
export function segmentArrives(R: Tcb, seg: Seg, ctx: Ctx, gapFill: number | undefined): ArrivalOutcome {
  const before = R.state;
  const f: Finding[] = [];
  R.used = true;
  R.lastDropped = undefined; // set again below if this one is dropped
  switch (R.state) {
    case CLOSED:
      arrivesClosed(R, seg, ctx, f);
      break;
    case LISTEN:
      arrivesListen(R, seg, ctx);
      break;
    case SYN_SENT:
      arrivesSynSent(R, seg, ctx);
      break;
    default:
      arrivesSynchronized(R, seg, ctx, f, gapFill);
  }
  return { findings: f, changed: R.state !== before };
}

/** 3.10.7.1 CLOSED: all data is discarded; anything but a RST is answered by a RST. */
function arrivesClosed(R: Tcb, seg: Seg, ctx: Ctx, f: Finding[]): void {
  if (seg.flags & RST) return;
  const rst = seg.flags & ACK && seg.ack !== undefined ? { seq: seg.ack, ack: undefined } : { seq: 0, ack: seqAdd(seg.seq, segLen(seg)) };
  R.owedRst = { ...rst, ref: seg.ref };
  if (seg.flags & SYN && !(seg.flags & ACK)) R.refusedSyn = { seq: seg.seq, ref: seg.ref, diagIndex: -1 };
  R.lastDropped = { ref: seg.ref, why: `it arrived while ${ctx.me} was CLOSED` };
  f.push({
    code: 'TT202',
    message: `${ctx.me} is CLOSED: the segment is refused with a RST (${rst.ack === undefined ? `seq=${rst.seq}` : `RST,ACK seq=0 ack=${ctx.num('peer', rst.ack)}`})${seg.flags & SYN ? `; to accept connections ${ctx.me} must listen first` : ''}.`,
    at: 'arrival',
  });
}

/** 3.10.7.2 LISTEN. */
function arrivesListen(R: Tcb, seg: Seg, ctx: Ctx): void {
  if (seg.flags & RST) return; // first: an incoming RST is ignored
  if (seg.flags & ACK) {
    // second: any ACK is bad in LISTEN; answer <SEQ=SEG.ACK><CTL=RST>
    R.owedRst = { seq: seg.ack ?? 0, ack: undefined, ref: seg.ref };
    R.lastDropped = { ref: seg.ref, why: `${ctx.me} was LISTEN, where an ACK is answered by a RST` };
    return;
  }
  if (seg.flags & SYN) {
    // third: a SYN; RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ; SYN,ACK follows; enter SYN-RECEIVED.
    R.irs = seg.seq;
    R.rcvNxt = seqAdd(seg.seq, 1 + seg.len);
    // Data on the SYN (TCP Fast Open): taken as received until our SYN,ACK says otherwise.
    R.synDataAt = seg.len > 0 ? seqAdd(seg.seq, 1) : undefined;
    R.state = SYN_RCVD;
    R.wscaleRcvd = seg.wscale;
    takePeerWindow(R, seg, true);
    R.unanswered = { ref: seg.ref, what: 'SYN', ackNeeded: R.rcvNxt };
    return;
  }
  // fourth: other text or control: drop it.
  R.lastDropped = { ref: seg.ref, why: `${ctx.me} was LISTEN, which drops anything but a SYN` };
}

/** 3.10.7.3 SYN-SENT. */
function arrivesSynSent(R: Tcb, seg: Seg, ctx: Ctx): void {
  const iss = R.iss;
  let ackOk = false;
  if (seg.flags & ACK && seg.ack !== undefined && iss !== undefined && R.sndNxt !== undefined) {
    // first: the ACK must satisfy ISS < SEG.ACK =< SND.NXT
    if (seqLe(seg.ack, iss) || seqGt(seg.ack, R.sndNxt)) {
      if (!(seg.flags & RST)) R.owedRst = { seq: seg.ack, ack: undefined, ref: seg.ref };
      R.lastDropped = {
        ref: seg.ref,
        why: `its ack=${ctx.num('me', seg.ack)} does not acknowledge ${ctx.me}'s SYN, which needs ack=${ctx.num('me', seqAdd(iss, 1))}; ${ctx.me} answers it with a RST`,
      };
      return;
    }
    ackOk = true;
  }
  if (seg.flags & RST) {
    // second: a RST with an acceptable ACK resets the connection (refused); without ACK it is dropped.
    if (ackOk) {
      R.reset();
    } else {
      R.lastDropped = { ref: seg.ref, why: 'a RST without an acceptable ACK is dropped in SYN_SENT' };
    }
    return;
  }
  if (seg.flags & SYN) {
    // fourth: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ; SND.UNA = SEG.ACK if ACK.
    R.irs = seg.seq;
    R.rcvNxt = seqAdd(seg.seq, 1 + seg.len);
    R.wscaleRcvd = seg.wscale;
    if (R.wscaleSent !== undefined && seg.wscale === undefined) R.wscaleSent = undefined; // RFC 7323: both or neither
    if (R.advWin !== undefined && R.advAt === undefined) R.advAt = R.rcvNxt;
    if (ackOk) {
      R.sndUna = seg.ack;
      takePeerWindow(R, seg, true);
      R.state = ESTABLISHED;
      R.unanswered = { ref: seg.ref, what: 'SYN,ACK', ackNeeded: R.rcvNxt };
    } else {
      // Simultaneous open: enter SYN-RECEIVED and send SYN,ACK (same ISS).
      takePeerWindow(R, seg, true);
      R.state = SYN_RCVD;
      R.passive = false;
      R.unanswered = { ref: seg.ref, what: 'SYN', ackNeeded: R.rcvNxt };
    }
    return;
  }
  R.lastDropped = { ref: seg.ref, why: `${ctx.me} was ${st(ctx, SYN_SENT)}, which drops segments without SYN or RST` };
}

function takePeerWindow(R: Tcb, seg: Seg, isSyn: boolean): void {
  if (seg.win === undefined) return;
  // RFC 7323: the window in a SYN is never scaled; later ones are, once both SYNs agreed.
  R.peerWin = isSyn || !R.scaling ? seg.win : scaleWindow(seg.win, R.wscaleRcvd);
  R.peerWinAck = seg.flags & ACK && seg.ack !== undefined ? seg.ack : R.sndUna;
}

/** The acceptability test of 3.10.7.4 (first check), on RCV.NXT and RCV.WND. */
function acceptable(R: Tcb, seg: Seg): boolean {
  const nxt = R.rcvNxt!;
  const wnd = R.rcvWnd!;
  const len = segLen(seg);
  const right = seqAdd(nxt, wnd);
  if (len === 0) return wnd === 0 ? seg.seq === nxt : inWindow(seg.seq, nxt, right);
  if (wnd === 0) return false;
  return inWindow(seg.seq, nxt, right) || inWindow(seqAdd(seg.seq, len - 1), nxt, right);
}

/** RCV.NXT =< x < right (a plain function, not a closure: this runs for every segment that arrives). */
function inWindow(x: number, nxt: number, right: number): boolean {
  return seqLe(nxt, x) && seqLt(x, right);
}

/** 3.10.7.4 Other states: SYN-RECEIVED and the synchronized states. */
function arrivesSynchronized(R: Tcb, seg: Seg, ctx: Ctx, f: Finding[], gapFill: number | undefined): void {
  const s = R.state;
  if (R.rcvNxt === undefined) return;
  if (gapFill !== undefined && seqLt(R.rcvNxt, seg.seq) && seqLe(R.rcvNxt, gapFill)) {
    // A capture missed bytes that this receiver did get.
    R.rcvNxt = seg.seq;
  }

  // RFC 6191: a new SYN to TIME-WAIT above RCV.NXT may start a new incarnation.
  if (s === TIME_WAIT && seg.flags & SYN && !(seg.flags & ACK) && seqGt(seg.seq, R.rcvNxt)) {
    f.push({ code: 'TT208', message: `A new connection reuses the 4-tuple while ${ctx.me} is in TIME_WAIT: its SYN (seq=${ctx.num('peer', seg.seq)}) is above RCV.NXT, so ${ctx.me} accepts it (RFC 6191).`, at: 'arrival' });
    const passive = true;
    R.reset();
    R.passive = passive;
    R.state = LISTEN;
    arrivesListen(R, seg, ctx);
    return;
  }

  // TIME-WAIT: "The only thing that can arrive in this state is a retransmission of the remote
  // FIN. Acknowledge it, and restart the 2 MSL timeout." It sits below RCV.NXT, so it is handled
  // before the acceptability test would drop it.
  if (s === TIME_WAIT && seg.flags & FIN && !(seg.flags & (RST | SYN)) && R.peerFin !== undefined && seqAdd(seg.seq, seg.len) === R.peerFin) {
    R.owedAck = true;
    R.timeWaitSince = undefined;
    return;
  }

  // RFC 9293 Figure 8 (as Linux does): after crossing SYNs, a SYN,ACK that acknowledges our SYN establishes.
  if (s === SYN_RCVD && !R.passive && seg.flags & SYN && seg.flags & ACK && seg.seq === R.irs && seg.ack !== undefined && R.iss !== undefined) {
    if (seg.ack === R.sndNxt) {
      R.sndUna = seg.ack;
      takePeerWindow(R, seg, true);
      R.state = ESTABLISHED;
      R.unanswered = undefined;
      return;
    }
  }

  // first: check the sequence number
  if (!acceptable(R, seg)) {
    if (seg.flags & RST) {
      f.push({ code: 'TT404', message: `RST outside ${ctx.me}'s receive window (seq=${ctx.num('peer', seg.seq)}, RCV.NXT=${ctx.num('peer', R.rcvNxt)}): dropped silently (RFC 5961 3.2).`, at: 'arrival' });
      R.lastDropped = { ref: seg.ref, why: 'a RST outside the window is dropped' };
      return;
    }
    if (seg.flags & SYN) {
      challengeSyn(R, seg, ctx, f);
      return;
    }
    const len = segLen(seg);
    const wnd = R.rcvWnd ?? 0;
    if (len > 0 && seqGe(seg.seq, R.rcvNxt) && !(wnd === 0 && seg.len <= 1 && seg.seq === R.rcvNxt)) {
      f.push({
        code: 'TT400',
        message: `${ctx.me}'s receive window ${wnd === 0 ? 'is full (no room left)' : `has ${wnd} bytes from RCV.NXT=${ctx.num('peer', R.rcvNxt)}`}: data at ${ctx.num('peer', seg.seq)}-${ctx.num('peer', seqAdd(seg.seq, seg.len))} lies beyond it and is dropped; the ACK answering it repeats the window.`,
        at: 'len',
      });
    }
    // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply."
    R.owedAck = true;
    R.lastDropped = { ref: seg.ref, why: `seq=${ctx.num('peer', seg.seq)} is not acceptable at RCV.NXT=${ctx.num('peer', R.rcvNxt)} (old or outside the window)` };
    R.unanswered ??= { ref: seg.ref, what: 'segment', ackNeeded: undefined };
    return;
  }

  // second: check the RST bit (RFC 5961 3.2)
  if (seg.flags & RST) {
    if (seg.seq !== R.rcvNxt) {
      f.push({ code: 'TT404', message: `RST in the window but not at RCV.NXT=${ctx.num('peer', R.rcvNxt)}: ${ctx.me} does not reset; it sends a challenge ACK (RFC 5961 3.2).`, at: 'arrival' });
      R.owedAck = true;
      return;
    }
    if (s === SYN_RCVD && R.passive) {
      // Return to LISTEN.
      R.reset();
      R.state = LISTEN;
      R.passive = true;
    } else {
      R.reset();
    }
    return;
  }

  // fourth: check the SYN bit (RFC 5961 4.2: challenge ACK, wherever it falls)
  if (seg.flags & SYN) {
    challengeSyn(R, seg, ctx, f);
    return;
  }

  // fifth: check the ACK field
  if (!(seg.flags & ACK) || seg.ack === undefined) {
    R.lastDropped = { ref: seg.ref, why: 'a segment without ACK is dropped in this state' };
    return;
  }
  const ack = seg.ack;
  if (s === SYN_RCVD) {
    if (R.sndUna !== undefined && R.sndNxt !== undefined && seqLt(R.sndUna, ack) && seqLe(ack, R.sndNxt)) {
      R.state = ESTABLISHED;
    } else {
      R.owedRst = { seq: ack, ack: undefined, ref: seg.ref };
      R.lastDropped = { ref: seg.ref, why: `its ack=${ctx.num('me', ack)} does not acknowledge ${ctx.me}'s SYN,ACK` };
      return;
    }
  }
  if (R.sndUna !== undefined && R.sndNxt !== undefined) {
    if (seqGt(ack, R.sndNxt)) {
      // ACK of something not yet sent: send an ACK, drop the segment.
      R.owedAck = true;
      R.lastDropped = { ref: seg.ref, why: `it acknowledges data ${ctx.me} never sent` };
      return;
    }
    if (seqGt(ack, R.sndUna)) R.sndUna = ack;
    if (seqGe(ack, R.sndUna)) takePeerWindow(R, seg, false);
  }
  const finAcked = R.finSeq !== undefined && seqGe(ack, seqAdd(R.finSeq, 1));
  if (R.state === FIN_WAIT_1 && finAcked) R.state = FIN_WAIT_2;
  else if (R.state === CLOSING && finAcked) enterTimeWait(R);
  else if (R.state === LAST_ACK && finAcked) {
    R.reset();
    return;
  }

  // seventh: process the segment text; eighth: the FIN bit
  const hasFin = (seg.flags & FIN) !== 0;
  if (seg.len === 0 && !hasFin) return;
  const receiving = R.state === ESTABLISHED || R.state === FIN_WAIT_1 || R.state === FIN_WAIT_2;
  const finAt = seqAdd(seg.seq, seg.len);
  if (hasFin && seqLe(finAt, seqAdd(R.rcvNxt, R.rcvWnd ?? 0))) R.peerFin ??= finAt;
  if (R.state === TIME_WAIT && hasFin) {
    // A retransmitted FIN: acknowledge it again and restart the 2MSL timeout.
    R.owedAck = true;
    R.timeWaitSince = undefined;
    R.unanswered = { ref: seg.ref, what: 'FIN', ackNeeded: R.rcvNxt };
    return;
  }
  if (!receiving && !(hasFin && (R.state === CLOSE_WAIT || R.state === CLOSING || R.state === LAST_ACK))) return;
  if (!receiving) {
    // CLOSE-WAIT, CLOSING, LAST-ACK: the FIN was already processed; a retransmission draws an ACK.
    R.owedAck = true;
    return;
  }
  let end = seqAdd(seg.seq, seg.len);
  const right = seqAdd(R.rcvNxt, R.rcvWnd ?? 0);
  if (seg.len > 0 && seqGt(end, right)) {
    // Only what fits in the window is taken (3.10.7.4: trim to the window); the rest is dropped.
    f.push({
      code: 'TT400',
      message: `${ctx.me}'s window ends at ${ctx.num('peer', right)}: ${seqDiff(end, right)} of these ${bytes(seg.len)} lie beyond it and are dropped (${ctx.me} accepts up to ${ctx.num('peer', right)}).`,
      at: 'len',
    });
    end = right;
  }
  const finFits = hasFin && seqAdd(seg.seq, seg.len) === end;
  if (seqGt(seg.seq, R.rcvNxt)) {
    // Beyond RCV.NXT inside the window: queue it (out of order).
    f.push({ code: 'TT305', message: `Out of order: ${ctx.me} expected seq=${ctx.num('peer', R.rcvNxt)} and got ${ctx.num('peer', seg.seq)}; it queues these bytes until the gap is filled and sends a duplicate ACK.`, at: 'arrival' });
    addOoo(R, seg.seq, finFits ? seqAdd(end, 1) : end);
    R.owedAck = true;
    R.unanswered ??= { ref: seg.ref, what: 'data', ackNeeded: undefined };
    return;
  }
  // In order (possibly overlapping old data): RCV.NXT advances, then over any queued data.
  if (seqGt(end, R.rcvNxt)) R.rcvNxt = end;
  if (finFits && R.rcvNxt === finAt) R.rcvNxt = seqAdd(finAt, 1);
  drainOoo(R);
  R.owedAck = true;
  R.unanswered = { ref: seg.ref, what: hasFin ? 'FIN' : 'data', ackNeeded: R.rcvNxt };
  if (R.peerFin !== undefined && seqGe(R.rcvNxt, seqAdd(R.peerFin, 1))) receiveFin(R);
}

function challengeSyn(R: Tcb, seg: Seg, ctx: Ctx, f: Finding[]): void {
  if (R.state === SYN_RCVD && seg.seq === R.irs && !(seg.flags & ACK)) {
    // A retransmission of the SYN that brought us here: its SYN,ACK was lost; answer it again.
    R.owedAck = true;
    return;
  }
  // An exact copy of the SYN (or SYN,ACK) that opened this connection, late: its sender's
  // retransmission timer fired before our answer arrived. It is acknowledged again; that is
  // no attack to warn about (the sender's side already reports the retransmission).
  const dupSyn = seg.seq === R.irs && (!(seg.flags & ACK) || (R.iss !== undefined && seg.ack === seqAdd(R.iss, 1)));
  if (dupSyn && R.state !== SYN_RCVD) {
    R.owedAck = true;
    return;
  }
  f.push({
    code: 'TT404',
    message: `A SYN to ${ctx.me} in ${st(ctx, R.state)} does not reset or reopen the connection: ${ctx.me} answers with a challenge ACK (RFC 5961 4.2).`,
    at: 'arrival',
  });
  R.owedAck = true;
}

/** The eighth check: the FIN bit, once RCV.NXT has passed it. */
function receiveFin(R: Tcb): void {
  switch (R.state) {
    case SYN_RCVD:
    case ESTABLISHED:
      R.state = CLOSE_WAIT;
      break;
    case FIN_WAIT_1:
      if (R.finSeq !== undefined && R.sndUna !== undefined && seqGe(R.sndUna, seqAdd(R.finSeq, 1))) enterTimeWait(R);
      else R.state = CLOSING;
      break;
    case FIN_WAIT_2:
      enterTimeWait(R);
      break;
  }
}

function enterTimeWait(R: Tcb): void {
  R.state = TIME_WAIT;
  R.timeWaitSince = undefined; // the checker stamps the time
}

function addOoo(R: Tcb, start: number, end: number): void {
  const q = R.ooo;
  const n = q.length;
  // Usually each new out-of-order segment lies beyond the queued ones: append (or extend) in O(1).
  if (n === 0 || seqGt(start, q[n - 1])) {
    q.push(start, end);
    return;
  }
  if (seqGe(start, q[n - 2])) {
    if (seqGt(end, q[n - 1])) q[n - 1] = end;
    return;
  }
  // Otherwise merge into the sorted, disjoint intervals: find the first that ends at or after `start`.
  let lo = 0;
  let hi = n >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqLt(q[mid * 2 + 1], start)) lo = mid + 1;
    else hi = mid;
  }
  const i = lo * 2;
  let j = i;
  while (j < n && seqLe(q[j], end)) {
    if (seqLt(q[j], start)) start = q[j];
    if (seqGt(q[j + 1], end)) end = q[j + 1];
    j += 2;
  }
  q.splice(i, j - i, start, end);
}

function drainOoo(R: Tcb): void {
  const q = R.ooo;
  if (q.length === 0) return;
  let i = 0;
  while (i < q.length && seqLe(q[i], R.rcvNxt!)) {
    if (seqGt(q[i + 1], R.rcvNxt!)) R.rcvNxt = q[i + 1];
    i += 2;
  }
  if (i > 0) R.ooo = q.slice(i);
}
