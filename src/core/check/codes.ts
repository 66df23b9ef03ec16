/** The diagnostic codes of spec section 6: default severity and what each means. */
import type { Severity } from './types';

export interface CodeInfo {
  /** Default severity for hand-written traces (`origin=model`). */
  severity: Severity;
  /** Severity for captures (`origin=capture`), where it differs; 'off' = not reported. */
  capture?: Severity | 'off';
  title: string;
}

export const CODES: Readonly<Record<string, CodeInfo>> = {
  TT100: { severity: 'error', title: 'Syntax error' },
  TT101: { severity: 'error', title: 'Unknown flag, field or option' },
  TT102: { severity: 'error', title: 'Number out of range or malformed' },
  TT103: { severity: 'error', title: 'Field given twice' },
  TT105: { severity: 'error', title: 'Unknown or third endpoint, or a segment from an endpoint to itself' },
  TT106: { severity: 'error', title: 'Unknown state name' },
  TT107: { severity: 'error', title: 'Header statement after the first event, or given twice' },
  TT108: { severity: 'error', title: 'Unknown call, or a call with wrong arguments' },
  TT110: { severity: 'error', title: 'Unknown, reused or twice-delivered label; segment still in flight at the end' },
  TT111: { severity: 'error', title: 'Conflicting fields' },
  TT112: { severity: 'error', title: 'Time goes backwards' },
  TT200: { severity: 'error', title: "The sender's state does not allow this segment" },
  TT201: { severity: 'error', title: 'The call is not allowed in this state' },
  TT202: { severity: 'information', title: 'Segment arrives at a CLOSED endpoint: a RST answers it' },
  TT203: { severity: 'error', title: 'ACK flag missing in a synchronized state' },
  TT204: { severity: 'error', title: "Data or FIN after the sender's own FIN" },
  TT206: { severity: 'error', title: 'expect does not hold' },
  TT207: { severity: 'warning', title: 'TIME_WAIT ended before 2MSL' },
  TT208: { severity: 'information', title: 'New connection on a 4-tuple in TIME_WAIT' },
  TT209: { severity: 'information', title: 'Trace ends with an endpoint neither CLOSED nor LISTEN' },
  TT210: { severity: 'warning', title: 'A call whose segment never appears, or a segment that never got its answer' },
  TT300: { severity: 'error', capture: 'warning', title: 'Sequence gap: new data or FIN does not start at SND.NXT' },
  TT301: { severity: 'error', capture: 'warning', title: 'ACK acknowledges data the peer never sent' },
  TT302: { severity: 'error', title: 'Wrong acknowledgment of a SYN or FIN (SYN and FIN consume one number)' },
  TT303: { severity: 'information', title: 'Retransmission' },
  TT304: { severity: 'information', title: 'Duplicate ACK' },
  TT305: { severity: 'information', title: 'Out-of-order arrival' },
  TT306: { severity: 'warning', title: 'Acknowledgment goes backwards' },
  TT307: { severity: 'error', title: 'SYN retransmitted with a different ISN' },
  TT308: { severity: 'error', capture: 'off', title: 'ACK leaves data the sender has already received unacknowledged' },
  TT400: { severity: 'warning', title: "Data beyond the receiver's advertised window" },
  TT401: { severity: 'information', title: 'Zero window advertised' },
  TT402: { severity: 'information', title: 'Zero-window probe' },
  TT404: { severity: 'warning', title: 'RST or SYN the receiver does not act on (RFC 5961)' },
  TT405: { severity: 'information', title: 'Keep-alive probe' },
};

/** Where each code is documented, relative to the repository root. */
export function codeDocAnchor(code: string): string {
  return `docs/language.md#${code.toLowerCase()}`;
}
