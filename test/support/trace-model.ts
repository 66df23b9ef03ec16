/**
 * An independent model of two correct TCP endpoints that writes `.tcptrace`
 * text: the oracle for the property tests and the source of the benchmark
 * traces.
 *
 * It deliberately imports nothing from `src/`: it has its own control blocks,
 * its own serial-number arithmetic and its own reading of RFC 9293 (3.10.7,
 * "SEGMENT ARRIVES"), RFC 5961, RFC 7323 (window scaling) and RFC 1122, so that
 * a bug shared with the checker cannot hide. States are socket-spelling names.
 *
 * Every trace it writes is correct: no error or warning is expected, every
 * `expect` holds, and the states and numbers after each event are recorded so
 * that a test can compare them with the checker's timeline. The model only
 * generates what it is sure of; anything RFC 9293 leaves open (a dup SYN in
 * SYN_RCVD, segments that straddle SND.NXT, ...) is simply never produced.
 */

// ---------------------------------------------------------------- numbers

const MOD = 0x1_0000_0000;

/** (a + b) mod 2^32. */
function add(a: number, b: number): number {
  return (a + b) % MOD >>> 0;
}
/** (a - b) mod 2^32. */
function sub(a: number, b: number): number {
  return (((a - b) % MOD) + MOD) % MOD;
}
/** Serial-number comparison (RFC 9293 3.4): a < b. */
function lt(a: number, b: number): boolean {
  const d = sub(b, a);
  return d !== 0 && d < 0x8000_0000;
}
function le(a: number, b: number): boolean {
  return a === b || lt(a, b);
}
/** b - a as a signed distance. */
function dist(a: number, b: number): number {
  const d = sub(b, a);
  return d >= 0x8000_0000 ? d - MOD : d;
}

/** UTF-8 byte length, written here again so the model does not share the parser's. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// ---------------------------------------------------------------- random

/** mulberry32: small, fast, seedable; the same seed gives the same trace everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  u32(): number {
    return Math.floor(this.next() * MOD) >>> 0;
  }
}

// ---------------------------------------------------------------- plans

export type StateName =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RCVD'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

export const OPEN_KINDS = ['normal', 'synLost', 'synAckLost', 'simultaneous', 'simultaneousAck', 'refused', 'dataOnAck'] as const;
export type OpenKind = (typeof OPEN_KINDS)[number];

export const BODY_KINDS = ['data', 'loss', 'ackLost', 'reorder', 'delayed', 'crossing', 'zeroWindow', 'keepalive'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

export const CLOSE_KINDS = [
  'active',
  'combined',
  'halfClose',
  'finLost',
  'lastAckLost',
  'simultaneous',
  'simultaneousEarlyAck',
  'abort',
  'rst',
  'userTimeout',
  'reopen',
  'open',
] as const;
export type CloseKind = (typeof CLOSE_KINDS)[number];

export interface BodyStep {
  kind: BodyKind;
  /** True when the client (the active opener) sends the data of this step. */
  fromClient: boolean;
}

export interface TracePlan {
  seed: number;
  /** `seq=x+1` numbering instead of numbers. */
  symbolic: boolean;
  isn: 'random' | 'wrap' | 'small' | 'zero';
  /** How often inferable `seq`/`ack` fields are left out. */
  omit: 'never' | 'sometimes' | 'always';
  flags: 'words' | 'tcpdump' | 'mixed';
  times: 'none' | 'absolute' | 'relative' | 'mixed';
  /** `win` on every segment, only on SYNs, or never. */
  windows: 'explicit' | 'syn' | 'none';
  wscale: 'both' | 'one' | 'none';
  sack: boolean;
  declare: boolean;
  /** `option msl=...` in seconds, or undefined for the default (120 s). */
  msl: number | undefined;
  statesOption: 'socket' | 'rfc' | undefined;
  open: OpenKind;
  body: BodyStep[];
  close: CloseKind;
  /** True when the client starts the close (or the abort). */
  clientCloses: boolean;
  /** End TIME_WAIT with `timeout` (else the trace ends in TIME_WAIT). */
  timeWaitTimeout: boolean;
  /** Probability of an `expect` after an event. */
  expectRate: number;
  decorate: boolean;
  crlf: boolean;
  bom: boolean;
}

// ---------------------------------------------------------------- output

export interface ModelSegment {
  /** Model index of the sender: 0 = client, 1 = server. */
  from: 0 | 1;
  seq: number;
  ack: number | undefined;
  len: number;
  /** Offsets from the sender's and the receiver's ISN (what symbolic numbering fixes). */
  seqOff: number;
  ackOff: number | undefined;
  /** The segment writes `seq=` / `ack=` itself (else the checker must infer them). */
  seqGiven: boolean;
  ackGiven: boolean;
  /** New data or FIN exactly at SND.NXT (a `seq` increased here is a gap, TT300). */
  freshSeq: boolean;
  /** The receiver's SND.NXT when this was sent: an ack above it acknowledges what was never sent (TT301). */
  peerSndNxt: number;
  /** The `seq` binds a fresh symbol (`seq=u`): any value written there is right by definition. */
  bindsSymbol: boolean;
  rst: boolean;
}

export interface ModelEvent {
  /** 0-based line of the call, segment or deliver. */
  line: number;
  /** States after the event: [client, server]. */
  states: [StateName, StateName];
  seg: ModelSegment | undefined;
}

export interface GeneratedTrace {
  text: string;
  plan: TracePlan;
  /** [client name, server name]. */
  names: [string, string];
  final: [StateName, StateName];
  events: ModelEvent[];
  /** ISNs of the last connection, [client, server] (numeric mode: the values written). */
  isn: [number, number];
  /** Symbolic numbering: the symbols naming the client's and the server's ISN. */
  isnSymbols: [string, string] | undefined;
  expects: number;
}

/** Where the lines go: an array for tests, a chunked file writer for the benchmark. */
export type LineSink = (line: string) => void;

// ---------------------------------------------------------------- the model

interface Ep {
  idx: 0 | 1;
  name: string;
  state: StateName;
  /** Opened with listen (SYN_RCVD + RST goes back to LISTEN). */
  passive: boolean;
  iss: number;
  irs: number;
  sndUna: number;
  sndNxt: number;
  rcvNxt: number;
  /** The send window as RFC 9293 keeps it (SND.WND, WL1, WL2). */
  sndWnd: number;
  sndWl1: number;
  sndWl2: number;
  /** Window advertised in the peer's SYN, unscaled (caps the volume when windows are not explicit). */
  peerSynWin: number;
  /** Last right edge this endpoint advertised (RCV.NXT + RCV.WND), once known. */
  advRight: number | undefined;
  synWinSent: number | undefined;
  bufSize: number;
  /** Bytes received and not yet read by the application. */
  unread: number;
  readPaused: boolean;
  mss: number | undefined;
  peerMss: number;
  wsOwn: number | undefined;
  wsPeer: number | undefined;
  sackOwn: boolean;
  sackPeer: boolean;
  finSeq: number | undefined;
  /** Out-of-order segments held for later (RFC 9293 3.10.7.4, seventh). */
  ooo: { seq: number; len: number; fin: boolean }[];
  /** Time (µs) TIME_WAIT was entered or restarted. */
  timeWaitAt: number;
  synCount: number;
  /** Symbolic numbering: the symbol that numbers this endpoint's space, and its value. */
  sym: { name: string; value: number } | undefined;
  /** Fresh symbols still available for a later binding (`seq=u` on a FIN). */
  spareSyms: string[];
  used: boolean;
  /** The application called `close` (or closed implicitly with a FIN): no more `recv`. */
  appClosed: boolean;
  shutdownCalled: boolean;
  /** This connection's first SYN has been sent (it fixed the ISS). */
  connSyn: boolean;
  /** After a reopen from TIME_WAIT: the new ISS must be above this (RFC 1122 4.2.2.13). */
  reopenFloor: number | undefined;
}

interface Seg {
  from: Ep;
  to: Ep;
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  psh: boolean;
  seq: number;
  ackNo: number;
  len: number;
  data: string | undefined;
  /** Window field as written, or undefined. */
  win: number | undefined;
  mss: number | undefined;
  wscale: number | undefined;
  sackok: boolean;
  sack: [number, number][] | undefined;
  showSeq: boolean;
  showAck: boolean;
  /** A fresh symbol bound by this segment's `seq` (symbolic numbering). */
  bindSym: string | undefined;
  freshSeq: boolean;
  comment: string | undefined;
}

type RxResult = 'ok' | 'ooo' | 'unacceptable' | 'reset' | 'closed' | 'ignored';

