/**
 * A long, valid conversation for incremental tests (several snapshots' and
 * chunks' worth): handshake, data rounds with in-flight segments delivered
 * later, sections, expects and notes, close and TIME_WAIT.
 */
export interface LongTraceShape {
  /** A section line before every round i with i % sectionEvery === 5. */
  sectionEvery: number;
  /** An in-flight segment, overtaken and delivered later, in every round i with i % inFlightEvery === 7. */
  inFlightEvery: number;
  /** Give the data segments a window that differs from round to round. */
  windows?: boolean;
  /** A note after every round i with i % notesEvery === 9. */
  notesEvery?: number;
}

export function longTrace(rounds: number, shape: LongTraceShape): string {
  const out = ['option msl=1s', 'endpoint client 10.0.0.1:40000', 'endpoint server 10.0.0.2:80', '0 server: listen'];
  out.push('+1ms client -> server: SYN seq=1000 win=65535', '+1ms server -> client: SYN,ACK seq=5000 ack=1001 win=65535', '+1ms client -> server: ACK seq=1001 ack=5001');
  let c = 1001;
  for (let i = 0; i < rounds; i++) {
    if (i % shape.sectionEvery === 5) out.push(`== round ${i} ==`);
    if (i % shape.inFlightEvery === 7) {
      out.push(`+1ms client ~> server: PSH,ACK seq=${c} ack=5001 len=100 as d${i}`);
      out.push(`+1ms client -> server: PSH,ACK seq=${c + 100} ack=5001 len=100`);
      out.push(`deliver d${i}`);
      c += 200;
    } else {
      out.push(`+1ms client -> server: PSH,ACK seq=${c} ack=5001 len=100${shape.windows ? ` win=${1000 + i}` : ''}`);
      c += 100;
    }
    out.push(`+1ms server -> client: ACK seq=5001 ack=${c}`);
    if (i % 40 === 3) out.push(`expect client ESTABLISHED, server ESTABLISHED`);
    if (shape.notesEvery !== undefined && i % shape.notesEvery === 9) out.push(`note over client: "round ${i}"`);
  }
  out.push(`+1ms client -> server: FIN,ACK seq=${c} ack=5001`, `+1ms server -> client: FIN,ACK seq=5001 ack=${c + 1}`, `+1ms client -> server: ACK seq=${c + 1} ack=5002`, '+2MSL client: timeout');
  return out.join('\n') + '\n';
}
