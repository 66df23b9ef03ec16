/**
 * Cutting the diagram into chunks that Mermaid draws quickly, and mapping each
 * chunk's Mermaid statements back to the items (and so the source lines) they
 * come from. Pure: no `vscode`, no DOM.
 *
 * Why chunks, and why these boundaries: Mermaid costs about 2-3 ms per drawn
 * statement and blocks the page while it works (shared/notes/mermaid-at-scale.md),
 * so the preview draws a long trace as a column of small diagrams, each drawn
 * when it comes into view. Boundaries are chosen from the items' content
 * (content-defined chunking, as rsync and backup tools do), not every N items:
 * inserting a line then changes only the chunk it lands in, the chunks after it
 * keep their text and their drawn SVG, and only what changed is redrawn.
 */
import { toMermaid } from '../../core/diagram/mermaid';
import { escapeText } from '../../core/diagram/escape';
import { RFC_NAMES, SOCKET_NAMES } from '../../core/tcp/states';
import type { DiagramItem, DiagramModel, DiagramReuse } from '../../core/diagram/model';
import type { Severity } from '../../core/check/types';
import { NoteRole, type ChunkData, type SeverityName, type Spacers } from '../../webview/messages';

/**
 * Chunk bounds. A chunk ends after an item whose content hash has its low bits
 * zero (about one item in `mask + 1`) once it has `min` items, always at `max`
 * items, before a section divider once it has `min` items, and before an item
 * that would take it over the weight or text bounds. With these numbers a chunk
 * averages about 14 items, some 30 drawn statements: 60-100 ms of Mermaid.
 */
export const CHUNKING = {
  min: 6,
  mask: 7,
  max: 24,
  /** Most drawn statements (messages and notes) in one chunk. */
  maxWeight: 56,
  /** Soft bound of a chunk's Mermaid text, estimated per item before it is written. */
  softText: 8_000,
  /**
   * Hard bound of a chunk's Mermaid text: a chunk over it is split in two.
   * Far below Mermaid's `maxTextSize` (50 000), whose placeholder must never show.
   */
  hardText: 20_000,
} as const;

const SHOWN: Readonly<Record<Severity, boolean>> = { error: true, warning: true, information: true, hint: false };

/** 32-bit FNV-1a. */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * FNV-1a of what identifies an item regardless of where it is, its kind and
 * its text (`arrow + from + label` for a segment, `'c' + endpoint + text` for
 * a call, ...), hashed piece by piece instead of concatenated: this runs for
 * every item of a long trace.
 */
function identityHash(it: DiagramItem): number {
  switch (it.kind) {
    case 'segment':
      return fnv1a(it.label, fnv1a(String(it.from), fnv1a(it.arrow)));
    case 'call':
      return fnv1a(it.text, fnv1a(String(it.endpoint), fnv1a('c')));
    case 'problem':
      return fnv1a(it.text ?? '', fnv1a('p'));
    default:
      return fnv1a(it.text, fnv1a(it.kind[0]));
  }
}

function shownDiagnostics(it: DiagramItem): number {
  let n = 0;
  for (const d of it.diagnostics) if (SHOWN[d.severity]) n++;
  return n;
}

/** Whether the item draws a statement of its own (an arrow or a note) besides diagnostics and states. */
function hasMain(it: DiagramItem): boolean {
  return it.kind !== 'expect' && (it.kind !== 'problem' || it.text !== undefined);
}

/** Drawn statements of an item: its arrow or note, its diagnostics' notes, its state notes. */
export function itemWeight(it: DiagramItem): number {
  return (hasMain(it) ? 1 : 0) + shownDiagnostics(it) + it.stateChanges.length;
}

/** A rough upper estimate of the item's Mermaid text, to cut before a chunk grows too long. */
function itemTextEstimate(it: DiagramItem): number {
  let n = 40 + it.stateChanges.length * 32;
  if (it.kind === 'segment') n += it.label.length * 1.5;
  else if (it.kind !== 'problem' || it.text !== undefined) n += ((it as { text?: string }).text?.length ?? 0) * 1.5;
  for (const d of it.diagnostics) if (SHOWN[d.severity]) n += 40 + Math.min(d.message.length, 300) * 1.5;
  return n;
}

