/**
 * Edits of a document by lines, for the property tests that hold an
 * incremental step equal to a full one (the checker's, the preview's).
 */
export type LineEdit =
  | { kind: 'delete' | 'duplicate'; line: number; text?: string }
  | { kind: 'replace' | 'insert'; line: number; text: string }
  | { kind: 'type'; line: number; at: number; text: string }
  | { kind: 'cut'; line: number; count: number };

/** `text` after the edit, and the first line it changed. */
export function applyLineEdit(text: string, e: LineEdit): { text: string; first: number } {
  const lines = text.split('\n');
  const at = Math.min(e.line, lines.length - 1);
  switch (e.kind) {
    case 'delete':
      lines.splice(at, 1);
      break;
    case 'duplicate':
      lines.splice(at, 0, lines[at]);
      break;
    case 'replace':
      lines[at] = e.text;
      break;
    case 'insert':
      lines.splice(at, 0, e.text);
      break;
    case 'type': {
      const l = lines[at];
      const k = Math.min(e.at, l.length);
      lines[at] = l.slice(0, k) + e.text + l.slice(k);
      break;
    }
    case 'cut':
      lines.splice(at, e.count);
      break;
  }
  return { text: lines.join('\n'), first: at };
}
