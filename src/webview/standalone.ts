/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Entry of media/dist/render.js: draws chunk data into one SVG document in a
 * plain page, for `tcptrace-cli render --format svg` (src/cli/svg.ts). Loaded
 * after media/dist/mermaid.js; exposes `globalThis.tcptraceRender`.
 */
import type { Mermaid } from 'mermaid' with { 'resolution-mode': 'import' };
import type { ChunkData, Spacers } from './messages';
import { composeSvg, mermaidConfig, pickSpacers, renderChunk, type RenderedChunk, type ThemeKind } from './render';

export interface StandaloneInput {
  chunks: ChunkData[];
  participants: number;
  spacers: Spacers;
  theme: ThemeKind;
  /** Background colour of the picture; none when empty. */
  background: string;
}

async function renderAll(input: StandaloneInput): Promise<string> {
  const mermaid = (globalThis as { mermaid?: Mermaid }).mermaid;
  if (!mermaid) throw new Error('Mermaid did not load');
  mermaid.initialize(mermaidConfig(input.theme));
  const host = document.createElement('div');
  host.style.cssText = 'position:absolute;left:-100000px;top:0;visibility:hidden';
  document.body.appendChild(host);
  const spacers = pickSpacers(input.spacers);
  const parts: RenderedChunk[] = [];
  for (let i = 0; i < input.chunks.length; i++) {
    parts.push(await renderChunk(mermaid, input.chunks[i], { id: `tt${i}`, participants: input.participants, spacers, first: i === 0, host }));
  }
  host.remove();
  return composeSvg(parts, input.background || undefined);
}

(globalThis as { tcptraceRender?: { renderAll: typeof renderAll } }).tcptraceRender = { renderAll };
