/**
 * Names: endpoints, in-flight labels and sequence-number symbols. References,
 * document highlights, go to definition and rename all start from the token
 * under the cursor and collect the tokens of the same kind and name.
 * (Free text in notes and titles is prose and is never renamed.)
 */
import {
  DocumentHighlightKind,
  ResponseError,
  ErrorCodes,
  type DocumentHighlight,
  type Location,
  type Position,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { parse } from '../../core/syntax/parser';
import type { Analysis } from '../analysis';
import { NAME_RE } from '../text';
import type { Token } from '../tokens';

const NAMED = new Set(['endpoint', 'label', 'symbol']);
const WHAT: Readonly<Record<string, string>> = { endpoint: 'endpoint', label: 'label', symbol: 'symbol' };

function nameAt(a: Analysis, pos: Position): Token | undefined {
  const t = a.tokenAt(pos.line, pos.character);
  return t && NAMED.has(t.kind) ? t : undefined;
}

function occurrences(a: Analysis, target: Token): Token[] {
  const out: Token[] = [];
  for (const t of a.allTokens()) if (t.kind === target.kind && t.text === target.text) out.push(t);
  return out;
}

/** Tokens are rebuilt on each pass: compare them by place. */
function same(x: Token | undefined, y: Token): boolean {
  return x !== undefined && x.line === y.line && x.start === y.start;
}

function range(t: { line: number; start: number; end: number }): Range {
  return { start: { line: t.line, character: t.start }, end: { line: t.line, character: t.end } };
}

/** Where the name is defined: the endpoint declaration (or first use), `as LABEL`, the symbol's binding. */
function definitionToken(a: Analysis, target: Token): Token | undefined {
  const all = occurrences(a, target);
  if (target.kind === 'symbol') {
    const b = a.result.symbols.get(target.text);
    if (b) {
      const at = all.find((t) => t.line === b.line && t.start >= b.start && t.end <= b.end);
      if (at) return at;
    }
  }
  return all.find((t) => t.declaration) ?? all[0];
}

export function computeReferences(a: Analysis, pos: Position, includeDeclaration: boolean): Location[] | null {
  const target = nameAt(a, pos);
  if (!target) return null;
  const def = definitionToken(a, target);
  return occurrences(a, target)
    .filter((t) => includeDeclaration || !same(def, t))
    .map((t) => ({ uri: a.uri, range: range(t) }));
}

export function computeHighlights(a: Analysis, pos: Position): DocumentHighlight[] | null {
  const target = nameAt(a, pos);
  if (!target) return null;
  const def = definitionToken(a, target);
  return occurrences(a, target).map((t) => ({ range: range(t), kind: same(def, t) ? DocumentHighlightKind.Write : DocumentHighlightKind.Read }));
}

export function computeDefinition(a: Analysis, pos: Position): Location | null {
  const target = nameAt(a, pos);
  if (!target) return null;
  const def = definitionToken(a, target);
  return def ? { uri: a.uri, range: range(def) } : null;
}

export function prepareRename(a: Analysis, pos: Position): { range: Range; placeholder: string } | null {
  const target = nameAt(a, pos);
  if (!target) return null;
  return { range: range(target), placeholder: target.text };
}

export function computeRename(a: Analysis, pos: Position, newName: string): WorkspaceEdit {
  const target = nameAt(a, pos);
  if (!target) throw new ResponseError(ErrorCodes.InvalidRequest, 'Only endpoints, in-flight labels and symbols can be renamed.');
  const what = WHAT[target.kind];
  if (!NAME_RE.test(newName)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `'${newName}' is not a valid ${what} name: use letters, digits and '_', not starting with a digit.`);
  }
  if (newName === target.text) return { changes: { [a.uri]: [] } };
  for (const t of a.allTokens()) {
    if (t.kind === target.kind && t.text === newName) {
      throw new ResponseError(ErrorCodes.InvalidParams, `There is already ${what === 'endpoint' ? 'an' : 'a'} ${what} named '${newName}' (line ${t.line + 1}); renaming would merge the two.`);
    }
  }
  const edits: TextEdit[] = occurrences(a, target).map((t) => ({ range: range(t), newText: newName }));
  // A name must not turn a line into something else (an endpoint called `over` in a note, say).
  const before = parse(a.text);
  const after = parse(applyEdits(a.lines, edits));
  if (after.diagnostics.length > before.diagnostics.length || after.statements.length !== before.statements.length) {
    throw new ResponseError(ErrorCodes.InvalidParams, `'${newName}' cannot be used here: it would change how some lines read.`);
  }
  return { changes: { [a.uri]: edits } };
}

/** Applies single-line edits to the lines (edits sorted or not). */
export function applyEdits(lines: readonly string[], edits: readonly TextEdit[]): string {
  const out = [...lines];
  const sorted = [...edits].sort((x, y) => y.range.start.line - x.range.start.line || y.range.start.character - x.range.start.character);
  for (const e of sorted) {
    const l = e.range.start.line;
    const s = out[l];
    out[l] = s.slice(0, e.range.start.character) + e.newText + s.slice(e.range.end.character);
  }
  return out.join('\n');
}