const NAME_PAIRS: readonly [string, string][] = [
  ['client', 'server'],
  ['alice', 'bob'],
  ['A', 'B'],
  ['c1', 's1'],
  ['laptop', 'web_server'],
  ['Client', 'client'],
  ['h_0', 'h9'],
];
const SYMBOLS: readonly [string, string][] = [
  ['x', 'y'],
  ['a', 'b'],
  ['isn_c', 'isn_s'],
  ['X', 'Y'],
];
const SPARE_SYMBOLS: readonly [string[], string[]] = [
  ['u', 'fin_c'],
  ['w', 'fin_s'],
];

const STATE_SPELLINGS: Readonly<Record<StateName, readonly string[]>> = {
  CLOSED: ['CLOSED', 'closed', 'Closed'],
  LISTEN: ['LISTEN', 'listen'],
  SYN_SENT: ['SYN_SENT', 'SYN-SENT', 'syn_sent'],
  SYN_RCVD: ['SYN_RCVD', 'SYN-RECEIVED', 'SYN_RECV', 'syn_rcvd'],
  ESTABLISHED: ['ESTABLISHED', 'established', 'ESTAB'],
  FIN_WAIT_1: ['FIN_WAIT_1', 'FIN-WAIT-1', 'FIN_WAIT1', 'fin_wait_1'],
  FIN_WAIT_2: ['FIN_WAIT_2', 'FIN-WAIT-2', 'FIN_WAIT2'],
  CLOSE_WAIT: ['CLOSE_WAIT', 'CLOSE-WAIT', 'close_wait'],
  CLOSING: ['CLOSING', 'closing'],
  LAST_ACK: ['LAST_ACK', 'LAST-ACK', 'last_ack'],
  TIME_WAIT: ['TIME_WAIT', 'TIME-WAIT', 'time_wait'],
};

const WORDS = ['GET', '/index.html', 'HTTP/1.1', 'Host:', 'ok', 'hello', 'world', 'données', 'naïve', '→', 'ünïcödé', '😀', 'a#b', 'x=1', 'tab\there', 'line\n'];

export interface BuilderOptions {
  /** Keep per-event records (tests); the benchmark turns this off to stay flat in memory. */
  record: boolean;
  /** Bulk transfer: full-sized segments with `len=`, as a real sender fills them. */
  bulk?: boolean;
}

/** Writes one trace, event by event, keeping both endpoints' control blocks. */
export class TraceBuilder {
  readonly eps: [Ep, Ep];
  readonly events: ModelEvent[] = [];
  lineNo = 0;
  /** Time of the last event, µs since the start (exact: the model never rounds a time). */
  now = 0;
  private timed: boolean;
  private inflight = new Map<string, Seg>();
  private labelCounter = 0;
  eventCount = 0;
  expectCount = 0;
  isnSymbols: [string, string] | undefined;
  private sawEvent = false;

  constructor(
    readonly plan: TracePlan,
    readonly rng: Rng,
    private readonly sink: LineSink,
    names: [string, string],
    readonly opts: BuilderOptions,
  ) {
    this.eps = [newEp(0, names[0]), newEp(1, names[1])];
    this.timed = plan.times !== 'none';
  }

  get mslUs(): number {
    return Math.round((this.plan.msl ?? 120) * 1e6);
  }

  // ------------------------------------------------------------ lines

  raw(line: string): void {
    this.sink(line);
    this.lineNo++;
  }

  blankOrComment(): void {
    if (!this.plan.decorate || !this.rng.chance(0.15)) return;
    this.raw(this.rng.chance(0.5) ? '' : this.rng.pick(['# ---', '   # indented comment', '#', '# état: ok → next', '\t']));
  }

  section(text: string): void {
    if (this.plan.decorate && this.rng.chance(0.6)) this.raw(`== ${text} ==`);
  }

  note(ep: Ep, text: string): void {
    if (!this.plan.decorate || !this.rng.chance(0.3)) return;
    const other = this.eps[1 - ep.idx];
    if (!ep.used) return;
    if (other.used && this.rng.chance(0.4)) this.raw(`note over ${ep.name}, ${other.name}: ${text}`);
    else this.raw(`note ${ep.name}: ${text}`);
  }

  /** Time prefix for the next event. `at` forces an exact time (µs). */
  private timePrefix(at: number | undefined, minDelay: number, maxDelay: number): string {
    if (!this.timed) return '';
    const mode = this.plan.times;
    const prev = this.now;
    let t: number;
    if (at !== undefined) t = at;
    else {
      // Mixed traces leave some times out: the event then happens with the previous one.
      if (mode === 'mixed' && minDelay === 0 && this.sawEvent && this.rng.chance(0.35)) return '';
      t = prev + this.rng.int(Math.max(minDelay, 0), Math.max(minDelay, maxDelay));
      // Never let a TIME_WAIT run out between events: the model would lose track of when it closed.
      for (const e of this.eps) {
        if (e.state === 'TIME_WAIT') t = Math.min(t, e.timeWaitAt + 2 * this.mslUs - 1);
      }
      t = Math.max(t, prev);
    }
    if (t < prev) throw new Error('model: time goes backwards');
    this.now = t;
    const rel = mode === 'relative' || (mode === 'mixed' && this.rng.chance(0.5));
    if (rel && this.sawEvent) return `${formatRelative(t - prev, this.rng)} `;
    return `${formatAbsolute(t, this.rng)} `;
  }

  /** Records the event just written (public for the literal `+2MSL` line). */
  recordEvent(seg: ModelSegment | undefined): void {
    this.eventCount++;
    this.sawEvent = true;
    if (this.opts.record) {
      this.events.push({ line: this.lineNo - 1, states: [this.eps[0].state, this.eps[1].state], seg });
    }
  }

  private maybeExpect(): void {
    if (!this.rng.chance(this.plan.expectRate)) return;
    this.expect();
  }

  /** `expect` with the model's states after the last event. */
  expect(): void {
    const [a, b] = this.eps;
    const items: string[] = [];
    const spell = (e: Ep): string => `${e.name} ${this.rng.pick(STATE_SPELLINGS[e.state])}`;
    const which = this.rng.int(0, 2);
    if (which !== 1 && a.used) items.push(spell(a));
    if (which !== 0 && b.used) items.push(spell(b));
    if (items.length === 0) return;
    if (this.rng.chance(0.5)) items.reverse();
    this.raw(`expect ${items.join(', ')}`);
    this.expectCount++;
  }

  // ------------------------------------------------------------ calls

  call(ep: Ep, name: string, arg = '', at?: number, minDelay = 0, maxDelay = 5000): void {
    const time = this.timePrefix(at, minDelay, maxDelay);
    ep.used = true;
    const spelled = this.plan.decorate && this.rng.chance(0.1) ? name.toUpperCase() : name;
    this.raw(`${time}${ep.name}: ${spelled}${arg ? ' ' + arg : ''}`);
    switch (name) {
      case 'listen':
        ep.state = 'LISTEN';
        ep.passive = true;
        break;
      case 'connect':
        ep.state = 'SYN_SENT';
        ep.passive = false;
        break;
      case 'close':
      case 'shutdown':
        if (name === 'close') ep.appClosed = true;
        else ep.shutdownCalled = true;
        if (ep.state === 'LISTEN' || ep.state === 'SYN_SENT') ep.state = 'CLOSED';
        else if (ep.state === 'SYN_RCVD' || ep.state === 'ESTABLISHED') ep.state = 'FIN_WAIT_1';
        else if (ep.state === 'CLOSE_WAIT') ep.state = 'LAST_ACK';
        else throw new Error(`model: ${name} in ${ep.state}`);
        break;
      case 'abort':
      case 'timeout':
        ep.appClosed = true;
        ep.state = 'CLOSED';
        break;
      case 'recv':
        ep.unread = 0;
        break;
      default:
        break;
    }
    this.recordEvent(undefined);
    this.maybeExpect();
  }

  // ------------------------------------------------------------ segments

  /** A segment from `from` with the usual numbers: seq = SND.NXT, ack = RCV.NXT. */
  seg(from: Ep, init: Partial<Seg>): Seg {
    const to = this.eps[1 - from.idx];
    const s: Seg = {
      from,
      to,
      syn: false,
      ack: true,
      fin: false,
      rst: false,
      psh: false,
      seq: from.sndNxt,
      ackNo: from.rcvNxt,
      len: 0,
      data: undefined,
      win: undefined,
      mss: undefined,
      wscale: undefined,
      sackok: false,
      sack: undefined,
      showSeq: true,
      showAck: true,
      bindSym: undefined,
      freshSeq: false,
      comment: undefined,
      ...init,
    };
    return s;
  }

