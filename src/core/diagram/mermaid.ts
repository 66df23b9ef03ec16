/**
 * Mermaid `sequenceDiagram` text from the diagram model.
 *
 * Every line we emit has one of these shapes, built from generated ids
 * (`E0`, `E1`) and text that went through `escapeText` (see `LINE_GRAMMAR`):
 *
 *   sequenceDiagram
 *   title TEXT
 *   participant E0 as TEXT
 *   E0->>E1: TEXT        delivered segment
 *   E0-xE1: TEXT         lost segment
 *   E0-)E1: TEXT         in-flight segment leaving (`~>`)
 *   E0--)E1: TEXT        in-flight segment arriving (`deliver`), dotted
 *   Note over E0: TEXT   state, call/timer, user note
 *   Note over E0,E1: TEXT           user note over both, section divider
 *   Note over E0,E1: wrap:TEXT      diagnostic (wrapped: messages are long)
 *   rect rgba(R, G, B, A) / end     highlight around an event with diagnostics
 *
 * User text therefore never starts a line, and the escaped text contains no
 * character Mermaid gives a meaning to.
 */
import type { CheckResult, Severity } from '../check/types';
import { stateName, type State } from '../tcp/states';
import { DEFAULT_MAX_LABEL, DEFAULT_MAX_MESSAGE, ESCAPED_TEXT_PATTERN, escapeText } from './escape';
import { buildDiagram, statesBefore, type ArrowKind, type DiagramDiagnostic, type DiagramItem, type DiagramModel } from './model';

export interface MermaidOptions {
  /** Render only items [from, to); the chunk starts with both endpoints' states at `from`. */
  range?: { from: number; to: number };
  /** Longest label (arrows, notes, names, title) in code points; longer ones end in an ellipsis. Default 100. */
  maxLabel?: number;
  /** Longest diagnostic message in code points. Default 300. */
  maxMessage?: number;
  /** State spelling; default: the trace's `option states=`. */
  states?: 'socket' | 'rfc';
  /** Prefix events with their time (`[0.25s]`) when the trace has times. Default false. */
  times?: boolean;
  /** Least severity that is highlighted in the diagram. Default 'information'. */
  minSeverity?: Severity;
  /** Emit the title. Default: only when the range starts at the first item. */
  title?: boolean;
}

const ARROWS: Readonly<Record<ArrowKind, string>> = {
  delivered: '->>',
  lost: '-x',
  'sent-in-flight': '-)',
  'delivered-later': '--)',
};

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 3, warning: 2, information: 1, hint: 0 };

/**
 * Highlight colours: translucent tints, so they sit on a white or a dark
 * background alike and keep the arrows and notes inside readable.
 */
export const HIGHLIGHT: Readonly<Record<Severity, string>> = {
  error: 'rgba(239, 68, 68, 0.22)',
  warning: 'rgba(234, 179, 8, 0.24)',
  information: 'rgba(59, 130, 246, 0.16)',
  hint: 'rgba(148, 163, 184, 0.16)',
};

/** What the diagram's marks mean, for a legend next to the preview (plain text, not Mermaid). */
export const LEGEND: ReadonlyArray<{ mark: string; meaning: string }> = [
  { mark: 'solid arrow', meaning: 'segment sent and received' },
  { mark: 'arrow ending in x', meaning: 'segment lost' },
  { mark: 'open arrow, [L sent]', meaning: 'in-flight segment leaves (~> ... as L)' },
  { mark: 'dotted open arrow, [L arrives]', meaning: 'in-flight segment arrives (deliver L)' },
  { mark: 'seq=1000', meaning: 'number given in the trace' },
  { mark: '(seq=1000)', meaning: 'number inferred by the checker' },
  { mark: 'note over an endpoint in capitals', meaning: 'its new state' },
  { mark: 'connect(), timeout (2MSL)', meaning: 'application call or timer' },
  { mark: 'red / amber / blue band', meaning: 'error / warning / information at that event' },
];

/** One regular expression per statement kind we emit; every output line matches one of them. */
export const LINE_GRAMMAR: Readonly<Record<string, RegExp>> = (() => {
  const text = ESCAPED_TEXT_PATTERN;
  const id = 'E[01]';
  const ind = '(?:  )*';
  return {
    header: /^sequenceDiagram$/u,
    title: new RegExp(`^title ${text}$`, 'u'),
    participant: new RegExp(`^participant ${id} as ${text}$`, 'u'),
    message: new RegExp(`^${ind}${id}(?:->>|-x|-\\)|--\\))${id}: ${text}$`, 'u'),
    note: new RegExp(`^${ind}Note over ${id}(?:,${id})?: (?:wrap:)?${text}$`, 'u'),
    rect: new RegExp(`^${ind}rect rgba\\(\\d{1,3}, \\d{1,3}, \\d{1,3}, 0\\.\\d+\\)$`, 'u'),
    end: new RegExp(`^${ind}end$`, 'u'),
  };
})();

function formatTime(t: number): string {
  // Up to microseconds, without trailing zeros: 0.25s, 1.000123s, 12s.
  return String(Math.round(t * 1e6) / 1e6) + 's';
}

class Writer {
  readonly lines: string[] = [];
  private indent = '';
  private readonly maxLabel: number;
  private readonly maxMessage: number;
  private readonly spelling: 'socket' | 'rfc';
  private readonly times: boolean;
  private readonly minRank: number;
  /** Participant ids that exist in the output (`E0`, `E1`). */
  private readonly ids: string[];

