/** Shared pieces of the benchmarks: the module interface, worker processes, statistics, tables. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSync } from 'esbuild';

export interface BenchOptions {
  /** Timed runs per measurement (after one warm-up). */
  runs: number | undefined;
  /** Trace sizes in events, when a bench accepts them. */
  sizes: number[] | undefined;
  /** Wall-clock budget of one worker process, seconds. */
  timeout: number;
  /** The Node binary that runs the measured processes of runNodeJson and runWorker (`--node=PATH`; default: this one). */
  node: string;
}

export interface BenchModule {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<void> | void;
}

export const ROOT = resolve(__dirname, '..');
export const DATA_DIR = resolve(__dirname, '.data');

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return '-';
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(0)} MB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(0)} kB`;
  return `${b} B`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(0)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

/** Prints rows as an aligned table; numbers-looking cells are right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const right = header.map((_, i) => rows.every((r) => /^[-\d.,<>×x ]*[\d-][\d.,]*( ?[a-zA-Zµ/%]+)?$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export interface WorkerResult<T> {
  ok: true;
  value: T;
}
export interface WorkerFailure {
  ok: false;
  reason: string;
}

/**
 * Runs a TypeScript worker in a fresh Node process (so that its peak RSS is
 * its own) and parses the JSON it prints on its last stdout line.
 */
export function runWorker<T>(script: string, args: readonly string[], opts: BenchOptions): WorkerResult<T> | WorkerFailure {
  return runNodeJson<T>(['--import', 'tsx', '--expose-gc', '--max-old-space-size=8192', resolve(__dirname, script), ...args], opts, 'the worker');
}

/** Runs `node ARGS` (opts.node) in a fresh process and parses the JSON it prints on its last stdout line (`what` names it in failures). */
export function runNodeJson<T>(nodeArgs: readonly string[], opts: BenchOptions, what: string): WorkerResult<T> | WorkerFailure {
  const timeoutSeconds = opts.timeout;
  const r = spawnSync(opts.node, nodeArgs, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutSeconds * 1000,
    maxBuffer: 64 << 20,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { ok: false, reason: `timed out after ${timeoutSeconds} s` };
  if (r.status !== 0) return { ok: false, reason: `exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').slice(-5).join(' | ')}` };
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { ok: true, value: JSON.parse(last) as T };
  } catch {
    return { ok: false, reason: `no result from ${what}: ${last.slice(0, 200)}` };
  }
}

/**
 * Bundles TypeScript source for a bench the way the production build does
 * (tsx would wrap every closure in a helper call and distort the figures).
 * `contents` is the entry's source, resolved from the repository root.
 */
export function bundleForBench(name: string, contents: string): string {
  mkdirSync(DATA_DIR, { recursive: true });
  const outfile = resolve(DATA_DIR, `${name}.bundle.cjs`);
  buildSync({
    absWorkingDir: ROOT,
    stdin: { contents, resolveDir: ROOT, loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    logLevel: 'warning',
  });
  return outfile;
}
