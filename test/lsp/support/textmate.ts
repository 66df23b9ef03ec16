/**
 * A small TextMate tokenizer, enough to test the grammar's rules without an
 * editor: match rules with captures, begin/end rules with name/contentName,
 * includes of repository rules. Oniguruma's `(?i:...)` groups (JavaScript
 * has no inline flags) are rewritten as per-letter classes; everything else
 * the grammar uses is common to both regex dialects.
 */

export interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  name?: string;
  contentName?: string;
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  patterns?: Rule[];
  include?: string;
}

export interface Grammar {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
}

export interface TmToken {
  text: string;
  start: number;
  scopes: string[];
}

/** Rewrites `(?i:abc)` as `(?:[aA][bB][cC])`. */
export function toJsRegex(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('(?i:', i)) {
      out += '(?:';
      i += 4;
      let depth = 1;
      let inClass = false;
      while (i < src.length && depth > 0) {
        const ch = src[i];
        if (ch === '\\') {
          out += src.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (inClass) {
          if (ch === ']') inClass = false;
          out += /[a-z]/i.test(ch) ? ch.toLowerCase() + ch.toUpperCase() : ch;
        } else if (ch === '[') {
          inClass = true;
          out += ch;
        } else if (ch === '(') {
          depth++;
          out += ch;
        } else if (ch === ')') {
          depth--;
          out += ch;
        } else out += /[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
        i++;
      }
      continue;
    }
    if (src[i] === '\\') {
      out += src.slice(i, i + 2);
      i += 2;
      continue;
    }
    out += src[i++];
  }
  return out;
}

const cache = new Map<string, RegExp>();
function re(src: string): RegExp {
  let r = cache.get(src);
  if (!r) {
    r = new RegExp(toJsRegex(src), 'dg');
    cache.set(src, r);
  }
  return r;
}

interface Frame {
  rule: Rule;
  scopes: string[];
}

export class Tokenizer {
  private stack: Frame[];

  constructor(private readonly grammar: Grammar) {
    this.stack = [{ rule: { patterns: grammar.patterns }, scopes: [grammar.scopeName] }];
  }

  private expand(patterns: Rule[] | undefined, seen = new Set<string>()): Rule[] {
    const out: Rule[] = [];
    for (const p of patterns ?? []) {
      if (p.include) {
        if (seen.has(p.include)) continue;
        seen.add(p.include);
        const target = p.include === '$self' ? { patterns: this.grammar.patterns } : this.grammar.repository[p.include.slice(1)];
        if (!target) throw new Error(`unknown include ${p.include}`);
        out.push(...(target.match || target.begin ? [target] : this.expand(target.patterns, seen)));
      } else out.push(p);
    }
    return out;
  }

  /** Tokens of one line (the state carries over to the next call, as in an editor). */
  line(text: string): TmToken[] {
    const tokens: TmToken[] = [];
    let pos = 0;
    const emit = (start: number, end: number, scopes: string[]): void => {
      if (end > start) tokens.push({ text: text.slice(start, end), start, scopes });
    };
    const withCaptures = (m: RegExpExecArray, base: string[], captures: Record<string, { name: string }> | undefined, whole?: string): void => {
      const [ms, me] = m.indices![0];
      const outer = whole ? [...base, whole] : base;
      // Split [ms, me) at capture boundaries; innermost (later) captures win.
      const marks: { s: number; e: number; name: string }[] = [];
      for (const [k, v] of Object.entries(captures ?? {})) {
        const idx = m.indices![Number(k)];
        if (idx) marks.push({ s: idx[0], e: idx[1], name: v.name });
      }
      const points = [...new Set([ms, me, ...marks.flatMap((x) => [x.s, x.e])])].filter((x) => x >= ms && x <= me).sort((a, b) => a - b);
      for (let i = 0; i + 1 < points.length; i++) {
        const s = points[i];
        const e = points[i + 1];
        const names = marks.filter((x) => x.s <= s && e <= x.e).map((x) => x.name);
        emit(s, e, [...outer, ...names.flatMap((n) => n.split(' '))]);
      }
    };
    let guard = 0;
    for (;;) {
      if (++guard > 10_000) throw new Error('tokenizer loop');
      const frame = this.stack[this.stack.length - 1];
      const inner = frame.rule.contentName ? [...frame.scopes, frame.rule.contentName] : frame.scopes;
      // The earliest match wins; at equal positions the end pattern, then the patterns in order.
      let best: { m: RegExpExecArray; rule: Rule | 'end' } | undefined;
      if (frame.rule.end) {
        const r = re(frame.rule.end);
        r.lastIndex = pos;
        const m = r.exec(text);
        if (m) best = { m, rule: 'end' };
      }
      for (const rule of this.expand(frame.rule.patterns)) {
        const r = re((rule.match ?? rule.begin)!);
        r.lastIndex = pos;
        const m = r.exec(text);
        if (m && (!best || m.index < best.m.index)) best = { m, rule };
      }
      const empty = best !== undefined && best.m[0].length === 0 && best.rule !== 'end';
      if (!best || (empty && best.m.index >= text.length)) {
        emit(pos, text.length, inner);
        break;
      }
      const { m, rule } = best;
      emit(pos, m.index, inner);
      if (rule === 'end') {
        withCaptures(m, frame.scopes, frame.rule.endCaptures);
        this.stack.pop();
      } else if (rule.match !== undefined) {
        withCaptures(m, inner, rule.captures, rule.name);
      } else {
        const scopes = rule.name ? [...inner, ...rule.name.split(' ')] : inner;
        withCaptures(m, scopes, rule.beginCaptures);
        this.stack.push({ rule, scopes });
      }
      pos = m.index + m[0].length;
      if (empty) {
        // An empty match must not stall the scan.
        emit(pos, pos + 1, inner);
        pos++;
      }
      if (pos >= text.length && this.stack.length === 1) break;
    }
    return tokens;
  }
}

/** The scopes of the first token whose text is `needle` (or contains it, for longer tokens). */
export function scopesOf(tokens: TmToken[], needle: string, occurrence = 0): string[] {
  const hits = tokens.filter((t) => t.text === needle);
  const t = hits[occurrence] ?? tokens.filter((x) => x.text.includes(needle))[occurrence];
  if (!t) throw new Error(`no token '${needle}' in ${JSON.stringify(tokens.map((x) => x.text))}`);
  return t.scopes;
}
