/**
 * Which lines an edit left as they were: what lets the checker, the diagram
 * model and the preview's chunks redo only what the edit changed.
 */

/**
 * How the lines of an edited text map to the text before the edit: lines
 * before `first` are unchanged, and from `newTail` on (`oldTail` before the
 * edit) every line is unchanged, shifted by `newTail - oldTail`.
 */
export interface LineMap {
  first: number;
  oldTail: number;
  newTail: number;
}

/** Line ends (\n, \r\n, lone \r) that end in text[from, to). */
function lineBreaksIn(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  for (let i = text.indexOf('\r', from); i >= 0 && i < to; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 10) n++;
  return n;
}

/** Whether offset `at` starts a line. */
function startsLine(text: string, at: number): boolean {
  const prev = at > 0 ? text.charCodeAt(at - 1) : 10;
  return prev === 10 || (prev === 13 && text.charCodeAt(at) !== 10);
}

/** A line map, with the last changed line of the new text (what `checkIncremental` takes). */
export interface TextChange extends LineMap {
  /** The line of `after` holding the end of the changed text. */
  last: number;
}

/**
 * The line map from `before` to `after`: the lines before the first changed
 * character, and the lines wholly inside the unchanged end of the text.
 * Undefined when the texts are equal. `first` and `last` are what
 * `changedLines` gives.
 */
export function lineMap(before: string, after: string): TextChange | undefined {
  if (before === after) return undefined;
  // Common prefix and suffix, compared in blocks (string equality is a native compare) then by character.
  const min = Math.min(before.length, after.length);
  const BLOCK = 4096;
  let p = 0;
  while (p + BLOCK <= min && before.slice(p, p + BLOCK) === after.slice(p, p + BLOCK)) p += BLOCK;
  while (p < min && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let q = 0;
  const maxQ = min - p;
  while (q + BLOCK <= maxQ && before.slice(before.length - q - BLOCK, before.length - q) === after.slice(after.length - q - BLOCK, after.length - q)) q += BLOCK;
  while (q < maxQ && before.charCodeAt(before.length - q - 1) === after.charCodeAt(after.length - q - 1)) q++;
  // Line ends before p - 1 are the same in both texts (a CR at p - 1 may end a line in one and not the other):
  // the long prefix is counted once.
  const c = Math.max(0, p - 1);
  const common = lineBreaksIn(after, 0, c);
  // A change right after a CR could turn CRLF into something else: the line before it changed too.
  const first = Math.max(0, common + lineBreaksIn(after, c, p) - (p > 0 && after.charCodeAt(p - 1) === 13 ? 1 : 0));
  // The unchanged lines at the end start at the first line start inside the common suffix in both texts (its first
  // character starts a line in one text and not in the other when the character before it differs).
  const a = after.length - q;
  const b = before.length - q;
  const skip = startsLine(after, a) && startsLine(before, b) ? 0 : 1;
  const last = common + lineBreaksIn(after, c, a);
  return { first, oldTail: common + lineBreaksIn(before, c, b) + skip, newTail: last + skip, last };
}

/**
 * The lines an edit changed, from the texts before and after it: `first` is
 * the first line that differs; `last` (the last changed line of `after`) is
 * given when the edit kept the number of lines. Undefined when the texts are
 * equal. What `checkIncremental` needs when only the texts are at hand.
 */
export function changedLines(before: string, after: string): { first: number; last: number | undefined } | undefined {
  const m = lineMap(before, after);
  return m && { first: m.first, last: m.newTail === m.oldTail ? m.last : undefined };
}
