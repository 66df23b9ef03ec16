/** The eleven connection states of RFC 9293 3.3.2 and their spellings. */

export const CLOSED = 0;
export const LISTEN = 1;
export const SYN_SENT = 2;
export const SYN_RCVD = 3;
export const ESTABLISHED = 4;
export const FIN_WAIT_1 = 5;
export const FIN_WAIT_2 = 6;
export const CLOSE_WAIT = 7;
export const CLOSING = 8;
export const LAST_ACK = 9;
export const TIME_WAIT = 10;

export type State = number;

/** Socket spelling (the default, and the one used in JSON output). */
export const SOCKET_NAMES: readonly string[] = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RCVD',
  'ESTABLISHED',
  'FIN_WAIT_1',
  'FIN_WAIT_2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
];

/** RFC 9293 spelling (`option states=rfc`). */
export const RFC_NAMES: readonly string[] = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
];

/** What each state means, for hovers and completion. */
export const STATE_DOCS: readonly string[] = [
  'No connection exists.',
  'Waiting for a connection request (SYN) from any remote TCP (passive open).',
  'A SYN was sent; waiting for a matching SYN (and the ACK of ours).',
  'A SYN was received and one was sent; waiting for the ACK of our SYN.',
  'The connection is open: data can flow both ways.',
  'Our application closed: our FIN is sent, waiting for its ACK or the peer\'s FIN.',
  'Our FIN is acknowledged; waiting for the peer to close (its FIN).',
  'The peer closed (its FIN arrived); waiting for our application to close.',
  'Both FINs crossed: ours is not yet acknowledged, the peer\'s is.',
  'The peer closed first and so did we; waiting for the ACK of our FIN.',
  'Both sides closed; waiting 2 MSL so that late segments die out and our last ACK can be repeated.',
];

const LOOKUP = new Map<string, State>();
function key(s: string): string {
  return s.toUpperCase().replace(/[-_ ]/g, '');
}
for (let i = 0; i < SOCKET_NAMES.length; i++) {
  LOOKUP.set(key(SOCKET_NAMES[i]), i);
  LOOKUP.set(key(RFC_NAMES[i]), i);
}
// Linux's and BSD's spellings.
LOOKUP.set('SYNRECV', SYN_RCVD);
LOOKUP.set('SYNRECEIVED', SYN_RCVD);
LOOKUP.set('SYNRCVD', SYN_RCVD);
LOOKUP.set('ESTAB', ESTABLISHED);
LOOKUP.set('FINWAIT', FIN_WAIT_1);
LOOKUP.set('CLOSE', CLOSED);

/** Parses any accepted spelling of a state name, case-insensitively; -1 if unknown. */
export function parseState(text: string): State {
  const s = LOOKUP.get(key(text));
  return s === undefined ? -1 : s;
}

export function stateName(s: State, spelling: 'socket' | 'rfc' = 'socket'): string {
  return (spelling === 'rfc' ? RFC_NAMES : SOCKET_NAMES)[s] ?? '?';
}

/** Synchronized states (RFC 9293 3.5.2): the handshake is complete. */
export function isSynchronized(s: State): boolean {
  return s >= ESTABLISHED;
}
