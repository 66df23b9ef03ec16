/**
 * Escaping of every piece of text that goes into Mermaid.
 *
 * Mermaid's sequence-diagram lexer gives meaning to many characters inside
 * labels: `;` ends a statement, `#` starts a comment, `%%` starts a comment or
 * a `%%{init}%%` directive (which can restyle the diagram and load URLs),
 * `<br>` breaks lines, `$$` turns on KaTeX, a leading `wrap:` changes layout,
 * and Mermaid's own entity pre-pass rewrites `style ...: ...#...;`. Rather than
 * chase that list, we keep a small set of characters that are inert in every
 * position we emit text into (message, note, participant alias, title) and
 * write everything else as a Mermaid entity code `#NNN;` (decimal code point),
 * which Mermaid renders as the character itself.
 *
 * Non-ASCII letters and digits are kept as they are: they have no meaning to
 * Mermaid, and Mermaid measures label widths on the entity placeholder text, so
 * encoding them would make non-English labels several times too wide. The two
 * letters that Mermaid itself uses as entity placeholder markers (U+00DF and
 * U+FB02) are encoded.
 */

/** ASCII characters written as themselves; everything else outside letters and digits is encoded. */
const SAFE_PUNCTUATION = " .,()[]=+-_/'!?*@";

const SAFE_ASCII: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 1; // 0-9
  for (let c = 65; c <= 90; c++) t[c] = 1; // A-Z
  for (let c = 97; c <= 122; c++) t[c] = 1; // a-z
  for (const ch of SAFE_PUNCTUATION) t[ch.charCodeAt(0)] = 1;
  return t;
})();

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
/** Letters Mermaid uses to mark entity placeholders (`ﬂ°°NN¶ß`): never let them through raw. */
const MERMAID_MARKERS = new Set([0xdf, 0xfb02]);

/** The ellipsis that marks a cut label. */
export const ELLIPSIS = '\u2026';

/** Default bounds, in code points of the visible text. */
export const DEFAULT_MAX_LABEL = 100;
export const DEFAULT_MAX_MESSAGE = 300;

/**
 * Pattern of escaped text (a `u`-flag regular expression source): safe ASCII,
 * non-ASCII letters and digits, entity codes. The three alternatives are
 * disjoint (ASCII / non-ASCII / `#`), so a line that does not match fails in
 * linear time instead of backtracking exponentially.
 */
export const ESCAPED_TEXT_PATTERN = String.raw`(?:[A-Za-z0-9 .,()[\]=+\-_/'!?*@]|(?=[\p{L}\p{N}])[^\x00-\x7f\u00df\ufb02]|#\d+;)+`;

/** Every piece of text `escapeText` returns matches this. */
export const ESCAPED_TEXT = new RegExp(`^${ESCAPED_TEXT_PATTERN}$`, 'u');

function isSafe(cp: number): boolean {
  if (cp < 128) return SAFE_ASCII[cp] === 1;
  if (MERMAID_MARKERS.has(cp)) return false;
  return LETTER_OR_DIGIT.test(String.fromCodePoint(cp));
}

/**
 * Turns control characters into visible C-style escapes (`\n`, `\r`, `\t`,
 * `\xHH`) so that a newline in user text can never end a Mermaid statement and
 * stays readable; also replaces the Unicode line and paragraph separators.
 */
export function visible(text: string): string {
  let out = '';
  let chunk = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f && c !== 0x2028 && c !== 0x2029) continue;
    out += text.slice(chunk, i);
    chunk = i + 1;
    if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 0x2028) out += '\\u2028';
    else if (c === 0x2029) out += '\\u2029';
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return chunk === 0 ? text : out + text.slice(chunk);
}

/**
 * Cuts `text` to at most `max` code points, the last of which is then an
 * ellipsis. Never splits a surrogate pair.
 */
export function truncate(text: string, max: number): string {
  const limit = Math.max(1, Math.floor(max));
  // Fast path: UTF-16 length bounds the code point count from above.
  if (text.length <= limit) return text;
  let count = 0;
  let i = 0;
  while (i < text.length) {
    if (count === limit - 1) {
      // `limit - 1` code points kept; does more than one remain?
      const rest = text.codePointAt(i)! > 0xffff ? 2 : 1;
      if (i + rest >= text.length) return text; // exactly one left: it fits
      return text.slice(0, i).trimEnd() + ELLIPSIS;
    }
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    count++;
  }
  return text;
}

/** Encodes every character outside the safe set as a Mermaid entity code `#NNN;`. */
export function encode(text: string): string {
  let out = '';
  let chunk = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 128 && SAFE_ASCII[c] === 1) {
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    if (cp >= 128 && isSafe(cp)) {
      i += w;
      continue;
    }
    out += text.slice(chunk, i) + '#' + String(cp) + ';';
    i += w;
    chunk = i;
  }
  return chunk === 0 ? text : out + text.slice(chunk);
}

/**
 * The one entry point for text: visible escapes, trimmed, bounded to `max`
 * code points, encoded. Never empty (Mermaid needs text after `:`), so an
 * empty or blank text becomes a no-break space.
 */
export function escapeText(text: string, max: number = DEFAULT_MAX_LABEL): string {
  const shown = truncate(visible(text).trim(), max);
  return shown.length === 0 ? '#160;' : encode(shown);
}

/**
 * A short quoted preview of segment data (`"GET / HTTP/1.1\r\n…"`), with the
 * string escapes of the trace language. Not encoded: pass the result through
 * `escapeText` with the rest of the label.
 */
export function dataPreview(data: string, max: number): string {
  const quoted = visible(data.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));
  return '"' + truncate(quoted, max) + '"';
}
