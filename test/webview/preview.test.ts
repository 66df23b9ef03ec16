/**
 * The preview webview in headless Chromium with the real Mermaid bundle, under
 * the extension's own page and CSP (see harness.ts). Expected counts come from
 * the diagram model (src/core), what is checked is the SVG in the page.
 * Screenshots go to test-results/webview/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDiagram } from '../../src/core/diagram/model';
import { check } from '../../src/core/check/checker';
import { writeLongTrace } from '../support/trace-model';
import { Harness, missingPrerequisite, ROOT, type Theme } from './harness';
import { layoutToPost } from '../../src/webview/chunkEdit';

const SHOTS = join(ROOT, 'test-results', 'webview');
mkdirSync(SHOTS, { recursive: true });
const skip = missingPrerequisite();

function examples(): string[] {
  const dir = join(ROOT, 'examples');
  const top = readdirSync(dir).filter((f) => f.endsWith('.tcptrace')).map((f) => join(dir, f));
  const mistakes = readdirSync(join(dir, 'mistakes')).filter((f) => f.endsWith('.tcptrace')).map((f) => join(dir, 'mistakes', f));
  return [...top, ...mistakes].sort();
}

/** What the diagram must show, read from the model. */
function expected(text: string) {
  const model = buildDiagram(check(text));
  const n = model.participants.length;
  const stateNotes = model.participants.map(() => 1);
  let arrows = 0;
  let lost = 0;
  let diagnostics = 0;
  for (const it of model.items) {
    if (it.kind === 'segment') {
      arrows++;
      if (it.arrow === 'lost') lost++;
    }
    for (const c of it.stateChanges) stateNotes[c.endpoint]++;
    for (const d of it.diagnostics) if (d.severity !== 'hint') diagnostics++;
  }
  return { model, arrows, lost, stateNotes: n > 0 ? stateNotes : [], diagnostics };
}

/** Lifeline x positions (page pixels) of every drawn chunk. */
async function lifelines(h: Harness): Promise<number[][]> {
  return h.page.evaluate(() =>
    [...document.querySelectorAll('.tt-chunk > svg')].map((svg) =>
      [...svg.querySelectorAll('line.actor-line')].map((l) => Math.round(l.getBoundingClientRect().left * 2) / 2).sort((a, b) => a - b),
    ),
  );
}