  constructor(
    private readonly model: DiagramModel,
    options: MermaidOptions,
  ) {
    this.maxLabel = options.maxLabel ?? DEFAULT_MAX_LABEL;
    this.maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.spelling = options.states ?? model.stateSpelling;
    this.times = options.times ?? false;
    this.minRank = SEVERITY_RANK[options.minSeverity ?? 'information'];
    this.ids = model.participants.length > 0 ? model.participants.map((p) => 'E' + p.index) : ['E0'];
  }

  private push(line: string): void {
    this.lines.push(this.indent + line);
  }

  private text(s: string): string {
    return escapeText(s, this.maxLabel);
  }

  /** `E0` or `E0,E1` for a list of endpoints; all participants when the list is empty. */
  private over(eps: readonly number[]): string {
    const ids = eps.length > 0 ? eps.map((e) => this.ids[e] ?? this.ids[0]) : this.ids;
    return ids.length > 1 ? ids[0] + ',' + ids[ids.length - 1] : ids[0];
  }

  private note(eps: readonly number[], text: string): void {
    this.push(`Note over ${this.over(eps)}: ${this.text(text)}`);
  }

  private stateNote(ep: number, s: State): void {
    this.note([ep], stateName(s, this.spelling));
  }

  header(from: number, empty: boolean, showTitle: boolean): void {
    const m = this.model;
    this.lines.push('sequenceDiagram');
    if (showTitle && m.title !== undefined && m.title !== '') this.lines.push(`title ${this.text(m.title)}`);
    if (m.participants.length === 0) {
      // Notes need a participant: a trace that names no endpoint still shows its problems.
      if (!empty) this.lines.push(`participant E0 as ${this.text('(no endpoints)')}`);
      return;
    }
    for (const p of m.participants) {
      let shown = p.label ?? p.name;
      if (p.label !== undefined && p.label !== p.name) shown += ` (${p.name})`;
      if (p.address !== undefined) shown += ' ' + p.address;
      this.lines.push(`participant E${p.index} as ${this.text(shown)}`);
    }
    const s = statesBefore(m, from);
    for (const p of m.participants) this.stateNote(p.index, s[p.index]);
  }

  item(it: DiagramItem): void {
    const shown: DiagramDiagnostic[] = [];
    let rank = -1;
    for (const d of it.diagnostics) {
      const r = SEVERITY_RANK[d.severity];
      if (r < this.minRank) continue;
      shown.push(d);
      if (r > rank) rank = r;
    }
    const highlight = shown.length > 0;
    if (highlight) {
      const sev = (Object.keys(SEVERITY_RANK) as Severity[]).find((k) => SEVERITY_RANK[k] === rank)!;
      this.push(`rect ${HIGHLIGHT[sev]}`);
      this.indent += '  ';
    }
    const prefix = this.times && Number.isFinite(it.time) ? `[${formatTime(it.time)}] ` : '';
    switch (it.kind) {
      case 'segment':
        this.push(`E${it.from}${ARROWS[it.arrow]}E${it.to}: ${this.text(prefix + it.label)}`);
        break;
      case 'call':
        this.note([it.endpoint], prefix + it.text);
        break;
      case 'note':
        this.note(it.over, it.text);
        break;
      case 'section':
        this.note([], `== ${it.text} ==`);
        break;
      case 'expect':
        // A passing expectation adds nothing the state notes do not show; a failing one shows its diagnostic.
        break;
      case 'problem':
        if (it.text !== undefined) this.note([], it.text);
        break;
    }
    for (const d of shown) {
      this.push(`Note over ${this.over([])}: wrap:${escapeText(`${d.severity} ${d.code}: ${d.message}`, this.maxMessage)}`);
    }
    if (highlight) {
      this.indent = this.indent.slice(2);
      this.push('end');
    }
    for (const c of it.stateChanges) this.stateNote(c.endpoint, c.to);
  }
}

/** Mermaid text for the model, or for the items of `options.range`. Linear in the items rendered. */
export function toMermaid(model: DiagramModel, options: MermaidOptions = {}): string {
  const n = model.items.length;
  const from = Math.max(0, Math.min(n, Math.floor(options.range?.from ?? 0)));
  const to = Math.max(from, Math.min(n, Math.floor(options.range?.to ?? n)));
  const w = new Writer(model, options);
  w.header(from, from === to, options.title ?? from === 0);
  for (let k = from; k < to; k++) w.item(model.items[k]);
  return w.lines.join('\n') + '\n';
}

/** Mermaid text of a checked trace: `toMermaid(buildDiagram(result), options)`. */
export function renderMermaid(result: CheckResult, options?: MermaidOptions): string {
  return toMermaid(buildDiagram(result), options);
}

/**
 * Splits the model into ranges of at most `size` items for chunked rendering.
 * Each range can be passed to `toMermaid` and reads on its own.
 */
export function chunkRanges(model: DiagramModel, size: number): Array<{ from: number; to: number }> {
  const step = Math.max(1, Math.floor(size));
  const out: Array<{ from: number; to: number }> = [];
  for (let from = 0; from < model.items.length; from += step) out.push({ from, to: Math.min(model.items.length, from + step) });
  return out;
}