  /** Sends a segment: '->' delivers it now, '-x' loses it, '~>' keeps it in flight (returns the label). */
  tx(s: Seg, arrow: '->' | '-x' | '~>' = '->', minDelay = 0, maxDelay = 3000): { rx: RxResult | undefined; label: string | undefined } {
    const from = s.from;
    const time = this.timePrefix(undefined, minDelay, maxDelay);
    this.senderEffects(s);
    let label: string | undefined;
    if (arrow === '~>') label = `${this.rng.pick(['f', 'seg', 'late', 'd'])}${++this.labelCounter}`;
    this.raw(`${time}${this.formatSegment(s, arrow, label)}`);
    const info: ModelSegment = {
      from: from.idx,
      seq: s.seq,
      ack: s.ack ? s.ackNo : undefined,
      len: s.len,
      seqOff: sub(s.seq, from.iss),
      ackOff: s.ack ? sub(s.ackNo, s.to.iss) : undefined,
      seqGiven: s.showSeq,
      ackGiven: s.ack && s.showAck,
      freshSeq: s.freshSeq,
      peerSndNxt: s.to.sndNxt,
      bindsSymbol: s.bindSym !== undefined,
      rst: s.rst,
    };
    let rx: RxResult | undefined;
    if (arrow === '->') rx = this.rx(s);
    else if (arrow === '~>') this.inflight.set(label!, s);
    this.recordEvent(info);
    this.maybeExpect();
    return { rx, label };
  }

