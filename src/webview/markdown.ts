/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Script of VS Code's Markdown preview (contributed as `markdown.previewScripts`,
 * after media/dist/mermaid.js): draws every `tcptrace` block the markdown-it
 * plugin marked (src/client/markdown/plugin.ts) as its sequence diagram. The
 * checker runs here, in the preview: the block's text is all it needs.
 *
 * The preview replaces its content on every edit and fires
 * `vscode.markdown.updateContent`; drawings are cached by block text and theme,
 * so only a block that changed is drawn again. A block whose trace is long is
 * drawn up to MAX_ITEMS items, with a line saying how many were left out.
 */
import type { Mermaid } from 'mermaid' with { 'resolution-mode': 'import' };
import { DiagramSession } from '../client/preview/session';
import { composeSvg, DIAGRAM_CSS, mermaidConfig, pickSpacers, renderChunk, type RenderedChunk, type ThemeKind } from './render';

const BLOCK_SELECTOR = 'pre.tcptrace-block';
/** Items drawn per block: a Markdown document is no place for a 10 000-event trace. */
const MAX_ITEMS = 400;
const CACHE_SIZE = 50;

const cache = new Map<string, { svg: string; note: string | null }>();
let running: Promise<void> = Promise.resolve();
let counter = 0;

function theme(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-dark')) return 'dark';
  return 'light';
}

async function draw(mermaid: Mermaid, source: string): Promise<{ svg: string; note: string | null }> {
  const session = new DiagramSession();
  const layout = session.update(source, 0);
  let items = 0;
  const refs = [];
  for (const c of layout.chunks) {
    if (items >= MAX_ITEMS) break;
    refs.push(c);
    items += c.items;
  }
  const data = session.chunks(refs.map((c) => c.key));
  const host = document.createElement('div');
  host.style.cssText = 'position:absolute;left:-100000px;top:0;visibility:hidden';
  document.body.appendChild(host);
  const parts: RenderedChunk[] = [];
  try {
    const spacers = pickSpacers(layout.spacers);
    for (let i = 0; i < data.length; i++) {
      parts.push(await renderChunk(mermaid, data[i], { id: `ttmd${++counter}`, participants: layout.participants.length, spacers, first: i === 0, host }));
    }
  } finally {
    host.remove();
  }
  const left = layout.counts.items - items;
  const notes: string[] = [];
  if (layout.problem) notes.push(`Line ${layout.problem.line + 1} of the block: ${layout.problem.message}`);
  if (left > 0) notes.push(`${left} more items not drawn here: open the trace in the TCP Trace preview to see all of it.`);
  // No background: the diagram sits on the preview's own.
  return { svg: composeSvg(parts, undefined), note: notes.length ? notes.join('\n') : null };
}

function renderBlocks(): void {
  const mermaid = (globalThis as { mermaid?: Mermaid }).mermaid;
  if (!mermaid) return;
  running = running.then(async () => {
    const th = theme();
    mermaid.initialize(mermaidConfig(th));
    for (const pre of document.querySelectorAll<HTMLElement>(BLOCK_SELECTOR)) {
      const source = pre.textContent ?? '';
      const key = th + '\u0000' + source;
      // The preview may keep our diagram element across updates: redraw only when the block changed.
      const next = pre.nextElementSibling;
      if (next instanceof HTMLElement && next.classList.contains('tcptrace-diagram') && next.dataset.key === String(hashOf(key))) continue;
      if (next instanceof HTMLElement && next.classList.contains('tcptrace-diagram')) next.remove();
      const box = document.createElement('div');
      box.className = 'tcptrace-diagram';
      box.dataset.key = String(hashOf(key));
      try {
        let drawn = cache.get(key);
        if (!drawn) {
          drawn = await draw(mermaid, source);
          cache.set(key, drawn);
          if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
        }
        // The SVG was produced by Mermaid (strict mode, DOMPurify) from escaped text.
        box.innerHTML = drawn.svg;
        if (drawn.note) {
          const p = document.createElement('p');
          p.className = 'tcptrace-diagram-note';
          p.textContent = drawn.note;
          box.appendChild(p);
        }
        pre.style.display = 'none';
      } catch (err) {
        const p = document.createElement('p');
        p.className = 'tcptrace-diagram-note';
        p.textContent = `The TCP Trace diagram could not be drawn: ${err instanceof Error ? err.message : String(err)}`;
        box.appendChild(p);
        pre.style.display = '';
      }
      if (pre.isConnected) pre.after(box);
    }
  });
}

function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const style = document.createElement('style');
style.textContent = `${DIAGRAM_CSS}
.tcptrace-diagram { margin: 0.5em 0 1em; overflow-x: auto; }
.tcptrace-diagram > svg { max-width: 100%; height: auto; }
.tcptrace-diagram-note { font-size: 0.9em; opacity: 0.8; white-space: pre-wrap; }
`;
document.head.appendChild(style);
window.addEventListener('vscode.markdown.updateContent', renderBlocks);
new MutationObserver(() => {
  cache.clear();
  for (const d of document.querySelectorAll('.tcptrace-diagram')) d.remove();
  renderBlocks();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
renderBlocks();
