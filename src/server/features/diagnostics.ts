/**
 * The checker's diagnostics as LSP diagnostics: code with a link to its
 * documentation, related information naming the cause, and enough identity
 * (code + range + message) for code actions to find the fixes again in the
 * cached result.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import { codeDocAnchor } from '../../core/check/codes';
import type { Diagnostic, Severity } from '../../core/check/types';
import type { Analysis } from '../analysis';

export const SOURCE = 'tcptrace';

const SEVERITY: Readonly<Record<Severity, DiagnosticSeverity>> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const links = new Map<string, string | undefined>();

/** Resolves `docs/language.md#tt302` against the base, or undefined when no base is usable. */
export function docLink(code: string, baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  // One URL per code and base, not one per diagnostic: a trace may have thousands.
  const key = `${code} ${baseUrl}`;
  if (links.has(key)) return links.get(key);
  let href: string | undefined;
  try {
    href = new URL(codeDocAnchor(code), baseUrl.endsWith('/') ? baseUrl : baseUrl + '/').toString();
  } catch {
    href = undefined;
  }
  if (links.size > 1000) links.clear();
  links.set(key, href);
  return href;
}

/**
 * LSP diagnostics already made, by core diagnostic: an incremental check keeps the diagnostics
 * before and after an edit as the same objects, so most of them are converted once.
 */
const converted = new WeakMap<Diagnostic, { uri: string; baseUrl: string | undefined; lsp: LspDiagnostic }>();

export function toLspDiagnostic(d: Diagnostic, uri: string, baseUrl: string | undefined): LspDiagnostic {
  const hit = converted.get(d);
  if (hit && hit.uri === uri && hit.baseUrl === baseUrl) return hit.lsp;
  const lsp = convert(d, uri, baseUrl);
  converted.set(d, { uri, baseUrl, lsp });
  return lsp;
}

function convert(d: Diagnostic, uri: string, baseUrl: string | undefined): LspDiagnostic {
  const out: LspDiagnostic = {
    range: { start: { line: d.line, character: d.start }, end: { line: d.line, character: d.end } },
    severity: SEVERITY[d.severity],
    code: d.code,
    source: SOURCE,
    message: d.message,
  };
  const href = docLink(d.code, baseUrl);
  if (href) out.codeDescription = { href };
  if (d.related.length > 0) {
    out.relatedInformation = d.related.map((r) => ({
      location: { uri, range: { start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } } },
      message: r.message,
    }));
  }
  return out;
}

export function computeDiagnostics(a: Analysis, baseUrl: string | undefined): LspDiagnostic[] {
  return a.result.diagnostics.map((d) => toLspDiagnostic(d, a.uri, baseUrl));
}

/** The core diagnostic an LSP diagnostic (as sent back in a code action request) came from. */
export function findCoreDiagnostic(a: Analysis, d: LspDiagnostic): Diagnostic | undefined {
  if (d.source !== undefined && d.source !== SOURCE) return undefined;
  return a.result.diagnostics.find(
    (c) =>
      c.code === d.code &&
      c.line === d.range.start.line &&
      c.start === d.range.start.character &&
      c.end === d.range.end.character &&
      c.message === d.message,
  );
}
