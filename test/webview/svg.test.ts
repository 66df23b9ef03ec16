/**
 * `tcptrace-cli render --format svg` (src/cli/svg.ts): the diagram drawn in a local
 * Chromium, with a clear error when there is none.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildDiagram } from '../../src/core/diagram/model';
import { check } from '../../src/core/check/checker';
import { findChromium, renderSvg, SvgRenderError } from '../../src/cli/svg';
import { missingPrerequisite, ROOT } from './harness';

const skip = missingPrerequisite();

describe('render --format svg', { skip }, () => {
  test('the SVG of an example: every arrow, lost arrows, the title, no script, one root', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'retransmission.tcptrace'), 'utf8');
    const model = buildDiagram(check(text));
    const segments = model.items.filter((it) => it.kind === 'segment');
    const svg = await renderSvg(text);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+">/);
    assert.equal((svg.match(/class="messageLine[01]/g) ?? []).length, segments.length);
    assert.equal((svg.match(/crosshead\)/g) ?? []).length, segments.filter((s) => s.kind === 'segment' && s.arrow === 'lost').length);
    assert.ok(svg.includes(model.title!), 'the title');
    assert.ok(!/<script|<foreignObject|\son[a-z]+=/i.test(svg), 'nothing active in the file');
    assert.equal((svg.match(/<svg[ >]/g) ?? []).length, (svg.match(/<\/svg>/g) ?? []).length, 'every <svg> closed');
    const out = join(ROOT, 'test-results', 'webview');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'cli-retransmission.svg'), svg);
  });

  test('dark theme, transparent background', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const dark = await renderSvg(text, { theme: 'dark', background: null });
    const background = /^<svg [^>]*><style>[^<]*<\/style><rect x="0" y="0" width="\d+" height="\d+" fill="([^"]+)"\/>/;
    assert.doesNotMatch(dark, background, 'no background rectangle');
    assert.match(dark, /#1f2020|#ccc|lightgrey/i, 'the dark theme');
    const light = await renderSvg(text);
    assert.equal(background.exec(light)?.[1], '#ffffff', 'a white background');
  });

  test('no browser: a clear error naming what to install', async () => {
    {
      await assert.rejects(renderSvg('title "x"\n', { chromium: '/nonexistent/chrome' }), (e: unknown) => e instanceof SvgRenderError && /no browser at \/nonexistent\/chrome/.test(e.message));
      // The environment's choice comes first.
      assert.equal(findChromium({ TCPTRACE_CHROMIUM: process.execPath, PATH: '' }), process.execPath);
    }
  });
});
