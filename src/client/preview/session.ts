/**
 * The preview's host-side state for one document: checks the text, builds the
 * diagram model, cuts it into chunks and keeps their data for the webview to
 * ask for. Pure (no `vscode`): the extension runs it in a worker thread, the
 * tests and the benchmark run it directly.
 *
 * "The text does not parse" means the parser reported a syntax diagnostic
 * (TT100-TT103: the checker never throws, it recovers). While that is so, the
 * session keeps showing the last layout whose text parsed, marked stale, with
 * the first syntax error; a trace that has never parsed since the preview
 * opened is drawn as it is (its broken lines marked).
 */
import { check, checkIncremental } from '../../core/check/checker';
import type { CheckOptions, CheckResult, Severity } from '../../core/check/types';
import { buildWithReuse, type DiagramModel, type DiagramPrior, type LineMap } from '../../core/diagram/model';
import { lineMap, type TextChange } from '../../core/syntax/lines';
import { toMermaid } from '../../core/diagram/mermaid';
import { RFC_NAMES, SOCKET_NAMES } from '../../core/tcp/states';
import type { ChunkData, ChunkRef, DiagramCounts, LayoutMessage, ParseProblem, Spacers } from '../../webview/messages';
import { planChunks, widestLabels, writeChunk, type PlannedChunk, type Range } from './chunks';

export interface SessionSettings {
  /** Per-code severity overrides (`tcptrace.diagnostics.severity`). */
  severities?: Readonly<Record<string, Severity | 'off'>>;
  /** State spelling; undefined: the trace's own `option states=`. */
  spelling?: 'socket' | 'rfc';
}

/** A layout without the fields the panel adds (resource, file name, lock, sequence number). */
export type LayoutCore = Omit<LayoutMessage, 'type' | 'seq' | 'resource' | 'fileName' | 'locked'>;

interface Shown {
  version: number;
  model: DiagramModel;
  spelling: 'socket' | 'rfc';
  layout: LayoutCore;
  /** The chunks of the layout by key: where they are, and their data once written. */
  chunks: Map<string, { range: Range; data: ChunkData | undefined }>;
}

/** Timings of the last update, for the benchmark. */
export interface SessionTimings {
  check: number;
  model: number;
  chunks: number;
}

/** The line map of a text to itself. */
const UNCHANGED: LineMap = { first: Number.MAX_SAFE_INTEGER, oldTail: Number.MAX_SAFE_INTEGER, newTail: Number.MAX_SAFE_INTEGER };

export class DiagramSession {
  private shown: Shown | undefined;
  /** The last layout whose text parsed. */
  private good: Shown | undefined;
  /** Written chunks by key, kept from one update to the next (a key is a digest of the chunk's content). */
  private written = new Map<string, ChunkData>();
  timings: SessionTimings = { check: 0, model: 0, chunks: 0 };
  /** The last text checked and its result, to re-check an edit from where it changed. */
  private checked: { text: string; result: CheckResult; severities: string } | undefined;
  private change: { from: string; text: string; map: TextChange | undefined } | undefined;
  /** The last model built, its text and chunk plan: an edit rebuilds items and chunks only where it changed them. */
  private built:
    | { text: string; result: CheckResult; model: DiagramModel; spelling: 'socket' | 'rfc'; planned: PlannedChunk[]; widest: ReturnType<typeof widestLabels> }
    | undefined;

  /** Forgets everything (another document). */
  reset(): void {
    this.shown = undefined;
    this.good = undefined;
    this.written = new Map();
    this.checked = undefined;
    this.built = undefined;
    this.change = undefined;
  }

  /** How `text` differs from the text of the last model built (computed once per text). */
  private builtChange(text: string): TextChange | undefined {
    const last = this.built;
    if (!last) return undefined;
    if (this.change?.text !== text || this.change.from !== last.text) this.change = { from: last.text, text, map: lineMap(last.text, text) };
    return this.change.map;
  }

  /** Checks `text`, resuming from the last check when only some lines changed. */
  private check(text: string, options: CheckOptions): CheckResult {
    const severities = JSON.stringify(options.severities ?? {});
    const last = this.checked;
    let result: CheckResult;
    if (last && last.severities === severities) {
      const changed = last.text === this.built?.text ? this.builtChange(text) : lineMap(last.text, text);
      // With the line count unchanged, lines after `last` are known unchanged (as `changedLines` says).
      result = changed ? checkIncremental(last.result, text, changed.first, options, changed.newTail === changed.oldTail ? changed.last : undefined) : last.result;
    } else result = check(text, options);
    this.checked = { text, result, severities };
    return result;
  }