  deliver(label: string, minDelay = 0, maxDelay = 3000): RxResult {
    const s = this.inflight.get(label);
    if (!s) throw new Error(`model: unknown label ${label}`);
    this.inflight.delete(label);
    const time = this.timePrefix(undefined, minDelay, maxDelay);
    this.raw(`${time}${this.plan.decorate && this.rng.chance(0.1) ? 'DELIVER' : 'deliver'} ${label}`);
    const r = this.rx(s);
    this.recordEvent(undefined);
    this.maybeExpect();
    return r;
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  /** What sending does to the sender's own control block (RFC 9293 3.10.4-3.10.5 and the implied calls). */
  private senderEffects(s: Seg): void {
    const e = s.from;
    e.used = true;
    s.to.used = true;
    if (s.rst) {
      // An abort implied by the RST itself; an answer from CLOSED leaves the state alone.
      if (e.state !== 'CLOSED' && e.state !== 'LISTEN') e.state = 'CLOSED';
      return;
    }
    if (s.syn) {
      if (!e.connSyn) {
        e.connSyn = true;
        e.iss = s.seq;
        e.sndUna = s.seq;
        e.sndNxt = add(s.seq, 1);
        if (e.state === 'CLOSED') e.state = 'SYN_SENT';
      }
      e.synCount++;
      if (s.win !== undefined && !s.ack) e.synWinSent = s.win;
      if (s.ack && s.win !== undefined) e.advRight = add(s.ackNo, s.win);
      return;
    }
    const end = add(s.seq, s.len);
    if (s.len > 0 && s.seq === e.sndNxt) {
      e.sndNxt = end;
    } else if (s.len > 0 && lt(e.sndNxt, end)) {
      // Only the zero-window probe (one byte at SND.NXT) gets here.
      e.sndNxt = end;
    }
    if (s.fin && end === e.sndNxt && e.finSeq === undefined) {
      e.finSeq = end;
      if (!e.shutdownCalled) e.appClosed = true;
      e.sndNxt = add(end, 1);
      if (e.state === 'ESTABLISHED' || e.state === 'SYN_RCVD') e.state = 'FIN_WAIT_1';
      else if (e.state === 'CLOSE_WAIT') e.state = 'LAST_ACK';
    }
  }

  /** SEGMENT ARRIVES (RFC 9293 3.10.7) for the receiver, limited to what the model sends. */
  private rx(s: Seg): RxResult {
    const r = s.to;
    switch (r.state) {
      case 'CLOSED':
        return 'closed';
      case 'LISTEN':
        if (s.rst) return 'ignored';
        if (s.ack || !s.syn) throw new Error('model: only SYNs reach LISTEN');
        this.learnSyn(r, s);
        r.state = 'SYN_RCVD';
        return 'ok';
      case 'SYN_SENT': {
        if (s.ack && !(lt(r.iss, s.ackNo) && le(s.ackNo, r.sndNxt))) throw new Error('model: unacceptable ACK in SYN_SENT');
        if (s.rst) {
          if (!s.ack) throw new Error('model: RST without ACK in SYN_SENT');
          r.state = 'CLOSED';
          return 'reset';
        }
        if (!s.syn) throw new Error('model: non-SYN to SYN_SENT');
        this.learnSyn(r, s);
        if (s.ack) {
          r.sndUna = s.ackNo;
          this.setWindow(r, s, true);
          r.state = 'ESTABLISHED';
        } else r.state = 'SYN_RCVD';
        return 'ok';
      }
      default:
        return this.rxSynchronized(r, s);
    }
  }

  private learnSyn(r: Ep, s: Seg): void {
    r.irs = s.seq;
    r.rcvNxt = add(s.seq, 1);
    r.peerMss = s.mss ?? 536;
    r.wsPeer = s.wscale;
    r.sackPeer = s.sackok;
    r.peerSynWin = s.win ?? 65535;
    if (s.win !== undefined) {
      r.sndWnd = s.win;
      r.sndWl1 = s.seq;
      r.sndWl2 = s.ack ? s.ackNo : 0;
    } else r.sndWnd = 65535;
    if (r.advRight === undefined && r.synWinSent !== undefined) r.advRight = add(r.rcvNxt, r.synWinSent);
  }

  /** Scale of the window field in `s` (RFC 7323: never on a SYN; only when both SYNs had wscale). */
  private scaleOf(s: Seg): number {
    if (s.syn) return 0;
    const e = s.from;
    return e.wsOwn !== undefined && e.wsPeer !== undefined ? e.wsOwn : 0;
  }

  private setWindow(r: Ep, s: Seg, force: boolean): void {
    if (s.win === undefined) return;
    if (force || lt(r.sndWl1, s.seq) || (r.sndWl1 === s.seq && le(r.sndWl2, s.ackNo))) {
      r.sndWnd = s.win * 2 ** this.scaleOf(s);
      r.sndWl1 = s.seq;
      r.sndWl2 = s.ackNo;
    }
  }

  private rcvWnd(r: Ep): number {
    // Windows the trace does not write are the receiver's business: only written ones bind it.
    if (r.advRight === undefined || this.plan.windows !== 'explicit') return 0x7fff_ffff;
    return Math.max(0, dist(r.rcvNxt, r.advRight));
  }

  private rxSynchronized(r: Ep, s: Seg): RxResult {
    // Crossing SYN,ACK in SYN_RCVD (RFC 9293 Figure 8; the spec accepts it as Linux does).
    if (s.syn && r.state !== 'TIME_WAIT') {
      if (r.state === 'SYN_RCVD' && s.ack && s.ackNo === r.sndNxt && s.seq === r.irs) {
        r.sndUna = s.ackNo;
        this.setWindow(r, s, true);
        r.state = 'ESTABLISHED';
        return 'ok';
      }
      throw new Error(`model: SYN into ${r.state}`);
    }
    // TIME_WAIT: the only thing that can arrive is the peer's FIN again; ACK it, restart 2MSL.
    if (r.state === 'TIME_WAIT') {
      if (s.syn && !s.ack && lt(r.rcvNxt, s.seq)) {
        // RFC 1122 4.2.2.13 / RFC 6191: a new SYN above RCV.NXT reopens the connection.
        r.reopenFloor = r.sndNxt;
        resetConnection(r);
        r.passive = true;
        this.learnSyn(r, s);
        r.state = 'SYN_RCVD';
        return 'ok';
      }
      if (s.fin && add(add(s.seq, s.len), 1) === r.rcvNxt) {
        r.timeWaitAt = this.now;
        return 'unacceptable';
      }
      throw new Error('model: unexpected segment in TIME_WAIT');
    }
    const segLen = s.len + (s.fin ? 1 : 0);
    const wnd = this.rcvWnd(r);
    const inWin = (q: number): boolean => le(r.rcvNxt, q) && lt(q, add(r.rcvNxt, wnd));
    let acceptable: boolean;
    if (segLen === 0) acceptable = wnd === 0 ? s.seq === r.rcvNxt : inWin(s.seq);
    else acceptable = wnd > 0 && (inWin(s.seq) || inWin(add(s.seq, segLen - 1)));
    if (s.rst) {
      if (s.seq !== r.rcvNxt) throw new Error('model: RST not at RCV.NXT');
      r.state = r.state === 'SYN_RCVD' && r.passive ? 'LISTEN' : 'CLOSED';
      return 'reset';
    }
    if (!acceptable) return 'unacceptable';
    if (!s.ack) throw new Error('model: segment without ACK in a synchronized state');
    if (r.state === 'SYN_RCVD') {
      if (!(lt(r.sndUna, s.ackNo) && le(s.ackNo, r.sndNxt))) throw new Error('model: bad ACK in SYN_RCVD');
      r.state = 'ESTABLISHED';
      r.sndUna = s.ackNo;
      this.setWindow(r, s, true);
    }
    if (lt(r.sndNxt, s.ackNo)) throw new Error('model: ACK of unsent data');
    if (lt(r.sndUna, s.ackNo)) r.sndUna = s.ackNo;
    if (le(r.sndUna, s.ackNo)) this.setWindow(r, s, false);
    if (r.finSeq !== undefined && lt(r.finSeq, r.sndUna)) {
      if (r.state === 'FIN_WAIT_1') r.state = 'FIN_WAIT_2';
      else if (r.state === 'CLOSING') {
        r.state = 'TIME_WAIT';
        r.timeWaitAt = this.now;
      } else if (r.state === 'LAST_ACK') {
        r.state = 'CLOSED';
        return 'ok';
      }
    }
    if (segLen === 0) return 'ok';
    if (lt(r.rcvNxt, s.seq)) {
      r.ooo.push({ seq: s.seq, len: s.len, fin: s.fin });
      return 'ooo';
    }
    this.accept(r, s.seq, s.len, s.fin);
    // Held segments that now fit.
    let progressed = true;
    while (progressed && r.ooo.length > 0) {
      progressed = false;
      for (let i = 0; i < r.ooo.length; i++) {
        const q = r.ooo[i];
        if (le(q.seq, r.rcvNxt)) {
          r.ooo.splice(i, 1);
          this.accept(r, q.seq, q.len, q.fin);
          progressed = true;
          break;
        }
      }
    }
    return 'ok';
  }

  private accept(r: Ep, seq: number, len: number, fin: boolean): void {
    const end = add(seq, len);
    if (lt(r.rcvNxt, end)) {
      const n = dist(r.rcvNxt, end);
      r.rcvNxt = end;
      r.unread += n;
      if (!r.readPaused) r.unread = 0;
    }
    if (fin && end === r.rcvNxt) {
      r.rcvNxt = add(r.rcvNxt, 1);
      if (r.state === 'ESTABLISHED' || r.state === 'SYN_RCVD') r.state = 'CLOSE_WAIT';
      else if (r.state === 'FIN_WAIT_1') r.state = 'CLOSING';
      else if (r.state === 'FIN_WAIT_2') {
        r.state = 'TIME_WAIT';
        r.timeWaitAt = this.now;
      }
    }
  }

  // ------------------------------------------------------------ windows

  /** The `win` field this endpoint writes now (undefined when the plan leaves it out). */
  winField(e: Ep, syn: boolean, ack: boolean, ackNo: number): number | undefined {
    const mode = this.plan.windows;
    if (mode === 'none' || (mode === 'syn' && !syn)) return undefined;
    if (syn) return Math.min(e.bufSize, 65535);
    if (!ack) return undefined;
    const shift = e.wsOwn !== undefined && e.wsPeer !== undefined ? e.wsOwn : 0;
    const unit = 2 ** shift;
    const avail = Math.max(0, e.bufSize - e.unread);
    let field = Math.floor(avail / unit);
    // Never move the right edge back (RFC 9293 3.8.6.2.2: a receiver should not shrink the window).
    if (e.advRight !== undefined) {
      const need = dist(ackNo, e.advRight);
      if (need > 0) field = Math.max(field, Math.ceil(need / unit));
    }
    field = Math.min(field, 65535);
    e.advRight = add(ackNo, field * unit);
    return field;
  }

  /** Bytes the sender may still send without passing the peer's window. */
  usable(e: Ep): number {
    if (this.plan.windows === 'explicit') {
      return Math.max(0, dist(e.sndNxt, add(e.sndUna, e.sndWnd)));
    }
    // Without explicit windows the checker can only know the SYN's: stay under it in total.
    // (One less, so that a FIN still fits inside even a fixed window.)
    const cap = Math.min(e.peerSynWin, 65535) - 1;
    return Math.max(0, dist(e.sndNxt, add(add(e.iss, 1), cap)));
  }

  // ------------------------------------------------------------ writing a segment

  private fmtNum(space: Ep, value: number, bindSym: string | undefined): string {
    if (!this.plan.symbolic) {
      return this.plan.decorate && this.rng.chance(0.05) ? `0x${value.toString(16)}` : String(value);
    }
    if (bindSym) return bindSym;
    const base = space.sym;
    if (!base) throw new Error('model: symbolic number without a symbol');
    const off = sub(value, base.value);
    if (off === 0) return base.name;
    return off < 0x8000_0000 ? `${base.name}+${off}` : `${base.name}-${MOD - off}`;
  }

  private formatFlags(s: Seg): string {
    const style = this.plan.flags === 'mixed' ? this.rng.pick(['words', 'tcpdump'] as const) : this.plan.flags;
    if (style === 'tcpdump') {
      let t = '';
      if (s.syn) t += 'S';
      if (s.fin) t += 'F';
      if (s.rst) t += 'R';
      if (s.psh) t += 'P';
      if (s.ack) t += '.';
      return `[${t}]`;
    }
    const words: string[] = [];
    if (s.syn) words.push('SYN');
    if (s.fin) words.push('FIN');
    if (s.rst) words.push('RST');
    if (s.psh) words.push('PSH');
    if (s.ack) words.push('ACK');
    if (this.plan.decorate && this.rng.chance(0.2)) {
      for (let i = words.length - 1; i > 0; i--) {
        const j = this.rng.int(0, i);
        [words[i], words[j]] = [words[j], words[i]];
      }
    }
    const cased = words.map((w) => (this.plan.decorate && this.rng.chance(0.1) ? w.toLowerCase() : w));
    const sep = this.plan.decorate ? this.rng.pick([',', ',', '+', ', ']) : ',';
    return cased.join(sep);
  }

  private formatSegment(s: Seg, arrow: string, label: string | undefined): string {
    const fields: string[] = [];
    if (s.showSeq) {
      fields.push(`seq=${this.fmtNum(s.from, s.seq, s.bindSym)}`);
      if (s.bindSym && s.from.sym) {
        // From here on this endpoint's numbers are written relative to the new symbol.
        s.from.sym = { name: s.bindSym, value: s.seq };
      }
    }
    if (s.ack && s.showAck) fields.push(`ack=${this.fmtNum(s.to, s.ackNo, undefined)}`);
    if (s.data !== undefined) {
      fields.push(`data=${quote(s.data)}`);
      if (this.rng.chance(0.2)) fields.push(`len=${s.len}`);
    } else if (s.len > 0) fields.push(`len=${s.len}`);
    else if (this.plan.decorate && this.rng.chance(0.05)) fields.push('len=0');
    if (s.win !== undefined) fields.push(`win=${s.win}`);
    if (this.plan.decorate && this.rng.chance(0.25)) {
      for (let i = fields.length - 1; i > 0; i--) {
        const j = this.rng.int(0, i);
        [fields[i], fields[j]] = [fields[j], fields[i]];
      }
    }
    const options: string[] = [];
    if (s.mss !== undefined) options.push(`mss=${s.mss}`);
    if (s.sackok) options.push('sackok');
    if (s.wscale !== undefined) options.push(`wscale=${s.wscale}`);
    if (s.sack) options.push(`sack=${s.sack.map(([l, r]) => `${l}-${r}`).join(',')}`);
    let text = `${s.from.name} ${arrow} ${s.to.name}: ${this.formatFlags(s)}`;
    if (fields.length) text += ` ${fields.join(' ')}`;
    if (options.length) text += ` ${options.join(' ')}`;
    if (label) text += ` as ${label}`;
    if (s.comment && this.plan.decorate) text += `${this.rng.pick(['  ', ' ', '\t'])}# ${s.comment}`;
    return text;
  }

  /** Whether to leave out an inferable field. */
  omit(): boolean {
    const m = this.plan.omit;
    return m === 'always' || (m === 'sometimes' && this.rng.chance(0.4));
  }
}

function newEp(idx: 0 | 1, name: string): Ep {
  return {
    idx,
    name,
    state: 'CLOSED',
    passive: false,
    iss: 0,
    irs: 0,
    sndUna: 0,
    sndNxt: 0,
    rcvNxt: 0,
    sndWnd: 0,
    sndWl1: 0,
    sndWl2: 0,
    peerSynWin: 65535,
    advRight: undefined,
    synWinSent: undefined,
    bufSize: 65535,
    unread: 0,
    readPaused: false,
    mss: undefined,
    peerMss: 536,
    wsOwn: undefined,
    wsPeer: undefined,
    sackOwn: false,
    sackPeer: false,
    finSeq: undefined,
    ooo: [],
    timeWaitAt: 0,
    synCount: 0,
    sym: undefined,
    spareSyms: [],
    used: false,
    appClosed: false,
    shutdownCalled: false,
    connSyn: false,
    reopenFloor: undefined,
  };
}

/** Resets an endpoint's connection variables for a new connection between the same two names. */
function resetConnection(e: Ep): void {
  // synCount survives: "an omitted seq on the first SYN" means the first of the whole trace.
  const keep = {
    idx: e.idx,
    name: e.name,
    used: e.used,
    sym: e.sym,
    spareSyms: e.spareSyms,
    bufSize: e.bufSize,
    synCount: e.synCount,
    reopenFloor: e.reopenFloor,
  };
  Object.assign(e, newEp(e.idx, e.name), keep);
}

/** A string literal in the language's escapes: \" \\ \n \t \xHH (HH < 0x80 only: a code unit, not a byte). */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Absolute seconds, exact in decimal (µs resolution). */
function formatAbsolute(us: number, rng: Rng): string {
  const s = Math.floor(us / 1e6);
  const frac = us % 1e6;
  if (frac === 0 && rng.chance(0.3)) return String(s);
  if (frac % 1000 === 0 && rng.chance(0.7)) return `${s}.${String(frac / 1000).padStart(3, '0')}`;
  return `${s}.${String(frac).padStart(6, '0')}`;
}

function formatRelative(us: number, rng: Rng): string {
  if (us % 1000 === 0) {
    const ms = us / 1000;
    if (ms % 1000 === 0 && rng.chance(0.3)) return `+${ms / 1000}s`;
    if (rng.chance(0.6)) return `+${ms}ms`;
  }
  if (rng.chance(0.5)) return `+${us}us`;
  return `+${formatAbsolute(us, rng)}`;
}

// ---------------------------------------------------------------- scenarios

/** Writes the whole trace of a plan. */
function runPlan(b: TraceBuilder, names: [string, string]): void {
  const p = b.plan;
  const rng = b.rng;
  const [c, s] = b.eps;
  // Header.
  if (p.decorate) b.raw(rng.pick(['# generated by the test model', '#!tcptrace', '# ünïcode comment → ok']));
  if (rng.chance(0.5)) b.raw(`title ${quote(rng.pick(['A TCP conversation', 'Zero window "stall"', 'Ünïcode — title', 'x\ty']))}`);
  if (p.declare) {
    const addr = rng.pick(['10.0.0.1:40000', '[2001:db8::1]:5000', '', 'host-a.example:1234', '192.168.1.10:65535']);
    const addr2 = rng.pick(['10.0.0.2:80', '[::1]:443', '', 'server.example:8080']);
    const lbl = (n: string): string => (rng.chance(0.3) ? ` as ${quote(n + ' ☺')}` : '');
    b.raw(`endpoint ${names[0]}${addr ? ' ' + addr : ''}${lbl(names[0])}`);
    b.raw(`endpoint ${names[1]}${addr2 ? ' ' + addr2 : ''}${lbl(names[1])}`);
    c.used = true;
    s.used = true;
  }
  if (p.msl !== undefined) b.raw(`option msl=${formatMsl(p.msl, rng)}`);
  if (p.statesOption) b.raw(`option states=${p.statesOption}`);
  if (rng.chance(0.2)) b.raw('option origin=model');
  b.blankOrComment();

  // ISNs and symbols.
  const isnFor = (): number => {
    switch (p.isn) {
      case 'wrap':
        return sub(0, rng.int(1, 3000));
      case 'small':
        return rng.int(0, 10000);
      case 'zero':
        return 0;
      default:
        return rng.u32();
    }
  };
  if (p.symbolic) {
    const syms = rng.pick(SYMBOLS);
    b.isnSymbols = [syms[0], syms[1]];
    c.sym = { name: syms[0], value: 0 };
    s.sym = { name: syms[1], value: 0 };
    c.spareSyms = [...SPARE_SYMBOLS[0]];
    s.spareSyms = [...SPARE_SYMBOLS[1]];
  }

  // Buffers: small ones make the zero window reachable in a few segments.
  const wantsZero = p.body.some((st) => st.kind === 'zeroWindow') && p.windows === 'explicit';
  for (const e of b.eps) {
    e.bufSize = wantsZero ? rng.pick([2920, 4380, 5840, 3000]) : rng.pick([65535, 64240, 29200, 16384, 8760]);
  }

  b.section('Handshake');
  openConnection(b, p.open, isnFor);
  b.blankOrComment();

  if (p.body.length) b.section('Data');
  for (const st of p.body) {
    const [snd, rcv] = st.fromClient ? [c, s] : [s, c];
    if (c.state !== 'ESTABLISHED' || s.state !== 'ESTABLISHED') break;
    bodyStep(b, st.kind, snd, rcv);
    b.blankOrComment();
  }
  if (c.state === 'ESTABLISHED' && s.state === 'ESTABLISHED') {
    b.section('Close');
    const [x, y] = p.clientCloses ? [c, s] : [s, c];
    closeConnection(b, p.close, x, y);
  }
  if (p.decorate && rng.chance(0.3)) b.raw('# end');
}

function formatMsl(sec: number, rng: Rng): string {
  if (sec < 1 || rng.chance(0.3)) return `${Math.round(sec * 1000)}ms`;
  return rng.chance(0.5) ? `${sec}s` : String(sec);
}

function synOptions(b: TraceBuilder, e: Ep, retransmit: boolean): Partial<Seg> {
  const p = b.plan;
  if (!retransmit) {
    e.mss = b.rng.chance(0.85) ? b.rng.pick([1460, 1448, 1400, 536, 8960]) : undefined;
    const scaleHere = p.wscale === 'both' || (p.wscale === 'one' && e.idx === 0);
    e.wsOwn = scaleHere ? b.rng.pick([0, 1, 2, 7]) : undefined;
    e.sackOwn = p.sack;
  }
  return { mss: e.mss, wscale: e.wsOwn, sackok: e.sackOwn };
}

/** SYN or SYN,ACK from `e`. */
function synSeg(b: TraceBuilder, e: Ep, isn: number, withAck: boolean, retransmit: boolean): Seg {
  const opts = synOptions(b, e, retransmit);
  const seg = b.seg(e, { syn: true, ack: withAck, seq: isn, ...opts });
  seg.ackNo = withAck ? e.rcvNxt : 0;
  seg.win = b.winField(e, true, withAck, seg.ackNo);
  // An omitted seq on an endpoint's first SYN means ISN 0 (numeric traces only).
  seg.showSeq = !(isn === 0 && e.synCount === 0 && !b.plan.symbolic && b.omit());
  if (withAck && b.omit()) seg.showAck = false;
  if (b.plan.symbolic && e.sym && e.synCount === 0) e.sym = { name: e.sym.name, value: isn };
  if (retransmit) seg.comment = 'retransmitted SYN';
  return seg;
}

/** A pure ACK (or data) with the usual numbers and fields the plan may omit. */
function ackSeg(b: TraceBuilder, e: Ep, init: Partial<Seg> = {}): Seg {
  const seg = b.seg(e, init);
  if (b.omit() && init.seq === undefined) seg.showSeq = false;
  if (b.omit() && init.ackNo === undefined) seg.showAck = false;
  seg.win = b.winField(e, false, seg.ack, seg.ackNo);
  if (seg.len > 0 || seg.fin) seg.freshSeq = seg.seq === e.sndNxt && init.seq === undefined;
  return seg;
}

function sackFor(e: Ep): [number, number][] | undefined {
  if (!(e.sackOwn && e.sackPeer) || e.ooo.length === 0) return undefined;
  return e.ooo.map((q) => [q.seq, add(q.seq, q.len)]);
}

function openConnection(b: TraceBuilder, kind: OpenKind, isnFor: () => number): void {
  const rng = b.rng;
  const [c, s] = b.eps;

  if (kind === 'simultaneous' || kind === 'simultaneousAck') {
    // RFC 9293 Figure 8: crossing SYNs, both sides go through SYN_RCVD.
    if (rng.chance(0.6)) b.call(c, 'connect');
    if (rng.chance(0.6)) b.call(s, 'connect');
    const ci = isnFor();
    const si = isnFor();
    const l1 = b.tx(synSeg(b, c, ci, false, false), '~>').label!;
    const second = rng.chance(0.5) ? '~>' : '->';
    const r2 = b.tx(synSeg(b, s, si, false, false), second);
    b.deliver(l1);
    if (r2.label) b.deliver(r2.label);
    if (kind === 'simultaneous') {
      // Both repeat their SYN with the ACK of the other's; the two cross.
      const l3 = b.tx(synSeg(b, c, ci, true, true), '~>').label!;
      b.tx(synSeg(b, s, si, true, true), '->');
      b.deliver(l3);
    } else {
      // One side's SYN,ACK establishes the other, which answers with a plain ACK.
      const [x, y] = rng.chance(0.5) ? [c, s] : [s, c];
      b.tx(synSeg(b, x, x === c ? ci : si, true, true), '->');
      b.tx(ackSeg(b, y), '->');
    }
    return;
  }

  if (kind === 'refused') {
    // Nobody listens yet: the SYN draws RST,ACK seq=0 ack=ISN+1 from CLOSED (RFC 9293 3.10.7.1).
    const first = isnFor();
    if (rng.chance(0.5)) b.call(c, 'connect');
    b.tx(synSeg(b, c, first, false, false), '->');
    const rst = b.seg(s, { rst: true, ack: true, seq: 0, ackNo: add(first, 1), comment: 'connection refused' });
    b.tx(rst, '->');
    resetConnection(c);
    resetConnection(s);
    b.note(c, 'connection refused; try again');
    let again = isnFor();
    if (again === first) again = add(again, 1_000_000);
    normalOpen(b, again, isnFor(), 'normal');
    return;
  }
  normalOpen(b, isnFor(), isnFor(), kind);
}

function normalOpen(b: TraceBuilder, ci: number, si: number, kind: OpenKind): void {
  const rng = b.rng;
  const [c, s] = b.eps;
  if (b.plan.decorate && rng.chance(0.3) && s.synCount === 0 && !s.used) {
    b.call(s, 'socket');
    if (rng.chance(0.5)) b.call(s, 'bind', rng.pick(['0.0.0.0:80', '[::]:443', '10.0.0.2:8080']));
  }
  b.call(s, 'listen', rng.chance(0.2) ? `backlog=${rng.int(1, 128)}` : '');
  if (rng.chance(0.6)) b.call(c, 'connect');
  if (kind === 'synLost') {
    b.tx(synSeg(b, c, ci, false, false), '-x');
    if (rng.chance(0.8)) b.call(c, 'rto', '', undefined, 1_000_000, 3_000_000);
    const again = synSeg(b, c, ci, false, true);
    again.showSeq = true;
    b.tx(again, '->');
  } else b.tx(synSeg(b, c, ci, false, false), '->');
  b.note(s, 'SYN received');
  if (kind === 'synAckLost') {
    b.tx(synSeg(b, s, si, true, false), '-x');
    if (rng.chance(0.8)) b.call(s, 'rto', '', undefined, 1_000_000, 3_000_000);
    const again = synSeg(b, s, si, true, true);
    again.showSeq = true;
    b.tx(again, '->');
  } else b.tx(synSeg(b, s, si, true, false), '->');
  if (kind === 'dataOnAck' && b.usable(c) > 0) {
    // The third segment of the handshake may carry data (RFC 9293 3.10.7.4: processed after the ACK).
    const len = Math.min(b.usable(c), c.peerMss, rng.int(1, 300));
    b.tx(ackSeg(b, c, { len, psh: true }), '->');
    b.tx(ackSeg(b, s), '->');
  } else b.tx(ackSeg(b, c), '->');
  if (rng.chance(0.3)) b.call(s, 'accept');
}

/** Payload of one data segment: a length, or text whose UTF-8 length fits. */
function payload(b: TraceBuilder, max: number): { len: number; data: string | undefined } {
  const rng = b.rng;
  if (b.opts.bulk) return { len: Math.max(1, rng.chance(0.9) ? max : rng.int(1, max)), data: undefined };
  if (max >= 1 && rng.chance(0.25)) {
    let text = '';
    const n = rng.int(1, 5);
    for (let i = 0; i < n; i++) {
      const w = rng.pick(WORDS);
      const next = text ? `${text} ${w}` : w;
      if (utf8Bytes(next) > max) break;
      text = next;
    }
    if (text) return { len: utf8Bytes(text), data: text };
  }
  const len = Math.max(1, Math.min(max, rng.pick([1, 10, 100, 536, 1000, 1448, 1460, rng.int(1, 1460)])));
  return { len, data: undefined };
}

/** Sends one new data segment from e (seq = SND.NXT) if the window allows; undefined when it does not. */
function dataSeg(b: TraceBuilder, e: Ep, maxLen = Infinity): Seg | undefined {
  const room = Math.min(b.usable(e), e.peerMss, maxLen);
  if (room <= 0) return undefined;
  const { len, data } = payload(b, room);
  return ackSeg(b, e, { len, data, psh: b.rng.chance(0.6) });
}

/** A burst of data from snd, acknowledged every one or two segments. */
function burst(b: TraceBuilder, snd: Ep, rcv: Ep, count: number): void {
  const rng = b.rng;
  const every = rng.pick([1, 2]);
  let unacked = 0;
  let total = 0;
  const useSend = rng.chance(0.25) && canSend(snd);
  for (let i = 0; i < count; i++) {
    const seg = dataSeg(b, snd);
    if (!seg) {
      if (unacked > 0) {
        b.tx(ackSeg(b, rcv), '->');
        unacked = 0;
        i--;
        if (b.usable(snd) === 0) break;
        continue;
      }
      break;
    }
    if (i === 0 && useSend) {
      // Announce this segment's bytes: `send` must be followed by exactly that data.
      b.call(snd, 'send', seg.data !== undefined && rng.chance(0.5) ? quote(seg.data) : String(seg.len));
    }
    b.tx(seg, '->');
    total += seg.len;
    unacked++;
    if (unacked >= every) {
      b.tx(ackSeg(b, rcv), '->');
      unacked = 0;
    }
  }
  if (unacked > 0) b.tx(ackSeg(b, rcv), '->');
  if (total > 0 && rng.chance(0.3) && canRecv(rcv)) {
    b.call(rcv, 'recv', rng.chance(0.5) ? String(total) : '');
  }
}

/** The application may still read: a connection exists and it did not `close` (only `shutdown`). */
function canRecv(e: Ep): boolean {
  return !e.appClosed && (e.state === 'ESTABLISHED' || e.state === 'FIN_WAIT_1' || e.state === 'FIN_WAIT_2' || e.state === 'CLOSE_WAIT');
}
function canSend(e: Ep): boolean {
  return e.finSeq === undefined && (e.state === 'ESTABLISHED' || e.state === 'CLOSE_WAIT');
}

function bodyStep(b: TraceBuilder, kind: BodyKind, snd: Ep, rcv: Ep): void {
  const rng = b.rng;
  switch (kind) {
    case 'data':
      burst(b, snd, rcv, rng.int(1, 4));
      return;

    case 'loss': {
      // A segment is lost; the next arrives out of order and draws a duplicate ACK; RTO; retransmission.
      const d1 = dataSeg(b, snd);
      if (!d1) return burst(b, snd, rcv, 1);
      b.tx(d1, '-x');
      const d2 = dataSeg(b, snd);
      if (d2) {
        b.tx(d2, '->');
        const dup = ackSeg(b, rcv);
        dup.sack = sackFor(rcv);
        b.tx(dup, '->');
      }
      if (rng.chance(0.8)) b.call(snd, 'rto', '', undefined, 200_000, 1_000_000);
      const re = b.seg(snd, { seq: d1.seq, len: d1.len, data: d1.data, psh: d1.psh, comment: 'retransmission' });
      if (b.omit()) re.showAck = false;
      re.win = b.winField(snd, false, true, re.ackNo);
      b.tx(re, '->');
      b.tx(ackSeg(b, rcv), '->');
      return;
    }

    case 'ackLost': {
      const d1 = dataSeg(b, snd);
      if (!d1) return;
      b.tx(d1, '->');
      b.tx(ackSeg(b, rcv), '-x');
      if (rng.chance(0.8)) b.call(snd, 'rto', '', undefined, 200_000, 1_000_000);
      const re = b.seg(snd, { seq: d1.seq, len: d1.len, data: d1.data, psh: d1.psh, comment: 'spurious retransmission' });
      re.win = b.winField(snd, false, true, re.ackNo);
      const r = b.tx(re, '->').rx;
      if (r !== 'unacceptable') throw new Error('model: an old segment should be unacceptable');
      // RFC 9293: an unacceptable segment is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
      b.tx(ackSeg(b, rcv), '->');
      return;
    }

    case 'reorder': {
      const d1 = dataSeg(b, snd);
      if (!d1) return;
      const label = b.tx(d1, '~>').label!;
      const d2 = dataSeg(b, snd);
      if (d2) {
        b.tx(d2, '->');
        if (rng.chance(0.6)) {
          const dup = ackSeg(b, rcv);
          dup.sack = sackFor(rcv);
          b.tx(dup, '->');
        }
      }
      b.deliver(label);
      b.tx(ackSeg(b, rcv), '->');
      return;
    }

    case 'delayed': {
      const d1 = dataSeg(b, snd);
      if (!d1) return;
      const l1 = b.tx(d1, '~>').label!;
      const d2 = dataSeg(b, snd);
      const l2 = d2 ? b.tx(d2, '~>').label : undefined;
      b.deliver(l1);
      if (l2) {
        if (rng.chance(0.5)) b.tx(ackSeg(b, rcv), '->');
        b.deliver(l2);
      }
      b.tx(ackSeg(b, rcv), '->');
      return;
    }

    case 'crossing': {
      // Data both ways at once: each segment's ACK field predates the other's data.
      const d1 = dataSeg(b, snd);
      if (!d1) return;
      const l1 = b.tx(d1, '~>').label!;
      const d2 = dataSeg(b, rcv);
      if (d2) b.tx(d2, '->');
      b.deliver(l1);
      const order = rng.chance(0.5) ? [snd, rcv] : [rcv, snd];
      for (const e of order) if (e === rcv || d2) b.tx(ackSeg(b, e), '->');
      return;
    }

    case 'zeroWindow':
      return zeroWindow(b, snd, rcv);

    case 'keepalive': {
      if (snd.sndUna !== snd.sndNxt || rcv.sndUna !== rcv.sndNxt) return;
      // Linux: <SEQ=SND.NXT-1>, no data; the receiver finds it unacceptable and ACKs (RFC 1122 4.2.3.6).
      const ka = b.seg(snd, { seq: sub(snd.sndNxt, 1), comment: 'keep-alive' });
      if (b.omit()) ka.showAck = false;
      ka.win = b.winField(snd, false, true, ka.ackNo);
      const r = b.tx(ka, '->', 30_000_000, 75_000_000).rx;
      if (r !== 'unacceptable') throw new Error('model: keep-alive should be unacceptable');
      b.tx(ackSeg(b, rcv), '->');
      return;
    }
  }
}

/** Fill the receiver's window, see it advertise zero, probe it, then reopen it (RFC 9293 3.8.6.1). */
function zeroWindow(b: TraceBuilder, snd: Ep, rcv: Ep): void {
  const rng = b.rng;
  if (b.plan.windows !== 'explicit') return burst(b, snd, rcv, 2);
  rcv.readPaused = true;
  let sent = 0;
  for (let i = 0; i < 8 && b.usable(snd) > 0; i++) {
    const seg = dataSeg(b, snd, b.usable(snd) <= snd.peerMss ? b.usable(snd) : snd.peerMss);
    if (!seg) break;
    // Fill exactly: the last segment takes what is left of the window.
    if (seg.data === undefined) seg.len = Math.min(b.usable(snd), snd.peerMss);
    b.tx(seg, '->');
    b.tx(ackSeg(b, rcv), '->');
    sent++;
  }
  if (b.usable(snd) > 0 || sent === 0) {
    // The window did not close within a few segments: just read and go on.
    rcv.readPaused = false;
    rcv.unread = 0;
    return;
  }
  b.note(rcv, 'receive buffer full: window 0');
  const oneByte = rng.chance(0.4);
  const probes = rng.int(1, 2);
  let probeSeq = 0;
  for (let i = 0; i < probes; i++) {
    let probe: Seg;
    if (oneByte) {
      // RFC 9293 3.8.6.1: one new byte at SND.NXT (later probes repeat it).
      probeSeq = i === 0 ? snd.sndNxt : probeSeq;
      probe = b.seg(snd, { seq: probeSeq, len: 1, comment: 'zero-window probe' });
    } else probe = b.seg(snd, { seq: sub(snd.sndNxt, 1), comment: 'zero-window probe' });
    probe.win = b.winField(snd, false, true, probe.ackNo);
    const r = b.tx(probe, '->', 200_000, 2_000_000).rx;
    if (r !== 'unacceptable') throw new Error(`model: probe should be unacceptable, got ${r}`);
    b.tx(ackSeg(b, rcv), '->');
  }
  const n = rcv.unread;
  rcv.readPaused = false;
  b.call(rcv, 'recv', rng.chance(0.7) ? String(n) : '');
  b.tx(ackSeg(b, rcv, { comment: 'window update' }), '->');
  if (oneByte) {
    // The probe byte was never accepted: send it again now that the window is open.
    const re = b.seg(snd, { seq: probeSeq, len: 1 });
    re.win = b.winField(snd, false, true, re.ackNo);
    b.tx(re, '->');
    b.tx(ackSeg(b, rcv), '->');
  }
}

function finSeg(b: TraceBuilder, x: Ep, withData: boolean): Seg {
  const len = withData ? Math.min(b.usable(x), x.peerMss, b.rng.int(1, 200)) : 0;
  const seg = ackSeg(b, x, { fin: true, len: Math.max(0, len), psh: len > 0 });
  if (b.plan.symbolic && x.spareSyms.length && b.rng.chance(0.5)) {
    // `seq=u` binds u to SND.NXT here; the checker must accept it and number the rest from it.
    seg.bindSym = x.spareSyms.shift();
    seg.showSeq = true;
  }
  seg.freshSeq = true;
  return seg;
}

function endTimeWait(b: TraceBuilder, e: Ep): void {
  if (e.state !== 'TIME_WAIT') return;
  if (!b.plan.timeWaitTimeout) return;
  if (b.plan.times === 'none') {
    b.call(e, 'timeout');
    return;
  }
  // Exactly 2MSL after TIME_WAIT began: not early (TT207), not past it.
  const at = e.timeWaitAt + 2 * b.mslUs;
  if (b.now === e.timeWaitAt && b.rng.chance(0.6)) {
    // `+2MSL` written literally.
    b.raw(`+2MSL ${e.name}: timeout`);
    b.now = at;
    e.state = 'CLOSED';
    b.recordEvent(undefined);
    return;
  }
  b.call(e, 'timeout', '', at);
}

function closeConnection(b: TraceBuilder, kind: CloseKind, x: Ep, y: Ep, endTw = true): void {
  const rng = b.rng;
  const callClose = (e: Ep, shutdown = false): void => {
    if (rng.chance(0.6)) b.call(e, shutdown ? 'shutdown' : 'close');
  };
  switch (kind) {
    case 'open':
      if (rng.chance(0.5)) b.expect();
      return;

    case 'reopen': {
      // x closes first and sits in TIME_WAIT; y, CLOSED, connects again with a higher ISN.
      closeConnection(b, 'active', x, y, false);
      if (x.state !== 'TIME_WAIT' || y.state !== 'CLOSED') return;
      const yIsn = add(y.sndNxt, rng.int(100_000, 50_000_000));
      resetConnection(y);
      if (rng.chance(0.5)) b.call(y, 'connect');
      b.tx(synSeg(b, y, yIsn, false, false), '->');
      const xIsn = add(x.reopenFloor ?? x.sndNxt, rng.int(100_000, 50_000_000));
      b.tx(synSeg(b, x, xIsn, true, false), '->');
      b.tx(ackSeg(b, y), '->');
      if (rng.chance(0.5)) burst(b, y, x, rng.int(1, 2));
      const [p, q] = rng.chance(0.5) ? [x, y] : [y, x];
      closeConnection(b, rng.chance(0.5) ? 'active' : 'combined', p, q);
      return;
    }

    case 'userTimeout': {
      // RFC 9293 3.10.8: user timeout -> CLOSED, nothing is sent.
      b.call(x, 'timeout', '', undefined, 1_000_000, 5_000_000);
      const d = rng.chance(0.6) && canSend(y) ? dataSeg(b, y) : undefined;
      if (d) {
        // The peer, unaware, sends data; CLOSED answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1).
        if (b.tx(d, '->').rx !== 'closed') throw new Error('model: data should reach CLOSED');
        b.tx(b.seg(x, { rst: true, ack: false, seq: d.ackNo, comment: 'no such connection' }), '->');
      }
      return;
    }

    case 'abort': {
      b.call(x, 'abort');
      // <SEQ=SND.NXT><CTL=RST> (RFC 9293 3.10.4, ABORT in a synchronized state).
      const rst = b.seg(x, { rst: true, ack: false, seq: x.sndNxt, comment: 'abort' });
      b.tx(rst, '->');
      return;
    }

    case 'rst': {
      const withAck = rng.chance(0.5);
      const rst = b.seg(x, { rst: true, ack: withAck, seq: x.sndNxt });
      if (withAck && b.omit()) rst.showAck = false;
      b.tx(rst, '->');
      return;
    }

    case 'simultaneous':
    case 'simultaneousEarlyAck': {
      callClose(x);
      callClose(y);
      const fx = finSeg(b, x, false);
      const lx = b.tx(fx, '~>').label!;
      const fy = finSeg(b, y, false);
      const ly = b.tx(fy, '~>').label!;
      if (kind === 'simultaneous') {
        // Both FINs cross: both CLOSING, then the two ACKs make both TIME_WAIT.
        const first = rng.chance(0.5);
        b.deliver(first ? lx : ly);
        b.deliver(first ? ly : lx);
        const [p, q] = rng.chance(0.5) ? [x, y] : [y, x];
        b.tx(ackSeg(b, p), '->');
        b.tx(ackSeg(b, q), '->', 1000, 5000);
      } else {
        // y gets x's FIN and ACKs both; x takes that ACK first (FIN_WAIT_2), then y's late FIN.
        b.deliver(lx);
        b.tx(ackSeg(b, y), '->');
        b.deliver(ly, 1000, 5000);
        b.tx(ackSeg(b, x), '->', 1000, 5000);
      }
      // Whoever entered TIME_WAIT first times out first.
      const tw = [x, y].sort((a, bb) => a.timeWaitAt - bb.timeWaitAt);
      for (const e of tw) endTimeWait(b, e);
      return;
    }

    default:
      break;
  }

  // Active close by x, passive by y.
  callClose(x, kind === 'halfClose' && rng.chance(0.5));
  const fx = finSeg(b, x, kind !== 'halfClose' && rng.chance(0.2));
  if (kind === 'finLost') {
    b.tx(fx, '-x');
    if (rng.chance(0.8)) b.call(x, 'rto', '', undefined, 200_000, 1_000_000);
    const re = b.seg(x, { fin: true, seq: fx.seq, len: fx.len, psh: fx.psh, comment: 'FIN again' });
    re.win = b.winField(x, false, true, re.ackNo);
    b.tx(re, '->');
  } else b.tx(fx, '->');
  b.note(y, 'peer closed');
  if (kind === 'combined') {
    // y closes at once: its FIN carries the ACK of x's FIN, so x skips FIN_WAIT_2.
    callClose(y);
    b.tx(finSeg(b, y, false), '->');
  } else {
    b.tx(ackSeg(b, y), '->');
    if (kind === 'halfClose') {
      // y may still send: the connection is half-closed.
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) burst(b, y, x, rng.int(1, 3));
    }
    callClose(y);
    b.tx(finSeg(b, y, rng.chance(0.15)), '->');
  }
  if (kind === 'lastAckLost') {
    b.tx(ackSeg(b, x), '-x');
    if (rng.chance(0.8)) b.call(y, 'rto', '', undefined, 200_000, 1_000_000);
    const fin = y.finSeq!;
    const re = b.seg(y, { fin: true, seq: fin, comment: 'FIN retransmitted' });
    re.win = b.winField(y, false, true, re.ackNo);
    const r = b.tx(re, '->').rx;
    if (r !== 'unacceptable') throw new Error('model: FIN into TIME_WAIT');
    b.tx(ackSeg(b, x), '->');
  } else {
    // The last ACK leaves at the same instant TIME_WAIT began (no time or +0), so 2MSL is exact.
    b.tx(ackSeg(b, x), '->', 0, b.plan.times === 'mixed' ? 0 : 2000);
  }
  if (endTw) endTimeWait(b, x);
}

