/**
 * Code actions: the checker's quick fixes for the diagnostics under the
 * cursor, "fix all of this kind" when a code occurs more than once, and
 * `source.fixAll` (fix-on-save) applying every unambiguous fix at once.
 */
import { CodeActionKind, type CodeAction, type CodeActionParams, type TextEdit } from 'vscode-languageserver';
import type { Diagnostic, QuickFix, TextEdit as CoreEdit } from '../../core/check/types';
import type { Analysis } from '../analysis';
import { findCoreDiagnostic, toLspDiagnostic } from './diagnostics';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.tcptrace`;

export function computeCodeActions(a: Analysis, params: CodeActionParams, baseUrl: string | undefined): CodeAction[] {
  const only = params.context.only;
  const wants = (kind: string): boolean => !only || only.some((o) => kind === o || kind.startsWith(o + '.'));
  const actions: CodeAction[] = [];

  if (wants(CodeActionKind.QuickFix)) {
    const seenCodes = new Set<string>();
    for (const lsp of params.context.diagnostics) {
      const d = findCoreDiagnostic(a, lsp);
      if (!d) continue;
      for (const fix of d.fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [lsp],
          isPreferred: fix.preferred,
          edit: { changes: { [a.uri]: fix.edits.map(toLspEdit) } },
        });
      }
      if (d.fixes.length > 0 && !seenCodes.has(d.code)) {
        seenCodes.add(d.code);
        const same = a.result.diagnostics.filter((x) => x.code === d.code && unambiguousFix(x));
        if (same.length > 1) {
          const edits = mergeFixes(same);
          actions.push({
            title: `Fix all ${d.code} problems in this file (${same.length})`,
            kind: CodeActionKind.QuickFix,
            diagnostics: same.map((x) => toLspDiagnostic(x, a.uri, baseUrl)),
            edit: { changes: { [a.uri]: edits } },
          });
        }
      }
    }
  }

  if (only && wants(FIX_ALL_KIND) && only.some((o) => o !== CodeActionKind.QuickFix && o !== CodeActionKind.Empty)) {
    const all = a.result.diagnostics.filter(unambiguousFix);
    if (all.length > 0) {
      actions.push({
        title: 'Fix all auto-fixable TCP trace problems',
        kind: FIX_ALL_KIND,
        diagnostics: all.map((x) => toLspDiagnostic(x, a.uri, baseUrl)),
        edit: { changes: { [a.uri]: mergeFixes(all) } },
      });
    }
  }
  return actions;
}

/** The fix to apply without asking: the preferred one, or the only one. */
function unambiguousFix(d: Diagnostic): QuickFix | undefined {
  return d.fixes.find((f) => f.preferred) ?? (d.fixes.length === 1 ? d.fixes[0] : undefined);
}

/**
 * The edits of several fixes as one edit list: identical edits once (two
 * fixes that insert the same `server: listen`), and a fix whose edits
 * overlap an earlier fix's left out, so the result is always applicable.
 */
export function mergeFixes(diags: readonly Diagnostic[]): TextEdit[] {
  const taken: CoreEdit[] = [];
  const key = (e: CoreEdit): string => `${e.line}:${e.start}:${e.end}:${e.newText}`;
  const keys = new Set<string>();
  for (const d of diags) {
    const fix = unambiguousFix(d);
    if (!fix) continue;
    const fresh = fix.edits.filter((e) => !keys.has(key(e)));
    if (fresh.some((e) => taken.some((t) => overlaps(e, t)))) continue;
    for (const e of fresh) {
      taken.push(e);
      keys.add(key(e));
    }
  }
  taken.sort((x, y) => x.line - y.line || x.start - y.start);
  return taken.map(toLspEdit);
}

/** Two single-line edits conflict when one changes text the other touches (insertions at one point may coexist). */
function overlaps(x: CoreEdit, y: CoreEdit): boolean {
  return x.line === y.line && x.start < y.end && y.start < x.end;
}

function toLspEdit(e: CoreEdit): TextEdit {
  return { range: { start: { line: e.line, character: e.start }, end: { line: e.line, character: e.end } }, newText: e.newText };
}
