/** `tcptrace/statesAt`: both endpoints' states at a position, for the status bar. */
import type { Position } from 'vscode-languageserver';
import type { StatesAtResult } from '../../protocol';
import type { Analysis } from '../analysis';

export function computeStatesAt(a: Analysis, pos: Position): StatesAtResult {
  const tl = a.result.timeline;
  const ev = tl.indexAtOrBefore(pos.line);
  const onLine = ev >= 0 && tl.line(ev) === pos.line;
  return {
    endpoints: a.result.endpoints.map((e, i) => {
      const state = ev >= 0 ? tl.state(ev, i) : tl.initialStates[i];
      return { name: e.name, state: a.stateName(state), changed: onLine && tl.stateBefore(ev, i) !== state };
    }),
    eventLine: ev >= 0 ? tl.line(ev) : null,
  };
}
