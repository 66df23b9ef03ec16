/**
 * Layout edits: after an edit of a long trace, most of the preview's chunk
 * list (thousands of refs, some 600 KB as JSON at 100 000 events) is what the
 * webview already has. The host sends the layout with the changed run of
 * chunks only, as a splice of the list the webview holds; the webview applies
 * it. Pure: used by the extension (manager.ts), the webview and the tests.
 */
import type { ChunkEdit, ChunkRef, LayoutMessage } from './messages';

/**
 * The splice that turns `prev` into `next`: the longest unchanged run at the
 * start, and at the end the longest run of the same chunks moved by one line
 * shift. Linear in the number of chunks, comparing keys and lines only.
 */
export function diffChunks(prev: readonly ChunkRef[], next: readonly ChunkRef[]): Omit<ChunkEdit, 'base'> {
  const n = Math.min(prev.length, next.length);
  let p = 0;
  while (p < n && sameRef(prev[p], next[p], 0)) p++;
  let s = 0;
  let lineShift = 0;
  if (p < n) {
    const a = prev[prev.length - 1];
    const b = next[next.length - 1];
    if (a.key === b.key) lineShift = b.firstLine - a.firstLine;
    while (s < n - p && sameRef(prev[prev.length - 1 - s], next[next.length - 1 - s], lineShift)) s++;
  }
  return { from: p, remove: prev.length - p - s, insert: next.slice(p, next.length - s), lineShift };
}

function sameRef(a: ChunkRef, b: ChunkRef, lineShift: number): boolean {
  return a.key === b.key && a.firstLine + lineShift === b.firstLine && a.lastLine + lineShift === b.lastLine && a.items === b.items && a.weight === b.weight;
}

/** `prev` with the edit applied: the chunk list of the layout that carried it. */
export function applyChunkEdit(prev: readonly ChunkRef[], edit: ChunkEdit): ChunkRef[] {
  const out = prev.slice(0, edit.from);
  for (const r of edit.insert) out.push(r);
  const d = edit.lineShift;
  for (let i = edit.from + edit.remove; i < prev.length; i++) {
    const r = prev[i];
    out.push(d === 0 ? r : { ...r, firstLine: r.firstLine + d, lastLine: r.lastLine + d });
  }
  return out;
}

/**
 * What to post for `layout` to a webview that last received `posted` (or
 * nothing): the layout itself, or, when the webview holds the layout before
 * it and most chunks are unchanged, the layout with an edit of that one's
 * chunk list instead of its own.
 */
export function layoutToPost(posted: LayoutMessage | undefined, layout: LayoutMessage): LayoutMessage {
  if (!posted || posted.resource !== layout.resource || layout.chunks.length < 64) return layout;
  const edit = diffChunks(posted.chunks, layout.chunks);
  if (edit.insert.length * 2 > layout.chunks.length) return layout;
  return { ...layout, chunks: [], edit: { base: posted.seq, ...edit } };
}
