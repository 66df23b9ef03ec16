/**
 * `npm run bench [-- FILTER...] [--runs=N] [--sizes=N,N] [--timeout=S] [--node=PATH]`
 *
 * Runs every bench module whose name contains one of the filters (all when
 * none is given), in order. Add new modules (language server, webview) to
 * MODULES.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { capture } from './capture';
import { core } from './core';
import { lsp } from './lsp';
import { webview } from './webview';
import { fmtBytes, type BenchModule, type BenchOptions } from './util';

const MODULES: readonly BenchModule[] = [core, lsp, webview, capture];

function usage(): string {
  return [
    'usage: npm run bench -- [FILTER...] [--runs=N] [--sizes=N,N,...] [--timeout=SECONDS] [--node=PATH]',
    '  --node=PATH: the Node binary that runs the core and capture benches\' measured processes; default: this one',
    'benches:',
    ...MODULES.map((m) => `  ${m.name.padEnd(8)} ${m.description}`),
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { filters: string[]; opts: BenchOptions } {
  const filters: string[] = [];
  const opts: BenchOptions = { runs: undefined, sizes: undefined, timeout: 900, node: process.execPath };
  for (const a of argv) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      filters.push(a);
      continue;
    }
    const [, key, value = ''] = m;
    const num = Number(value);
    if (key === 'help') {
      console.log(usage());
      process.exit(0);
    } else if (key === 'runs' && Number.isInteger(num) && num > 0) opts.runs = num;
    else if (key === 'timeout' && num > 0) opts.timeout = num;
    else if (key === 'node' && value) opts.node = value;
    else if (key === 'sizes' && value) {
      const sizes = value.split(',').map((s) => Number(s.replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000')));
      if (sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error(`bad --sizes: ${value}`);
      opts.sizes = sizes;
    } else {
      console.error(`unknown or malformed option ${a}\n${usage()}`);
      process.exit(2);
    }
  }
  return { filters, opts };
}

async function main(): Promise<void> {
  const { filters, opts } = parseArgs(process.argv.slice(2));
  const selected = filters.length ? MODULES.filter((m) => filters.some((f) => m.name.includes(f))) : MODULES;
  if (selected.length === 0) {
    console.error(`no bench matches ${filters.join(', ')}\n${usage()}`);
    process.exit(2);
  }
  const cpu = cpus();
  const load = loadavg()[0];
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${fmtBytes(totalmem())} RAM`);
  if (opts.node !== process.execPath) {
    // Another runtime for the measured processes (the bench itself stays on this one).
    const v = spawnSync(opts.node, ['--version'], { encoding: 'utf8' });
    if (v.status !== 0) {
      console.error(`--node=${opts.node}: cannot run it (${v.error?.message ?? v.stderr.trim()})`);
      process.exit(2);
    }
    console.log(`the core and capture benches measure on Node ${v.stdout.trim()} (${opts.node})`);
  }
  // Other work on the machine skews every figure; say so when there is some.
  console.log(`load average ${load.toFixed(2)}${load > cpu.length * 0.5 ? ' — the machine is busy: expect noisy timings' : ''}\n`);
  for (const m of selected) {
    const t0 = performance.now();
    await m.run(opts);
    console.log(`(${m.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
