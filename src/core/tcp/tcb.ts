/** A transmission control block (RFC 9293 3.3.1) plus what the checker must remember about it. */
import { CLOSED, type State } from './states';
import { seqDiff } from './seq';

/** Where a past segment is in the document, for diagnostics that point back to it. */
export interface SegmentRef {
  line: number;
  start: number;
  end: number;
}

/** An answer the RFC obliges this endpoint to send (a RST, or the ACK to an unacceptable segment). */
export interface OwedRst {
  seq: number;
  /** Set when the RST must carry ACK (answer to a segment without ACK). */
  ack: number | undefined;
  ref: SegmentRef;
}

export const DEFAULT_WINDOW = 65535;

export class Tcb {
  state: State = CLOSED;
  /** Came through LISTEN (a passive open): a RST in SYN_RCVD returns it to LISTEN. */
  passive = false;

  iss: number | undefined;
  irs: number | undefined;
  sndUna: number | undefined;
  /** The highest sequence number sent so far plus one (the trace's SND.NXT). */
  sndNxt: number | undefined;
  rcvNxt: number | undefined;

  /** The peer's window as last advertised to us: right edge = peerWinAck + peerWin. */
  peerWin: number | undefined;
  peerWinAck: number | undefined;
  /** Our window as last advertised: right edge = advAt + advWin (advAt = our RCV.NXT then). */
  advWin: number | undefined;
  advAt: number | undefined;

  /** Window scale shifts from the SYNs (RFC 7323); scaling is on once both are known. */
  wscaleSent: number | undefined;
  wscaleRcvd: number | undefined;

  /** Our SYN,ACK went out (a later one is a retransmission). */
  synAckSent = false;
  /**
   * The SYN that arrived in LISTEN carried data, from here (its seq + 1) to RCV.NXT. Our first
   * SYN,ACK says what became of it: acknowledged, it was accepted (TCP Fast Open, RFC 7413);
   * acknowledging only the SYN, it was dropped (as Linux does without a valid Fast Open cookie),
   * and the peer sends it again.
   */
  synDataAt: number | undefined;
  /** We accepted data on the peer's SYN (TCP Fast Open): we may send data before the handshake completes. */
  fastOpen = false;
  /** Sequence number of our FIN once sent. */
  finSeq: number | undefined;
  /** close/shutdown was called and the FIN is not sent yet. */
  finPending = false;
  /** Sequence number of the peer's FIN once received (in order or queued). */
  peerFin: number | undefined;
  /** Out-of-order data received beyond RCV.NXT: sorted, disjoint [start, end) pairs. */
  ooo: number[] = [];

  lastAckSent: number | undefined;
  lastWinSent: number | undefined;
  /** Answers owed by the RFC to segments that arrived. */
  owedRst: OwedRst | undefined;
  owedAck = false;
  /** A SYN that arrived while CLOSED: if we now answer it with SYN,ACK, the listen is missing. */
  refusedSyn: { seq: number; ref: SegmentRef; diagIndex: number } | undefined;
  /** After abort: the RST that must follow, sent from CLOSED. */
  abortRst: { seq: number; ack: number | undefined; ref: SegmentRef; optional: boolean } | undefined;
  /** When TIME_WAIT started (seconds), for 2MSL. */
  timeWaitSince: number | undefined;
  /** A connect call waiting for its SYN. */
  pendingConnect: SegmentRef | undefined;
  /** A close/shutdown call waiting for its FIN. */
  pendingClose: SegmentRef | undefined;
  /** Bytes given to `send` not yet seen in segments, and the call that queued the oldest. */
  sendQueued = 0;
  sendRef: SegmentRef | undefined;
  /** `rto` was called: the next segment may be a retransmission. */
  rtoPending = false;
  /** A received segment that needs an answer (SYN, FIN, data) not given yet, and what acknowledges it. */
  unanswered: { ref: SegmentRef; what: string; ackNeeded: number | undefined } | undefined;
  /**
   * Segments sent (SYN, FIN, data) not yet acknowledged, as flat quintuples
   * [end seq, line, start column, end column, start seq], oldest first from `unackedHead`.
   */
  unacked: number[] = [];
  unackedHead = 0;
  socketCalled = false;
  /** Something happened on this endpoint (for `socket`, which must come first). */
  used = false;
  /** The last segment this endpoint received that it dropped, to explain consequences. */
  lastDropped: { ref: SegmentRef; why: string } | undefined;

  /** SND.WND as this endpoint sees it: the peer's window from SND.UNA. */
  get sndWnd(): number | undefined {
    if (this.peerWin === undefined || this.peerWinAck === undefined || this.sndUna === undefined) return this.peerWin;
    return Math.max(0, this.peerWin + seqDiff(this.peerWinAck, this.sndUna));
  }

  /**
   * RCV.WND: what this endpoint can still accept beyond RCV.NXT. An endpoint whose trace never
   * gives `win=` is taken to advertise 65535 (the largest unscaled window) with each ACK.
   */
  get rcvWnd(): number | undefined {
    if (this.rcvNxt === undefined) return undefined;
    const at = this.advAt ?? this.rcvNxt;
    return Math.max(0, (this.advWin ?? DEFAULT_WINDOW) + seqDiff(at, this.rcvNxt));
  }

  /** Both SYNs carried wscale: windows after the SYNs are scaled. */
  get scaling(): boolean {
    return this.wscaleSent !== undefined && this.wscaleRcvd !== undefined;
  }

  /** Forgets the connection (the TCB is deleted on CLOSED); what the checker still needs is kept by the caller. */
  reset(): void {
    const abortRst = this.abortRst;
    const socketCalled = this.socketCalled;
    Object.assign(this, new Tcb());
    this.abortRst = abortRst;
    this.socketCalled = socketCalled;
    this.used = true;
  }
}
