/** What the checker produces: diagnostics with their fixes, and the timeline. */
import type { ParsedTrace } from '../syntax/ast';
import type { Timeline } from './timeline';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A single-line range: 0-based line, UTF-16 columns, end exclusive. */
export interface LineRange {
  line: number;
  start: number;
  end: number;
}

/**
 * An edit of the document. Edits never span lines; inserting a whole line is
 * an edit at column 0 of the line before which it goes, whose text ends in '\n'.
 */
export interface TextEdit extends LineRange {
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
  /** True when the fix is the obvious one (LSP `isPreferred`). */
  preferred: boolean;
}

export interface RelatedInfo extends LineRange {
  message: string;
}

export interface Diagnostic extends LineRange {
  code: string;
  severity: Severity;
  message: string;
  /** Earlier events this diagnostic is a consequence of (LSP relatedInformation). */
  related: RelatedInfo[];
  fixes: QuickFix[];
}

export interface EndpointInfo {
  name: string;
  /** `ADDRESS:PORT` as written, or undefined when not declared. */
  address: string | undefined;
  label: string | undefined;
  /** Line of the `endpoint` statement, or of the first event that named it. */
  line: number;
  start: number;
  end: number;
}

export interface TraceOptions {
  /** Maximum segment lifetime in seconds (default 120, RFC 9293). */
  msl: number;
  origin: 'model' | 'capture';
  states: 'socket' | 'rfc';
}

/** A symbol bound by the checker (`seq=x`, `ack=u+1`). */
export interface SymbolBinding {
  name: string;
  value: number;
  /** Index of the endpoint whose sequence space the symbol lives in. */
  space: number;
  /** Where it was bound. */
  line: number;
  start: number;
  end: number;
  /** True for an initial sequence number (bound on a SYN). */
  isn: boolean;
}

export interface CheckOptions {
  /** Per-code severity overrides; 'off' removes the code's diagnostics. */
  severities?: Readonly<Record<string, Severity | 'off'>>;
  /**
   * Keep the syntax tree in the result (default). `false` checks each
   * statement as it is parsed and keeps only diagnostics and the timeline.
   */
  keepSyntax?: boolean;
  /**
   * Record the timeline (default). `false` leaves `result.timeline` empty: for
   * a caller that reads only the diagnostics (the import counts them), which
   * saves about a fifth of the check. Only with `keepSyntax: false`.
   */
  timeline?: boolean;
}

export interface CheckResult {
  parsed: ParsedTrace;
  title: string | undefined;
  /** Zero, one or two endpoints, in order of declaration or first use. */
  endpoints: EndpointInfo[];
  options: TraceOptions;
  diagnostics: Diagnostic[];
  timeline: Timeline;
  symbols: Map<string, SymbolBinding>;
  /** True when the trace writes sequence numbers symbolically. */
  symbolic: boolean;
  /** What `checkIncremental` resumes from (absent for a streaming check). Opaque. */
  resume?: object;
}
