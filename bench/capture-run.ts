/**
 * One measurement of the capture bench (bench/capture.ts): `tcptrace-cli
 * import FILE -o DIR` through the CLI's own runImport, in a plain Node
 * process as a user runs the CLI (no TypeScript loader: the bench bundles
 * this file next to the CLI's worker script, bench/.data/cli/). Prints one
 * JSON line (CaptureRunOutput).
 *
 *   node bench/.data/cli/run.cjs FILE OUTDIR
 *
 * OUTDIR must not exist; the caller removes it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { runImport } from '../src/cli/import';

export interface CaptureRunOutput {
  ms: number;
  /** User + system CPU time of the process (all threads), ms. */
  cpuMs: number;
  packets: number;
  segments: number;
  connections: number;
  traceBytes: number;
  maxRss: number;
  diagnostics: Record<string, number>;
  error: string | null;
}

async function measure(file: string, outDir: string): Promise<CaptureRunOutput> {
  // A directory of its own, never used before (see RunDirs in bench/capture.ts).
  if (existsSync(outDir)) throw new Error(`${outDir} exists: each run writes to a new directory`);
  // The output is read as it comes, not kept (the CLI keeps nothing of a listed trace: neither does this,
  // so that peak memory is the CLI's). Per trace: "...; N errors, N warnings, N information"; last:
  // "FILE: pcap (...), N packets, N TCP segments, N connections; N written."
  const diagnostics: Record<string, number> = {};
  let total: RegExpExecArray | null = null;
  const out = (s: string): void => {
    for (const m of s.matchAll(/; (\d+) errors?, (\d+) warnings?, (\d+) information\n/g)) {
      diagnostics.error = (diagnostics.error ?? 0) + Number(m[1]);
      diagnostics.warning = (diagnostics.warning ?? 0) + Number(m[2]);
      diagnostics.information = (diagnostics.information ?? 0) + Number(m[3]);
    }
    total = /, ([\d]+) packets?, ([\d]+) TCP segments?.*, ([\d]+) connections?; /.exec(s) ?? total;
  };
  let err = '';
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const code = await runImport([file, '-o', outDir], { out, err: (s) => (err += s) });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  let traceBytes = 0;
  for (const f of readdirSync(outDir)) traceBytes += statSync(resolve(outDir, f)).size;
  const t = total as RegExpExecArray | null;
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    packets: Number(t?.[1] ?? NaN),
    segments: Number(t?.[2] ?? NaN),
    connections: Number(t?.[3] ?? NaN),
    traceBytes,
    maxRss: process.resourceUsage().maxRSS * 1024,
    diagnostics,
    error: code === 0 ? null : `exit ${code}: ${err.trim().split('\n').pop()}`,
  };
}

if (require.main === module) {
  measure(process.argv[2], process.argv[3]).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
