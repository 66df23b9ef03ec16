/**
 * Compares two check results field by field: what a streaming check
 * (`keepSyntax: false`) must hand out exactly as a tree-keeping one does.
 * Returns the first difference found, or undefined when they agree.
 */
import { isDeepStrictEqual } from 'node:util';
import { check, checkParts, type CheckResult } from '../../src/core';

/**
 * How the streaming checks of `text` differ from the tree-keeping one:
 * `keepSyntax: false` in everything, `timeline: false` (the import's) in all
 * but its timeline, which must be empty, and `checkParts` of the text cut
 * after its first line end and after one near its middle (its Latin-1 parts
 * given as bytes, and not), in everything.
 */
export function streamingDifference(text: string): string | undefined {
  const full = check(text);
  const diff = firstDifference(check(text, { keepSyntax: false }), full);
  if (diff) return `check(text, { keepSyntax: false }) differs from check(text): ${diff}`;
  const bare = check(text, { keepSyntax: false, timeline: false });
  if (bare.timeline.length !== 0) return `check(text, { keepSyntax: false, timeline: false }) keeps a timeline of ${bare.timeline.length}`;
  const d = firstDifference(bare, full, false);
  if (d) return `check(text, { keepSyntax: false, timeline: false }) differs from check(text): ${d}`;
  const cuts = [text.indexOf('\n') + 1, text.indexOf('\n', text.length >> 1) + 1].filter((c, i, all) => c > 0 && all.indexOf(c) === i).sort((a, b) => a - b);
  if (cuts.length === 0) return undefined;
  const parts = [0, ...cuts].map((c, i, all) => text.slice(c, all[i + 1]));
  const p = firstDifference(checkParts(parts), full);
  if (p) return `checkParts(${JSON.stringify(cuts)}) differs from check(text): ${p}`;
  // The parts that are Latin-1 given as bytes too (as the import's worker gives them).
  const latin1 = parts.map((t) => (/^[\x00-\xff]*$/.test(t) ? Buffer.from(t, 'latin1') : undefined));
  const b = firstDifference(checkParts(parts, {}, latin1), full);
  return b && `checkParts(${JSON.stringify(cuts)}) with Latin-1 bytes differs from check(text): ${b}`;
}

export function firstDifference(a: CheckResult, b: CheckResult, timeline = true): string | undefined {
  const same = (x: unknown, y: unknown): boolean => isDeepStrictEqual(x, y);
  if (a.diagnostics.length !== b.diagnostics.length) {
    return `diagnostics: ${a.diagnostics.length} vs ${b.diagnostics.length}\n${fmtDiags(a)}\n--- vs ---\n${fmtDiags(b)}`;
  }
  for (let i = 0; i < a.diagnostics.length; i++) {
    if (!same(a.diagnostics[i], b.diagnostics[i])) return `diagnostic ${i}: ${JSON.stringify(a.diagnostics[i])}\n  vs ${JSON.stringify(b.diagnostics[i])}`;
  }
  if (!same(a.parsed.diagnostics, b.parsed.diagnostics)) return 'syntax diagnostics differ';
  if (!same([...a.parsed.symbols].sort(), [...b.parsed.symbols].sort())) return `parsed symbols: ${[...a.parsed.symbols]} vs ${[...b.parsed.symbols]}`;
  if (a.parsed.lineCount !== b.parsed.lineCount) return `lineCount: ${a.parsed.lineCount} vs ${b.parsed.lineCount}`;
  if (a.title !== b.title) return `title: ${a.title} vs ${b.title}`;
  if (!same(a.endpoints, b.endpoints)) return `endpoints: ${JSON.stringify(a.endpoints)} vs ${JSON.stringify(b.endpoints)}`;
  if (!same(a.options, b.options)) return `options: ${JSON.stringify(a.options)} vs ${JSON.stringify(b.options)}`;
  if (!same(a.symbols, b.symbols)) return `symbols: ${JSON.stringify([...a.symbols])} vs ${JSON.stringify([...b.symbols])}`;
  if (a.symbolic !== b.symbolic) return `symbolic: ${a.symbolic} vs ${b.symbolic}`;
  if (!timeline) return undefined;
  const ta = a.timeline;
  const tb = b.timeline;
  if (ta.length !== tb.length) return `timeline length: ${ta.length} vs ${tb.length}`;
  for (let i = 0; i < ta.length; i++) {
    const ea = { line: ta.line(i), stmt: ta.stmtIndex(i), time: ta.time(i), tcbs: [ta.tcb(i, 0), ta.tcb(i, 1)], seg: ta.segment(i) };
    const eb = { line: tb.line(i), stmt: tb.stmtIndex(i), time: tb.time(i), tcbs: [tb.tcb(i, 0), tb.tcb(i, 1)], seg: tb.segment(i) };
    if (!same(ea, eb)) return `timeline entry ${i}: ${JSON.stringify(ea)}\n  vs ${JSON.stringify(eb)}`;
  }
  return undefined;
}

function fmtDiags(r: CheckResult): string {
  return r.diagnostics.map((d) => `  ${d.line + 1}:${d.start} ${d.code} ${d.message}`).join('\n');
}