export interface Range {
  from: number;
  to: number;
}

/**
 * Content-defined chunk boundaries over the model's items. Linear. Cutting
 * starts at item `start` (which must be a boundary); `resync`, when given, is
 * asked at each boundary after that whether cutting can stop there (the rest
 * is known), and the ranges so far are returned.
 */
export function chunkBoundaries(model: DiagramModel, start = 0, resync?: (boundary: number) => boolean): Range[] {
  const items = model.items;
  const out: Range[] = [];
  let from = start;
  let weight = 0;
  let text = 0;
  for (let k = start; k < items.length; k++) {
    const it = items[k];
    const size = k - from;
    const w = itemWeight(it);
    const t = itemTextEstimate(it);
    // Sections start a chunk, so that inserting one reshapes little; the bounds cut before an item that would not fit.
    if (size > 0 && ((size >= CHUNKING.min && it.kind === 'section') || weight + w > CHUNKING.maxWeight || text + t > CHUNKING.softText)) {
      out.push({ from, to: k });
      if (resync?.(k)) return out;
      from = k;
      weight = 0;
      text = 0;
    }
    weight += w;
    text += t;
    const n = k - from + 1;
    if (n >= CHUNKING.max || (n >= CHUNKING.min && (identityHash(it) & CHUNKING.mask) === 0)) {
      out.push({ from, to: k + 1 });
      if (k + 1 < items.length && resync?.(k + 1)) return out;
      from = k + 1;
      weight = 0;
      text = 0;
    }
  }
  if (from < items.length) out.push({ from, to: items.length });
  return out;
}

/** Visible length of escaped Mermaid text: an entity code `#123;` shows as one character. */
export function visibleLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 35 /* # */) {
      let j = i + 1;
      while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      if (j > i + 1 && s.charCodeAt(j) === 59 /* ; */) i = j;
    }
    n++;
  }
  return n;
}

/** Keeps the `size` longest labels seen (by visible length), without duplicates. */
export class Widest {
  private readonly list: Array<{ text: string; len: number }> = [];
  constructor(private readonly size = 3) {}

  /** A copy, to go on offering to. */
  clone(): Widest {
    const w = new Widest(this.size);
    w.list.push(...this.list);
    return w;
  }

  /** Whether `text` is one of those kept. */
  has(text: string): boolean {
    return this.list.some((e) => e.text === text);
  }

  /**
   * Offers a label. Ties in length are broken by the text, so that the labels
   * kept do not depend on the order they were offered in (an edit offers only
   * the new ones).
   */
  offer(text: string): void {
    const list = this.list;
    const last = list.length === this.size ? list[list.length - 1] : undefined;
    if (last && text.length < last.len) return; // cannot beat the shortest kept (the visible length is at most the length)
    const len = visibleLength(text);
    if (last && (len < last.len || (len === last.len && text >= last.text))) return;
    if (list.some((e) => e.text === text)) return;
    list.push({ text, len });
    list.sort((a, b) => b.len - a.len || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    if (list.length > this.size) list.pop();
  }

  texts(): string[] {
    return this.list.map((e) => e.text);
  }
}

const MESSAGE_LINE = /^E[01](?:->>|-x|-\)|--\))E[01]: /;

/**
 * The Mermaid text of one chunk and its mapping, derived from the same model
 * `toMermaid` writes: each item writes `[rect] [arrow or note] diagnostic
 * notes* [end] state notes*` (see src/core/diagram/mermaid.ts). The text is
 * read back line by line to check that the prediction holds; when it does not
 * (the writer changed), the chunk is still drawn, only without the mapping.
 */
