import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './support/lsp-client';
import { scopesOf, toJsRegex, Tokenizer, type Grammar } from './support/textmate';

const grammar = JSON.parse(readFileSync(join(ROOT, 'syntaxes/tcptrace.tmLanguage.json'), 'utf8')) as Grammar;

/** Tokenizes one line with a fresh tokenizer. */
const tok = (line: string): ReturnType<Tokenizer['line']> => new Tokenizer(grammar).line(line);
const has = (line: string, needle: string, scope: string, occurrence = 0): void => {
  const scopes = scopesOf(tok(line), needle, occurrence);
  assert.ok(scopes.includes(scope), `'${needle}' in '${line}': expected ${scope}, got ${scopes.join(' ')}`);
};
const lacks = (line: string, needle: string, scope: string): void => {
  const scopes = scopesOf(tok(line), needle);
  assert.ok(!scopes.includes(scope), `'${needle}' in '${line}' must not be ${scope}: ${scopes.join(' ')}`);
};

describe('TextMate grammar (colouring before the server answers)', () => {
  test('the (?i:...) rewrite used by this test keeps its meaning', () => {
    assert.equal(toJsRegex('\\b(?i:ack|syn)\\b'), '\\b(?:[aA][cC][kK]|[sS][yY][nN])\\b');
    assert.ok(new RegExp(toJsRegex('^(?i:title)$')).test('TiTlE'));
  });

  test('comments, also after a statement, but not inside strings', () => {
    has('# a comment', '# a comment', 'comment.line.number-sign.tcptrace');
    has('client: connect # why', '# why', 'comment.line.number-sign.tcptrace');
    has('client ~> server: PSH,ACK data="a#b" as f1 # c', '"', 'string.quoted.double.tcptrace');
    lacks('client ~> server: PSH,ACK data="a#b" as f1 # c', 'a#b', 'comment.line.number-sign.tcptrace');
    has('client ~> server: PSH,ACK data="a#b" as f1 # c', 'f1', 'entity.name.label.tcptrace');
    has('client ~> server: PSH,ACK data="a\\x41" as f1', '\\x41', 'constant.character.escape.tcptrace');
  });

  test('header statements', () => {
    has('title "GET / over TCP"', 'title', 'keyword.other.title.tcptrace');
    has('title "GET / over TCP"', 'GET / over TCP', 'string.quoted.double.tcptrace');
    has('Title plain words', 'plain words', 'string.unquoted.title.tcptrace');
    const ep = 'endpoint client 10.0.0.1:40000 as "Laptop"';
    has(ep, 'endpoint', 'keyword.other.endpoint.tcptrace');
    has(ep, 'client', 'variable.other.endpoint.tcptrace');
    has(ep, '10.0.0.1:40000', 'constant.other.address.tcptrace');
    has(ep, 'as', 'keyword.other.as.tcptrace');
    has('endpoint server [2001:db8::1]:443', '[2001:db8::1]:443', 'constant.other.address.tcptrace');
    has('option states=rfc', 'option', 'keyword.other.option.tcptrace');
    has('option states=rfc', 'states', 'support.type.property-name.option.tcptrace');
    has('option states=rfc', 'rfc', 'constant.other.option-value.tcptrace');
    has('== Handshake ==', 'Handshake', 'entity.name.section.tcptrace');
  });

  test('segments: time, endpoints, arrow, flags, fields, symbols, options', () => {
    const seg = '0.250 client -> server: SYN,ACK seq=x+1 ack=5001 len=10 mss=1460 sackok # c';
    has(seg, '0.250', 'constant.numeric.time.tcptrace');
    has(seg, 'client', 'variable.other.endpoint.tcptrace');
    has(seg, '->', 'keyword.operator.arrow.tcptrace');
    has(seg, 'server', 'variable.other.endpoint.tcptrace');
    has(seg, 'SYN', 'constant.language.flag.tcptrace');
    has(seg, 'ACK', 'constant.language.flag.tcptrace');
    has(seg, 'seq', 'support.type.property-name.field.tcptrace');
    has(seg, 'x', 'variable.parameter.symbol.tcptrace');
    has(seg, '+', 'keyword.operator.arithmetic.tcptrace');
    has(seg, '5001', 'constant.numeric.tcptrace');
    has(seg, 'ack', 'support.type.property-name.field.tcptrace');
    lacks(seg, 'ack', 'constant.language.flag.tcptrace');
    has(seg, 'mss', 'entity.other.attribute-name.option.tcptrace');
    has(seg, 'sackok', 'entity.other.attribute-name.option.tcptrace');
    has(seg, '# c', 'comment.line.number-sign.tcptrace');
    has('client -> server: [S.] seq=1', '[S.]', 'constant.language.flag.tcpdump.tcptrace');
    has('+10ms a -x b: rst', '+10ms', 'constant.numeric.time.tcptrace');
    has('+10ms a -x b: rst', 'rst', 'constant.language.flag.tcptrace');
    has('a ~> b: ACK seq=0x3e8 as late', '0x3e8', 'constant.numeric.tcptrace');
  });

  test('calls, expect, note, deliver', () => {
    has('server: listen backlog=8', 'listen', 'support.function.call.tcptrace');
    has('server: listen backlog=8', 'backlog', 'variable.parameter.argument.tcptrace');
    has('server: listen backlog=8', '8', 'constant.numeric.tcptrace');
    has('client: frobnicate', 'frobnicate', 'invalid.illegal.call.tcptrace');
    has('client: send "GET /"', '"', 'string.quoted.double.tcptrace');
    const ex = 'expect client SYN-RECEIVED, server ESTABLISHED';
    has(ex, 'expect', 'keyword.other.expect.tcptrace');
    has(ex, 'SYN-RECEIVED', 'constant.language.state.tcptrace');
    has(ex, 'server', 'variable.other.endpoint.tcptrace');
    has(ex, 'ESTABLISHED', 'constant.language.state.tcptrace');
    const note = 'note over client, server: both # c';
    has(note, 'note', 'keyword.other.note.tcptrace');
    has(note, 'over', 'keyword.other.over.tcptrace');
    has(note, 'server', 'variable.other.endpoint.tcptrace');
    has(note, ' both ', 'string.unquoted.note.tcptrace');
    has(note, '# c', 'comment.line.number-sign.tcptrace');
    has('1.5 deliver f1', 'deliver', 'keyword.other.deliver.tcptrace');
    has('1.5 deliver f1', 'f1', 'entity.name.label.tcptrace');
  });

  test('a keyword used as an endpoint name is an endpoint', () => {
    has('note -> server: SYN', 'note', 'variable.other.endpoint.tcptrace');
    lacks('note -> server: SYN', 'note', 'keyword.other.note.tcptrace');
    has('title: close', 'close', 'support.function.call.tcptrace');
  });

  test('the Markdown injection recognises ```tcptrace fences', () => {
    const md = JSON.parse(readFileSync(join(ROOT, 'syntaxes/tcptrace.markdown.tmLanguage.json'), 'utf8'));
    const block = md.repository['tcptrace-code-block'];
    assert.ok(new RegExp(toJsRegex(block.begin.replace(/\\G/g, ''))).test('```tcptrace'));
    assert.ok(new RegExp(toJsRegex(block.begin.replace(/\\G/g, ''))).test('~~~ TCPTRACE'));
    assert.ok(!new RegExp(toJsRegex(block.begin.replace(/\\G/g, ''))).test('```js'));
    assert.equal(block.patterns[0].patterns[0].include, 'source.tcptrace');
  });

  test('every example line is coloured without invalid scopes', () => {
    for (const f of ['examples/handshake.tcptrace', 'examples/symbolic.tcptrace', 'examples/simultaneous-close.tcptrace', 'examples/window-scaling.tcptrace']) {
      const t = new Tokenizer(grammar);
      for (const line of readFileSync(join(ROOT, f), 'utf8').split('\n')) {
        const tokens = t.line(line);
        assert.equal(tokens.map((x) => x.text).join(''), line, 'tokens cover the line');
        assert.ok(!tokens.some((x) => x.scopes.some((s) => s.startsWith('invalid'))), `${f}: ${line}`);
        if (line.trim() !== '' && !line.startsWith('#')) {
          assert.ok(tokens.some((x) => x.scopes.length > 1), `${f}: '${line}' gets some colour`);
        }
      }
    }
  });
});
