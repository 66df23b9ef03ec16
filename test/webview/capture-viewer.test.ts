/// <reference lib="dom" />
/**
 * The capture viewer's page (src/client/capture/viewer.ts) in headless
 * Chromium, under its own Content-Security-Policy, with a fake of VS Code's
 * webview API: the connections of a real capture fixture, filtered by text,
 * sorted by a column either way, and opened by their buttons.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { importCaptureBytes, type ConnectionSummary } from '../../src/core/capture';
import { listingHtml, viewerPage } from '../../src/client/capture/viewer';
import { withGeneratedCapture } from '../support/random-captures';
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from './harness';

const NONCE = 'n0nce';
const skip = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (run \`npm run setup:vscode\`, or set CHROMIUM_PATH)`;

function listing(bytes: Uint8Array): { html: string; connections: ConnectionSummary[] } {
  const connections: ConnectionSummary[] = [];
  const report = importCaptureBytes(bytes, { want: () => false, onConnection: (s) => connections.push(s) });
  connections.sort((a, b) => a.id - b.id);
  return { html: viewerPage('', NONCE, listingHtml({ report, connections })), connections };
}

/** The ids of the rows shown, top to bottom. */
function shownIds(page: Page): Promise<number[]> {
  return page.$$eval('tbody tr', (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => Number(r.getAttribute('data-id'))));
}

async function withViewer(html: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // VS Code's webview API, faked before the page's script runs (under the page's policy: with its nonce).
    const fake = `<script nonce="${NONCE}">window.posted = []; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.posted.push(m) });</script>`;
    await page.setContent(html.replace('<body>', `<body>${fake}`));
    await fn(page);
    assert.deepEqual(errors, [], 'errors in the page (a script blocked by its policy?)');
  } finally {
    await browser.close();
  }
}

describe('capture viewer', { skip }, () => {
  test('filters the connections by any text of their rows, and says how many are shown', async () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/captures/port-reuse.pcap')));
    const { html, connections } = listing(bytes);
    assert.ok(connections.length >= 2);
    await withViewer(html, async (page) => {
      assert.deepEqual(await shownIds(page), connections.map((c) => c.id));
      // Terms are matched case-insensitively, each anywhere in the row.
      await page.fill('#filter', `REUSES  #${connections[0].id}`);
      await page.waitForFunction(() => document.getElementById('shown')!.textContent!.includes(' of '));
      const reusing = connections.filter((c) => c.reuses === connections[0].id).map((c) => c.id);
      assert.ok(reusing.length > 0);
      assert.deepEqual(await shownIds(page), reusing);
      assert.equal(await page.textContent('#shown'), `${reusing.length} of ${connections.length} connections`);
      await page.fill('#filter', 'no such text');
      await page.waitForFunction(() => document.getElementById('shown')!.textContent!.startsWith('0 of'));
      assert.deepEqual(await shownIds(page), []);
      await page.fill('#filter', '');
      await page.waitForFunction((n) => document.getElementById('shown')!.textContent === `${n} connections`, connections.length);
      assert.deepEqual(await shownIds(page), connections.map((c) => c.id));
    });
  });

  test('sorts by a column, largest first, then the other way; opens a connection from its button', async () => {
    await withGeneratedCapture(3000, 5, async (path) => {
      const { html, connections } = listing(new Uint8Array(readFileSync(path)));
      assert.ok(connections.length > 10);
      await withViewer(html, async (page) => {
        const byPackets = (sign: number): number[] => [...connections].sort((a, b) => sign * (a.packets - b.packets) || a.packets - b.packets || a.id - b.id).map((c) => c.id);
        await page.click('th[data-sort="packets"] button');
        assert.equal(await page.getAttribute('th[data-sort="packets"]', 'aria-sort'), 'descending');
        assert.equal(await page.getAttribute('th[data-sort="id"]', 'aria-sort'), 'none');
        assert.deepEqual(await shownIds(page), byPackets(-1));
        await page.click('th[data-sort="packets"] button');
        assert.equal(await page.getAttribute('th[data-sort="packets"]', 'aria-sort'), 'ascending');
        assert.deepEqual(await shownIds(page), byPackets(1));
        await page.click('th[data-sort="id"] button');
        assert.deepEqual(await shownIds(page), connections.map((c) => c.id));
        // Sorted and filtered together; the button still opens its own connection.
        await page.click('th[data-sort="duration"] button');
        const last = connections[connections.length - 1];
        await page.click(`button[data-id="${last.id}"]`);
        assert.deepEqual(await page.evaluate(() => (window as unknown as { posted: unknown[] }).posted), [{ type: 'open', id: last.id }]);
      });
    });
  });
});
