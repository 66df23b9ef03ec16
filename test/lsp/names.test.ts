import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentHighlight, Location, Range, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { check } from '../../src/core';
import { applyTextEdits, LspClient, lineOf, posOf, ROOT } from './support/lsp-client';

const TEXT = `endpoint client 10.0.0.1:1 as "client laptop"
endpoint server 10.0.0.2:80
server: listen
client -> server: SYN seq=x
server -> client: SYN,ACK seq=y ack=x+1
client ~> server: ACK seq=x+1 ack=y+1 as late
note over client, server: the client waits
deliver late
expect client ESTABLISHED, server ESTABLISHED
`;

describe('rename, references, definition, highlights', () => {
  let c: LspClient;
  const uri = 'file:///names.tcptrace';
  before(async () => {
    c = await LspClient.start();
    await c.open(uri, TEXT);
  });
  after(() => c.stop());

  const texts = (locs: { range: Range }[]): string[] => locs.map((l) => `${l.range.start.line}:${TEXT.split('\n')[l.range.start.line].slice(l.range.start.character, l.range.end.character)}`);

  test('references of an endpoint: every use, not the note text or the label string', async () => {
    const refs = await c.request<Location[]>('textDocument/references', { textDocument: { uri }, position: posOf(TEXT, 3, 'client'), context: { includeDeclaration: true } });
    assert.deepEqual(texts(refs), ['0:client', '3:client', '4:client', '5:client', '6:client', '8:client']);
    const noDecl = await c.request<Location[]>('textDocument/references', { textDocument: { uri }, position: posOf(TEXT, 3, 'client'), context: { includeDeclaration: false } });
    assert.equal(noDecl.length, refs.length - 1);
    assert.ok(!texts(noDecl).includes('0:client'));
  });

  test('references of a symbol and of a label', async () => {
    const x = await c.request<Location[]>('textDocument/references', { textDocument: { uri }, position: posOf(TEXT, 4, 'x+1'), context: { includeDeclaration: true } });
    assert.deepEqual(texts(x), ['3:x', '4:x', '5:x']);
    const late = await c.request<Location[]>('textDocument/references', { textDocument: { uri }, position: posOf(TEXT, 7, 'late', 2), context: { includeDeclaration: true } });
    assert.deepEqual(texts(late), ['5:late', '7:late']);
  });

  test('go to definition: declaration, binding, `as LABEL`', async () => {
    const def = (line: number, needle: string, offset = 0): Promise<Location> =>
      c.request<Location>('textDocument/definition', { textDocument: { uri }, position: posOf(TEXT, line, needle, offset) });
    assert.deepEqual(texts([await def(8, 'server')]), ['1:server']);
    assert.deepEqual(texts([await def(5, 'y+1')]), ['4:y']);
    assert.deepEqual(texts([await def(7, 'late')]), ['5:late']);
    // An undeclared endpoint is defined by its first use.
    const u = 'file:///undeclared.tcptrace';
    const t = 'a -> b: SYN\nb -> a: RST,ACK\n';
    await c.open(u, t);
    const d = await c.request<Location>('textDocument/definition', { textDocument: { uri: u }, position: { line: 1, character: 0 } });
    assert.deepEqual(d.range, { start: { line: 0, character: 5 }, end: { line: 0, character: 6 } });
  });

  test('document highlights mark the definition as a write', async () => {
    const hs = await c.request<DocumentHighlight[]>('textDocument/documentHighlight', { textDocument: { uri }, position: posOf(TEXT, 5, 'late') });
    assert.deepEqual(
      hs.map((h) => [h.range.start.line, h.kind]),
      [
        [5, 3],
        [7, 2],
      ],
    );
  });

  test('rename an endpoint, a symbol, a label: the text still checks the same', async () => {
    for (const [line, needle, newName] of [
      [3, 'server', 'web'],
      [4, 'y', 'isn_s'],
      [7, 'late', 'delayed'],
    ] as const) {
      const pos = posOf(TEXT, line, needle);
      const prep = await c.request<{ range: Range; placeholder: string }>('textDocument/prepareRename', { textDocument: { uri }, position: pos });
      assert.equal(prep.placeholder, needle);
      const edit = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: pos, newName });
      const renamed = applyTextEdits(TEXT, edit.changes![uri] as TextEdit[]);
      assert.ok(!renamed.includes(` ${needle} `) || needle === 'server', renamed);
      const before = check(TEXT);
      const after = check(renamed);
      assert.deepEqual(
        after.diagnostics.map((d) => [d.code, d.line]),
        before.diagnostics.map((d) => [d.code, d.line]),
      );
      assert.deepEqual(
        Array.from({ length: after.timeline.length }, (_, i) => [after.timeline.state(i, 0), after.timeline.state(i, 1)]),
        Array.from({ length: before.timeline.length }, (_, i) => [before.timeline.state(i, 0), before.timeline.state(i, 1)]),
      );
    }
    const edit = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: posOf(TEXT, 3, 'server'), newName: 'web' });
    const renamed = applyTextEdits(TEXT, edit.changes![uri] as TextEdit[]);
    assert.equal(renamed.split('\n')[lineOf(renamed, 'note')], 'note over client, web: the client waits');
    assert.equal(renamed.split('\n')[0], 'endpoint client 10.0.0.1:1 as "client laptop"', 'strings are prose, not names');
  });

  test('rename refuses invalid names and merges', async () => {
    const pos = posOf(TEXT, 3, 'server');
    await assert.rejects(c.request('textDocument/rename', { textDocument: { uri }, position: pos, newName: '2nd' }), /not a valid endpoint name/);
    await assert.rejects(c.request('textDocument/rename', { textDocument: { uri }, position: pos, newName: 'client' }), /already an endpoint named 'client'/);
    await assert.rejects(c.request('textDocument/rename', { textDocument: { uri }, position: posOf(TEXT, 4, 'y'), newName: 'x' }), /already a symbol named 'x'/);
    // `over` right after `note` would be read as the keyword.
    const u = 'file:///note-over.tcptrace';
    await c.open(u, 'client -> server: SYN\nnote client: waiting\n');
    await assert.rejects(c.request('textDocument/rename', { textDocument: { uri: u }, position: { line: 0, character: 0 }, newName: 'over' }), /change how some lines read/);
    // ... but not after `note over`, where it is a name again.
    const ok = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: posOf(TEXT, 3, 'client'), newName: 'over' });
    assert.equal(applyTextEdits(TEXT, ok.changes![uri] as TextEdit[]).split('\n')[6], 'note over over, server: the client waits');
    const prep = await c.request('textDocument/prepareRename', { textDocument: { uri }, position: posOf(TEXT, 3, 'SYN') });
    assert.equal(prep, null);
  });

  test('an example renamed end to end keeps its diagnostics', async () => {
    const text = readFileSync(join(ROOT, 'examples/mistakes/ack-of-syn-off-by-one.tcptrace'), 'utf8');
    const u = 'file:///rename-example.tcptrace';
    await c.open(u, text);
    const line = lineOf(text, 'client -> server: SYN');
    const edit = await c.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: u }, position: { line, character: 1 }, newName: 'laptop' });
    const renamed = applyTextEdits(text, edit.changes![u] as TextEdit[]);
    assert.ok(!/\bclient\b/.test(renamed.split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('title')).join('\n')));
    assert.deepEqual(
      check(renamed).diagnostics.map((d) => [d.code, d.line, d.start]),
      check(text).diagnostics.map((d) => [d.code, d.line, d.start]),
    );
  });
});
