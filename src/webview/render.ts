/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Drawing one chunk with Mermaid and making the SVG usable: every arrow and
 * note tagged with the item it shows (for the cursor highlight and clicks),
 * diagnostics styled and given their message on hover, the chunk cropped so
 * that chunks stack into one continuous diagram. Shared by the live preview,
 * the exporters (SVG/PNG, the command line) and the Markdown preview.
 *
 * How chunks line up: Mermaid spaces two lifelines by the widest arrow label
 * (and half the widest note over one endpoint) of the diagram it draws, so
 * every chunk gets the widest labels of the whole trace appended as an arrow
 * and a note, drawn below the chunk's own content and cropped away. All chunks
 * then have the same lifeline positions; the first keeps the participant boxes
 * and the title, the others start at their first event.
 */
import type { Mermaid, MermaidConfig } from 'mermaid' with { 'resolution-mode': 'import' };
import { NoteRole, type ChunkData, type Spacers } from './messages';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

/** Mermaid's text size limit, set explicitly: chunks are bounded far below it (src/client/preview/chunks.ts). */
export const MAX_TEXT_SIZE = 50_000;

const FONT_FAMILY = '"trebuchet ms", verdana, arial, sans-serif';
const MESSAGE_FONT_SIZE = 16;
const NOTE_FONT_SIZE = 14;

/**
 * Configuration keys that a `%%{init}%%` directive in the diagram text may not
 * change. User text is escaped so no directive can reach Mermaid; this is the
 * second wall: the look and the security settings belong to the preview.
 */
const SECURE_KEYS = [
  'secure',
  'securityLevel',
  'startOnLoad',
  'maxTextSize',
  'maxEdges',
  'suppressErrorRendering',
  'theme',
  'themeVariables',
  'themeCSS',
  'fontFamily',
  'altFontFamily',
  'darkMode',
  'htmlLabels',
  'sequence',
  'look',
  'handDrawnSeed',
];

/** Colours of the high contrast themes, read from VS Code's CSS variables when present. */
function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** The Mermaid configuration for a VS Code theme. */
export function mermaidConfig(theme: ThemeKind): MermaidConfig {
  const base: MermaidConfig = {
    startOnLoad: false,
    securityLevel: 'strict',
    maxTextSize: MAX_TEXT_SIZE,
    secure: SECURE_KEYS,
    fontFamily: FONT_FAMILY,
    deterministicIds: false,
    sequence: {
      mirrorActors: false,
      useMaxWidth: false,
      showSequenceNumbers: false,
      wrap: false,
      messageFontSize: MESSAGE_FONT_SIZE,
      noteFontSize: NOTE_FONT_SIZE,
      actorFontSize: 14,
    },
  };
  if (theme === 'light') return { ...base, theme: 'default' };
  if (theme === 'dark') return { ...base, theme: 'dark' };
  // High contrast: the editor's own colours, borders everywhere, no tinted fills.
  const dark = theme === 'high-contrast';
  const bg = cssVar('--vscode-editor-background', dark ? '#000000' : '#ffffff');
  const fg = cssVar('--vscode-editor-foreground', dark ? '#ffffff' : '#000000');
  const border = cssVar('--vscode-contrastBorder', dark ? '#6fc3df' : '#0f4a85');
  const active = cssVar('--vscode-contrastActiveBorder', dark ? '#f38518' : '#006bbd');
  return {
    ...base,
    theme: 'base',
    themeVariables: {
      darkMode: dark,
      background: bg,
      fontFamily: FONT_FAMILY,
      primaryColor: bg,
      primaryTextColor: fg,
      primaryBorderColor: border,
      secondaryColor: bg,
      tertiaryColor: bg,
      lineColor: fg,
      textColor: fg,
      mainBkg: bg,
      actorBkg: bg,
      actorBorder: border,
      actorTextColor: fg,
      actorLineColor: fg,
      signalColor: fg,
      signalTextColor: fg,
      labelBoxBkgColor: bg,
      labelBoxBorderColor: border,
      labelTextColor: fg,
      loopTextColor: fg,
      noteBkgColor: bg,
      noteTextColor: fg,
      noteBorderColor: active,
      activationBkgColor: bg,
      activationBorderColor: border,
      sequenceNumberColor: bg,
    },
  };
}

