/**
 * Puts back in the order of their ids (1, 2, 3, ...) items that come in
 * another order, such as connections, which end in another order than they
 * started, holding at most `window` of them. When more wait, the lowest goes
 * on without the ones missing before it; those go on as they come. So memory
 * stays bounded however many items there are, and what goes on, and when,
 * depends only on the order the items come in.
 */
export class IdOrder<T extends { id: number }> {
  /** The id the order waits for. */
  private next = 1;
  /** Items waiting, as a binary min-heap by id. */
  private readonly heap: T[] = [];

  constructor(
    private readonly window: number,
    private readonly emit: (item: T) => void,
  ) {}

  /** How many items wait. */
  get waiting(): number {
    return this.heap.length;
  }

  add(item: T): void {
    // Its turn has passed (it was skipped while the window was full): now.
    if (item.id < this.next) {
      this.emit(item);
      return;
    }
    const h = this.heap;
    let i = h.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].id <= item.id) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = item;
    while (h.length > 0 && (h[0].id <= this.next || h.length > this.window)) this.emitLowest();
  }

  /** Every item still waiting, in id order. */
  finish(): void {
    while (this.heap.length > 0) this.emitLowest();
  }

  private emitLowest(): void {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      // Sift `last` down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1].id < h[l].id ? l + 1 : l;
        if (h[c].id >= last.id) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    this.next = Math.max(this.next, top.id + 1);
    this.emit(top);
  }
}
