/**
 * The preview bench: in headless Chromium (the webview harness, test/webview/harness.ts,
 * with the real page, CSP and Mermaid bundle), the time to the first diagram and the
 * time from an edit to the updated diagram, for traces of 100 to 100 000 events.
 *
 * The host side is what the extension runs: the DiagramSession in the preview worker
 * thread (dist/preview-worker.js, built by scripts/build.mjs). Times are wall clock
 * from the text being available to the webview's report that every chunk in view is
 * drawn, split into the host's part (check, model, chunks) and the webview's part
 * (messages, Mermaid, layout). VS Code's own message passing is not included.
 *
 * First diagram: a fresh page (Mermaid loaded, nothing drawn yet) gets the trace, the
 * view at its top. Edit: with the view on an event in the middle of the trace, one
 * character of that event's line changes (a window value), as when typing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionWorker } from '../src/client/preview/sessionClient';
import { Harness, missingPrerequisite } from '../test/webview/harness';
import { ensureTrace } from './core';
import { fmtInt, fmtMs, median, printTable, ROOT, type BenchModule, type BenchOptions } from './util';

const DEFAULT_SIZES = [100, 1_000, 10_000, 100_000];
const GOAL_UPDATE_MS = 200;
const GOAL_FIRST_100K_MS = 1000;

interface Row {
  events: number;
  chunks: number;
  first: number;
  firstHost: number;
  edit: number;
  editHost: number;
  editView: number;
  redrawn: number;
}

/** An event line in the middle whose window can change by one digit. */
function editableLine(lines: readonly string[]): number {
  const mid = lines.length >> 1;
  for (let d = 0; d < lines.length; d++) {
    for (const i of [mid + d, mid - d]) if (i >= 0 && i < lines.length && / -> .* win=\d+/.test(lines[i])) return i;
  }
  throw new Error('no event with win= in the trace');
}

/** A different window each time, kept in range (a syntax error would keep the old diagram: no redraw to time). */
function bump(line: string, k: number): string {
  return line.replace(/ win=(\d+)/, (_m, w: string) => ` win=${Math.max(0, Number(w) - 1 - (k % 7))}`);
}

async function measure(events: number, runs: number, worker: SessionWorker): Promise<Row> {
  const { path } = ensureTrace(events);
  const text = readFileSync(path, 'utf8');
  const client = worker.client();
  const h = await Harness.start({ width: 1200, height: 900, client });
  try {
    // Warm the worker (JIT) and Mermaid on a small trace first, as a running extension is.
    await h.show(readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8'), {}, 'file:///warm.tcptrace');
    await h.rendered();
    // First diagram: a fresh page, a new document.
    await h.load();
    const t0 = performance.now();
    const layout = await h.show(text, {}, 'file:///bench.tcptrace');
    const hostDone = performance.now();
    await h.rendered(layout.seq, 120_000);
    const first = performance.now() - t0;
    const firstHost = hostDone - t0;

    // Edits in the middle, with the view there.
    const lines = text.split('\n');
    const at = editableLine(lines);
    await h.send({ type: 'cursor', line: at, reveal: true });
    await h.rendered(layout.seq, 60_000, (r) => r.activeLine === at);
    const edits: number[] = [];
    const hosts: number[] = [];
    const views: number[] = [];
    let redrawn = 0;
    for (let k = 0; k <= runs; k++) {
      lines[at] = bump(lines[at], k);
      const edited = lines.join('\n');
      const e0 = performance.now();
      const l = await h.show(edited, {}, 'file:///bench.tcptrace');
      const e1 = performance.now();
      if (l.stale || l.problem) throw new Error(`the edit of line ${at + 1} broke the trace: ${l.problem?.message}`);
      const r = await h.rendered(l.seq, 60_000);
      const e2 = performance.now();
      if (k === 0) continue; // warm-up
      edits.push(e2 - e0);
      hosts.push(e1 - e0);
      views.push(r.ms);
      redrawn = Math.max(redrawn, r.rendered);
    }
    return {
      events,
      chunks: layout.chunks.length,
      first,
      firstHost,
      edit: median(edits),
      editHost: median(hosts),
      editView: median(views),
      redrawn,
    };
  } finally {
    client.dispose();
    await h.close();
  }
}

export const webview: BenchModule = {
  name: 'webview',
  description: 'preview in Chromium: first diagram and edit-to-updated-diagram, 100 to 100k events',
  async run(opts: BenchOptions): Promise<void> {
    const missing = missingPrerequisite() ?? (existsSync(join(ROOT, 'dist', 'preview-worker.js')) ? undefined : 'dist/preview-worker.js is missing (run `npm run build`)');
    if (missing) {
      console.log(`webview bench skipped: ${missing}`);
      return;
    }
    const sizes = opts.sizes ?? DEFAULT_SIZES;
    const runs = opts.runs ?? 5;
    const worker = new SessionWorker(join(ROOT, 'dist', 'preview-worker.js'));
    const rows: Row[] = [];
    try {
      for (const n of sizes) rows.push(await measure(n, runs, worker));
    } finally {
      worker.dispose();
    }
    console.log(`Preview in Chromium (median of ${runs} edits; host = check + model + chunks in the worker thread; view = webview from layout to drawn)\n`);
    printTable(
      ['events', 'chunks', 'first diagram', 'of which host', 'edit -> diagram', 'of which host', 'of which view', 'chunks redrawn'],
      rows.map((r) => [fmtInt(r.events), fmtInt(r.chunks), fmtMs(r.first), fmtMs(r.firstHost), fmtMs(r.edit), fmtMs(r.editHost), fmtMs(r.editView), String(r.redrawn)]),
    );
    const slow = rows.filter((r) => r.edit > GOAL_UPDATE_MS).map((r) => fmtInt(r.events));
    const big = rows.find((r) => r.events >= 100_000);
    console.log(
      `\ngoals: edit -> diagram <= ${GOAL_UPDATE_MS} ms at every size: ${slow.length ? `missed at ${slow.join(', ')} events` : 'met'}` +
        (big ? `; first diagram of ${fmtInt(big.events)} events <= ${GOAL_FIRST_100K_MS} ms: ${big.first <= GOAL_FIRST_100K_MS ? 'met' : 'missed'} (${fmtMs(big.first)})` : ''),
    );
  },
};

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  Promise.resolve(webview.run({ runs: undefined, sizes: sizes.length ? sizes : undefined, timeout: 900, node: process.execPath })).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