// ---------------------------------------------------------------- entry points

/** A random plan from a seed (for quick use without fast-check). */
export function randomPlan(seed: number): TracePlan {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const nBody = rng.int(0, 6);
  const body: BodyStep[] = [];
  for (let i = 0; i < nBody; i++) body.push({ kind: rng.pick(BODY_KINDS), fromClient: rng.chance(0.5) });
  const symbolic = rng.chance(0.25);
  const open = rng.pick(OPEN_KINDS);
  return normalizePlan({
    seed,
    symbolic,
    isn: rng.pick(['random', 'wrap', 'small', 'zero'] as const),
    omit: rng.pick(['never', 'sometimes', 'always'] as const),
    flags: rng.pick(['words', 'tcpdump', 'mixed'] as const),
    times: rng.pick(['none', 'absolute', 'relative', 'mixed'] as const),
    windows: rng.pick(['explicit', 'explicit', 'syn', 'none'] as const),
    wscale: rng.pick(['both', 'one', 'none'] as const),
    sack: rng.chance(0.5),
    declare: rng.chance(0.6),
    msl: rng.pick([undefined, 1, 30, 0.5, 60]),
    statesOption: rng.pick([undefined, 'socket', 'rfc'] as const),
    open,
    body,
    close: rng.pick(CLOSE_KINDS),
    clientCloses: rng.chance(0.6),
    timeWaitTimeout: rng.chance(0.7),
    expectRate: rng.pick([0, 0.1, 0.3, 1]),
    decorate: rng.chance(0.6),
    crlf: rng.chance(0.15),
    bom: rng.chance(0.05),
  });
}

