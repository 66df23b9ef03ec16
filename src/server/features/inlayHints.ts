/**
 * Inlay hints, each kind switchable in settings:
 * - state changes, at the end of the event's line: `client SYN_SENT → ESTABLISHED`;
 * - inferred numbers, where the omitted field would be: `seq=1001`, `ack=5001`
 *   (in the trace's own terms in a symbolic trace: `seq=x+1`);
 * - the value a symbol was bound to, after its binding: `u = x+1`.
 */
import type { InlayHint, Range } from 'vscode-languageserver';
import type { SegmentStmt } from '../../core/syntax/ast';
import type { Analysis } from '../analysis';

export function computeInlayHints(a: Analysis, range: Range): InlayHint[] {
  const { stateChanges, inferredNumbers } = a.settings.inlayHints;
  if (!stateChanges && !inferredNumbers) return [];
  const hints: InlayHint[] = [];
  const tl = a.result.timeline;
  const eps = a.result.endpoints;
  // Walk only the events in the visible range.
  let ev = Math.max(0, tl.indexAtOrBefore(range.start.line - 1) + 1);
  for (; ev < tl.length; ev++) {
    const line = tl.line(ev);
    if (line > range.end.line) break;
    const st = a.statements[tl.stmtIndex(ev)];
    if (inferredNumbers && st?.kind === 'segment') numberHints(a, st, ev, hints);
    if (stateChanges) {
      const changes: string[] = [];
      for (let e = 0; e < eps.length; e++) {
        const before = tl.stateBefore(ev, e);
        const after = tl.state(ev, e);
        if (before !== after) changes.push(`${eps[e].name} ${a.stateName(before)} → ${a.stateName(after)}`);
      }
      if (changes.length > 0) {
        const text = a.lines[line] ?? '';
        hints.push({
          position: { line, character: text.trimEnd().length },
          label: changes.join(', '),
          paddingLeft: true,
          tooltip: 'State change caused by this event (tcptrace.inlayHints.stateChanges)',
        });
      }
    }
  }
  return hints;
}

function numberHints(a: Analysis, st: SegmentStmt, ev: number, hints: InlayHint[]): void {
  const seg = a.result.timeline.segment(ev);
  if (!seg) return;
  const sender = a.endpointIndex(st.from.name);
  const receiver = a.endpointIndex(st.to.name);
  const line = st.line;
  // Omitted fields go where they would be written: seq right after the flags, ack after seq.
  let at = st.flagsTok.end;
  if (st.seq) at = st.seq.end;
  if (seg.seqInferred && !st.seq) {
    hints.push({
      position: { line, character: st.flagsTok.end },
      label: `seq=${a.formatSeq(seg.seq, sender)}`,
      paddingLeft: true,
      tooltip: `Inferred: the sender's SND.NXT (${seg.seq >>> 0})`,
    });
  }
  if (seg.ackInferred && !st.ack && seg.ack !== undefined) {
    hints.push({
      position: { line, character: at },
      label: `ack=${a.formatSeq(seg.ack, receiver)}`,
      paddingLeft: true,
      tooltip: `Inferred: the sender's RCV.NXT (${seg.ack >>> 0})`,
    });
  }
  // Symbols bound on this line (not ISNs, which are arbitrary): show what they stand for.
  for (const f of [st.seq, st.ack]) {
    if (!f || f.sym === undefined) continue;
    const b = a.result.symbols.get(f.sym);
    if (!b || b.isn || b.line !== line || b.start > f.start || f.end > b.end) continue;
    const shown = a.formatSeq(b.value, b.space);
    const value = shown === String(b.value >>> 0) || shown === f.sym ? String(b.value >>> 0) : shown;
    hints.push({
      position: { line, character: f.end },
      label: f.value === 0 ? `= ${value}` : `(${f.sym} = ${value})`,
      paddingLeft: true,
      tooltip: `${f.sym} is bound here to ${b.value >>> 0}`,
    });
  }
}