  /** Checks `text` and returns the layout to show. */
  update(text: string, version: number, settings: SessionSettings = {}): LayoutCore {
    const t0 = performance.now();
    const options: CheckOptions = settings.severities ? { severities: settings.severities } : {};
    const result = this.check(text, options);
    const t1 = performance.now();
    const problem = firstSyntaxError(result);
    if (problem && this.good) {
      // Keep the last good diagram; say why it is not updating.
      this.timings = { check: t1 - t0, model: 0, chunks: 0 };
      this.shown = this.good;
      return { ...this.good.layout, problem, stale: true };
    }
    const last = this.built;
    // The same text checked again (other settings): every line is where it was, the diagnostics may differ.
    const lines = last ? (this.builtChange(text) ?? UNCHANGED) : undefined;
    // The last model built is dropped once this one is: it is either the last good one, which this one replaces
    // (a text that does not parse returns above while there is one), or a model shown in no layout any more.
    const prior: DiagramPrior | undefined = last && lines ? { model: last.model, result: last.result, lines, consume: true } : undefined;
    const { model, reuse } = last && result === last.result ? { model: last.model, reuse: undefined } : buildWithReuse(result, prior);
    const t2 = performance.now();
    const spelling = settings.spelling ?? model.stateSpelling;
    // Chunks are planned (keys, weights) now and written when the webview asks for them.
    let planned: PlannedChunk[];
    let widest: ReturnType<typeof widestLabels>;
    if (last && model === last.model && spelling === last.spelling) {
      planned = last.planned;
      widest = last.widest;
    } else {
      const same = last && reuse && spelling === last.spelling ? reuse : undefined;
      planned = planChunks(model, spelling, same && { model: last!.model, spelling, plan: last!.planned, reuse: same });
      widest = widestLabels(model, spelling, same && { model: last!.model, set: last!.widest.set, reuse: same });
    }
    this.built = { text, result, model, spelling, planned, widest };
    const chunks = new Map<string, { range: Range; data: ChunkData | undefined }>();
    const refs: ChunkRef[] = [];
    const written = new Map<string, ChunkData>();
    for (const c of planned) {
      const kept = this.written.get(c.key) ?? written.get(c.key);
      if (kept) written.set(c.key, kept);
      if (!chunks.has(c.key)) chunks.set(c.key, { range: c.range, data: kept });
      refs.push({
        key: c.key,
        firstLine: model.items[c.range.from].line,
        lastLine: model.items[c.range.to - 1].line,
        items: c.range.to - c.range.from,
        weight: c.weight,
      });
    }
    this.written = written;
    const layout: LayoutCore = {
      version,
      participants: participantNames(model),
      stateNames: [...(spelling === 'rfc' ? RFC_NAMES : SOCKET_NAMES)],
      chunks: refs,
      spacers: widest.spacers,
      counts: countsOf(result, model),
      problem,
      stale: false,
    };
    this.timings = { check: t1 - t0, model: t2 - t1, chunks: performance.now() - t2 };
    const shown: Shown = { version, model, spelling, layout, chunks };
    this.shown = shown;
    if (!problem) this.good = shown;
    return layout;
  }

  /** Data of chunks of the layout shown, written on first request; unknown keys are skipped. */
  chunks(keys: readonly string[]): ChunkData[] {
    const out: ChunkData[] = [];
    const shown = this.shown;
    if (!shown) return out;
    for (const k of keys) {
      const c = shown.chunks.get(k);
      if (!c) continue;
      if (!c.data) {
        c.data = writeChunk(shown.model, c.range, shown.spelling, k);
        // A key is a digest of the content: the data serves any later layout that has the key.
        this.written.set(k, c.data);
      }
      out.push(c.data.from === c.range.from ? c.data : { ...c.data, from: c.range.from });
    }
    return out;
  }

  /** The whole diagram as one Mermaid text (for copying; may exceed what Mermaid renders by default). */
  mermaid(): string | undefined {
    const s = this.shown;
    return s ? toMermaid(s.model, { states: s.spelling }) : undefined;
  }

  /** The layout shown, if any. */
  get layout(): LayoutCore | undefined {
    return this.shown?.layout;
  }
}

/** The first syntax error, or null when the text parses. */
export function firstSyntaxError(result: CheckResult): ParseProblem | null {
  let first: ParseProblem | null = null;
  for (const d of result.parsed.diagnostics) {
    if (!first || d.line < first.line) first = { line: d.line, code: d.code, message: d.message };
  }
  return first;
}

function participantNames(model: DiagramModel): string[] {
  return model.participants.map((p) => {
    let shown = p.label ?? p.name;
    if (p.label !== undefined && p.label !== p.name) shown += ` (${p.name})`;
    return shown;
  });
}

function countsOf(result: CheckResult, model: DiagramModel): DiagramCounts {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  for (const d of result.diagnostics) {
    if (d.severity === 'error') errors++;
    else if (d.severity === 'warning') warnings++;
    else if (d.severity === 'information') infos++;
  }
  return { items: model.items.length, events: result.timeline.length, errors, warnings, infos };
}

export type { Spacers };