/** Removes combinations the language cannot express (or the model does not claim to know). */
export function normalizePlan(p: TracePlan): TracePlan {
  const q = { ...p, body: [...p.body] };
  // A RST from CLOSED is written `seq=0`: a number in a symbolic trace would mix the two.
  if (q.symbolic && q.open === 'refused') q.open = 'normal';
  // A reopened connection has new ISNs: symbols name only the first ones.
  if (q.symbolic && q.close === 'reopen') q.close = 'active';
  return q;
}

/** Generates one correct trace from a plan. */
export function generateTrace(plan: TracePlan): GeneratedTrace {
  const p = normalizePlan(plan);
  const rng = new Rng(p.seed);
  const lines: string[] = [];
  const names = rng.pick(NAME_PAIRS);
  const ordered: [string, string] = [names[0], names[1]];
  const b = new TraceBuilder(p, rng, (l) => lines.push(l), ordered, { record: true });
  runPlan(b, ordered);
  const eol = p.crlf ? '\r\n' : '\n';
  const text = (p.bom ? '\ufeff' : '') + lines.join(eol) + (rng.chance(0.7) ? eol : '');
  return {
    text,
    plan: p,
    names: ordered,
    final: [b.eps[0].state, b.eps[1].state],
    events: b.events,
    isn: [b.eps[0].iss, b.eps[1].iss],
    isnSymbols: b.isnSymbols,
    expects: b.expectCount,
  };
}

