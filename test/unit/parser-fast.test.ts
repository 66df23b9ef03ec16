/**
 * The parser reads the common event lines (`[TIME] A -> B: FLAGS seq=N ...`,
 * `[TIME] deliver L`) through a fast path, and a streaming check has it refill
 * one set of records per line. Both must give exactly what the general path
 * gives: the same statements (key order included, so the same record shapes),
 * the same diagnostics and symbols.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, type ParsedTrace } from '../../src/core';
import { generateTrace, randomPlan, writeLongTrace } from '../support/trace-model';

const ROOT = join(__dirname, '..', '..');
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 0x5eedfa57 : Date.now() % 0x7fffffff;
const SCALE = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 1;
const params = (n: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

/** Everything a parse hands out, as text: statements, diagnostics, symbols, line count. */
function dump(p: ParsedTrace, statements: string[] = p.statements.map((s) => JSON.stringify(s))): string {
  return JSON.stringify({ statements, diagnostics: p.diagnostics, symbols: [...p.symbols], lineCount: p.lineCount });
}

/** The fast path, the general path, and the fast path with reused records (each statement read when the sink gets it) agree. */
function assertSameParse(text: string, what = ''): void {
  const general = dump(parse(text, undefined, undefined, undefined, { fastLines: false }));
  const fast = dump(parse(text));
  if (fast !== general) assert.fail(`fast path differs from the general one ${what}\n${firstLineDiff(fast, general)}\n${JSON.stringify(text.slice(0, 2000))}`);
  const seen: string[] = [];
  const streamed = parse(text, (s) => seen.push(JSON.stringify(s)), undefined, undefined, { reuse: true });
  const reused = dump(streamed, seen);
  if (reused !== general) assert.fail(`reused records differ from the general path ${what}\n${firstLineDiff(reused, general)}\n${JSON.stringify(text.slice(0, 2000))}`);
  // Text read from bytes as Latin-1: the fast path reads those bytes instead of the string.
  if (/^[\x00-\xff]*$/.test(text)) {
    const fromBytes: string[] = [];
    const parsed = parse(text, (s) => fromBytes.push(JSON.stringify(s)), undefined, undefined, { reuse: true, latin1: Buffer.from(text, 'latin1') });
    const latin1 = dump(parsed, fromBytes);
    if (latin1 !== general) assert.fail(`the parse of Latin-1 bytes differs from the general path ${what}\n${firstLineDiff(latin1, general)}\n${JSON.stringify(text.slice(0, 2000))}`);
  }
}

/**
 * Characters beyond ASCII whose low byte is a character the fast path looks
 * for (a digit, a name character, '-', '>', ':', '=', ' ', '\n'): read as
 * one byte each, they would pass for it.
 */
const ALIASES = ['\u0131', '\u0173', '\u0161', '\u012d', '\u013e', '\u013a', '\u013d', '\u0120', '\u010a', '\u0100', '\u0141', '\u017e', '\u0130'];

function firstLineDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}:\n  ${a.slice(Math.max(0, i - 200), i + 200)}\n  ${b.slice(Math.max(0, i - 200), i + 200)}`;
}

function tracesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tcptrace'))
    .map((f) => join(dir, f));
}

test('the fast path reads the examples, the mistakes, the capture fixtures and generated traces as the general path does', () => {
  for (const f of [...tracesIn(join(ROOT, 'examples')), ...tracesIn(join(ROOT, 'examples', 'mistakes')), ...tracesIn(join(ROOT, 'test', 'fixtures', 'captures', 'expected'))]) {
    const text = readFileSync(f, 'utf8');
    assertSameParse(text, f);
    assertSameParse(text.replace(/\n/g, '\r\n'), `${f} (CRLF)`);
  }
  for (let seed = 1; seed <= 200; seed++) assertSameParse(generateTrace(randomPlan(seed)).text, `plan ${seed}`);
  let long = '';
  writeLongTrace(5000, 77, (chunk) => {
    long += chunk;
  });
  assertSameParse(long, 'long trace');
});

// Lines that are nearly the fast path's: each piece mostly valid, sometimes slightly off.
const mostly = <T>(valid: fc.Arbitrary<T>, off: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: off });
const timeArb = mostly(
  fc.oneof(
    fc.constantFrom('', '0.5 ', '+10ms ', '1us ', '3s ', '.5 ', '1. ', '+0 ', '1.25us\t', '0.000001 '),
    fc.tuple(fc.nat({ max: 10_000_000 }), fc.nat({ max: 999_999 })).map(([a, b]) => `${a}.${String(b).padStart(6, '0')} `),
  ),
  fc.constantFrom('+2MSL ', '+ ', '. ', '3S ', '3ms', '99999999999999999999.5 ', '1x ', '1.2.3 ', '7m ', '1MS ', '2msl '),
);
const nameArb = mostly(fc.constantFrom('client', 'server', 'a', 'B', 'Client', '_x1'), fc.constantFrom('deliver', 'as', 'seq', '9a', '', 'é', 'cl\u0131ent', 'server\u0131', '\u0161'));
const arrowArb = mostly(fc.constantFrom('->', '-x', '-X', '~>'), fc.constantFrom('-', '>', '~', '=>', '', '->>'));
const spaceArb = fc.constantFrom('', ' ', ' ', '  ', '\t', ' \t ');
const flagWordArb = mostly(fc.constantFrom('SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR', 'ack', 'Syn'), fc.constantFrom('SYNACK', 'XYZ', 'AC', '', 'ACKS'));
const flagsArb = mostly(
  fc.array(flagWordArb, { minLength: 1, maxLength: 3 }).chain((ws) => fc.constantFrom(',', ', ', ' ,', '+').map((sep) => ws.join(sep))),
  fc.constantFrom('[S.]', '[.]', '[]', '[S', 'ACK ACK'),
);
const numArb = mostly(
  fc.oneof(fc.constantFrom('0', '1', '14', '15', '65535', '65536', '2147483647', '2147483648', '4294967295', '4294967296'), fc.nat().map(String), fc.double({ min: 0, max: 2 ** 33, noNaN: true }).map((d) => String(Math.floor(d)))),
  fc.constantFrom('0x10', '0X1f', '0x', 'x', 'x+1', 'y-2', '01', '', '1a', '99999999999999999999', '-1', '1,2'),
);
const fieldArb = mostly(
  fc.tuple(fc.constantFrom('seq', 'ack', 'len', 'win', 'urg', 'mss', 'wscale', 'SEQ', 'Win', 'Wscale'), numArb).map(([k, v]) => `${k}=${v}`),
  fc.oneof(
    fc.tuple(fc.constantFrom('sack', 'ts', 'data', 'foo', 'se', 'seqq'), numArb).map(([k, v]) => `${k}=${v}`),
    fc.constantFrom('sackok', 'SACKOK', 'sackok=1', 'sack=1-2', 'ts=1:2', 'data="a b"', 'data="#"', 'as f1', 'as', 'as 1', 'AS f2', 'as f1 x', 'seq', 'seq =1', '=', '# comment', 'as f1 # c'),
  ),
);
const segLineArb = fc
  .tuple(spaceArb, timeArb, nameArb, spaceArb, arrowArb, spaceArb, nameArb, spaceArb, mostly(fc.constantFrom(':', ': ', ' : '), fc.constant('')), flagsArb, fc.array(fc.tuple(spaceArb, fieldArb), { maxLength: 7 }), spaceArb)
  .map(([s0, t, a, s1, arrow, s2, b, s3, colon, flags, fields, s4]) => `${s0}${t}${a}${s1}${arrow}${s2}${b}${s3}${colon}${flags}${fields.map(([s, f]) => `${s || ' '}${f}`).join('')}${s4}`);
const deliverLineArb = fc
  .tuple(timeArb, mostly(fc.constantFrom('deliver', 'Deliver', 'DELIVER'), fc.constantFrom('delivery', 'deliver:', 'deliver-')), spaceArb, mostly(fc.constantFrom('f1', 'f2', 'F_3'), fc.constantFrom('', '1f', 'f1 x', 'f1#c')), spaceArb)
  .map(([t, kw, s, l, e]) => `${t}${kw}${s || ' '}${l}${e}`);
const docArb = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: segLineArb },
      { weight: 2, arbitrary: deliverLineArb },
      { weight: 1, arbitrary: fc.constantFrom('client: connect', 'server: listen', 'expect client ESTABLISHED', 'title "t"', '== s ==', '', '# c') },
    ),
    { maxLength: 25 },
  )
  .chain((lines) => fc.constantFrom('\n', '\r\n', '\r').map((eol) => lines.join(eol)));

test('the fast path reads near-miss event lines as the general path does', () => {
  fc.assert(
    fc.property(docArb, (text) => assertSameParse(text)),
    params(3000),
  );
});

test('the fast path reads arbitrary text as the general path does', () => {
  const unit = fc.oneof(
    fc.constantFrom(' ', '\t', '\n', '\r', '-', '>', '~', ':', ',', '=', '#', '"', '.', '+', 'x', 'a', '0', '9', 's', 'é', '→', '😀', ...ALIASES),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 300 }), (text) => assertSameParse(text)),
    params(1000),
  );
});

test('the fast path reads characters beyond ASCII that share a low byte with ASCII as the general path does', () => {
  for (const a of ALIASES) {
    for (const line of [`client ->${a}server: SYN seq=1`, `0.5 client -> server: ACK seq=1${a} win=2`, `client -> server: ACK seq=1 wi${a}=2`, `deliver f${a}`, `1${a}5 client -> server: SYN`, `client -${a} server: SYN`, `client -> server${a} SYN`]) {
      assertSameParse(line, JSON.stringify(line));
      assertSameParse(`${line}\nclient -> server: SYN seq=1\n`, JSON.stringify(line));
    }
  }
});

test('the fast path reads documents longer than its window of character codes as the general path does', () => {
  // Lines that straddle the 64 KB windows at every offset, characters beyond ASCII near the edges, a line longer than a window.
  fc.assert(
    fc.property(fc.array(fc.oneof(segLineArb, deliverLineArb, fc.constantFrom('é', '→ x', ALIASES[0])), { minLength: 1, maxLength: 12 }), fc.nat({ max: 90 }), (lines, pad) => {
      const block = lines.join('\n');
      let text = `# ${'x'.repeat(pad)}\n`;
      while (text.length < 70_000) text += `${block}\n`;
      assertSameParse(text);
    }),
    params(60),
  );
  const longLine = `note over client: ${'y'.repeat(70_000)}`;
  assertSameParse(`client -> server: SYN seq=1\n${longLine}\nclient -> server: ACK seq=2 ack=3 win=4\n${longLine}é\nserver -> client: ACK seq=3 ack=2 win=1`);
});
