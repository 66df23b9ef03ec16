/**
 * Semantic tokens: the TextMate grammar colours the text before the server
 * answers; these refine it with what only the parser knows (a name is an
 * endpoint, a label or a symbol; where a symbol is bound).
 */
import type { Range, SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver';
import type { Analysis } from '../analysis';
import type { TokenKind } from '../tokens';

const TYPES = ['keyword', 'variable', 'label', 'parameter', 'enumMember', 'property', 'function', 'type', 'operator', 'number', 'string', 'namespace'] as const;
const MODIFIERS = ['declaration'] as const;

export const LEGEND: SemanticTokensLegend = { tokenTypes: [...TYPES], tokenModifiers: [...MODIFIERS] };

const TYPE_OF: Readonly<Record<TokenKind, (typeof TYPES)[number]>> = {
  keyword: 'keyword',
  endpoint: 'variable',
  label: 'label',
  symbol: 'parameter',
  flag: 'enumMember',
  field: 'property',
  option: 'property',
  headerOption: 'property',
  call: 'function',
  state: 'type',
  arrow: 'operator',
  number: 'number',
  time: 'number',
  string: 'string',
  address: 'string',
  value: 'enumMember',
  section: 'namespace',
};

const TYPE_INDEX = Object.fromEntries(Object.entries(TYPE_OF).map(([k, v]) => [k, TYPES.indexOf(v)])) as Record<TokenKind, number>;

export function computeSemanticTokens(a: Analysis, range?: Range): SemanticTokens {
  const data: number[] = [];
  let prevLine = 0;
  let prevStart = 0;
  const last = Math.min(range?.end.line ?? Infinity, a.lines.length - 1);
  for (let line = range?.start.line ?? 0; line <= last; line++) {
    for (const t of a.scanTokens(line)) {
      const dl = t.line - prevLine;
      data.push(dl, dl === 0 ? t.start - prevStart : t.start, t.end - t.start, TYPE_INDEX[t.kind], t.declaration ? 1 : 0);
      prevLine = t.line;
      prevStart = t.start;
    }
  }
  return { data };
}