// ---------------------------------------------------------------- long traces (benchmark)

export interface LongTraceStats {
  events: number;
  lines: number;
  connections: number;
  bytes: number;
}

/**
 * A long realistic trace of about `events` events, written line by line into
 * `write` (chunks of a few hundred kB): connection after connection between
 * the same two endpoints, each with a handshake, a request, a bulk response
 * acknowledged every one or two segments, some loss and retransmission, a
 * close, TIME_WAIT ended by `timeout` exactly at 2MSL, then a new ISN.
 */
export function writeLongTrace(events: number, seed: number, write: (chunk: string) => void): LongTraceStats {
  const rng = new Rng(seed);
  let chunk = '';
  let bytes = 0;
  const sink: LineSink = (line) => {
    chunk += line;
    chunk += '\n';
    if (chunk.length > 1 << 18) {
      write(chunk);
      bytes += Buffer.byteLength(chunk);
      chunk = '';
    }
  };
  const plan: TracePlan = {
    seed,
    symbolic: false,
    isn: 'random',
    omit: 'never',
    flags: 'words',
    times: 'absolute',
    windows: 'explicit',
    wscale: 'both',
    sack: true,
    declare: true,
    msl: 1,
    statesOption: undefined,
    open: 'normal',
    body: [],
    close: 'active',
    clientCloses: true,
    timeWaitTimeout: true,
    expectRate: 0,
    decorate: false,
    crlf: false,
    bom: false,
  };
  const b = new TraceBuilder(plan, rng, sink, ['client', 'server'], { record: false, bulk: true });
  const [c, s] = b.eps;
  b.raw('# Benchmark trace: connections in sequence between the same two endpoints.');
  b.raw('title "bulk transfers"');
  b.raw('endpoint client 10.0.0.1:40000');
  b.raw('endpoint server 10.0.0.2:80');
  b.raw('option msl=1s');
  c.used = true;
  s.used = true;
  let connections = 0;
  while (b.eventCount < events) {
    connections++;
    resetConnection(c);
    resetConnection(s);
    c.bufSize = 65535;
    s.bufSize = 65535;
    b.raw(`== connection ${connections} ==`);
    normalOpen(b, rng.u32(), rng.u32(), rng.chance(0.02) ? 'synLost' : 'normal');
    if (connections % 50 === 1) b.expect();
    // Request.
    const req = dataSeg(b, c, rng.int(40, 400));
    if (req) b.tx(req, '->');
    // Response: bulk data acked every one or two segments, sometimes a loss.
    const left = events - b.eventCount;
    const segs = Math.max(1, Math.min(rng.int(20, 400), Math.floor((left - 10) / 1.6)));
    let unacked = 0;
    const every = rng.pick([1, 2]);
    for (let i = 0; i < segs; i++) {
      if (rng.chance(0.01)) {
        bodyStep(b, 'loss', s, c);
        unacked = 0;
        continue;
      }
      const d = dataSeg(b, s);
      if (!d) {
        b.tx(ackSeg(b, c), '->');
        unacked = 0;
        continue;
      }
      b.tx(d, '->');
      if (++unacked >= every) {
        b.tx(ackSeg(b, c), '->');
        unacked = 0;
      }
    }
    if (unacked > 0) b.tx(ackSeg(b, c), '->');
    // Close from either side; TIME_WAIT ends exactly at 2MSL.
    const [x, y] = rng.chance(0.7) ? [c, s] : [s, c];
    closeConnection(b, rng.chance(0.8) ? 'active' : 'combined', x, y);
    if (connections % 50 === 1) b.expect();
    b.now += rng.int(1000, 500_000);
  }
  if (chunk) {
    write(chunk);
    bytes += Buffer.byteLength(chunk);
  }
  return { events: b.eventCount, lines: b.lineNo, connections, bytes };
}
