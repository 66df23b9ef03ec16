/**
 * One checked version of a document: the core's CheckResult plus the lazily
 * built indexes the features share (statement per line, tokens per line, how
 * to spell states and numbers). Built once per document version and settings;
 * every feature reads it and nothing re-derives TCP state.
 */
import type { CheckResult, SymbolBinding } from '../core/check/types';
import type { Statement } from '../core/syntax/ast';
import { stateName, type State } from '../core/tcp/states';
import type { TcptraceSettings } from '../protocol';
import { splitLines } from './text';
import { statementTokens, tokenAt, type Token } from './tokens';

export class Analysis {
  private _lines: string[] | undefined;
  private _stmtByLine: Int32Array | undefined;
  private readonly tokenCache = new Map<number, Token[]>();
  private _isn: (SymbolBinding | undefined)[] | undefined;

  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    readonly result: CheckResult,
    readonly settings: TcptraceSettings,
  ) {}

  get lines(): string[] {
    return (this._lines ??= splitLines(this.text));
  }

  get statements(): Statement[] {
    return this.result.parsed.statements;
  }

  /** Index into `statements` of the statement on `line`, or -1. */
  stmtIndexAt(line: number): number {
    if (!this._stmtByLine) {
      const m = new Int32Array(Math.max(this.lines.length, this.result.parsed.lineCount)).fill(-1);
      this.statements.forEach((st, i) => {
        if (st.line < m.length) m[st.line] = i;
      });
      this._stmtByLine = m;
    }
    return line >= 0 && line < this._stmtByLine.length ? this._stmtByLine[line] : -1;
  }

  statementAt(line: number): Statement | undefined {
    const i = this.stmtIndexAt(line);
    return i < 0 ? undefined : this.statements[i];
  }

  /** The tokens of one line, with symbol declarations marked from the checker's bindings. */
  tokensAt(line: number): Token[] {
    let t = this.tokenCache.get(line);
    if (!t) {
      t = this.computeTokens(line);
      this.tokenCache.set(line, t);
    }
    return t;
  }

  /** The tokens of one line without caching them (for passes over the whole document). */
  scanTokens(line: number): Token[] {
    return this.tokenCache.get(line) ?? this.computeTokens(line);
  }

  private computeTokens(line: number): Token[] {
    const i = this.stmtIndexAt(line);
    const t = i < 0 ? [] : statementTokens(this.statements[i], i, this.lines[line] ?? '');
    for (const tok of t) {
      if (tok.kind === 'symbol') {
        const b = this.result.symbols.get(tok.text);
        tok.declaration = b !== undefined && b.line === line && b.start <= tok.start && tok.end <= b.end;
      }
    }
    return t;
  }

  tokenAt(line: number, character: number): Token | undefined {
    return tokenAt(this.tokensAt(line), character);
  }

  /**
   * Every token of the document, in order (references, semantic tokens).
   * Not cached: on a huge trace that would hold millions of objects.
   */
  *allTokens(): Generator<Token> {
    for (const st of this.statements) yield* this.scanTokens(st.line);
  }

  // ---- endpoints and states ----

  endpointIndex(name: string): number {
    return this.result.endpoints.findIndex((e) => e.name === name);
  }

  /** The state spelling for display: the setting, or the trace's own `option states=`. */
  get spelling(): 'socket' | 'rfc' {
    const s = this.settings.states.spelling;
    return s === 'auto' ? this.result.options.states : s;
  }

  stateName(s: State): string {
    return stateName(s, this.spelling);
  }

  // ---- the timeline around a line ----

  /** Timeline index of the event on `line`, or -1 when the line is not an event. */
  eventAt(line: number): number {
    return this.result.timeline.indexOfLine(line);
  }

  /** Timeline index of the last event strictly before `line`, or -1. */
  eventBefore(line: number): number {
    return this.result.timeline.indexAtOrBefore(line - 1);
  }

  // ---- numbers ----

  /** The ISN symbol of each endpoint's sequence space, in a symbolic trace. */
  private isnSymbol(space: number): SymbolBinding | undefined {
    if (!this._isn) {
      this._isn = [undefined, undefined];
      for (const b of this.result.symbols.values()) {
        if (b.isn && (b.space === 0 || b.space === 1) && !this._isn[b.space]) this._isn[b.space] = b;
      }
    }
    return this._isn[space];
  }

  /**
   * A sequence number of endpoint `space`'s stream as the user writes them:
   * `x+1` in a symbolic trace, the plain number otherwise.
   */
  formatSeq(value: number, space: number): string {
    if (this.result.symbolic) {
      const isn = this.isnSymbol(space);
      if (isn) return symbolic(isn.name, value, isn.value);
    }
    return String(value >>> 0);
  }

  /** The number relative to the stream's ISN (`ISS+101`), for hovers; undefined when unknown. */
  relativeSeq(value: number, isn: number | undefined, name: string): string | undefined {
    if (isn === undefined) return undefined;
    return symbolic(name, value, isn);
  }
}

/** `name`, `name+d` or `name-d` for `value` relative to `base`, modulo 2^32. */
export function symbolic(name: string, value: number, base: number): string {
  const d = (value - base) >>> 0;
  if (d === 0) return name;
  return d < 0x80000000 ? `${name}+${d}` : `${name}-${0x100000000 - d}`;
}