describe('preview webview in Chromium', { skip }, () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start({ width: 1100, height: 900 });
  });
  after(async () => {
    await h?.close();
  });

  test('every example: arrows, lost arrows, state notes over each endpoint, diagnostics; chunks line up', async () => {
    for (const file of examples()) {
      const name = file.slice(ROOT.length + 1);
      const text = readFileSync(file, 'utf8');
      const want = expected(text);
      await h.show(text, {}, 'file:///' + name);
      const r = await h.renderAll();
      assert.deepEqual(r.errors, [], name);
      assert.equal(r.arrows, want.arrows, `${name}: arrows`);
      assert.equal(r.lostArrows, want.lost, `${name}: lost arrows`);
      assert.deepEqual(r.stateNotes, want.stateNotes, `${name}: state notes per endpoint`);
      assert.equal(r.diagnosticNotes, want.diagnostics, `${name}: diagnostic notes`);
      const lines = await lifelines(h);
      assert.ok(lines.length >= 1, name);
      for (const l of lines) {
        assert.equal(l.length, lines[0].length, name);
        // Within a pixel (zoom to fit makes positions fractional).
        l.forEach((x, i) => assert.ok(Math.abs(x - lines[0][i]) <= 1, `${name}: every chunk's lifelines at the same x: ${JSON.stringify(lines)}`));
      }
      if (name.endsWith('out-of-order.tcptrace') || name.endsWith('retransmission.tcptrace')) {
        await h.page.setViewportSize({ width: 1100, height: 2400 });
        await h.screenshot(join(SHOTS, `example-${name.replace(/[/\\]/g, '-').replace('.tcptrace', '')}.png`));
        await h.page.setViewportSize({ width: 1100, height: 900 });
      }
    }
    assert.deepEqual(h.pageErrors, []);
    assert.deepEqual(h.blocked, [], 'no request left the page');
  });

  test('a click on an arrow or a note posts its line', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const { model } = expected(text);
    await h.show(text);
    await h.renderAll();
    const hits = h.page.locator('.tt-chunk .tt-hit');
    const count = await hits.count();
    assert.equal(count, 3);
    for (let k = 0; k < count; k++) {
      const before = h.posted.length;
      const hit = hits.nth(k);
      await hit.scrollIntoViewIfNeeded();
      // The label drawn for this arrow, read from the page.
      const label = await hit.evaluate((el) => {
        const i = el.getAttribute('data-tt-item');
        const svg = el.closest('svg')!;
        return svg.querySelector(`text.messageText[data-tt-item="${i}"]`)?.textContent ?? '';
      });
      await hit.click();
      await h.until(() => h.posted.slice(before).some((m) => m.type === 'reveal'), 5000, 'a reveal message');
      const m = h.posted.slice(before).find((x) => x.type === 'reveal');
      assert.ok(m && m.type === 'reveal');
      const item = model.items.find((it) => it.line === m.line);
      assert.ok(item && item.kind === 'segment', `line ${m.line} is a segment`);
      assert.equal(item.label, label, `the clicked arrow "${label}" is the segment on line ${m.line + 1}`);
    }
    // A call note: its line is the call's.
    const callLine = text.split('\n').findIndex((l) => l.startsWith('client: connect'));
    const before = h.posted.length;
    const note = h.page.locator('.tt-chunk g.tt-call', { hasText: 'connect()' });
    await note.scrollIntoViewIfNeeded();
    await note.click();
    await h.until(() => h.posted.slice(before).some((m) => m.type === 'reveal'), 5000, 'a reveal message');
    const m = h.posted.slice(before).find((x) => x.type === 'reveal');
    assert.equal(m?.type === 'reveal' ? m.line : -1, callLine);
  });

  test('the cursor highlights its event and scrolls it into view', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'data-exchange.tcptrace'), 'utf8');
    await h.show(text);
    await h.rendered();
    const lines = text.split('\n');
    let target = -1;
    lines.forEach((l, i) => {
      if (/^server -> client: .*FIN/.test(l)) target = i;
    });
    assert.ok(target > 0);
    await h.send({ type: 'cursor', line: target, reveal: true });
    const r = await h.rendered(undefined, 10_000, (x) => x.activeLine === target);
    assert.equal(r.activeLine, target);
    const inView = await h.page.evaluate(() => {
      const els = [...document.querySelectorAll('.tt-active')];
      const view = document.getElementById('scroller')!.getBoundingClientRect();
      return els.length > 0 && els.every((e) => {
        const b = e.getBoundingClientRect();
        return b.bottom > view.top && b.top < view.bottom;
      });
    });
    assert.ok(inView, 'the highlighted arrow is in view');
    await h.screenshot(join(SHOTS, 'cursor-highlight.png'));
  });

  test('while the text does not parse the last good diagram stays, with the error; an error that never parsed is drawn', async () => {
    const good = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    await h.show(good);
    const r1 = await h.rendered();
    assert.equal(r1.banner, null);
    const lines = good.split('\n');
    const i = lines.findIndex((l) => l.startsWith('server -> client: SYN,ACK'));
    lines[i] = 'server -> client: SYN,ACK seq=';
    const layout = await h.show(lines.join('\n'));
    assert.equal(layout.stale, true);
    const r2 = await h.rendered(layout.seq);
    assert.match(r2.banner ?? '', new RegExp(`^Line ${i + 1}: .*last text that parsed`));
    assert.equal(r2.arrows, r1.arrows, 'the diagram stayed');
    await h.screenshot(join(SHOTS, 'stale-with-error.png'));
    await h.show(good);
    const r3 = await h.rendered();
    assert.equal(r3.banner, null);
    // A new session whose text has never parsed: drawn as it is, with its problem.
    h.session.reset();
    const bad = readFileSync(join(ROOT, 'examples', 'mistakes', 'malformed-line.tcptrace'), 'utf8');
    const l4 = await h.show(bad);
    assert.equal(l4.stale, false);
    const r4 = await h.renderAll();
    assert.ok(r4.banner?.startsWith('Line '), String(r4.banner));
    assert.ok(r4.arrows > 0);
  });

  test('zoom and scroll survive updates and a reload (webview state)', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'zero-window.tcptrace'), 'utf8');
    await h.show(text);
    await h.rendered();
    await h.page.click('#zoom-in');
    await h.page.click('#zoom-in');
    const zoom = await h.page.textContent('#zoom-level');
    await h.page.evaluate(() => (document.getElementById('scroller')!.scrollTop = 700));
    await new Promise((r) => setTimeout(r, 300));
    const top = await h.page.evaluate(() => document.getElementById('scroller')!.scrollTop);
    // An edit below the view: nothing moves.
    await h.show(text + '\nnote over client: added at the end\n');
    await h.rendered();
    assert.equal(await h.page.textContent('#zoom-level'), zoom);
    const top2 = await h.page.evaluate(() => document.getElementById('scroller')!.scrollTop);
    assert.ok(Math.abs(top2 - top) <= 1, `scroll kept: ${top} -> ${top2}`);
    // Reload with the saved state, as VS Code does when it restores the panel.
    const state = await h.page.evaluate(() => (window as unknown as { __state: unknown }).__state);
    assert.ok(state && typeof state === 'object');
    await h.load(state as never);
    await h.rendered();
    assert.equal(await h.page.textContent('#zoom-level'), zoom);
    const top3 = await h.page.evaluate(() => document.getElementById('scroller')!.scrollTop);
    assert.ok(Math.abs(top3 - top) < 60, `scroll restored near ${top}: ${top3}`);
  });

  test('export: SVG of the whole diagram, PNG at the chosen scale', async () => {
    const text = readFileSync(join(ROOT, 'examples', 'retransmission.tcptrace'), 'utf8');
    const want = expected(text);
    await h.show(text);
    await h.rendered();
    await h.send({ type: 'export', id: 1, format: 'svg', scale: 1 });
    await h.until(() => h.exported.some((e) => e.id === 1), 30_000, 'the SVG export');
    const svg = h.exported.find((e) => e.id === 1)!;
    assert.equal(svg.type, 'exported');
    const data = svg.type === 'exported' ? svg.data : '';
    assert.match(data, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="(\d+)" height="(\d+)"/);
    assert.equal((data.match(/class="messageLine[01]/g) ?? []).length, want.arrows);
    const [, w] = /width="(\d+)"/.exec(data)!;
    await h.send({ type: 'export', id: 2, format: 'png', scale: 2 });
    await h.until(() => h.exported.some((e) => e.id === 2), 30_000, 'the PNG export');
    const png = h.exported.find((e) => e.id === 2)!;
    assert.equal(png.type, 'exported');
    const bytes = Buffer.from(png.type === 'exported' ? png.data : '', 'base64');
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.equal(bytes.readUInt32BE(16), Number(w) * 2, 'PNG width = SVG width x 2');
  });
});

describe('hostile text in every kind of user text', { skip }, () => {
  const PAYLOADS = [
    '<script>window.__pwned = 1</script>',
    '<img src=x onerror="window.__pwned = 2">',
    '%%{init: {"theme": "dark", "themeCSS": ".note { fill: red }"}}%%',
    "%%{init: {'securityLevel': 'loose'}}%%",
    'a; E1->>E0: injected',
    'x # the rest is a comment',
    '#59; #35; #60;script#62;',
    'one<br>two<br/>three',
    '$$\\frac{1}{2}$$',
    'click E0 call alert(1)',
    '</text></svg><svg onload="window.__pwned=3">',
    'javascript:window.__pwned=4',
    'end',
    'Note over E0: injected',
  ];

  function hostileTrace(p: string): string {
    const q = p.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    return [
      `title "${q}"`,
      `endpoint client 10.0.0.1:1000 as "${q}"`,
      `endpoint server 10.0.0.2:80 as "${q}"`,
      `== ${p} ==`,
      'server: listen',
      'client: connect',
      'client -> server: SYN seq=100',
      `note over client: ${p}`,
      'server -> client: SYN,ACK seq=300 ack=101',
      'client -> server: ACK seq=101 ack=301',
      `client -> server: PSH,ACK seq=101 ack=301 data="${q}"`,
      `client: send "${q}"`,
      `note over client, server: ${p}`,
      '',
    ].join('\n');
  }

  let h: Harness;
  before(async () => {
    h = await Harness.start({ width: 1200, height: 1600 });
  });
  after(async () => {
    await h?.close();
  });

  test('nothing executes, reaches out, changes the structure or the theme; the text shows as written', async () => {
    const dialogs: string[] = [];
    h.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    let k = 0;
    for (const p of PAYLOADS) {
      const text = hostileTrace(p);
      const want = expected(text);
      // Each trace its own document: none may fall back on another's diagram.
      await h.show(text, {}, `file:///hostile/${k}.tcptrace`);
      const r = await h.renderAll();
      assert.deepEqual(r.errors, [], p);
      assert.equal(r.arrows, want.arrows, `${p}: arrows`);
      assert.deepEqual(r.stateNotes, want.stateNotes, `${p}: state notes`);
      const page = await h.page.evaluate(() => {
        const svgs = [...document.querySelectorAll('.tt-chunk > svg')];
        const all = svgs.flatMap((s) => [...s.querySelectorAll('*')]);
        return {
          pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
          scripts: document.querySelectorAll('script').length,
          dangerous: all.filter((e) => ['script', 'foreignObject', 'img', 'image', 'a', 'iframe', 'math'].includes(e.localName)).map((e) => e.localName),
          handlers: all.filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
          participants: svgs[0]?.querySelectorAll('text.actor').length ?? 0,
          // The default (light) theme's note fill, and no red from the injected themeCSS.
          noteFill: getComputedStyle(svgs[0].querySelector('g:not(.tt-state):not(.tt-diag):not(.tt-section) > rect.note, rect.note')!).fill,
          darkTheme: svgs.some((s) => (s.querySelector('style')?.textContent ?? '').includes('fill:#1f2020')),
          redNotes: svgs.some((s) => (s.querySelector('style')?.textContent ?? '').includes('fill: red')),
          texts: svgs.flatMap((s) => [...s.querySelectorAll('text')].map((t) => t.textContent ?? '')),
        };
      });
      assert.equal(page.pwned, null, `${p}: executed`);
      assert.equal(page.scripts, 3, `${p}: only the page's own scripts (fake API, Mermaid, preview)`);
      assert.deepEqual(page.dangerous, [], `${p}: elements`);
      assert.equal(page.handlers, 0, `${p}: event handler attributes`);
      assert.equal(page.participants, 2, `${p}: participants`);
      assert.equal(page.darkTheme, false, `${p}: theme changed`);
      assert.equal(page.redNotes, false, `${p}: themeCSS applied`);
      assert.notEqual(page.noteFill, 'rgb(255, 0, 0)', p);
      // The user's text is drawn literally: the title (a quoted string, so `#` is no comment there), cut to the label bound.
      const shown = (want.model.title ?? '').slice(0, 60);
      assert.ok(shown.length > 0, `${p}: a title`);
      assert.ok(page.texts.some((t) => t.includes(shown)), `${p}: shown as text; texts: ${page.texts.slice(0, 12).join(' | ')}`);
      if (k++ < 3 || p.includes('init')) await h.screenshot(join(SHOTS, `hostile-${k}.png`));
    }
    assert.deepEqual(dialogs, []);
    assert.deepEqual(h.blocked, [], 'no request left the page');
    assert.deepEqual(h.pageErrors, []);
  });
});

describe('themes', { skip }, () => {
  const THEMES: Theme[] = ['vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light'];
  for (const theme of THEMES) {
    test(theme, async () => {
      const h = await Harness.start({ theme, width: 1000, height: 1300 });
      try {
        const text = readFileSync(join(ROOT, 'examples', 'mistakes', 'ack-of-syn-off-by-one.tcptrace'), 'utf8');
        await h.show(text);
        const r = await h.renderAll();
        assert.equal(r.theme, theme.replace('vscode-', ''));
        const look = await h.page.evaluate(() => {
          const svg = document.querySelector('.tt-chunk > svg')!;
          const text = svg.querySelector('text.messageText')!;
          const note = svg.querySelector('rect.note')!;
          return { text: getComputedStyle(text).fill, noteStroke: getComputedStyle(note).stroke, bg: getComputedStyle(document.body).backgroundColor };
        });
        const dark = theme === 'vscode-dark' || theme === 'vscode-high-contrast';
        const lum = (c: string) => {
          const [r, g, b] = (c.match(/\d+/g) ?? ['0', '0', '0']).map(Number);
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        // Labels readable on the background: light text on dark themes, dark text on light ones.
        if (dark) assert.ok(lum(look.text) > 150, `${theme}: label colour ${look.text}`);
        else assert.ok(lum(look.text) < 110, `${theme}: label colour ${look.text}`);
        await h.screenshot(join(SHOTS, `theme-${theme}.png`));
        // Switching the theme redraws.
        const other = dark ? 'vscode-light' : 'vscode-dark';
        const before = h.reports.length;
        await h.page.evaluate(([a, b]) => document.body.classList.replace(a, b), [theme, other]);
        await h.until(() => h.reports.slice(before).some((x) => x.theme === other.replace('vscode-', '')), 15_000, 'a redraw in the new theme');
      } finally {
        await h.close();
      }
    });
  }
});

describe('large traces', { skip }, () => {
  test('10 000 events: drawn in pieces as they come into view; an edit redraws only what changed', async () => {
    let text = '';
    writeLongTrace(10_000, 7, (c: string) => (text += c));
    const h = await Harness.start({ width: 1000, height: 900 });
    try {
      const layout = await h.show(text);
      assert.ok(layout.chunks.length > 500, `${layout.chunks.length} chunks`);
      const r = await h.rendered();
      assert.ok(r.live < 20, `only the chunks in view are drawn (${r.live})`);
      // Never Mermaid's placeholder, never more than Mermaid draws quickly.
      for (const d of h.session.chunks(layout.chunks.map((c) => c.key))) assert.ok(d.text.length < 20_000);
      // Jump to the middle and edit there: one chunk changes.
      const lines = text.split('\n');
      const mid = lines.findIndex((l, i) => i > lines.length / 2 && / -> .*PSH/.test(l));
      await h.send({ type: 'cursor', line: mid, reveal: true });
      await h.rendered(undefined, 20_000, (x) => x.activeLine === mid);
      lines.splice(mid + 1, 0, 'note over client: inserted while looking here');
      const edited = await h.show(lines.join('\n'));
      const changed = edited.chunks.filter((c) => !layout.chunks.some((o) => o.key === c.key)).length;
      assert.ok(changed <= 3, `${changed} chunks changed for one inserted note`);
      const r2 = await h.rendered(edited.seq);
      assert.ok(r2.rendered <= 2, `redrew ${r2.rendered} chunks`);
      const shown = await h.page.evaluate(() => [...document.querySelectorAll('.tt-chunk text')].some((t) => t.textContent === 'inserted while looking here'));
      assert.ok(shown, 'the inserted note is drawn');
      const placeholder = await h.page.evaluate(() => document.body.textContent?.includes('Maximum text size') ?? false);
      assert.equal(placeholder, false);
      await h.screenshot(join(SHOTS, 'large-edit.png'));
    } finally {
      await h.close();
    }
  });

  test('an edit reaches the page as an edit of its chunk list; a page that cannot apply one asks for the whole layout', async () => {
    let text = '';
    writeLongTrace(3_000, 11, (c: string) => (text += c));
    const h = await Harness.start({ width: 1000, height: 900 });
    try {
      const layout = await h.show(text);
      await h.rendered();
      const lines = text.split('\n');
      const at = lines.findIndex((l, i) => i > 40 && / -> .*PSH/.test(l));
      lines.splice(at, 0, 'note over server: sent as an edit');
      const edited = await h.show(lines.join('\n'));
      // What the harness posted (as the extension does): a splice of a few refs, the line shift for the rest.
      const posted = layoutToPost(layout, edited);
      assert.deepEqual(posted.chunks, []);
      assert.ok(posted.edit && posted.edit.insert.length <= 3 && posted.edit.lineShift === 1, JSON.stringify(posted.edit));
      await h.rendered(edited.seq);
      // The page holds the whole new list: a slot per chunk, and clicks map to the moved lines.
      assert.equal(await h.page.evaluate(() => document.querySelectorAll('.tt-chunk').length), edited.chunks.length);
      const shown = await h.page.evaluate(() => [...document.querySelectorAll('.tt-chunk text')].some((t) => t.textContent === 'sent as an edit'));
      assert.ok(shown, 'the inserted note is drawn');
      // An edit of a layout the page never had: it asks for the whole layout, and draws that.
      const asked = h.posted.filter((m) => m.type === 'resync').length;
      await h.send({ ...edited, seq: edited.seq + 1, chunks: [], edit: { base: 999_999, from: 0, remove: edited.chunks.length, insert: [], lineShift: 0 } });
      await h.until(() => h.posted.filter((m) => m.type === 'resync').length > asked, 10_000, 'a resync request');
      const r = await h.rendered(edited.seq);
      assert.equal(await h.page.evaluate(() => document.querySelectorAll('.tt-chunk').length), edited.chunks.length);
      assert.equal(r.banner, null);
    } finally {
      await h.close();
    }
  });
});