export function writeChunk(model: DiagramModel, range: Range, spelling: 'socket' | 'rfc', key: string): ChunkData {
  const text = toMermaid(model, { range, states: spelling });
  const items = model.items;
  const firstLine = range.from < range.to ? items[range.from].line : 0;
  const lines: number[] = [];
  const states: number[] = [];
  const diagnostics: ChunkData['diagnostics'] = [];
  /** Predicted statements: [kind, item, role] with kind m = message, n = note, s = structure. */
  const expected: Array<['m' | 'n' | 's', number, NoteRole]> = [];
  const nParticipants = model.participants.length;
  for (let p = 0; p < nParticipants; p++) expected.push(['n', -1, NoteRole.Header]);
  for (let k = range.from; k < range.to; k++) {
    const it = items[k];
    const i = k - range.from;
    lines.push(it.line - firstLine);
    states.push(it.states[0], it.states[1]);
    const shown = shownDiagnostics(it);
    if (shown > 0) expected.push(['s', i, NoteRole.Diagnostic]);
    if (hasMain(it)) {
      if (it.kind === 'segment') expected.push(['m', i, NoteRole.Note]);
      else expected.push(['n', i, it.kind === 'call' ? NoteRole.Call : it.kind === 'section' ? NoteRole.Section : it.kind === 'problem' ? NoteRole.Problem : NoteRole.Note]);
    }
    for (const d of it.diagnostics) {
      if (!SHOWN[d.severity]) continue;
      expected.push(['n', i, NoteRole.Diagnostic]);
      diagnostics.push([i, d.severity as SeverityName, `${d.code}: ${d.message}`]);
    }
    if (shown > 0) expected.push(['s', i, NoteRole.Diagnostic]);
    for (let c = 0; c < it.stateChanges.length; c++) expected.push(['n', i, NoteRole.State]);
  }

  const messages: number[] = [];
  const notes: Array<[number, NoteRole]> = [];
  let mapped = true;
  let e = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let start = pos;
    while (text.charCodeAt(start) === 32) start++;
    const line = text.slice(start, end);
    pos = end + 1;
    if (line === '' || line === 'sequenceDiagram' || line.startsWith('title ') || line.startsWith('participant ')) continue;
    const want = expected[e++];
    if (line.startsWith('Note over ')) {
      if (!want || want[0] !== 'n') {
        mapped = false;
        break;
      }
      notes.push([want[1], want[2]]);
    } else if (MESSAGE_LINE.test(line)) {
      if (!want || want[0] !== 'm') {
        mapped = false;
        break;
      }
      messages.push(want[1]);
    } else if (line.startsWith('rect ') || line === 'end') {
      if (!want || want[0] !== 's') {
        mapped = false;
        break;
      }
    } else {
      mapped = false;
      break;
    }
  }
  if (e !== expected.length) mapped = false;
  const startStates: [number, number] =
    range.from === 0 ? [model.initialStates[0], model.initialStates[1]] : [items[range.from - 1].states[0], items[range.from - 1].states[1]];
  return {
    key,
    text,
    from: range.from,
    lines,
    messages: mapped ? messages : [],
    notes: mapped ? notes : [],
    diagnostics,
    startStates,
    states,
    mapped,
  };
}

/** Candidates for the widest labels: length only approximates width (`pong` is wider than `ping`), the webview measures them. */
const WIDEST = 8;

/** What a chunk's text depends on, besides its items: the participants, the spelling, the title (first chunk only). */
function headerSignature(model: DiagramModel, spelling: string): string {
  return spelling + '\u0002' + model.participants.map((p) => `${p.name}\u0003${p.label ?? ''}\u0003${p.address ?? ''}`).join('\u0002');
}

/**
 * A digest of everything `toMermaid` writes for the range and everything the
 * mapping records: the chunk's key. Two ranges with the same fingerprint have
 * the same chunk data (but for `from`), so a chunk is written only when the
 * webview first asks for it, and an edit rewrites only chunks whose
 * fingerprint changed. Much cheaper than writing the text.
 */
