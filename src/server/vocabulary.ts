/**
 * What every word of the language means, in the user's terms. Hover and
 * completion both read these tables, so a word is explained the same way
 * wherever it appears.
 */
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from '../core/syntax/ast';

export interface WordDoc {
  /** How the word is written (canonical spelling). */
  label: string;
  /** One line: what it is. */
  summary: string;
  /** Markdown with the detail (RFC reference, effect on the state machine). */
  detail: string;
}

export const FLAG_DOCS: readonly (WordDoc & { bit: number; letter: string })[] = [
  {
    bit: SYN,
    letter: 'S',
    label: 'SYN',
    summary: 'Synchronize sequence numbers: opens a connection.',
    detail:
      'Carries the sender\'s initial sequence number (ISN) in `seq` and consumes one sequence number, so its acknowledgment is `ack=ISN+1`. Sent by `connect` (active open) and answered with SYN,ACK by a listening endpoint (RFC 9293 3.5).',
  },
  {
    bit: ACK,
    letter: '.',
    label: 'ACK',
    summary: 'The acknowledgment field is significant.',
    detail:
      '`ack` is the next sequence number the sender expects from its peer (its RCV.NXT): everything below it has arrived. Every segment but a RST carries ACK once the connection is synchronized (RFC 9293 3.10.7.4). tcpdump prints it as `.`.',
  },
  {
    bit: FIN,
    letter: 'F',
    label: 'FIN',
    summary: 'No more data from the sender: closes its sending side.',
    detail:
      'Sent after `close` (or `shutdown`); consumes one sequence number, so its acknowledgment is `ack=seq+len+1`. ESTABLISHED -> FIN_WAIT_1 for the sender, ESTABLISHED -> CLOSE_WAIT for the receiver (RFC 9293 3.6).',
  },
  {
    bit: RST,
    letter: 'R',
    label: 'RST',
    summary: 'Reset: aborts the connection.',
    detail:
      'Sent by `abort`, or as the answer to a segment that belongs to no connection. An acceptable RST (exactly at RCV.NXT, RFC 5961) moves the receiver to CLOSED (or back to LISTEN from a passive SYN_RCVD).',
  },
  {
    bit: PSH,
    letter: 'P',
    label: 'PSH',
    summary: 'Push: deliver the data to the application now.',
    detail: 'A hint to the receiver not to wait for more data before passing this segment\'s payload up. No effect on the state machine.',
  },
  {
    bit: URG,
    letter: 'U',
    label: 'URG',
    summary: 'The urgent pointer (`urg=`) is significant.',
    detail: 'Marks urgent data ending at `seq+urg` (RFC 9293 3.8.5; new applications should not use it, RFC 6093).',
  },
  {
    bit: ECE,
    letter: 'E',
    label: 'ECE',
    summary: 'ECN-Echo (RFC 3168).',
    detail: 'On a SYN: the sender is ECN-capable. Later: a congestion-experienced mark arrived. No effect on the state machine.',
  },
  {
    bit: CWR,
    letter: 'W',
    label: 'CWR',
    summary: 'Congestion Window Reduced (RFC 3168).',
    detail: 'The sender answered an ECN-Echo by reducing its congestion window. No effect on the state machine.',
  },
];

export const FLAG_BY_WORD = new Map(FLAG_DOCS.map((f) => [f.label, f]));
export const FLAG_BY_LETTER = new Map(FLAG_DOCS.map((f) => [f.letter, f]));

/** The order flags are written in canonically: the order tcpdump and Wireshark list them, ACK near the end. */
export const CANONICAL_FLAG_ORDER: readonly number[] = [SYN, FIN, RST, PSH, ACK, URG, ECE, CWR];

