/**
 * The `tcptrace.*` settings, per document (they may differ per folder), read
 * with `workspace/configuration` when the client supports it and otherwise
 * taken from `didChangeConfiguration`. Whatever arrives is validated: a
 * mistyped value falls back to its default instead of breaking a feature.
 */
import type { Connection } from 'vscode-languageserver';
import { CONFIG_SECTION, DEFAULT_SETTINGS, type SeverityOverride, type TcptraceSettings } from '../protocol';

const SEVERITIES = new Set<SeverityOverride>(['error', 'warning', 'information', 'hint', 'off']);

export function normalizeSettings(raw: unknown): TcptraceSettings {
  const r = isObject(raw) ? raw : {};
  const d = DEFAULT_SETTINGS;
  const sub = (k: string): Record<string, unknown> => (isObject(r[k]) ? (r[k] as Record<string, unknown>) : {});
  const severity: Record<string, SeverityOverride> = {};
  const sev = sub('diagnostics').severity;
  if (isObject(sev)) {
    for (const [code, v] of Object.entries(sev)) {
      const value = typeof v === 'string' ? (v.toLowerCase() === 'info' ? 'information' : v.toLowerCase()) : '';
      if (SEVERITIES.has(value as SeverityOverride)) severity[code.toUpperCase()] = value as SeverityOverride;
    }
  }
  const spelling = sub('states').spelling;
  const hints = sub('inlayHints');
  const tcpdump = sub('format').tcpdumpFlags;
  const baseUrl = sub('docs').baseUrl;
  return {
    diagnostics: { severity },
    states: { spelling: spelling === 'socket' || spelling === 'rfc' || spelling === 'auto' ? spelling : d.states.spelling },
    inlayHints: {
      stateChanges: typeof hints.stateChanges === 'boolean' ? hints.stateChanges : d.inlayHints.stateChanges,
      inferredNumbers: typeof hints.inferredNumbers === 'boolean' ? hints.inferredNumbers : d.inlayHints.inferredNumbers,
    },
    format: { tcpdumpFlags: tcpdump === 'keep' || tcpdump === 'convert' ? tcpdump : d.format.tcpdumpFlags },
    docs: { baseUrl: typeof baseUrl === 'string' ? baseUrl : d.docs.baseUrl },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Settings {
  private readonly perDocument = new Map<string, Promise<TcptraceSettings>>();
  private global: TcptraceSettings = normalizeSettings(undefined);

  constructor(
    private readonly connection: Connection,
    private pull: boolean,
  ) {}

  setPull(pull: boolean): void {
    this.pull = pull;
  }

  /** Settings pushed with didChangeConfiguration (used when the client cannot be asked). */
  setGlobal(raw: unknown): void {
    this.global = normalizeSettings(isObject(raw) ? raw[CONFIG_SECTION] : undefined);
    this.perDocument.clear();
  }

  forDocument(uri: string): Promise<TcptraceSettings> {
    if (!this.pull) return Promise.resolve(this.global);
    let p = this.perDocument.get(uri);
    if (!p) {
      p = this.connection.workspace.getConfiguration({ scopeUri: uri, section: CONFIG_SECTION }).then(
        (raw: unknown) => normalizeSettings(raw),
        () => this.global,
      );
      this.perDocument.set(uri, p);
    }
    return p;
  }

  forget(uri: string): void {
    this.perDocument.delete(uri);
  }
}