export function fingerprint(model: DiagramModel, r: Range, header: string): string {
  const items = model.items;
  const before = r.from === 0 ? model.initialStates : items[r.from - 1].states;
  const h = new Hasher();
  h.str(header);
  h.str(r.from === 0 ? `T${model.title ?? ''}` : '');
  h.num(before[0]);
  h.num(before[1]);
  const first = items[r.from].line;
  for (let k = r.from; k < r.to; k++) {
    const it = items[k];
    h.num(it.line - first);
    h.str(it.kind);
    switch (it.kind) {
      case 'segment':
        h.str(it.arrow);
        h.num(it.from);
        h.num(it.to);
        h.str(it.label);
        break;
      case 'call':
        h.num(it.endpoint);
        h.str(it.text);
        break;
      case 'note':
        for (const o of it.over) h.num(o);
        h.str(it.text);
        break;
      case 'problem':
        h.str(it.text ?? '\u0000');
        break;
      default:
        h.str(it.text);
    }
    h.num(it.states[0]);
    h.num(it.states[1]);
    for (const c of it.stateChanges) {
      h.num(c.endpoint);
      h.num(c.to);
    }
    h.num(it.diagnostics.length);
    for (const d of it.diagnostics) {
      h.str(d.severity);
      h.str(d.code);
      h.str(d.message);
    }
  }
  return h.digest() + ':' + (r.to - r.from);
}

/** cyrb53 fed piece by piece (no string is built); each piece ends with a separator so that pieces cannot run together. */
class Hasher {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;

  str(s: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    this.h1 = Math.imul(h1 ^ 0xfffe, 2654435761);
    this.h2 = Math.imul(h2 ^ 0xfffe, 1597334677);
  }

  num(n: number): void {
    this.h1 = Math.imul(this.h1 ^ (n | 0), 2654435761);
    this.h2 = Math.imul(this.h2 ^ ((n / 4294967296) | 0) ^ 0xfffd, 1597334677);
  }

  digest(): string {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
  }
}


/** A chunk of a plan: its key, its items, its drawn statements. */
export interface PlannedChunk {
  key: string;
  range: Range;
  weight: number;
  /** 0 for a chunk that starts where `chunkBoundaries` cut; 1 for the later pieces of a range split for its text size. */
  part: 0 | 1;
}

/** The plan of the model before an edit, and which of its items the new model took over (`buildWithReuse`). */
export interface PriorPlan {
  model: DiagramModel;
  spelling: 'socket' | 'rfc';
  plan: readonly PlannedChunk[];
  reuse: DiagramReuse;
}

/** Worst case of an item's Mermaid text: every character encoded (`#65535;`). */
function worstText(it: DiagramItem): number {
  let n = 60 + it.stateChanges.length * 40;
  if (it.kind === 'segment') n += it.label.length * 7;
  else if (it.kind !== 'problem' || it.text !== undefined) n += ((it as { text?: string }).text?.length ?? 0) * 7;
  for (const d of it.diagnostics) if (SHOWN[d.severity]) n += 60 + Math.min(d.message.length, 300) * 7;
  return n;
}

/**
 * The chunks of a model, without writing them: boundaries, keys and weights.
 * A chunk whose text could go over the hard bound is written here to find out
 * (rare: only labels full of encoded characters get near it) and split until
 * it does not.
 */
