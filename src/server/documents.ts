/**
 * Open documents, synchronised incrementally, and one Analysis (one `check()`)
 * per document version and severity settings.
 *
 * The store handles didOpen/didChange/didClose itself rather than through
 * `TextDocuments`, because it needs the change events: it records, per
 * document, the first line any change touched since the last check
 * (`dirtyFrom`). Lines before it are unchanged in the new text, which is what
 * a resumable check needs to restart from the first changed event instead of
 * the top (see `runCheck`).
 *
 * `dirtyFromLine` exposes it for tests and diagnostics of the plumbing.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { DidChangeTextDocumentParams, DidOpenTextDocumentParams } from 'vscode-languageserver';
import { check, checkIncremental } from '../core/check/checker';
import type { CheckResult } from '../core/check/types';
import type { TcptraceSettings } from '../protocol';
import { Analysis } from './analysis';

interface Entry {
  doc: TextDocument;
  /** First line changed since the last check (Infinity: none). */
  dirtyFrom: number;
  /** Last line changed since the last check, in the current text (-1: none). */
  dirtyTo: number;
  /** Lines added minus lines removed since the last check. */
  lineDelta: number;
  analysis: Analysis | undefined;
  /** The severity overrides the cached analysis was checked with. */
  severityKey: string;
  /** Milliseconds the last check took (the diagnostics debounce adapts to it). */
  lastCheckMs: number;
}

export class DocumentStore {
  private readonly entries = new Map<string, Entry>();

  open(p: DidOpenTextDocumentParams): void {
    const { uri, languageId, version, text } = p.textDocument;
    this.entries.set(uri, { doc: TextDocument.create(uri, languageId, version, text), dirtyFrom: 0, dirtyTo: Infinity, lineDelta: 0, analysis: undefined, severityKey: '', lastCheckMs: 0 });
  }

  /** Applies the changes; returns the first line they touched. */
  change(p: DidChangeTextDocumentParams): number | undefined {
    const e = this.entries.get(p.textDocument.uri);
    if (!e) return undefined;
    let first = Infinity;
    for (const c of p.contentChanges) {
      // Each change's range is in the text left by the previous ones. Keep the envelope of the
      // changed lines in the current numbering: lines before it and (when the line count is back
      // where it was) after it are those the last check saw.
      if (!('range' in c)) {
        first = 0;
        e.dirtyFrom = 0;
        e.dirtyTo = Infinity;
        continue;
      }
      const a = c.range.start.line;
      const b = c.range.end.line;
      const added = lineBreaks(c.text);
      const delta = added - (b - a);
      first = Math.min(first, a);
      if (e.dirtyFrom === Infinity) {
        e.dirtyFrom = a;
        e.dirtyTo = a + added;
      } else {
        if (e.dirtyFrom > b) e.dirtyFrom += delta;
        const to = e.dirtyTo > b ? e.dirtyTo + delta : e.dirtyTo >= a ? a + added : e.dirtyTo;
        e.dirtyFrom = Math.min(e.dirtyFrom, a);
        e.dirtyTo = Math.max(to, a + added);
      }
      e.lineDelta += delta;
    }
    e.doc = TextDocument.update(e.doc, p.contentChanges, p.textDocument.version);
    return first;
  }

  close(uri: string): void {
    this.entries.delete(uri);
  }

  get(uri: string): TextDocument | undefined {
    return this.entries.get(uri)?.doc;
  }

  uris(): string[] {
    return [...this.entries.keys()];
  }

  /** First line changed since the last check (Infinity: none; 0 after open). */
  dirtyFromLine(uri: string): number | undefined {
    return this.entries.get(uri)?.dirtyFrom;
  }

  lastCheckMs(uri: string): number {
    return this.entries.get(uri)?.lastCheckMs ?? 0;
  }

  /** The analysis of the document's current version, checked now if needed. */
  analysis(uri: string, settings: TcptraceSettings): Analysis | undefined {
    const e = this.entries.get(uri);
    if (!e) return undefined;
    const severityKey = JSON.stringify(settings.diagnostics.severity);
    const cached = e.analysis;
    if (cached && cached.version === e.doc.version && e.severityKey === severityKey) {
      // Presentation settings (spelling, hints) do not need a new check.
      if (cached.settings === settings) return cached;
      const a = new Analysis(uri, cached.version, cached.text, cached.result, settings);
      e.analysis = a;
      return a;
    }
    const text = e.doc.getText();
    const started = performance.now();
    const resume =
      cached && severityKey === e.severityKey && e.dirtyFrom !== Infinity
        ? { previous: cached.result, firstChangedLine: e.dirtyFrom, lastChangedLine: e.lineDelta === 0 && Number.isFinite(e.dirtyTo) ? e.dirtyTo : undefined }
        : undefined;
    const result = runCheck(text, settings, resume);
    e.lastCheckMs = performance.now() - started;
    e.analysis = new Analysis(uri, e.doc.version, text, result, settings);
    e.severityKey = severityKey;
    e.dirtyFrom = Infinity;
    e.dirtyTo = -1;
    e.lineDelta = 0;
    return e.analysis;
  }

  /** Drops cached analyses (after a settings change that affects checking). */
  invalidate(): void {
    for (const e of this.entries.values()) {
      e.analysis = undefined;
      e.dirtyFrom = 0;
      e.dirtyTo = Infinity;
    }
  }
}

/** What a resumable check needs: the previous result and the lines changed since. */
export interface ResumePoint {
  previous: CheckResult;
  /** Lines before it are unchanged, so are the events on them and the timeline up to them. */
  firstChangedLine: number;
  /** When the line count is unchanged: the last changed line (lines after it are unchanged too). */
  lastChangedLine: number | undefined;
}

/**
 * The one place the server checks a document: from the top for a new
 * document or new settings, otherwise resuming from the first changed line
 * (the core reuses everything before it; the result is the same).
 */
function runCheck(text: string, settings: TcptraceSettings, resume: ResumePoint | undefined): CheckResult {
  const options = { severities: settings.diagnostics.severity };
  return resume ? checkIncremental(resume.previous, text, resume.firstChangedLine, options, resume.lastChangedLine) : check(text, options);
}

/** Line breaks in inserted text, as LSP counts them (\n, \r\n, lone \r). */
function lineBreaks(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      n++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return n;
}
