/**
 * `tcptrace` blocks in VS Code's Markdown preview: the markdown-it plugin
 * (src/client/markdown/plugin.ts) and the preview script (media/dist/markdown.js)
 * in headless Chromium, the page built the way the Markdown preview builds it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type MarkdownIt from 'markdown-it';
import { chromium } from 'playwright-core';
import { tcptraceMarkdownPlugin } from '../../src/client/markdown/plugin';
import { CHROMIUM, CHROMIUM_ARGS, missingPrerequisite, ROOT } from './harness';

/** markdown-it is what VS Code's preview uses; here it comes with @vscode/vsce. */
function markdownIt(): (() => MarkdownIt) | undefined {
  try {
    return require('markdown-it') as () => MarkdownIt;
  } catch {
    return undefined;
  }
}

const factory = markdownIt();
const skip = missingPrerequisite() ?? (factory ? undefined : 'markdown-it is not installed') ?? (existsSync(join(ROOT, 'media/dist/markdown.js')) ? undefined : 'media/dist/markdown.js is missing (npm run build)');

function render(markdown: string): string {
  const md = factory!();
  // What VS Code's engine does after the plugins: line numbers on block tokens, for scroll sync.
  md.core.ruler.push('lines', (state) => {
    for (const t of state.tokens) if (t.map && t.type === 'fence') t.attrSet('data-line', String(t.map[0]));
  });
  tcptraceMarkdownPlugin(md);
  return md.render(markdown);
}

describe('Markdown preview', { skip }, () => {
  const trace = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
  const doc = ['# Notes', '', '```tcptrace', trace.trimEnd(), '```', '', '```js', 'const x = "<b>";', '```', ''].join('\n');

  test('the plugin marks tcptrace blocks (escaped, VS Code attributes kept) and leaves the others', () => {
    const html = render(doc);
    assert.match(html, /<pre data-line="2" class="tcptrace-block"><code class="language-tcptrace">/);
    assert.ok(html.includes('title &quot;Three-way handshake&quot;'), 'escaped');
    assert.match(html, /<pre><code data-line="\d+" class="language-js">const x = &quot;&lt;b&gt;&quot;;/);
  });

  test('the preview script draws each block as its diagram, redraws an edited one, runs nothing from the trace', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
      const blocked: string[] = [];
      await page.route('**/*', (r) => (r.request().url().startsWith('data:') ? r.continue() : (blocked.push(r.request().url()), r.abort())));
      await page.setContent(`<!DOCTYPE html><html><head></head><body class="vscode-light">${render(doc)}</body></html>`);
      await page.addScriptTag({ path: join(ROOT, 'media/dist/mermaid.js') });
      await page.addScriptTag({ path: join(ROOT, 'media/dist/markdown.js') });
      await page.waitForSelector('.tcptrace-diagram svg', { timeout: 30_000 });
      const first = await page.evaluate(() => ({
        arrows: document.querySelectorAll('.tcptrace-diagram line.messageLine0, .tcptrace-diagram line.messageLine1').length,
        hidden: (document.querySelector('pre.tcptrace-block') as HTMLElement).style.display,
        js: document.querySelector('code.language-js')?.textContent?.trim(),
      }));
      assert.deepEqual(first, { arrows: 3, hidden: 'none', js: 'const x = "<b>";' });
      await page.screenshot({ path: join(ROOT, 'test-results', 'webview', 'markdown-preview.png') });

      // An edit: VS Code replaces the content and fires its event.
      const edited = doc.replace('```tcptrace\n', '```tcptrace\nnote over client: "<img src=x onerror=window.__pwned=1>"\n').replace('title "Three-way handshake"', 'title "<script>window.__pwned=2</script>"');
      await page.evaluate((html) => {
        document.body.innerHTML = html;
        window.dispatchEvent(new CustomEvent('vscode.markdown.updateContent'));
      }, render(edited));
      await page.waitForFunction(() => [...document.querySelectorAll('.tcptrace-diagram text')].some((t) => t.textContent?.includes('<script>')), null, { timeout: 30_000 });
      const second = await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
        active: document.querySelectorAll('.tcptrace-diagram script, .tcptrace-diagram img, .tcptrace-diagram foreignObject').length,
        arrows: document.querySelectorAll('.tcptrace-diagram line.messageLine0, .tcptrace-diagram line.messageLine1').length,
      }));
      assert.deepEqual(second, { pwned: null, active: 0, arrows: 3 });
      assert.deepEqual(blocked, []);
    } finally {
      await browser.close();
    }
  });
});
