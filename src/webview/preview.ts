/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The preview webview: draws the layout the extension sends as a column of
 * Mermaid chunks, each drawn when it comes near the view and redrawn only when
 * its content key changes; keeps zoom and scroll across updates and reloads;
 * highlights the item at the editor's cursor and reveals the line of a clicked
 * arrow or note; exports the whole diagram as SVG or PNG.
 *
 * Loaded after media/mermaid.js (which sets `globalThis.mermaid`) under a CSP
 * that allows only these two scripts (nonce) and inline styles (Mermaid's).
 */
import type { Mermaid } from 'mermaid' with { 'resolution-mode': 'import' };
import type { ChunkData, ChunkRef, HostMessage, LayoutMessage, PersistedState, RenderReport, WebviewMessage } from './messages';
import { applyChunkEdit } from './chunkEdit';
import { composeSvg, DIAGRAM_CSS, mermaidConfig, pickSpacers, renderChunk, type RenderedChunk, type ThemeKind } from './render';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** Drawn chunks kept in memory (their SVG); the others are placeholders of their measured height. */
const MAX_LIVE = 80;
/** Chunks drawn ahead of the view, in view heights above and below. */
const PREFETCH = 0.75;
/** Height per drawn statement before a chunk is measured (px at zoom 1); refined as chunks are drawn. */
const INITIAL_PER_WEIGHT = 44;
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 5;

interface Slot {
  ref: ChunkRef;
  el: HTMLDivElement;
  /** What is displayed: a drawn chunk (maybe of an older key while its new one is drawn), or nothing. */
  shown: RenderedChunk | null;
  /** Theme epoch of the displayed drawing. */
  epoch: number;
  /** Height in user units (measured when drawn, else estimated). */
  height: number;
}

class Preview {
  private readonly api = acquireVsCodeApi();
  private readonly mermaid: Mermaid;
  private readonly scroller = byId('scroller');
  private readonly column = byId('column');
  private readonly banner = byId('banner');
  private readonly counts = byId('counts');
  private readonly zoomLabel = byId('zoom-level');
  private readonly sticky = byId('sticky');
  private readonly measureHost = byId('measure');

  private layout: LayoutMessage | null = null;
  private layoutAt = 0;
  private slots: Slot[] = [];
  private readonly data = new Map<string, ChunkData>();
  /** Drawn chunks by key (LRU by Map order); only for the current theme epoch. */
  private readonly drawn = new Map<string, RenderedChunk>();
  private readonly requested = new Set<string>();
  private needBatch: string[] = [];
  private readonly dataWaiters: Array<() => void> = [];
  private epoch = 0;
  private theme: ThemeKind;
  private zoom = 1;
  /** Zoom to fit the width (never above 100%) until the user picks a zoom. */
  private fit = true;
  private minX = Infinity;
  private maxX = -Infinity;
  private lifelines: number[] = [];
  private perWeight = INITIAL_PER_WEIGHT;
  /**
   * The height per weight waiting slots are sized with: follows `perWeight` only when that has moved by a tenth,
   * so that drawing one chunk does not resize (and lay out again) every waiting slot of a long trace.
   */
  private sizedPerWeight = INITIAL_PER_WEIGHT;
  private measuredWeight = 0;
  private measuredHeight = 0;
  private renderCount = 0;
  private pumping = false;
  private rerun = false;
  private mermaidQueue: Promise<unknown> = Promise.resolve();
  private idCounter = 0;
  private renderedThisPass = 0;
  private reportedFor = '';
  private renderError: string | null = null;
  private spacers: { message: string | undefined; note: string | undefined } = { message: undefined, note: undefined };

  private activeLine: number | null = null;
  private activeEls: Element[] = [];
  /** A cursor reveal waiting for its chunk to be drawn. */
  private pendingReveal = false;
  private restoreAnchor: PersistedState['anchor'] = null;
  /**
   * A scroll position to hold while the chunks around it are drawn (after a
   * reload); released by the first scroll, zoom or key of the user.
   */
  private pinned: { el: HTMLElement; offset: number; left: number } | null = null;
  /** After a reload, the first cursor reveal must not undo the restored position. */
  private restoredView = false;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private stickyFrame = 0;
  private dragging: { x: number; y: number; left: number; top: number; moved: boolean } | null = null;
  private suppressClick = false;
  private exporting = false;

  constructor() {
    const m = (globalThis as { mermaid?: Mermaid }).mermaid;
    if (!m) throw new Error('Mermaid did not load');
    this.mermaid = m;
    const style = document.createElement('style');
    style.textContent = DIAGRAM_CSS;
    document.head.appendChild(style);
    this.theme = currentTheme();
    this.mermaid.initialize(mermaidConfig(this.theme));
    // Warm Mermaid up (parser, layout, text measuring) while the host checks the trace: the first chunk then draws sooner.
    const warm = () =>
      this.mermaid.render('ttwarm', 'sequenceDiagram\nparticipant A\nparticipant B\nA->>B: x\nNote over A: y\n').then(
        () => undefined,
        () => document.getElementById('dttwarm')?.remove(),
      );
    this.mermaidQueue = this.mermaidQueue.then(warm);
    const state = this.api.getState();
    if (state) {
      this.zoom = clampZoom(state.zoom);
      this.fit = state.fit !== false;
      this.restoreAnchor = state.anchor;
    }
    this.updateZoomLabel();
    this.wire();
    this.post({ type: 'ready' });
  }

  private post(m: WebviewMessage): void {
    this.api.postMessage(m);
  }

  // ---- events ----

  private wire(): void {
    window.addEventListener('message', (e: MessageEvent<HostMessage>) => this.onMessage(e.data));
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    window.addEventListener('resize', () => {
      if (this.fit) this.applyFit();
      this.pump();
    });
    new MutationObserver(() => this.onThemeChange()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

    this.column.addEventListener('click', (e) => this.onClick(e));
    for (const ev of ['wheel', 'mousedown', 'keydown', 'touchstart']) this.scroller.addEventListener(ev, () => (this.pinned = null), { passive: true });
    this.scroller.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      this.dragging = { x: e.clientX, y: e.clientY, left: this.scroller.scrollLeft, top: this.scroller.scrollTop, moved: false };
    });
    window.addEventListener('mousemove', (e) => {
      const d = this.dragging;
      if (!d) return;
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
      d.moved = true;
      this.scroller.classList.add('tt-panning');
      this.scroller.scrollLeft = d.left - dx;
      this.scroller.scrollTop = d.top - dy;
    });
    window.addEventListener('mouseup', () => {
      if (this.dragging?.moved) this.suppressClick = true;
      this.dragging = null;
      this.scroller.classList.remove('tt-panning');
    });
    this.scroller.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey && !e.metaKey) return; // plain wheel scrolls; ctrl+wheel and pinch zoom
        e.preventDefault();
        this.userZoom(this.zoom * Math.exp(-e.deltaY * 0.002), e.clientX, e.clientY);
      },
      { passive: false },
    );
    window.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '+' || e.key === '=') this.userZoom(this.zoom * 1.25);
      else if (e.key === '-' || e.key === '_') this.userZoom(this.zoom / 1.25);
      else if (e.key === '0') this.userZoom(1);
      else return;
      e.preventDefault();
    });
    byId('zoom-in').addEventListener('click', () => this.userZoom(this.zoom * 1.25));
    byId('zoom-out').addEventListener('click', () => this.userZoom(this.zoom / 1.25));
    byId('zoom-level').addEventListener('click', () => this.userZoom(1));
    byId('zoom-fit').addEventListener('click', () => {
      this.fit = true;
      this.applyFit();
      this.saveState();
    });
    for (const b of document.querySelectorAll<HTMLElement>('[data-command]')) {
      b.addEventListener('click', () => this.post({ type: 'command', command: b.dataset.command as 'exportSvg' }));
    }
    this.banner.addEventListener('click', () => {
      const line = Number(this.banner.dataset.line);
      if (Number.isInteger(line) && line >= 0) this.post({ type: 'reveal', line });
    });
  }

  private onMessage(m: HostMessage): void {
    switch (m.type) {
      case 'layout':
        this.onLayout(m);
        break;
      case 'chunks':
        for (const d of m.data) {
          this.data.set(d.key, d);
          this.requested.delete(d.key);
        }
        for (const w of this.dataWaiters.splice(0)) w();
        this.pump();
        break;
      case 'cursor':
        this.setActive(m.line, m.reveal);
        break;
      case 'zoom':
        this.userZoom(m.action === 'in' ? this.zoom * 1.25 : m.action === 'out' ? this.zoom / 1.25 : 1);
        break;
      case 'export':
        void this.exportDiagram(m.id, m.format, m.scale);
        break;
      case 'status':
        // The host could not produce a diagram (unreadable file, a failure in the worker).
        this.showBanner(m.text, 'error');
        break;
    }
  }

  // ---- layout ----

  private onLayout(m: LayoutMessage): void {
    if (m.edit) {
      // An edit of the chunk list this page holds; a page that does not hold it asks for the whole layout.
      if (this.layout?.seq !== m.edit.base) {
        this.post({ type: 'resync' });
        return;
      }
      m = { ...m, chunks: applyChunkEdit(this.layout.chunks, m.edit), edit: undefined };
    }
    this.layoutAt = performance.now();
    this.renderedThisPass = 0;
    const first = this.layout === null;
    const prevResource = this.layout?.resource;
    this.layout = m;
    if (prevResource !== undefined && prevResource !== m.resource) {
      // Another document: nothing of the old one is reusable, and its scroll position means nothing here.
      this.clearAll();
      this.scroller.scrollTop = 0;
    }
    const spacers = pickSpacers(m.spacers);
    if (spacers.message !== this.spacers.message || spacers.note !== this.spacers.note) {
      // The widest label changed: every chunk's lifeline spacing does; drawings of the old spacing are stale.
      this.spacers = spacers;
      this.epoch++;
      this.drawn.clear();
    }
    document.title = m.fileName;
    document.body.classList.toggle('tt-stale', m.stale);
    document.body.classList.toggle('tt-locked', m.locked);
    this.renderCounts(m);
    this.renderError = null;
    this.updateBanner();

    // Data of chunks no longer in the layout is dropped; the host sends it again if they return.
    const keys = new Set(m.chunks.map((c) => c.key));
    for (const k of this.data.keys()) if (!keys.has(k)) this.data.delete(k);
    this.requested.clear();

    const anchor = first ? null : this.captureAnchor();
    this.reconcile(m.chunks);
    if (first && this.restoreAnchor) {
      const a = this.restoreAnchor;
      this.restoreAnchor = null;
      const s = this.slots[Math.min(a.chunk, this.slots.length - 1)];
      if (s) {
        this.pinned = { el: s.el, offset: a.offset, left: a.left };
        this.restoredView = true;
        this.restore(this.pinned);
      }
    } else if (anchor) this.restore(anchor);
    this.saveState();
    this.reportedFor = '';
    if (this.activeLine !== null) this.setActive(this.activeLine, false);
    this.pump();
  }

  private clearAll(): void {
    for (const s of this.slots) s.el.remove();
    this.slots = [];
    this.data.clear();
    this.drawn.clear();
    this.minX = Infinity;
    this.maxX = -Infinity;
    this.lifelines = [];
    this.activeEls = [];
    this.spacers = { message: undefined, note: undefined };
  }

  /** The horizontal extent shared by all drawn chunks (recomputed: an edit can also narrow the diagram). */
  private recomputeExtent(): boolean {
    let minX = Infinity;
    let maxX = -Infinity;
    let lifelines: number[] = [];
    for (const s of this.slots) {
      const rc = s.shown;
      if (!rc || rc.width === 0) continue;
      minX = Math.min(minX, rc.x);
      maxX = Math.max(maxX, rc.x + rc.width);
      if (rc.lifelines.length > 0 && (s.epoch === this.epoch || lifelines.length === 0)) lifelines = rc.lifelines;
    }
    this.lifelines = lifelines;
    if (minX === this.minX && maxX === this.maxX) return false;
    this.minX = minX;
    this.maxX = maxX;
    return true;
  }

  /**
   * Matches the new chunk list with the displayed slots: a chunk with the same
   * key keeps its slot (and drawing); an unmatched new chunk takes over the
   * unmatched old slot at its position, showing the old drawing until the new
   * one is ready (no flicker while typing).
   */
  private reconcile(refs: readonly ChunkRef[]): void {
    const old = this.slots;
    const byKey = new Map<string, Slot[]>();
    for (const s of old) {
      const list = byKey.get(s.ref.key);
      if (list) list.push(s);
      else byKey.set(s.ref.key, [s]);
    }
    const used = new Set<Slot>();
    const next: Array<Slot | null> = refs.map((r) => {
      const list = byKey.get(r.key);
      const s = list?.shift();
      if (!s) return null;
      used.add(s);
      s.ref = r;
      return s;
    });
    // Unmatched old slots, in order, take the unmatched new positions in order.
    const spare = old.filter((s) => !used.has(s));
    let si = 0;
    for (let i = 0; i < next.length; i++) {
      if (next[i]) continue;
      const s = si < spare.length ? spare[si++] : undefined;
      if (s) {
        s.ref = refs[i];
        used.add(s);
        next[i] = s;
      } else {
        next[i] = this.newSlot(refs[i]);
      }
    }
    for (const s of old) if (!used.has(s)) s.el.remove();
    this.slots = next as Slot[];
    // Put the elements in order, moving only those out of place.
    let prev: Element | null = null;
    // Only what changed is written: a write to each of thousands of slots would restyle and lay out them all.
    if (Math.abs(this.perWeight - this.sizedPerWeight) > this.sizedPerWeight / 10) this.sizedPerWeight = this.perWeight;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      const index = String(i);
      if (s.el.dataset.index !== index) s.el.dataset.index = index;
      const want: ChildNode | null = prev ? prev.nextSibling : this.column.firstChild;
      if (want !== s.el) this.column.insertBefore(s.el, want);
      prev = s.el;
      const stale = !s.shown || s.shown.key !== s.ref.key || s.epoch !== this.epoch;
      if (s.el.classList.contains('tt-pending') !== stale) s.el.classList.toggle('tt-pending', stale);
      if (!s.shown) {
        const h = this.estimate(s.ref, i === 0);
        if (h !== s.height) this.sizeSlot(s, h);
      }
    }
  }

  private newSlot(ref: ChunkRef): Slot {
    const el = document.createElement('div');
    el.className = 'tt-chunk tt-pending';
    return { ref, el, shown: null, epoch: -1, height: 0 };
  }

  private estimate(ref: ChunkRef, first: boolean): number {
    return ref.weight * this.sizedPerWeight + (first ? 110 : 12);
  }

  private sizeSlot(s: Slot, height: number): void {
    s.height = height;
    s.el.style.height = `${height * this.zoom}px`;
  }

  // ---- scroll anchoring (kept by hand: slots change height as they are drawn) ----

  /** The slot at the top of the view and how far into it the view starts (px at zoom 1). */
  private captureAnchor(): { el: HTMLElement; offset: number; left: number } | null {
    if (this.pinned) return this.pinned;
    const i = this.slotAt(this.scroller.scrollTop);
    const s = this.slots[i];
    if (!s) return null;
    return { el: s.el, offset: (this.scroller.scrollTop - s.el.offsetTop) / this.zoom, left: this.scroller.scrollLeft };
  }

  private restore(a: { el: HTMLElement; offset: number; left: number }): void {
    if (!a.el.isConnected) return;
    const top = a.el.offsetTop + Math.min(a.offset * this.zoom, a.el.offsetHeight);
    if (Math.abs(this.scroller.scrollTop - top) >= 1) this.scroller.scrollTop = top;
    if (a === this.pinned && Math.abs(this.scroller.scrollLeft - a.left) >= 1) this.scroller.scrollLeft = a.left;
  }

  /** Index of the slot at `y` (px from the column's top). */
  private slotAt(y: number): number {
    return lastIndexWhere(this.slots, (slot) => slot.el.offsetTop <= y);
  }

  private onScroll(): void {
    this.pump();
    this.scheduleSave();
    if (!this.stickyFrame) {
      this.stickyFrame = requestAnimationFrame(() => {
        this.stickyFrame = 0;
        this.updateSticky();
      });
    }
  }

  // ---- drawing ----

  /** Slots that should be drawn now, most urgent first: in view (nearest the middle), then just around it. */
  private wanted(): Slot[] {
    if (this.slots.length === 0) return [];
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight || 600;
    const a = this.slotAt(Math.max(0, top - h * PREFETCH));
    const b = this.slotAt(top + h + h * PREFETCH);
    const mid = top + h / 2;
    const out: Array<{ s: Slot; d: number; visible: boolean }> = [];
    for (let i = a; i <= b; i++) {
      const s = this.slots[i];
      const y0 = s.el.offsetTop;
      const y1 = y0 + s.el.offsetHeight;
      const visible = y1 > top && y0 < top + h;
      out.push({ s, d: y1 < mid ? mid - y1 : y0 > mid ? y0 - mid : 0, visible });
    }
    out.sort((x, y) => Number(y.visible) - Number(x.visible) || x.d - y.d);
    return out.map((o) => o.s);
  }

  private visibleRange(): { from: number; to: number } {
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight || 600;
    return { from: this.slotAt(top), to: this.slotAt(top + h) };
  }

  private current(s: Slot): boolean {
    return s.shown !== null && s.shown.key === s.ref.key && s.epoch === this.epoch;
  }

  /** Draws what is wanted, one chunk at a time, yielding between chunks so that input stays responsive. */
  pump(): void {
    if (this.pumping) {
      this.rerun = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop().finally(() => {
      this.pumping = false;
      if (this.rerun) {
        this.rerun = false;
        // A task, not a microtask: the page must get to its messages (chunk data) in between.
        setTimeout(() => this.pump(), 0);
      }
    });
  }

  private async pumpLoop(): Promise<void> {
    for (;;) {
      this.rerun = false;
      const layout = this.layout;
      if (!layout) return;
      let next: Slot | undefined;
      for (const s of this.wanted()) {
        if (this.current(s)) continue;
        const cached = this.drawn.get(this.cacheKey(s.ref.key, s === this.slots[0]));
        if (cached) {
          this.show(s, cached);
          continue;
        }
        if (!this.data.has(s.ref.key)) {
          this.need(s.ref.key);
          continue;
        }
        next = s;
        break;
      }
      this.flushNeed();
      if (!next) break;
      const data = this.data.get(next.ref.key)!;
      const index = this.slots.indexOf(next);
      try {
        const rc = await this.draw(data, index === 0);
        this.remember(rc, index === 0);
        this.renderedThisPass++;
        if (layout !== this.layout && !this.slots.includes(next)) continue;
        if (next.ref.key === rc.key) this.show(next, rc);
      } catch (err) {
        this.renderError = err instanceof Error ? err.message : String(err);
        this.updateBanner();
        // Mark it drawn (as an error box) so that the loop does not retry it forever.
        this.showFailure(next, this.renderError);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    this.evict();
    this.post({ type: 'visible', ...this.visibleRange() });
    this.maybeReport();
    if (this.pendingReveal) this.revealActive(false);
    this.updateSticky();
  }

  private draw(data: ChunkData, first: boolean): Promise<RenderedChunk> {
    const layout = this.layout!;
    const run = () =>
      renderChunk(this.mermaid, data, {
        id: `tt${++this.idCounter}`,
        participants: layout.participants.length,
        spacers: this.spacers,
        first,
        host: this.measureHost,
      });
    // One Mermaid render at a time (the preview and an export share it).
    const p = this.mermaidQueue.then(run, run);
    this.mermaidQueue = p.catch(() => undefined);
    this.renderCount++;
    return p;
  }

  /** The first chunk is drawn with its title and participant boxes: a different drawing of the same data. */
  private cacheKey(key: string, first: boolean): string {
    return first ? '^' + key : key;
  }

  private remember(rc: RenderedChunk, first: boolean): void {
    const ck = this.cacheKey(rc.key, first);
    this.drawn.delete(ck);
    this.drawn.set(ck, rc);
    const w = this.layout?.chunks.find((c) => c.key === rc.key)?.weight;
    if (w) {
      this.measuredWeight += w;
      this.measuredHeight += rc.height;
      this.perWeight = this.measuredHeight / this.measuredWeight;
    }
  }

  /** Puts a drawing into a slot, keeping the view where it is. */
  private show(s: Slot, rc: RenderedChunk): void {
    // The same drawing may be needed twice (identical chunks): an SVG node lives in one place only.
    const inst = rc.svg.isConnected && s.shown !== rc ? cloneRendered(rc) : rc;
    const anchor = this.captureAnchor();
    s.el.replaceChildren(inst.svg);
    s.shown = inst;
    s.epoch = this.epoch;
    s.el.classList.remove('tt-pending', 'tt-failed');
    const widen = this.recomputeExtent();
    if (widen && this.fit && this.fitZoom() !== this.zoom) {
      this.sizeSvg(s);
      this.applyFit();
    } else if (widen) {
      for (const o of this.slots) if (o.shown) this.sizeSvg(o);
    } else {
      this.sizeSvg(s);
    }
    this.sizeSlot(s, inst.height);
    if (anchor) this.restore(anchor);
    if (this.activeLine !== null && this.activeSlot() === s) this.applyActive();
  }

  private showFailure(s: Slot, message: string): void {
    const box = document.createElement('div');
    box.className = 'tt-failure';
    box.textContent = `This part of the diagram could not be drawn: ${message}`;
    s.el.replaceChildren(box);
    s.shown = {
      key: s.ref.key,
      svg: document.createElementNS('http://www.w3.org/2000/svg', 'svg'),
      x: 0,
      y: 0,
      width: 0,
      height: 60,
      elements: new Map(),
      itemTops: new Map(),
      lifelines: [],
      arrows: 0,
      lostArrows: 0,
      stateNotes: [],
      diagnosticNotes: 0,
      ms: 0,
    };
    s.epoch = this.epoch;
    s.el.classList.remove('tt-pending');
    s.el.classList.add('tt-failed');
    this.sizeSlot(s, 60);
  }

  /** Sets a drawn slot's SVG to the shared horizontal extent (so lifelines align) at the current zoom. */
  private sizeSvg(s: Slot): void {
    const rc = s.shown;
    if (!rc || !rc.svg.isConnected) return;
    const w = this.maxX - this.minX;
    rc.svg.setAttribute('viewBox', `${this.minX} ${rc.y} ${w} ${rc.height}`);
    rc.svg.setAttribute('width', String(w * this.zoom));
    rc.svg.setAttribute('height', String(rc.height * this.zoom));
    this.column.style.width = `${w * this.zoom}px`;
  }

  /** Drops the drawings of chunks far from the view; their slots keep the measured height. */
  private evict(): void {
    if (this.drawn.size <= MAX_LIVE) return;
    const wanted = new Set(this.wanted());
    const keep = new Set([...wanted].map((s) => this.cacheKey(s.ref.key, s === this.slots[0])));
    for (const [key] of this.drawn) {
      if (this.drawn.size <= MAX_LIVE) break;
      if (keep.has(key)) continue;
      this.drawn.delete(key);
    }
    const liveKeys = new Set([...this.drawn.values()].map((rc) => rc.key));
    for (const s of this.slots) {
      if (s.shown && !wanted.has(s) && !liveKeys.has(s.shown.key)) {
        s.el.replaceChildren();
        s.shown = null;
        s.el.classList.add('tt-pending');
      }
    }
  }

  private need(key: string): void {
    if (this.requested.has(key)) return;
    this.requested.add(key);
    this.needBatch.push(key);
  }

  private flushNeed(): void {
    if (this.needBatch.length === 0) return;
    this.post({ type: 'need', keys: this.needBatch });
    this.needBatch = [];
  }

  private maybeReport(): void {
    const layout = this.layout;
    if (!layout) return;
    const { from, to } = this.visibleRange();
    for (let i = from; i <= to && i < this.slots.length; i++) if (!this.current(this.slots[i])) return;
    let live = 0;
    for (const s of this.slots) if (this.current(s)) live++;
    const tag = `${layout.seq}:${this.epoch}:${this.activeEls.length > 0 ? this.activeLine : null}:${this.renderError}:${live}`;
    if (tag === this.reportedFor) return;
    this.reportedFor = tag;
    let arrows = 0;
    let lostArrows = 0;
    let diagnosticNotes = 0;
    const stateNotes = layout.participants.map(() => 0);
    for (const s of this.slots) {
      if (!s.shown || !this.current(s)) continue;
      arrows += s.shown.arrows;
      lostArrows += s.shown.lostArrows;
      diagnosticNotes += s.shown.diagnosticNotes;
      s.shown.stateNotes.forEach((n, i) => (stateNotes[i] = (stateNotes[i] ?? 0) + n));
    }
    const report: RenderReport = {
      seq: layout.seq,
      version: layout.version,
      ms: performance.now() - this.layoutAt,
      rendered: this.renderedThisPass,
      live,
      arrows,
      lostArrows,
      stateNotes,
      diagnosticNotes,
      activeLine: this.activeEls.length > 0 ? this.activeLine : null,
      banner: this.banner.hidden ? null : this.banner.textContent,
      errors: this.renderError ? [this.renderError] : [],
      theme: this.theme,
    };
    this.post({ type: 'rendered', report });
  }

  // ---- cursor sync ----

  private activeSlot(): Slot | undefined {
    if (this.activeLine === null || this.slots.length === 0) return undefined;
    return this.slots[this.slotOfLine(this.activeLine)];
  }

  private slotOfLine(line: number): number {
    return lastIndexWhere(this.slots, (slot) => slot.ref.firstLine <= line);
  }

  private setActive(line: number, reveal: boolean): void {
    this.activeLine = line;
    this.applyActive();
    if (reveal && this.restoredView) {
      // The view the user left, restored after a reload, wins over the editor's cursor once.
      this.restoredView = false;
      return;
    }
    if (reveal) {
      this.pinned = null;
      this.pendingReveal = true;
      this.revealActive();
    }
  }

  /** Marks the elements of the item at (or before) the active line. */
  private applyActive(): void {
    for (const el of this.activeEls) el.classList.remove('tt-active');
    this.activeEls = [];
    const s = this.activeSlot();
    const line = this.activeLine;
    if (!s || line === null || !s.shown || !this.current(s) || line < s.ref.firstLine) return;
    const data = this.data.get(s.ref.key);
    if (!data) return;
    const rel = line - s.ref.firstLine;
    // The last item at or before the line that draws something.
    let i = data.lines.length - 1;
    while (i >= 0 && data.lines[i] > rel) i--;
    while (i >= 0 && !s.shown.elements.has(i)) i--;
    if (i < 0) return;
    this.activeEls = s.shown.elements.get(i)!;
    for (const el of this.activeEls) el.classList.add('tt-active');
    this.maybeReport();
  }

  /** Scrolls the active item into view when it is not; waits for its chunk to be drawn (`pump`: start drawing it). */
  private revealActive(pump = true): void {
    const s = this.activeSlot();
    if (!s) return;
    const view = this.scroller.getBoundingClientRect();
    if (this.activeEls.length > 0) {
      this.pendingReveal = false;
      let top = Infinity;
      let bottom = -Infinity;
      for (const el of this.activeEls) {
        const r = el.getBoundingClientRect();
        top = Math.min(top, r.top);
        bottom = Math.max(bottom, r.bottom);
      }
      const margin = 48;
      if (top < view.top + margin || bottom > view.bottom - margin) {
        this.scroller.scrollTop += (top + bottom) / 2 - (view.top + view.height / 2);
      }
      return;
    }
    if (this.current(s)) {
      this.pendingReveal = false; // drawn, and the line draws nothing: nothing to scroll to
      return;
    }
    // Not drawn yet: bring its place into view; the pump draws it and comes back here.
    const r = s.el.getBoundingClientRect();
    if (r.bottom < view.top || r.top > view.bottom) this.scroller.scrollTop += r.top - view.top - view.height / 3;
    if (pump) this.pump();
  }

  private onClick(e: MouseEvent): void {
    if (this.suppressClick) {
      this.suppressClick = false;
      return;
    }
    const target = e.target as Element | null;
    const item = target?.closest('[data-tt-item]');
    const chunk = target?.closest<HTMLElement>('.tt-chunk');
    if (!item || !chunk) return;
    const s = this.slots[Number(chunk.dataset.index)];
    const data = s && this.data.get(s.ref.key);
    if (!s || !data || !s.shown || s.shown.key !== s.ref.key) return;
    const i = Number(item.getAttribute('data-tt-item'));
    const rel = data.lines[i];
    if (rel === undefined) return;
    this.post({ type: 'reveal', line: s.ref.firstLine + rel });
  }

  // ---- zoom and state ----

  private setZoom(z: number, clientX?: number, clientY?: number): void {
    const zoom = clampZoom(z);
    if (zoom === this.zoom) return;
    const view = this.scroller.getBoundingClientRect();
    const fx = (clientX ?? view.left + view.width / 2) - view.left;
    const fy = (clientY ?? view.top + view.height / 2) - view.top;
    const ratio = zoom / this.zoom;
    const cx = this.scroller.scrollLeft + fx;
    const cy = this.scroller.scrollTop + fy;
    this.zoom = zoom;
    for (const s of this.slots) {
      this.sizeSlot(s, s.height);
      if (s.shown) this.sizeSvg(s);
    }
    this.scroller.scrollLeft = cx * ratio - fx;
    this.scroller.scrollTop = cy * ratio - fy;
    this.updateZoomLabel();
    this.saveState();
    this.pump();
    this.updateSticky();
  }

  /** A zoom the user chose: no longer fitting the width. */
  private userZoom(z: number, clientX?: number, clientY?: number): void {
    this.fit = false;
    this.setZoom(z, clientX, clientY);
    this.saveState();
  }

  private fitZoom(): number {
    const w = this.maxX - this.minX;
    if (!(w > 0)) return this.zoom;
    // Not below 50%: a trace with long labels is better scrolled sideways than unreadable.
    return clampZoom(Math.max(0.5, Math.min(1, (this.scroller.clientWidth - 24) / w)));
  }

  private applyFit(): void {
    this.setZoom(this.fitZoom(), 0, 0);
  }

  private updateZoomLabel(): void {
    this.zoomLabel.textContent = `${Math.round(this.zoom * 100)}%`;
  }

  private scheduleSave(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveState(), 150);
  }

  private saveState(): void {
    const layout = this.layout;
    if (!layout) return;
    let anchor: PersistedState['anchor'] = null;
    if (this.slots.length > 0) {
      const i = this.slotAt(this.scroller.scrollTop);
      const s = this.slots[i];
      anchor = { chunk: i, offset: Math.max(0, (this.scroller.scrollTop - s.el.offsetTop) / this.zoom), left: this.scroller.scrollLeft };
    }
    this.api.setState({ resource: layout.resource, locked: layout.locked, zoom: this.zoom, fit: this.fit, anchor });
  }

  // ---- theme ----

  private onThemeChange(): void {
    const theme = currentTheme();
    if (theme === this.theme) return;
    this.theme = theme;
    this.epoch++;
    this.mermaid.initialize(mermaidConfig(theme));
    this.drawn.clear();
    this.reportedFor = '';
    for (const s of this.slots) s.el.classList.add('tt-pending');
    this.pump();
  }

  // ---- banner, counts, sticky header ----

  private renderCounts(m: LayoutMessage): void {
    const c = m.counts;
    const parts = [`${c.events} ${c.events === 1 ? 'event' : 'events'}`];
    if (c.errors) parts.push(`${c.errors} ${c.errors === 1 ? 'error' : 'errors'}`);
    if (c.warnings) parts.push(`${c.warnings} ${c.warnings === 1 ? 'warning' : 'warnings'}`);
    this.counts.textContent = parts.join(' · ');
    this.counts.className = c.errors ? 'tt-has-errors' : c.warnings ? 'tt-has-warnings' : '';
  }

  private updateBanner(): void {
    const m = this.layout;
    if (m?.problem) {
      const p = m.problem;
      const tail = m.stale ? ' — showing the diagram of the last text that parsed.' : '';
      this.showBanner(`Line ${p.line + 1}: ${p.message} (${p.code})${tail}`, 'error', p.line);
    } else if (this.renderError) {
      this.showBanner(this.renderError, 'error');
    } else if (m && m.chunks.length === 0) {
      this.showBanner('Nothing to draw yet: add endpoints and events to the trace.', 'info');
    } else this.showBanner(null, 'info');
  }

  private showBanner(text: string | null, kind: 'error' | 'info', line?: number): void {
    this.banner.hidden = text === null;
    this.banner.textContent = text ?? '';
    this.banner.className = `tt-banner-${kind}`;
    this.banner.dataset.line = line === undefined ? '' : String(line);
    this.banner.title = line === undefined ? '' : 'Click to go to the line';
  }

  /** Participant names and their states at the top of the view, once the participant boxes scrolled away. */
  private updateSticky(): void {
    const layout = this.layout;
    const first = this.slots[0];
    if (!layout || layout.participants.length === 0 || !first || this.lifelines.length === 0) {
      this.sticky.hidden = true;
      return;
    }
    const top = this.scroller.scrollTop;
    const headerBottom = first.el.offsetTop + 90 * this.zoom;
    if (top < headerBottom) {
      this.sticky.hidden = true;
      return;
    }
    const s = this.slots[this.slotAt(top + 1)];
    const data = this.data.get(s.ref.key);
    let states: number[] | undefined = data?.startStates;
    if (data && s.shown && this.current(s)) {
      // The last item whose drawing starts above the top edge.
      const yTop = (top - s.el.offsetTop) / this.zoom + s.shown.y;
      for (let i = 0; i < data.lines.length; i++) {
        const t = s.shown.itemTops.get(i);
        if (t === undefined) continue;
        if (t > yTop) break;
        states = [data.states[2 * i], data.states[2 * i + 1]];
      }
    }
    if (!states) {
      this.sticky.hidden = true;
      return;
    }
    const known = states;
    const labels = layout.participants.map((name, p) => `${name}: ${layout.stateNames[known[p]] ?? '?'}`);
    const spans = this.sticky.children;
    while (spans.length < labels.length) this.sticky.appendChild(document.createElement('span'));
    while (spans.length > labels.length) spans[spans.length - 1].remove();
    labels.forEach((text, p) => {
      const span = spans[p] as HTMLElement;
      span.textContent = text;
      const x = ((this.lifelines[p] ?? 0) - this.minX) * this.zoom + this.column.offsetLeft;
      span.style.left = `${x}px`;
    });
    this.sticky.hidden = false;
  }

  // ---- export ----

  private waitForData(keys: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const missing = keys.filter((k) => !this.data.has(k));
        if (missing.length === 0) return resolve();
        for (const k of missing) this.need(k);
        this.flushNeed();
        this.dataWaiters.push(check);
      };
      check();
    });
  }

  private async exportDiagram(id: number, format: 'svg' | 'png', scale: number): Promise<void> {
    const layout = this.layout;
    if (!layout || this.exporting) {
      this.post({ type: 'exportFailed', id, message: this.exporting ? 'an export is already running' : 'nothing to export yet' });
      return;
    }
    this.exporting = true;
    try {
      const keys = layout.chunks.map((c) => c.key);
      await this.waitForData(keys);
      const parts: RenderedChunk[] = [];
      for (let i = 0; i < keys.length; i++) {
        if (this.layout !== layout) throw new Error('the trace changed during the export; export again');
        const cached = this.drawn.get(this.cacheKey(keys[i], i === 0));
        parts.push(cached ?? (await this.draw(this.data.get(keys[i])!, i === 0)));
        if (i % 10 === 9) this.showBanner(`Exporting: ${i + 1} of ${keys.length} parts drawn…`, 'info');
      }
      const background = getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() || getComputedStyle(document.body).backgroundColor;
      const svg = composeSvg(parts, background);
      if (format === 'svg') this.post({ type: 'exported', id, format, data: svg });
      else this.post({ type: 'exported', id, format, data: await svgToPng(svg, scale) });
    } catch (err) {
      this.post({ type: 'exportFailed', id, message: err instanceof Error ? err.message : String(err) });
    } finally {
      this.exporting = false;
      this.updateBanner();
    }
  }
}