export const FIELD_DOCS: readonly WordDoc[] = [
  {
    label: 'seq',
    summary: 'Sequence number of the first byte (or of the SYN/FIN).',
    detail:
      'New data and FINs start at the sender\'s SND.NXT; a lower value is a retransmission, a higher one a gap. Write a number, a symbol (`seq=x`) or a symbol plus an offset (`seq=x+1`); leave it out and the checker infers it.',
  },
  {
    label: 'ack',
    summary: 'Acknowledgment number: the next byte expected from the peer.',
    detail:
      'Requires the ACK flag. An endpoint acknowledges exactly what it has received, its RCV.NXT; SYN and FIN each count as one byte. Leave it out and the checker infers it.',
  },
  { label: 'len', summary: 'Payload length in bytes (default 0).', detail: 'The segment carries `len` bytes starting at `seq`; the next new data starts at `seq+len`.' },
  { label: 'data', summary: 'The payload itself, as a string.', detail: 'Implies `len` (its UTF-8 length); giving both with different values is an error (TT111).' },
  {
    label: 'win',
    summary: 'Receive window as sent (16 bits).',
    detail: 'How many bytes beyond `ack` the sender can accept. Once both SYNs carried `wscale`, the effective window is `win << wscale` (RFC 7323). `win=0` closes the window.',
  },
  { label: 'urg', summary: 'Urgent pointer (with URG).', detail: 'Offset from `seq` of the end of the urgent data (RFC 9293 3.8.5).' },
];

export const OPTION_DOCS: readonly WordDoc[] = [
  { label: 'mss', summary: 'Maximum Segment Size option (kind 2).', detail: 'On a SYN: the largest payload the sender wants to receive (RFC 9293 3.7.1).' },
  {
    label: 'wscale',
    summary: 'Window Scale option (kind 3, RFC 7323).',
    detail: 'On a SYN: the shift count (0-14) the sender applies to its own advertised windows. Scaling is in effect only when both SYNs carry it.',
  },
  { label: 'sackok', summary: 'SACK-Permitted option (kind 4, RFC 2018).', detail: 'On a SYN: the sender accepts selective acknowledgments.' },
  { label: 'sack', summary: 'SACK blocks (kind 5, RFC 2018).', detail: 'Ranges `LEFT-RIGHT` the receiver holds beyond `ack`: `sack=2001-3001,4001-5001`.' },
  { label: 'ts', summary: 'Timestamps option (kind 8, RFC 7323).', detail: '`ts=TSval:TSecr`: the sender\'s clock and the echo of the peer\'s last timestamp.' },
];

export const CALL_DOCS: readonly (WordDoc & { signature: string })[] = [
  { label: 'socket', signature: 'socket', summary: 'Creates the socket.', detail: 'No effect on the state machine; allowed once, before anything else on that endpoint.' },
  { label: 'bind', signature: 'bind [ADDRESS:PORT]', summary: 'Binds a local address.', detail: 'No effect on the state machine.' },
  {
    label: 'listen',
    signature: 'listen [backlog=N]',
    summary: 'Passive OPEN: waits for connections.',
    detail: 'CLOSED -> LISTEN. An endpoint that answers a SYN with SYN,ACK must have listened.',
  },
  {
    label: 'connect',
    signature: 'connect',
    summary: 'Active OPEN: starts the three-way handshake.',
    detail: 'CLOSED -> SYN_SENT; the SYN must follow from this endpoint. A SYN sent from CLOSED implies it.',
  },
  { label: 'accept', signature: 'accept', summary: 'Takes an established connection from the listen queue.', detail: 'No effect on the state machine; the endpoint must have come through LISTEN and be synchronized.' },
  {
    label: 'send',
    signature: 'send N | send "TEXT"',
    summary: 'SEND: queues data for the peer.',
    detail: 'No effect on the state; the data must later appear in this endpoint\'s segments. An error once the endpoint has closed its sending side.',
  },
  { label: 'recv', signature: 'recv [N]', summary: 'RECEIVE: the application reads data.', detail: 'No effect on the state; an error where no connection exists.' },
  {
    label: 'close',
    signature: 'close',
    summary: 'CLOSE: no more data from this side.',
    detail: 'LISTEN or SYN_SENT -> CLOSED; SYN_RCVD or ESTABLISHED -> FIN_WAIT_1; CLOSE_WAIT -> LAST_ACK. A FIN follows. Later states: "connection closing".',
  },
  { label: 'shutdown', signature: 'shutdown', summary: 'Closes only the sending side.', detail: 'As `close` for the state machine, but the application may still `recv`.' },
  {
    label: 'abort',
    signature: 'abort',
    summary: 'ABORT: resets the connection.',
    detail: 'From SYN_RCVD and the synchronized states a RST is sent (this endpoint\'s next segment) -> CLOSED; LISTEN or SYN_SENT -> CLOSED.',
  },
  { label: 'timeout', signature: 'timeout', summary: '2MSL timer or user timeout.', detail: 'TIME_WAIT -> CLOSED (2MSL expiry); any other state: user timeout -> CLOSED.' },
  { label: 'rto', signature: 'rto', summary: 'Retransmission timeout.', detail: 'No effect on the state; marks that this endpoint\'s next segment may be a retransmission.' },
];