export function planChunks(model: DiagramModel, spelling: 'socket' | 'rfc', prior?: PriorPlan): PlannedChunk[] {
  const header = headerSignature(model, spelling);
  const items = model.items;
  const out: PlannedChunk[] = [];
  let part: 0 | 1 = 0;
  const plan = (r: Range): void => {
    let weight = model.participants.length;
    let worst = 200 * (model.participants.length + 2);
    for (let k = r.from; k < r.to; k++) {
      weight += itemWeight(items[k]);
      worst += worstText(items[k]);
    }
    const key = fingerprint(model, r, header);
    if (worst > CHUNKING.hardText && r.to - r.from > 1 && writeChunk(model, r, spelling, key).text.length > CHUNKING.hardText) {
      const mid = (r.from + r.to) >> 1;
      plan({ from: r.from, to: mid });
      plan({ from: mid, to: r.to });
      return;
    }
    out.push({ key, range: r, weight, part });
    part = 1;
  };
  const fresh = (r: Range): void => {
    part = 0;
    plan(r);
  };
  if (!prior || prior.spelling !== spelling || prior.model.title !== model.title || headerSignature(prior.model, prior.spelling) !== header || items.length === 0) {
    for (const r of chunkBoundaries(model)) fresh(r);
    return out;
  }
  // After an edit: the prior's chunks before the change stay; cutting starts again at the chunk holding the item
  // before the first new one (its end depends on the item after it) and stops at the first boundary past the
  // changed items where the prior cut too: from there on the items, and so the cuts and keys, are the prior's.
  const { from, to, shift } = prior.reuse;
  const old = prior.plan;
  let c = 0;
  while (c < old.length && old[c].range.to < from) c++;
  while (c > 0 && old[c].part !== 0) c--;
  for (let i = 0; i < c; i++) out.push(old[i]);
  const start = c < old.length ? old[c].range.from : from;
  let j = c;
  const resync = (b: number): boolean => {
    if (b <= to) return false;
    const ob = b - shift;
    while (j < old.length && old[j].range.from < ob) j++;
    return j < old.length && old[j].range.from === ob && old[j].part === 0;
  };
  const ranges = chunkBoundaries(model, start, resync);
  for (const r of ranges) fresh(r);
  const last = ranges.length ? ranges[ranges.length - 1].to : start;
  if (last < items.length) {
    // Resynchronized: the rest are the prior's chunks, moved by `shift` items.
    for (let i = j; i < old.length; i++) {
      const o = old[i];
      out.push(shift === 0 ? o : { key: o.key, range: { from: o.range.from + shift, to: o.range.to + shift }, weight: o.weight, part: o.part });
    }
  }
  return out;
}

/** The candidates for the widest labels, kept from one update to the next. */
export interface WidestSet {
  messages: Widest;
  notes: Widest;
}

/** What an item offers as the widest label: an arrow label (true) or a note (false), and the text; undefined if nothing. */
function offered(it: DiagramItem): [boolean, string] | undefined {
  switch (it.kind) {
    case 'segment':
      return [true, it.label];
    case 'call':
    case 'note':
      return [false, it.text];
    case 'section':
      return [false, `== ${it.text} ==`];
    case 'problem':
      return it.text !== undefined ? [false, it.text] : undefined;
    default:
      return undefined;
  }
}

/**
 * Candidates for the widest arrow label and the widest note, escaped exactly
 * as `toMermaid` writes them: arrows; notes over one endpoint (states, calls,
 * user notes) and unwrapped notes over both (sections, notes, problems), which
 * all push the lifelines apart by half their width. After an edit (`prior`:
 * the last model's set and which items the new model took over), only the new
 * items are offered, unless an item that is gone held a place.
 */
export function widestLabels(model: DiagramModel, spelling: 'socket' | 'rfc', prior?: { model: DiagramModel; set: WidestSet; reuse: DiagramReuse }): { spacers: Spacers; set: WidestSet } {
  const items = model.items;
  let set: WidestSet | undefined;
  let from = 0;
  let to = items.length;
  if (prior && model.participants.length >= 2) {
    const { reuse } = prior;
    let kept = true;
    for (let k = reuse.from; k < reuse.to - reuse.shift && kept; k++) {
      const o = offered(prior.model.items[k]);
      if (o && (o[0] ? prior.set.messages : prior.set.notes).has(o[1])) kept = false;
    }
    if (kept) {
      set = { messages: prior.set.messages.clone(), notes: prior.set.notes.clone() };
      from = reuse.from;
      to = reuse.to;
    }
  }
  if (!set) {
    set = { messages: new Widest(WIDEST), notes: new Widest(WIDEST) };
    if (model.participants.length < 2) return { spacers: { messages: [], notes: [] }, set };
    for (const n of spelling === 'rfc' ? RFC_NAMES : SOCKET_NAMES) set.notes.offer(n);
  }
  for (let k = from; k < to; k++) {
    const o = offered(items[k]);
    if (o) (o[0] ? set.messages : set.notes).offer(o[1]);
  }
  return { spacers: { messages: set.messages.texts().map((t) => escapeText(t)), notes: set.notes.texts().map((t) => escapeText(t)) }, set };
}
