/** Line-level helpers shared by the features: the parser works per line, and so do they. */

/** The document's lines without their terminators (a trailing '\r' is not part of a line). */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/** Column where the line's comment starts (`#` outside a string), or the line length. */
export function commentStart(line: string): number {
  let inStr = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inStr) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 35 /* # */) return i;
  }
  return line.length;
}

export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The name-like word around a column (for completion prefixes and renames of unparsed lines). */
export function wordRangeAt(line: string, character: number): { start: number; end: number } {
  const isW = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
  let s = character;
  while (s > 0 && isW(line.charCodeAt(s - 1))) s--;
  let e = character;
  while (e < line.length && isW(line.charCodeAt(e))) e++;
  return { start: s, end: e };
}
