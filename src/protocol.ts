/**
 * Everything the extension client, the language server (and the preview
 * webview) say to each other beyond standard LSP, declared once and typed —
 * the way rust-analyzer's `lsp_ext.ts` does.
 *
 * This module has no runtime imports on purpose: the server, the client and a
 * browser webview can all import it without pulling a JSON-RPC library into
 * their bundles. A request is a method name with its parameter and result
 * types attached; `onRequest`/`sendRequest` helpers on each side keep both
 * ends in agreement at compile time.
 */

/** A request declared with its types; `types` exists only for the compiler. */
export interface TypedRequest<P, R> {
  readonly method: string;
  readonly types?: { params: P; result: R };
}

function request<P, R>(method: string): TypedRequest<P, R> {
  return { method };
}

/** LSP positions: 0-based line, UTF-16 character. */
export interface Position {
  line: number;
  character: number;
}

export interface TextDocumentIdentifier {
  uri: string;
}

// ---- tcptrace/statesAt: both endpoints' states at a position (status bar) ----

export interface StatesAtParams {
  textDocument: TextDocumentIdentifier;
  position: Position;
}

export interface EndpointStateAt {
  name: string;
  /** State name in the spelling the user chose (socket `SYN_RCVD` or RFC `SYN-RECEIVED`). */
  state: string;
  /** True when the event on this line changed this endpoint's state. */
  changed: boolean;
}

export interface StatesAtResult {
  /**
   * The endpoints in order of declaration or first use, with their states
   * after the last event at or before the position. Empty when the trace
   * names no endpoint.
   */
  endpoints: EndpointStateAt[];
  /** 0-based line of that event, or null before the first event. */
  eventLine: number | null;
}

export const statesAt = request<StatesAtParams, StatesAtResult | null>('tcptrace/statesAt');

// ---- initialization and settings ----

/** What the client passes in `initializationOptions`. */
export interface InitializationOptions {
  /**
   * Base URL that diagnostic codes' documentation links are resolved against
   * (`docs/language.md#tt302` is appended). The client computes a default
   * from the extension's own files when the user sets none.
   */
  docsBaseUrl?: string;
}

export type SeverityName = 'error' | 'warning' | 'information' | 'hint';
export type SeverityOverride = SeverityName | 'off';
export type StateSpellingSetting = 'auto' | 'socket' | 'rfc';

/** The `tcptrace.*` settings as the server reads them (`workspace/configuration`, section `tcptrace`). */
export interface TcptraceSettings {
  diagnostics: {
    /** Per-code overrides: {"TT303": "off", "TT210": "error"}. */
    severity: Record<string, SeverityOverride>;
  };
  states: {
    /** How hovers, hints and the status bar spell states; `auto` follows the trace's `option states=`. */
    spelling: StateSpellingSetting;
  };
  inlayHints: {
    /** `client SYN_SENT -> ESTABLISHED` after events that change a state. */
    stateChanges: boolean;
    /** seq/ack values the checker inferred, and the values symbols were bound to. */
    inferredNumbers: boolean;
  };
  format: {
    /** `convert` rewrites tcpdump letters (`[S.]`) as flag words (`SYN,ACK`); `keep` leaves them. */
    tcpdumpFlags: 'convert' | 'keep';
  };
  docs: {
    /** Overrides the base URL of the diagnostic documentation links; empty = the client's default. */
    baseUrl: string;
  };
}

export const DEFAULT_SETTINGS: TcptraceSettings = {
  diagnostics: { severity: {} },
  states: { spelling: 'auto' },
  inlayHints: { stateChanges: true, inferredNumbers: true },
  format: { tcpdumpFlags: 'convert' },
  docs: { baseUrl: '' },
};

/** The language id and the configuration section, shared so that nothing spells them twice. */
export const LANGUAGE_ID = 'tcptrace';
export const CONFIG_SECTION = 'tcptrace';