/** Chromium's canvas limits: a side of 32 767 px and 268 M pixels. */
const CANVAS_MAX_SIDE = 32_767;
const CANVAS_MAX_AREA = 268_000_000;

/** Rasterizes an SVG document at `scale`; returns base64 PNG data. */
async function svgToPng(svg: string, scale: number): Promise<string> {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const w = Math.ceil(Number(m?.[1] ?? 0) * scale);
  const h = Math.ceil(Number(m?.[2] ?? 0) * scale);
  if (!(w > 0 && h > 0)) throw new Error('the diagram is empty');
  if (w > CANVAS_MAX_SIDE || h > CANVAS_MAX_SIDE || w * h > CANVAS_MAX_AREA) {
    throw new Error(`a ${w} x ${h} px image is larger than a browser can draw; choose a smaller scale or export SVG`);
  }
  const img = new Image();
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  img.src = `data:image/svg+xml;base64,${btoa(bin)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no canvas');
  ctx.drawImage(img, 0, 0, w, h);
  return canvas.toDataURL('image/png').slice('data:image/png;base64,'.length);
}

/** A copy of a drawing with its element map rebuilt on the copy. */
function cloneRendered(rc: RenderedChunk): RenderedChunk {
  const svg = rc.svg.cloneNode(true) as SVGSVGElement;
  const elements = new Map<number, Element[]>();
  for (const el of svg.querySelectorAll('[data-tt-item]')) {
    el.classList.remove('tt-active');
    const i = Number(el.getAttribute('data-tt-item'));
    const list = elements.get(i);
    if (list) list.push(el);
    else elements.set(i, [el]);
  }
  return { ...rc, svg, elements };
}

function currentTheme(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-dark')) return 'dark';
  return 'light';
}

function clampZoom(z: number): number {
  if (!Number.isFinite(z)) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.round(z * 1000) / 1000));
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

try {
  new Preview();
} catch (err) {
  const b = document.getElementById('banner');
  if (b) {
    b.hidden = false;
    b.className = 'tt-banner-error';
    b.textContent = `The preview could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The last index whose item satisfies `atOrBefore` (true for a prefix of the items), by binary search; 0 when none. */
function lastIndexWhere<T>(items: readonly T[], atOrBefore: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (atOrBefore(items[mid])) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
