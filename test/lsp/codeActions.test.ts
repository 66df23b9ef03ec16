import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { check } from '../../src/core';
import { LspClient, ROOT } from './support/lsp-client';

/** Two off-by-one acknowledgments (TT302) with fixes, on lines 2 and 5. */
const TWO_OFF_BY_ONE = `server: listen
client -> server: SYN seq=1000
server -> client: SYN,ACK seq=5000 ack=1000
client -> server: ACK seq=1001 ack=5000
client -> server: FIN,ACK seq=1001 ack=5001
server -> client: ACK seq=5001 ack=1001
server -> client: FIN,ACK seq=5001 ack=1002
client -> server: ACK seq=1002 ack=5001
client: timeout
`;

describe('code actions over LSP', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start();
  });
  after(() => c.stop());

  const actionsFor = (uri: string, diagnostics: Diagnostic[], only?: string[]): Promise<CodeAction[]> =>
    c.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics, ...(only ? { only } : {}) },
    });

  async function applyAndRecheck(uri: string, action: CodeAction): Promise<Diagnostic[]> {
    const edits = action.edit?.changes?.[uri] as TextEdit[] | undefined;
    assert.ok(edits && edits.length > 0, `${action.title} has edits`);
    await c.applyEdits(uri, edits);
    return (await c.waitForDiagnostics(uri)).diagnostics;
  }

  test('every quick fix the checker offers in the examples, applied through LSP, removes its diagnostic', async () => {
    let applied = 0;
    for (const dir of ['examples', 'examples/mistakes']) {
      for (const f of readdirSync(join(ROOT, dir)).filter((x) => x.endsWith('.tcptrace'))) {
        const text = readFileSync(join(ROOT, dir, f), 'utf8');
        const fixable = check(text).diagnostics.filter((d) => d.fixes.length > 0);
        for (const [i, core] of fixable.entries()) {
          const uri = `file:///${dir}/${i}-${f}`;
          await c.open(uri, text);
          const published = (await c.waitForDiagnostics(uri)).diagnostics;
          const lsp = published.find((d) => d.code === core.code && d.range.start.line === core.line && d.range.start.character === core.start);
          assert.ok(lsp, `${f}: ${core.code} published`);
          const actions = await actionsFor(uri, [lsp]);
          const fix = actions.find((a) => a.title === core.fixes[0].title);
          assert.ok(fix, `${f}: '${core.fixes[0].title}' offered; got ${actions.map((a) => a.title).join(', ')}`);
          assert.equal(fix.kind, 'quickfix');
          assert.equal(fix.isPreferred, core.fixes[0].preferred);
          assert.deepEqual(fix.diagnostics, [lsp]);
          // Lines inserted above move the fixed line down.
          const shift = (fix.edit!.changes![uri] as TextEdit[])
            .filter((e) => e.range.start.line <= core.line)
            .reduce((n, e) => n + e.newText.split('\n').length - 1, 0);
          const afterFix = await applyAndRecheck(uri, fix);
          // The diagnostic is gone from its line (a later one that it masked may now show: that is the checker's business).
          assert.ok(
            !afterFix.some((d) => d.code === core.code && d.range.start.line === core.line + shift),
            `${f}: ${core.code} fixed by '${fix.title}':\n${c.texts.get(uri)}`,
          );
          // The server's view of the edited text is the editor's.
          assert.deepEqual(
            afterFix.map((d) => d.message),
            check(c.texts.get(uri)!).diagnostics.map((d) => d.message),
          );
          applied++;
        }
      }
    }
    assert.ok(applied >= 8, `applied ${applied} fixes`);
  });

  test('"fix all of this kind" fixes every fixable diagnostic with that code in one edit', async () => {
    const uri = 'file:///fixall.tcptrace';
    await c.open(uri, TWO_OFF_BY_ONE);
    const published = (await c.waitForDiagnostics(uri)).diagnostics;
    const tt302 = published.filter((d) => d.code === 'TT302');
    // Line 8 acknowledges the server's FIN with 5001 (it needs 5002): the third off-by-one.
    assert.deepEqual(
      tt302.map((d) => d.range.start.line),
      [2, 5, 7],
    );
    const actions = await actionsFor(uri, [tt302[0]]);
    const all = actions.find((a) => a.title.startsWith('Fix all TT302'));
    assert.ok(all, actions.map((a) => a.title).join(', '));
    assert.equal(all.kind, 'quickfix');
    assert.equal(all.diagnostics?.length, 3);
    const afterFix = await applyAndRecheck(uri, all);
    assert.equal(c.texts.get(uri)!.split('\n')[2], 'server -> client: SYN,ACK seq=5000 ack=1001');
    assert.equal(c.texts.get(uri)!.split('\n')[5], 'server -> client: ACK seq=5001 ack=1002');
    assert.equal(c.texts.get(uri)!.split('\n')[7], 'client -> server: ACK seq=1002 ack=5002');
    // The fixed lines are clean; line 4's own slip (ack=5000), masked until the SYN,ACK was accepted, may now show.
    assert.ok(!afterFix.some((d) => d.code === 'TT302' && [2, 5, 7].includes(d.range.start.line)));
  });

  test('no "fix all" when the code occurs once', async () => {
    const text = readFileSync(join(ROOT, 'examples/mistakes/ack-of-syn-off-by-one.tcptrace'), 'utf8');
    const uri = 'file:///once.tcptrace';
    await c.open(uri, text);
    const d = (await c.waitForDiagnostics(uri)).diagnostics.filter((x) => x.code === 'TT302');
    const actions = await actionsFor(uri, d);
    assert.equal(actions.length, 1);
  });

  test('source.fixAll applies every unambiguous fix; a quickfix-only request never includes it', async () => {
    const uri = 'file:///sourcefixall.tcptrace';
    await c.open(uri, TWO_OFF_BY_ONE);
    const published = (await c.waitForDiagnostics(uri)).diagnostics;
    const onlyQuick = await actionsFor(uri, published, ['quickfix']);
    assert.ok(onlyQuick.every((a) => a.kind === 'quickfix'));
    const fixAll = await actionsFor(uri, [], ['source.fixAll']);
    assert.equal(fixAll.length, 1);
    assert.equal(fixAll[0].kind, 'source.fixAll.tcptrace');
    const fixedCount = check(TWO_OFF_BY_ONE).diagnostics.filter((d) => d.fixes.length > 0).length;
    assert.equal(fixAll[0].diagnostics?.length, fixedCount);
    // `source` (the parent kind) asks for it too.
    assert.deepEqual(
      (await actionsFor(uri, [], ['source'])).map((a) => a.kind),
      ['source.fixAll.tcptrace'],
    );
    await applyAndRecheck(uri, fixAll[0]);
    const text = c.texts.get(uri)!;
    assert.match(text.split('\n')[2], /ack=1001$/);
    assert.match(text.split('\n')[5], /ack=1002$/);
  });

  test('fixes that insert a line (missing listen) and fixes on one line combine without conflicts', async () => {
    // Two fixable problems: no listen (a line to insert) and the off-by-one ACK of the SYN,ACK.
    const text = 'client -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK seq=1001 ack=5000\n';
    assert.deepEqual(
      check(text).diagnostics.filter((d) => d.fixes.length > 0).map((d) => d.code),
      ['TT200', 'TT302'],
    );
    const uri = 'file:///combine.tcptrace';
    await c.open(uri, text);
    await c.waitForDiagnostics(uri);
    const fixAll = await actionsFor(uri, [], ['source.fixAll']);
    assert.equal(fixAll.length, 1);
    const afterFix = await applyAndRecheck(uri, fixAll[0]);
    assert.equal(c.texts.get(uri), 'server: listen\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK seq=1001 ack=5001\n');
    assert.ok(!afterFix.some((d) => d.severity === 1), JSON.stringify(afterFix));
  });
});
