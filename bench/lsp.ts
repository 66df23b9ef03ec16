/**
 * The language server on a 100,000-event document, through the real server
 * over stdio: a one-line edit, from didChange to publishDiagnostics, against a
 * full check of the same document. The server re-checks from the first
 * changed line (the core resumes from a snapshot), so an edit near the end
 * costs little and one in the middle about half a check.
 */
import { readFileSync } from 'node:fs';
import { check } from '../src/core';
import { LspClient } from '../test/lsp/support/lsp-client';
import { ensureTrace } from './core';
import { fmtInt, fmtMs, median, printTable, type BenchModule, type BenchOptions } from './util';

const URI = 'file:///bench.tcptrace';

/** A one-line edit that changes the check's outcome: a window value on a data segment's line. */
function editAt(text: string, fraction: number): { line: number; start: number; end: number; newText: string } {
  const lines = text.split('\n');
  let at = Math.floor(lines.length * fraction);
  while (at < lines.length && !/ win=\d+/.test(lines[at])) at++;
  const m = / win=(\d+)/.exec(lines[at])!;
  const start = m.index + 5;
  return { line: at, start, end: start + m[1].length, newText: String(Number(m[1]) === 0 ? 1 : Number(m[1]) - 1) };
}

async function run(opts: BenchOptions): Promise<void> {
  const events = opts.sizes?.[0] ?? 100_000;
  const file = ensureTrace(events);
  const text = readFileSync(file.path, 'utf8');
  const runs = Math.max(3, opts.runs ?? 5);
  console.log(`lsp: a one-line edit in a ${fmtInt(file.stats.events)}-event document, didChange -> publishDiagnostics through dist/server.js (median of ${runs} edits)`);

  // A full check of the same document, in process (the denominator).
  const full: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    check(text);
    full.push(performance.now() - t0);
  }
  const fullMs = median(full.slice(1));

  const client = await LspClient.start();
  try {
    let t0 = performance.now();
    await client.open(URI, text);
    await client.waitForDiagnostics(URI, 120_000);
    const openMs = performance.now() - t0;

    const rows: string[][] = [];
    for (const [where, fraction] of [
      ['near the end', 0.98],
      ['in the middle', 0.5],
    ] as const) {
      const lat: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const e = editAt(client.texts.get(URI)!, fraction);
        t0 = performance.now();
        await client.change(URI, [{ range: { start: { line: e.line, character: e.start }, end: { line: e.line, character: e.end } }, text: e.newText }]);
        await client.waitForDiagnostics(URI, 120_000);
        lat.push(performance.now() - t0);
      }
      // The first edit after a full check waits for the server's debounce (min(300 ms, last check));
      // the following ones show the steady state while typing.
      const steady = median(lat.slice(1));
      rows.push([where, fmtMs(lat[0]), fmtMs(steady), (steady / fullMs).toFixed(3)]);
    }
    console.log('');
    console.log(`full check in process: ${fmtMs(fullMs)}; didOpen -> diagnostics: ${fmtMs(openMs)}`);
    printTable(['edit', 'first edit', 'edit -> diagnostics (median)', 'ratio to full check'], rows);
    console.log('goal: ratio <= 0.1');
  } finally {
    await client.stop();
  }
}

export const lsp: BenchModule = {
  name: 'lsp',
  description: 'language server: one-line edit in a 100,000-event document, didChange -> publishDiagnostics',
  run,
};