/** The widest of the candidate labels, measured in the font Mermaid draws them in. */
export function pickSpacers(spacers: Spacers): { message: string | undefined; note: string | undefined } {
  return {
    message: widestOf(spacers.messages, MESSAGE_FONT_SIZE),
    note: widestOf(spacers.notes, NOTE_FONT_SIZE),
  };
}

let measureCtx: CanvasRenderingContext2D | null | undefined;

function widestOf(candidates: readonly string[], size: number): string | undefined {
  if (candidates.length <= 1) return candidates[0];
  if (measureCtx === undefined) measureCtx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  const ctx = measureCtx;
  if (!ctx) return candidates[0];
  ctx.font = `${size}px ${FONT_FAMILY}`;
  let best = candidates[0];
  let bestW = -1;
  for (const c of candidates) {
    // Entity codes show as the character they encode.
    const w = ctx.measureText(c.replace(/#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))).width;
    if (w > bestW) {
      bestW = w;
      best = c;
    }
  }
  return best;
}

export interface RenderOptions {
  /** A document-unique id for Mermaid's elements. */
  id: string;
  /** Number of participants (spacers need two). */
  participants: number;
  /** The widest labels to append (see pickSpacers). */
  spacers: { message: string | undefined; note: string | undefined };
  /** The first chunk keeps its title and participant boxes. */
  first: boolean;
  /** An attached, laid out element to draw in (measuring needs layout). */
  host: HTMLElement;
}

/** A drawn chunk. Coordinates are the SVG's user units (zoom 1 = one pixel). */
export interface RenderedChunk {
  key: string;
  svg: SVGSVGElement;
  /** The cropped box. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Elements of each item (index in the chunk), for the highlight. */
  elements: Map<number, Element[]>;
  /** Top of each item's first element (user units), for the sticky header. */
  itemTops: Map<number, number>;
  /** Lifeline x of each participant (user units). */
  lifelines: number[];
  /** Counts, for tests and reports. */
  arrows: number;
  lostArrows: number;
  /** State notes over each participant, as seen (the first chunk's header notes included, the others' cropped). */
  stateNotes: number[];
  diagnosticNotes: number;
  /** Milliseconds Mermaid took. */
  ms: number;
}

export class RenderError extends Error {}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Space kept above a chunk's first event and below its last one (Mermaid leaves ~ 10-35 px between statements). */
const GAP_TOP = 6;
const GAP_BOTTOM = 6;

function bbox(el: Element): DOMRect | null {
  try {
    const b = (el as SVGGraphicsElement).getBBox();
    return b.width === 0 && b.height === 0 ? null : b;
  } catch {
    return null;
  }
}

function union(a: DOMRect | null, b: DOMRect | null): DOMRect | null {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return new DOMRect(x, y, Math.max(a.x + a.width, b.x + b.width) - x, Math.max(a.y + a.height, b.y + b.height) - y);
}

/** Draws one chunk. Throws RenderError when Mermaid fails or would show a placeholder. */
export async function renderChunk(mermaid: Mermaid, data: ChunkData, opts: RenderOptions): Promise<RenderedChunk> {
  const spacing = opts.participants >= 2;
  let text = data.text;
  const spacerMessage = spacing && opts.spacers.message !== undefined;
  const spacerNote = spacing && opts.spacers.note !== undefined;
  if (spacerMessage) text += `E0->>E1: ${opts.spacers.message}\n`;
  if (spacerNote) text += `Note over E1: ${opts.spacers.note}\n`;
  // Over the limit Mermaid does not throw: it draws a "Maximum text size" placeholder. Never let it.
  if (text.length > MAX_TEXT_SIZE) throw new RenderError(`chunk text of ${text.length} characters is over Mermaid's limit`);
  const t0 = performance.now();
  let result: { svg: string; diagramType: string };
  try {
    result = await mermaid.render(opts.id, text);
  } catch (err) {
    throw new RenderError(`Mermaid could not draw this part: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    // Mermaid leaves its scratch element behind when it fails.
    document.getElementById('d' + opts.id)?.remove();
  }
  const ms = performance.now() - t0;
  if (result.diagramType !== 'sequence') throw new RenderError(`Mermaid drew a ${result.diagramType} diagram instead of the sequence diagram`);

  const wrap = document.createElement('div');
  wrap.className = 'tt-measure';
  wrap.innerHTML = result.svg;
  const svg = wrap.querySelector('svg');
  if (!svg) throw new RenderError('Mermaid returned no SVG');
  opts.host.appendChild(wrap);
  try {
    return finish(svg, data, opts, spacerMessage, spacerNote, ms);
  } finally {
    wrap.remove();
    svg.remove();
  }
}

function finish(svg: SVGSVGElement, data: ChunkData, opts: RenderOptions, spacerMessage: boolean, spacerNote: boolean, ms: number): RenderedChunk {
  svg.removeAttribute('style');
  svg.classList.add('tt-diagram');
  const vb = svg.viewBox.baseVal;
  let { x, y, width, height } = vb;

  const lifelines: number[] = [];
  for (const l of svg.querySelectorAll('line.actor-line')) {
    const m = /^E(\d)$/.exec(l.getAttribute('name') ?? l.getAttribute('data-id') ?? '');
    if (m) lifelines[Number(m[1])] = Number(l.getAttribute('x1'));
  }

  const texts = [...svg.querySelectorAll('text.messageText')];
  const lines = [...svg.querySelectorAll('line.messageLine0, line.messageLine1')];
  const noteRects = [...svg.querySelectorAll('rect.note')];
  const nMessages = data.messages.length + (spacerMessage ? 1 : 0);
  const nNotes = data.notes.length + (spacerNote ? 1 : 0);
  const mapped = data.mapped && texts.length === nMessages && lines.length === nMessages && noteRects.length === nNotes;

  // The spacers: measured for the crop, then removed.
  let spacerTop = Infinity;
  if (spacerMessage && texts.length > 0 && lines.length > 0) {
    const t = texts.pop()!;
    const l = lines.pop()!;
    spacerTop = Math.min(spacerTop, bbox(t)?.y ?? Infinity, bbox(l)?.y ?? Infinity);
    t.remove();
    l.remove();
  }
  if (spacerNote && noteRects.length > 0) {
    const r = noteRects.pop()!;
    const g = r.parentElement;
    spacerTop = Math.min(spacerTop, bbox(r)?.y ?? Infinity);
    (g && g !== (svg as Element) ? g : r).remove();
  }

  const elements = new Map<number, Element[]>();
  const itemTops = new Map<number, number>();
  const add = (i: number, el: Element, top: number | undefined): void => {
    el.setAttribute('data-tt-item', String(i));
    const list = elements.get(i);
    if (list) list.push(el);
    else elements.set(i, [el]);
    if (top !== undefined && !(itemTops.get(i)! <= top)) itemTops.set(i, top);
  };
  const diagsOf = new Map<number, Array<[string, string]>>();
  for (const [i, sev, msg] of data.diagnostics) {
    const list = diagsOf.get(i);
    if (list) list.push([sev, msg]);
    else diagsOf.set(i, [[sev, msg]]);
  }
  const worst = (i: number): string | undefined => {
    const list = diagsOf.get(i);
    if (!list) return undefined;
    return list.some((d) => d[0] === 'error') ? 'error' : list.some((d) => d[0] === 'warning') ? 'warning' : 'information';
  };
  const titleOf = (i: number): string | undefined => diagsOf.get(i)?.map(([sev, msg]) => `${sev}: ${msg}`).join('\n');

  let contentTop = Infinity;
  let lostArrows = 0;
  let diagnosticNotes = 0;
  const stateNotes = opts.participants > 0 ? new Array<number>(opts.participants).fill(0) : [];
  const nearest = (cx: number): number => {
    let best = 0;
    for (let p = 1; p < lifelines.length; p++) if (Math.abs(lifelines[p] - cx) < Math.abs(lifelines[best] - cx)) best = p;
    return best;
  };

  for (let k = 0; k < lines.length; k++) {
    const t = texts[k];
    const l = lines[k];
    if ((l.getAttribute('marker-end') ?? '').includes('crosshead')) lostArrows++;
    const box = union(t ? bbox(t) : null, bbox(l));
    if (box) contentTop = Math.min(contentTop, box.y);
    if (!mapped) continue;
    const i = data.messages[k];
    // Arrows are one pixel thin: a transparent band over the label and the line takes the clicks and the hover.
    const hit = document.createElementNS(SVG_NS, 'rect');
    hit.setAttribute('class', 'tt-hit');
    if (box) {
      hit.setAttribute('x', String(box.x - 4));
      hit.setAttribute('y', String(box.y - 3));
      hit.setAttribute('width', String(box.width + 8));
      hit.setAttribute('height', String(box.height + 8));
    }
    const sev = worst(i);
    const cls = ['tt-item', 'tt-message'];
    if (sev) cls.push('tt-' + sev);
    for (const el of [t, l]) if (el) el.classList.add(...cls);
    const title = titleOf(i);
    if (title) {
      const te = document.createElementNS(SVG_NS, 'title');
      te.textContent = title;
      hit.appendChild(te);
    }
    l.after(hit);
    add(i, t, box?.y);
    add(i, l, undefined);
    add(i, hit, undefined);
  }

  for (let k = 0; k < noteRects.length; k++) {
    const rect = noteRects[k];
    const g = rect.parentElement && rect.parentElement !== (svg as Element) ? rect.parentElement : rect;
    const box = bbox(rect);
    const [i, role] = mapped ? data.notes[k] : [-1, NoteRole.Note];
    // Counted as seen: the header notes of later chunks are cropped away.
    if (role === NoteRole.State || (role === NoteRole.Header && opts.first)) {
      if (box && stateNotes.length > 0) stateNotes[nearest(box.x + box.width / 2)]++;
    }
    if (role === NoteRole.Diagnostic) diagnosticNotes++;
    if (box && role !== NoteRole.Header) contentTop = Math.min(contentTop, box.y);
    if (!mapped) continue;
    const cls = ['tt-item', 'tt-note'];
    if (role === NoteRole.State || role === NoteRole.Header) cls.push('tt-state');
    if (role === NoteRole.Header) cls.push('tt-header');
    if (role === NoteRole.Call) cls.push('tt-call');
    if (role === NoteRole.Section) cls.push('tt-section');
    if (role === NoteRole.Diagnostic) {
      cls.push('tt-diag');
      const sev = worst(i);
      if (sev) cls.push('tt-' + sev);
    }
    g.classList.add(...cls);
    if (i < 0) continue; // header notes belong to no item
    const title = role === NoteRole.Diagnostic || role === NoteRole.Problem || role === NoteRole.Note ? titleOf(i) : undefined;
    if (title) {
      const te = document.createElementNS(SVG_NS, 'title');
      te.textContent = title;
      g.insertBefore(te, g.firstChild);
    }
    add(i, g, box?.y);
  }
  // Highlight bands of events with diagnostics start above their first statement.
  for (const r of svg.querySelectorAll('rect.rect')) {
    const b = bbox(r);
    if (b) contentTop = Math.min(contentTop, b.y);
  }

  // Crop: the first chunk keeps its top (title, participants); the others start at their first event.
  const bottom = Number.isFinite(spacerTop) ? spacerTop - GAP_BOTTOM : y + height;
  const top = opts.first || !Number.isFinite(contentTop) ? y : Math.max(y, contentTop - GAP_TOP);
  height = Math.max(1, Math.min(bottom, y + height) - top);
  y = top;
  svg.setAttribute('viewBox', `${x} ${y} ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  if (!opts.first) {
    // Participant boxes of later chunks are above the crop; hide them so that they never peek in.
    for (const a of svg.querySelectorAll('.actor-top, text.actor, .actor-box')) (a as SVGElement).style.display = 'none';
  }
  return {
    key: data.key,
    svg,
    x,
    y,
    width,
    height,
    elements,
    itemTops,
    lifelines,
    arrows: lines.length,
    lostArrows,
    stateNotes,
    diagnosticNotes,
    ms,
  };
}

/**
 * One SVG document of chunks stacked in order, on the theme's background, all
 * sharing one horizontal extent so that their lifelines stay aligned.
 */
export function composeSvg(chunks: readonly RenderedChunk[], background: string | undefined): string {
  let minX = Infinity;
  let maxX = -Infinity;
  for (const c of chunks) {
    minX = Math.min(minX, c.x);
    maxX = Math.max(maxX, c.x + c.width);
  }
  if (!Number.isFinite(minX)) {
    minX = 0;
    maxX = 1;
  }
  const width = Math.ceil(maxX - minX);
  let total = 0;
  const parts: string[] = [];
  const ser = new XMLSerializer();
  for (const c of chunks) {
    const clone = c.svg.cloneNode(true) as SVGSVGElement;
    // Interaction aids are not part of the picture.
    for (const h of clone.querySelectorAll('.tt-hit')) h.remove();
    clone.setAttribute('x', '0');
    clone.setAttribute('y', String(total));
    clone.setAttribute('width', String(width));
    clone.setAttribute('height', String(c.height));
    clone.setAttribute('viewBox', `${minX} ${c.y} ${width} ${c.height}`);
    clone.removeAttribute('style');
    parts.push(ser.serializeToString(clone));
    total += c.height;
  }
  const h = Math.ceil(total);
  const bg = background ? `<rect x="0" y="0" width="${width}" height="${h}" fill="${escapeAttr(background)}"/>` : '';
  const style = `<style>${DIAGRAM_CSS}</style>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}">${style}${bg}${parts.join('')}</svg>\n`;
}

/**
 * The diagram's own styles (state notes, diagnostics, the highlight), shared by
 * the preview and the exported SVG. `!important` because Mermaid scopes its
 * styles by the diagram's id, which outranks any class selector.
 */
export const DIAGRAM_CSS = `
.tt-state > rect.note { fill: rgba(20, 184, 166, 0.16) !important; stroke: rgb(13, 148, 136) !important; }
.tt-state > text.noteText { font-weight: bold !important; }
.tt-call > rect.note { stroke-dasharray: 4 2 !important; }
.tt-section > rect.note { fill: rgba(148, 163, 184, 0.25) !important; stroke: rgb(100, 116, 139) !important; }
.tt-diag > rect.note { fill: rgba(148, 163, 184, 0.10) !important; }
.tt-diag.tt-error > rect.note { stroke: rgb(220, 38, 38) !important; stroke-width: 2px !important; }
.tt-diag.tt-warning > rect.note { stroke: rgb(202, 138, 4) !important; stroke-width: 2px !important; }
.tt-diag.tt-information > rect.note { stroke: rgb(37, 99, 235) !important; stroke-dasharray: 3 3 !important; }
line.tt-error { stroke: rgb(220, 38, 38) !important; }
line.tt-warning { stroke: rgb(202, 138, 4) !important; }
text.tt-error { fill: rgb(220, 38, 38) !important; }
.tt-hit { fill: transparent; stroke: none; }
`;

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