export const KEYWORD_DOCS: readonly WordDoc[] = [
  { label: 'title', summary: 'The diagram title.', detail: '`title "TEXT"` — header, at most once.' },
  { label: 'endpoint', summary: 'Declares an endpoint.', detail: '`endpoint NAME [ADDRESS:PORT] [as "LABEL"]` — header, at most twice. Undeclared endpoints are declared by their first use.' },
  { label: 'option', summary: 'A trace option.', detail: '`option msl=DURATION`, `option origin=model|capture`, `option states=socket|rfc` — header.' },
  { label: 'expect', summary: 'Asserts states after the previous event.', detail: '`expect A STATE[, B STATE]` — an error (TT206) when the state is different.' },
  { label: 'note', summary: 'Free text in the diagram.', detail: '`note A: TEXT` or `note over A, B: TEXT`.' },
  { label: 'deliver', summary: 'An in-flight segment arrives now.', detail: '`deliver LABEL` — the segment sent with `A ~> B: ... as LABEL` reaches its receiver at this point.' },
  { label: 'as', summary: 'Names something.', detail: 'After an in-flight segment: its label (`as f1`); after an endpoint declaration: its display label (`as "Web server"`).' },
  { label: 'over', summary: 'The endpoints a note spans.', detail: '`note over A, B: TEXT`.' },
];

export const HEADER_OPTION_DOCS: readonly (WordDoc & { values: readonly string[] })[] = [
  { label: 'msl', values: ['120s', '30s', '60s'], summary: 'Maximum segment lifetime.', detail: 'TIME_WAIT lasts 2 x MSL. Default 2 minutes (RFC 9293); Linux uses 30 s.' },
  {
    label: 'origin',
    values: ['model', 'capture'],
    summary: 'Where the trace comes from.',
    detail: '`model` (default): hand-written, a gap in a stream is an error. `capture`: an observation, gaps are segments the capture missed (warnings).',
  },
  { label: 'states', values: ['socket', 'rfc'], summary: 'How states are spelled in the diagram.', detail: '`socket` (default): `SYN_RCVD`; `rfc`: `SYN-RECEIVED`.' },
];

export const ARROW_DOCS: readonly WordDoc[] = [
  { label: '->', summary: 'Sent and received at this point.', detail: 'The segment arrives at its receiver immediately.' },
  { label: '-x', summary: 'Sent and lost.', detail: 'The segment leaves the sender (which advances SND.NXT) but never arrives.' },
  { label: '~>', summary: 'Sent now, still in flight.', detail: 'Name it with `as LABEL`; `deliver LABEL` later makes it arrive.' },
];

/** The TCB variables shown in hovers, with what they mean. */
export const TCB_DOCS: Readonly<Record<string, string>> = {
  'SND.UNA': 'oldest unacknowledged sequence number',
  'SND.NXT': 'next sequence number to send',
  'SND.WND': 'send window (what the peer advertised, scaled)',
  'RCV.NXT': 'next sequence number expected',
  'RCV.WND': 'receive window',
  ISS: 'initial send sequence number',
  IRS: 'initial receive sequence number',
};
