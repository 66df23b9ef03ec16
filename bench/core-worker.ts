/**
 * One measurement of the core bench, in its own process:
 *   node --import tsx --expose-gc bench/core-worker.ts MODE FILE RUNS BUDGET_S CORE_BUNDLE
 * MODE is `split` (readFileSync + split into lines: the floor any checker pays),
 * `parse` (readFileSync + parse), `check` (readFileSync + check, keeping the tree as the
 * language server does) or `stream` (readFileSync + check as the CLI runs it: each line
 * checked as it is parsed, the tree not kept). CORE_BUNDLE is
 * src/core bundled by esbuild as the extension ships it (tsx would add a helper
 * call to every closure it creates). Prints one JSON line: the time of every run
 * after one warm-up, peak RSS, and the heap the last result keeps alive.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Core from '../src/core';

type Mode = 'split' | 'parse' | 'check' | 'stream';

export interface CoreWorkerOutput {
  mode: Mode;
  /** Milliseconds of each timed run (the warm-up excluded unless it was the only run). */
  times: number[];
  warmup: number;
  /** Lines (split), statements (parse) or timeline entries (check). */
  count: number;
  /** Peak resident set size of this process, bytes. */
  maxRss: number;
  /** Heap + array buffers kept alive by one result (after GC), bytes. */
  retained: number;
  diagnostics: Record<string, number>;
}

const [modeArg, file, runsArg, budgetArg, bundle] = process.argv.slice(2);
const mode = modeArg as Mode;
if (!['split', 'parse', 'check', 'stream'].includes(mode) || !file || !bundle) {
  console.error('usage: core-worker.ts split|parse|check|stream FILE RUNS BUDGET_SECONDS CORE_BUNDLE');
  process.exit(2);
}
const { check, parse } = createRequire(__filename)(bundle) as typeof Core;
const runs = Math.max(1, Number(runsArg ?? 5));
const budgetMs = Number(budgetArg ?? 300) * 1000;
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

function work(): { result: unknown; count: number } {
  const text = readFileSync(file, 'utf8');
  switch (mode) {
    case 'split': {
      const lines = text.split('\n');
      return { result: lines, count: lines.length };
    }
    case 'parse': {
      const p = parse(text);
      return { result: p, count: p.statements.length };
    }
    case 'check': {
      const r = check(text);
      return { result: r, count: r.timeline.length };
    }
    case 'stream': {
      const r = check(text, { keepSyntax: false });
      return { result: r, count: r.timeline.length };
    }
  }
}

function timed(): { ms: number; count: number; result: unknown } {
  gc();
  const t0 = performance.now();
  const { result, count } = work();
  return { ms: performance.now() - t0, count, result };
}

function heap(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const first = timed();
let count = first.count;
const times: number[] = [];
// A warm-up that already took most of the budget is the measurement (slow cases still report).
if (first.ms * (runs + 1) > budgetMs) times.push(first.ms);
else {
  for (let i = 0; i < runs; i++) {
    const t = timed();
    times.push(t.ms);
    count = t.count;
  }
}

// What one result keeps alive.
gc();
const before = heap();
const kept = work();
gc();
const retained = heap() - before;
const diagnostics: Record<string, number> = {};
if (mode === 'check' || mode === 'stream') {
  for (const d of (kept.result as Core.CheckResult).diagnostics) diagnostics[d.severity] = (diagnostics[d.severity] ?? 0) + 1;
}

const out: CoreWorkerOutput = {
  mode,
  times,
  warmup: first.ms,
  count,
  maxRss: process.resourceUsage().maxRSS * 1024,
  retained,
  diagnostics,
};
console.log(JSON.stringify(out));
