/**
 * The messages between the preview's host side (the extension, src/client/preview)
 * and the preview webview (src/webview), and the chunk data both the live preview
 * and the exporters (CLI, Markdown) render. Types and one constant table only,
 * so that the webview bundle, the extension and the worker can all import it.
 *
 * The diagram of a trace is cut into chunks of consecutive items (see
 * src/client/preview/chunks.ts); each chunk is a Mermaid diagram of its own,
 * identified by a content key. A layout lists the chunks in order; the webview
 * asks for the data of the chunks it is about to draw and keeps what it already
 * has, so an edit sends and redraws only the chunks whose text changed.
 */

/** Role of a Mermaid note, so the webview can style and map it. */
export const NoteRole = {
  /** A state note at the top of a chunk (states before its first item). */
  Header: 0,
  /** An endpoint's new state after an item. */
  State: 1,
  /** A call or timer (`connect()`). */
  Call: 2,
  /** A user note (`note over ...`). */
  Note: 3,
  /** A section divider (`== ... ==`). */
  Section: 4,
  /** A line that draws nothing of its own (problem item). */
  Problem: 5,
  /** A diagnostic's message under its event. */
  Diagnostic: 6,
} as const;
export type NoteRole = (typeof NoteRole)[keyof typeof NoteRole];

/** One chunk in a layout, in diagram order. */
export interface ChunkRef {
  /** Content key: equal keys mean equal chunk data (text, relative lines, marks). */
  key: string;
  /** 0-based source line of the chunk's first item. */
  firstLine: number;
  /** 0-based source line of the chunk's last item. */
  lastLine: number;
  /** Number of items. */
  items: number;
  /** Number of drawn messages and notes (for the height estimate before it is drawn). */
  weight: number;
}

export type SeverityName = 'error' | 'warning' | 'information' | 'hint';

/** Everything needed to draw one chunk and map its SVG back to source lines. */
export interface ChunkData {
  key: string;
  /** Mermaid `sequenceDiagram` text: every piece of user text in it is escaped. */
  text: string;
  /** Index of the chunk's first item in the whole diagram. */
  from: number;
  /** Source line of each item, relative to the chunk's first line. */
  lines: number[];
  /** For each message statement in `text`, in order: the item it belongs to (index in the chunk). */
  messages: number[];
  /** For each note statement in `text`, in order: [item index in the chunk or -1 for the header, NoteRole]. */
  notes: Array<[number, NoteRole]>;
  /** The diagnostics of items, for hover and styling: [item index, severity, "TT302: message"]. */
  diagnostics: Array<[number, SeverityName, string]>;
  /** Both endpoints' states before the chunk (indices into the layout's `stateNames`). */
  startStates: [number, number];
  /** Both endpoints' states after each item, flattened: [a0, b0, a1, b1, ...]. */
  states: number[];
  /** False when the element mapping could not be derived (the chunk is still drawn, not clickable). */
  mapped: boolean;
}

/**
 * The widest labels of the whole diagram, already escaped for Mermaid. Appended
 * (invisibly) to every chunk so that Mermaid spaces the lifelines of every chunk
 * alike and the chunks line up.
 */
export interface Spacers {
  /** Candidates for the widest arrow label. */
  messages: string[];
  /** Candidates for the widest note over one endpoint. */
  notes: string[];
}

/** A syntax problem: the text does not parse. */
export interface ParseProblem {
  line: number;
  code: string;
  message: string;
}

export interface DiagramCounts {
  items: number;
  events: number;
  errors: number;
  warnings: number;
  infos: number;
}

export interface LayoutMessage {
  type: 'layout';
  /** Increases with every layout sent to this webview. */
  seq: number;
  /** The document's version this layout shows (the last good one while `stale`). */
  version: number;
  /** The document URI and a short name for the title. */
  resource: string;
  fileName: string;
  locked: boolean;
  /** Participants as shown (empty when the trace names no endpoint). */
  participants: string[];
  /** State names by number, in the trace's spelling. */
  stateNames: string[];
  /** The chunk list; empty when `edit` gives it instead. */
  chunks: ChunkRef[];
  /** The chunk list as an edit of an earlier layout's, which the webview holds (see chunkEdit.ts). */
  edit?: ChunkEdit;
  spacers: Spacers;
  counts: DiagramCounts;
  /** The first syntax error of the current text, when it does not parse. */
  problem: ParseProblem | null;
  /** True when the chunks are those of the last text that parsed, kept while the current one does not. */
  stale: boolean;
}

/**
 * The chunk list of a layout, as a splice of the list of layout `base` (the
 * last one the webview received): `remove` refs at `from` replaced by
 * `insert`, and the lines of the refs after them moved by `lineShift`.
 */
export interface ChunkEdit {
  base: number;
  from: number;
  remove: number;
  insert: ChunkRef[];
  lineShift: number;
}

/** Host -> webview. */
export type HostMessage =
  | LayoutMessage
  | { type: 'chunks'; data: ChunkData[] }
  | { type: 'cursor'; line: number; reveal: boolean }
  | { type: 'zoom'; action: 'in' | 'out' | 'reset' }
  | { type: 'export'; id: number; format: 'svg' | 'png'; scale: number }
  | { type: 'status'; text: string | null };

/** What the webview reports after drawing (used by the tests and the benchmark). */
export interface RenderReport {
  /** The layout `seq` that is now fully drawn where it is visible. */
  seq: number;
  version: number;
  /** Milliseconds from the layout's arrival to this report. */
  ms: number;
  /** Chunks drawn in this pass, and chunks currently drawn in the page. */
  rendered: number;
  live: number;
  /** What the visible drawn chunks contain. */
  arrows: number;
  lostArrows: number;
  stateNotes: number[];
  diagnosticNotes: number;
  /** The source line of the highlighted item, or null. */
  activeLine: number | null;
  /** The banner's text (a syntax error, a render failure), or null. */
  banner: string | null;
  /** Mermaid diagram types seen (always ['sequence']; a placeholder would show as another type). */
  errors: string[];
  theme: string;
}

/** Webview -> host. */
export type WebviewMessage =
  | { type: 'ready' }
  /** A layout came as an edit of one the webview does not hold: the whole layout, please. */
  | { type: 'resync' }
  | { type: 'need'; keys: string[] }
  | { type: 'visible'; from: number; to: number }
  | { type: 'reveal'; line: number }
  | { type: 'rendered'; report: RenderReport }
  | { type: 'exported'; id: number; format: 'svg' | 'png'; data: string }
  | { type: 'exportFailed'; id: number; message: string }
  | { type: 'command'; command: 'exportSvg' | 'exportPng' | 'copyMermaid' | 'copyMarkdown' | 'showSource' | 'toggleLock' };

/** What the webview keeps in its state (restored by the serializer after a reload). */
export interface PersistedState {
  resource: string;
  locked: boolean;
  zoom: number;
  /** Zoom follows the panel's width (until the user zooms). */
  fit: boolean;
  /** Scroll position: the chunk at the top of the view, how far into it (px at zoom 1), and the horizontal scroll. */
  anchor: { chunk: number; offset: number; left: number } | null;
}
