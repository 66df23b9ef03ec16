import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { check } from '../../src/core';
import { LspClient } from './support/lsp-client';

/** Lines a person might type, complete or half-written, plus noise. */
const line = fc.oneof(
  fc.constantFrom(
    'server: listen',
    'client: connect',
    'client -> server: SYN seq=1000',
    'server -> client: SYN,ACK seq=5000 ack=1001',
    'client -> server: ACK',
    'client -> server: PSH,ACK len=10',
    'client ~> server: FIN,ACK as f1',
    'deliver f1',
    'deliver nope',
    'expect client ESTABLISHED, server SYN-RECEIVED',
    'note over client, server: "text # not a comment"',
    '== Section ==',
    'title "T"',
    'endpoint client 10.0.0.1:1 as "c"',
    'option states=rfc',
    'client -> server: SYN seq=x',
    'server -> client: SYN,ACK seq=y ack=x+1',
    '+10ms client: close',
    'client -> server: [F.] seq=u',
    'third -> client: RST',
    '',
    '# comment',
  ),
  // Half-typed lines: every prefix of a segment line.
  fc.nat(40).map((n) => 'client -> server: PSH,ACK seq=1001 ack=5001 len=5 data="x"'.slice(0, n)),
  fc.string({ maxLength: 25 }),
);

describe('robustness: any document, any position, every request answers', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start();
  });
  after(() => c.stop());

  test('random documents and positions', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 14 }), fc.array(fc.tuple(fc.nat(20), fc.nat(70)), { minLength: 1, maxLength: 4 }), async (lines, positions) => {
        const text = lines.join('\n');
        const uri = `file:///robust-${n++}.tcptrace`;
        await c.open(uri, text);
        const published = await c.waitForDiagnostics(uri);
        assert.deepEqual(
          published.diagnostics.map((d) => d.code),
          check(text).diagnostics.map((d) => d.code),
        );
        const doc = { textDocument: { uri } };
        const whole = { start: { line: 0, character: 0 }, end: { line: lines.length + 1, character: 0 } };
        await c.request('textDocument/documentSymbol', doc);
        await c.request('textDocument/foldingRange', doc);
        await c.request('textDocument/semanticTokens/full', doc);
        await c.request('textDocument/inlayHint', { ...doc, range: whole });
        await c.request('textDocument/formatting', { ...doc, options: { tabSize: 2, insertSpaces: true } });
        await c.request('textDocument/codeAction', { ...doc, range: whole, context: { diagnostics: published.diagnostics } });
        await c.request('textDocument/codeAction', { ...doc, range: whole, context: { diagnostics: [], only: ['source.fixAll'] } });
        for (const [l, ch] of positions) {
          // Positions inside the document (clamped) and past its end.
          const ln = lines.length === 0 ? 0 : l % (lines.length + 1);
          const position = { line: ln, character: Math.min(ch, (lines[ln] ?? '').length) };
          const at = { ...doc, position };
          await c.request('textDocument/hover', at);
          await c.request('textDocument/completion', at);
          await c.request('textDocument/definition', at);
          await c.request('textDocument/references', { ...at, context: { includeDeclaration: true } });
          await c.request('textDocument/documentHighlight', at);
          await c.request('textDocument/prepareRename', at);
          await c.request('tcptrace/statesAt', at);
        }
        await c.conn.sendNotification('textDocument/didClose', doc);
      }),
      { numRuns: 60 },
    );
    assert.equal(n, 60, 'every generated document went through');
    assert.equal(c.child.exitCode, null, 'the server is still running');
  });

  test("random incremental edits: the server's text stays the editor's", async () => {
    let n = 0;
    const base = 'server: listen\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK\n';
    const edit = fc.record({ l1: fc.nat(8), c1: fc.nat(50), len: fc.nat(30), text: fc.oneof(fc.constantFrom('', '\n', 'ack=', ' FIN', 'client -> server: ACK\n', '# x', '"', 'é'), fc.string({ maxLength: 8 })) });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
        const uri = `file:///edits-${n++}.tcptrace`;
        await c.open(uri, base);
        await c.waitForDiagnostics(uri);
        for (const e of edits) {
          const lines = c.texts.get(uri)!.split('\n');
          const l1 = e.l1 % lines.length;
          const c1 = Math.min(e.c1, lines[l1].length);
          // The end: `len` characters further, possibly on later lines.
          let l2 = l1;
          let c2 = c1 + e.len;
          while (c2 > lines[l2].length && l2 + 1 < lines.length) {
            c2 -= lines[l2].length + 1;
            l2++;
          }
          c2 = Math.min(c2, lines[l2].length);
          await c.change(uri, [{ range: { start: { line: l1, character: c1 }, end: { line: l2, character: c2 } }, text: e.text }]);
        }
        const published = await c.waitForDiagnostics(uri);
        assert.deepEqual(
          published.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character, d.message]),
          check(c.texts.get(uri)!).diagnostics.map((d) => [d.code, d.line, d.start, d.message]),
        );
        await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
      }),
      { numRuns: 40 },
    );
    assert.equal(n, 40);
  });

  test('random edits to a long trace, each batch checked incrementally from the last: the same diagnostics as a fresh check', async () => {
    // Long enough for several snapshots, with a retransmission in every round (diagnostics everywhere).
    const rounds: string[] = [];
    let seq = 1001;
    for (let i = 0; i < 400; i++) {
      rounds.push(`client -> server: PSH,ACK seq=${seq} ack=5001 len=10`, `client -> server: PSH,ACK seq=${seq} ack=5001 len=10`, `server -> client: ACK seq=5001 ack=${seq + 10}`);
      seq += 10;
    }
    const base = ['server: listen', 'client -> server: SYN seq=1000', 'server -> client: SYN,ACK seq=5000 ack=1001', 'client -> server: ACK seq=1001 ack=5001', ...rounds, ''].join('\n');
    const line = fc.nat(base.split('\n').length - 2);
    const change = fc.record({
      line,
      kind: fc.constantFrom('replace-number', 'insert-line', 'delete-line', 'comment'),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(change, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        const uri = `file:///long-${n++}.tcptrace`;
        await c.open(uri, base);
        await c.waitForDiagnostics(uri, 60_000);
        for (const batch of batches) {
          // Each change is made against the text the previous ones left, as an editor sends them.
          for (const e of batch) {
            const lines = c.texts.get(uri)!.split('\n');
            const l = Math.min(e.line, lines.length - 2);
            const text = lines[l];
            const m = /ack=(\d+)/.exec(text);
            const ch =
              e.kind === 'insert-line'
                ? { range: { start: { line: l, character: 0 }, end: { line: l, character: 0 } }, text: 'note over client: hi\n' }
                : e.kind === 'delete-line'
                  ? { range: { start: { line: l, character: 0 }, end: { line: l + 1, character: 0 } }, text: '' }
                  : e.kind === 'comment' || !m
                    ? { range: { start: { line: l, character: text.length }, end: { line: l, character: text.length } }, text: ' # seen' }
                    : { range: { start: { line: l, character: m.index + 4 }, end: { line: l, character: m.index + 4 + m[1].length } }, text: String(Number(m[1]) + 1) };
            // One didChange per edit of the batch; the server checks once they stop coming.
            await c.change(uri, [ch]);
          }
          const published = await c.waitForDiagnostics(uri, 60_000);
          assert.deepEqual(
            published.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character, d.message]),
            check(c.texts.get(uri)!).diagnostics.map((d) => [d.code, d.line, d.start, d.message]),
          );
        }
        await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
      }),
      { numRuns: 15, seed: 1121 },
    );
  });
});
