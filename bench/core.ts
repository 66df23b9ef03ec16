/**
 * The core bench: check() on long, realistic generated traces, against the
 * floor of merely reading the file and splitting it into lines.
 *
 * Traces come from the test model (test/support/trace-model.ts) and are cached
 * in bench/.data/, named after a hash of the generator so that a change to the
 * model regenerates them. Each measurement runs in its own process.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeLongTrace, type LongTraceStats } from '../test/support/trace-model';
import type { CoreWorkerOutput } from './core-worker';
import { DATA_DIR, ROOT, bundleForBench, fmtBytes, fmtInt, fmtMs, fmtRate, median, printTable, runWorker, type BenchModule, type BenchOptions } from './util';

const SEED = 20240601;
const DEFAULT_SIZES = [100_000, 1_000_000];
/** check / (read + split) at the largest size. */
const GOAL_RATIO = 3;

interface TraceFile {
  path: string;
  stats: LongTraceStats;
}

/** Hash of the generator's source: a changed model means new traces. */
function generatorHash(): string {
  const h = createHash('sha256');
  h.update(readFileSync(resolve(ROOT, 'test/support/trace-model.ts')));
  h.update(String(SEED));
  return h.digest('hex').slice(0, 10);
}

/** The cached trace of `events` events, generated (streamed to disk) when missing. */
export function ensureTrace(events: number): TraceFile {
  mkdirSync(DATA_DIR, { recursive: true });
  const prefix = `core-${events}-`;
  const name = `${prefix}${generatorHash()}`;
  const path = resolve(DATA_DIR, `${name}.tcptrace`);
  const meta = resolve(DATA_DIR, `${name}.json`);
  if (existsSync(path) && existsSync(meta)) return { path, stats: JSON.parse(readFileSync(meta, 'utf8')) as LongTraceStats };
  // Stale traces of this size from an older generator.
  for (const f of readdirSync(DATA_DIR)) if (f.startsWith(prefix)) unlinkSync(resolve(DATA_DIR, f));
  process.stdout.write(`  generating ${fmtInt(events)} events into ${path.slice(ROOT.length + 1)} ... `);
  const t0 = performance.now();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let stats: LongTraceStats;
  try {
    stats = writeLongTrace(events, SEED, (chunk) => writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  writeFileSync(meta, JSON.stringify(stats));
  console.log(`${fmtMs(performance.now() - t0)}, ${fmtBytes(stats.bytes)}`);
  return { path, stats };
}

/** src/core bundled with the production build's settings (scripts/build.mjs --production). */
function bundleCore(): string {
  return bundleForBench('core', "export * from './src/core';");
}

type Measured = { ok: true; out: CoreWorkerOutput; median: number } | { ok: false; reason: string };

function measure(mode: 'split' | 'parse' | 'check' | 'stream', file: string, bundle: string, runs: number, opts: BenchOptions): Measured {
  const r = runWorker<CoreWorkerOutput>('core-worker.ts', [mode, file, String(runs), String(opts.timeout), bundle], opts);
  if (!r.ok) return r;
  return { ok: true, out: r.value, median: median(r.value.times) };
}

async function run(opts: BenchOptions): Promise<void> {
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const runs = opts.runs ?? 5;
  console.log(`core: check() on generated traces (src/core bundled as shipped; median of ${runs} runs after 1 warm-up; each measurement in its own process)`);
  const files = sizes.map((n) => ensureTrace(n));
  const bundle = bundleCore();

  const rows: string[][] = [];
  const perEvent: { events: number; us: number }[] = [];
  const notes: string[] = [];
  let lastRatio = NaN;
  for (const f of files) {
    const size = statSync(f.path).size;
    process.stdout.write(`  measuring ${fmtInt(f.stats.events)} events: read+split`);
    const split = measure('split', f.path, bundle, runs, opts);
    process.stdout.write(', parse');
    const parsed = measure('parse', f.path, bundle, runs, opts);
    process.stdout.write(', check (CLI: streaming)');
    const checked = measure('stream', f.path, bundle, runs, opts);
    process.stdout.write(', check keeping the tree (editor)');
    const kept = measure('check', f.path, bundle, runs, opts);
    console.log(' done');
    for (const [what, m] of [['read+split', split], ['parse', parsed], ['check', checked], ['check keeping the tree', kept]] as const) {
      if (!m.ok) notes.push(`${fmtInt(f.stats.events)} events, ${what}: ${m.reason}`);
      else if (m.out.times.length === 1 && runs > 1) notes.push(`${fmtInt(f.stats.events)} events, ${what}: one run only (the warm-up alone took ${fmtMs(m.out.warmup)})`);
    }
    const a = split.ok ? split.median : NaN;
    const p = parsed.ok ? parsed.median : NaN;
    const b = checked.ok ? checked.median : NaN;
    const events = f.stats.events;
    const ratio = b / a;
    lastRatio = ratio;
    if (checked.ok) {
      perEvent.push({ events, us: (b * 1000) / events });
      const d = checked.out.diagnostics;
      if ((d.error ?? 0) > 0 || (d.warning ?? 0) > 0) {
        notes.push(`${fmtInt(events)} events: the checker reports ${d.error ?? 0} errors and ${d.warning ?? 0} warnings on this correct trace`);
      }
      if (checked.out.count !== events) notes.push(`${fmtInt(events)} events: the timeline has ${fmtInt(checked.out.count)} entries`);
    }
    rows.push([
      fmtInt(events),
      fmtInt(f.stats.lines),
      fmtBytes(size),
      fmtMs(a),
      fmtMs(p),
      fmtMs(b),
      fmtRate((events * 1000) / b),
      Number.isFinite(ratio) ? ratio.toFixed(2) : '-',
      split.ok ? fmtBytes(split.out.maxRss) : '-',
      checked.ok ? fmtBytes(checked.out.maxRss) : '-',
      kept.ok ? fmtMs(kept.median) : '-',
      kept.ok ? fmtBytes(kept.out.maxRss) : '-',
      kept.ok ? `${fmtBytes(kept.out.retained)} (${Math.round(kept.out.retained / events)} B/ev)` : '-',
    ]);
  }
  console.log('');
  printTable(
    ['events', 'lines', 'file', '(a) read+split', 'parse', '(b) check (CLI)', 'events/s', '(b)/(a)', 'peak RSS (a)', 'peak RSS (b)', 'check, tree kept', 'its peak RSS', 'kept by result'],
    rows,
  );
  console.log('');
  if (perEvent.length >= 2) {
    const first = perEvent[0];
    const last = perEvent[perEvent.length - 1];
    const growth = last.us / first.us;
    const verdict = growth <= 1.5 ? 'linear' : growth <= 3 ? 'somewhat worse than linear' : 'NOT linear';
    console.log(
      `scaling: check costs ${perEvent.map((x) => `${x.us.toFixed(2)} µs/event at ${fmtInt(x.events)}`).join(', ')} ` +
        `(x${growth.toFixed(2)} for x${(last.events / first.events).toFixed(0)} events: ${verdict})`,
    );
  }
  if (Number.isFinite(lastRatio)) {
    console.log(`goal: (b)/(a) <= ${GOAL_RATIO} at ${fmtInt(files[files.length - 1].stats.events)} events: ${lastRatio.toFixed(2)} ${lastRatio <= GOAL_RATIO ? 'met' : 'NOT met'}`);
  }
  for (const n of notes) console.log(`note: ${n}`);
}

export const core: BenchModule = {
  name: 'core',
  description: 'check() on 100k- and 1M-event traces vs readFileSync + split',
  run,
};
