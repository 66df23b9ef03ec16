import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import {
  activateExtension,
  codeOf,
  describeDiagnostics,
  lineOf,
  openFixture,
  openNewFile,
  readFixture,
  revert,
  waitFor,
  waitForDiagnostics,
} from './helpers';

function isCodeAction(a: vscode.CodeAction | vscode.Command): a is vscode.CodeAction {
  return !('command' in a && typeof a.command === 'string');
}

/** The lines an action edits in `doc`. */
function editedLines(a: vscode.CodeAction, doc: vscode.TextDocument): Set<number> {
  return new Set((a.edit?.get(doc.uri) ?? []).map((e) => e.range.start.line));
}

/** The quick fixes VS Code offers for `diagnostic`, edits resolved, once the server has answered. */
function quickFixesFor(doc: vscode.TextDocument, code: string, diagnostic: vscode.Diagnostic): Promise<vscode.CodeAction[]> {
  let seen: (vscode.CodeAction | vscode.Command)[] = [];
  const describe = (a: vscode.CodeAction | vscode.Command) =>
    isCodeAction(a) ? `"${a.title}" (${a.kind?.value ?? 'no kind'})` : `command "${a.title}"`;
  return waitFor(
    `a quick fix for ${code}`,
    async () => {
      seen =
        (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
          'vscode.executeCodeActionProvider',
          doc.uri,
          diagnostic.range,
          vscode.CodeActionKind.QuickFix.value,
          // Resolve the edits of lazily resolved actions.
          50,
        )) ?? [];
      // The API command does not hand back which diagnostics an action fixes: the range
      // asked for is the diagnostic's, so every quick fix offered there is for it.
      const fixes = seen.filter(isCodeAction).filter((a) => a.kind && vscode.CodeActionKind.QuickFix.contains(a.kind));
      return fixes.length > 0 ? fixes : undefined;
    },
    { timeoutMs: 15_000, describe: () => seen.map(describe).join('\n') || '(no code action)' },
  );
}

async function apply(fix: vscode.CodeAction): Promise<void> {
  assert.ok(fix.edit || fix.command, `"${fix.title}" has an edit or a command`);
  if (fix.edit) assert.equal(await vscode.workspace.applyEdit(fix.edit), true, `"${fix.title}" applied`);
  if (fix.command) await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
}

describe('quick fix', () => {
  let doc: vscode.TextDocument | undefined;
  before(activateExtension);
  after(async () => doc && revert(doc));

  it('for TT302 sets the expected ack, and the diagnostic disappears', async () => {
    doc = await openFixture('mistakes/syn-ack-off-by-one.tcptrace');
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    const diagnostics = await waitForDiagnostics(doc, 'TT302', (ds) => ds.some((d) => codeOf(d) === 'TT302'));
    const tt302 = diagnostics.find((d) => codeOf(d) === 'TT302')!;

    const actions = await quickFixesFor(doc, 'TT302', tt302);
    // The fix of this one diagnostic (an edit of its line only), not a "fix all" variant.
    const single = actions.filter((a) => {
      const lines = editedLines(a, doc!);
      return lines.size === 1 && lines.has(line);
    });
    const fix = single.find((a) => a.isPreferred) ?? single[0];
    assert.ok(fix, `a fix that edits line ${line + 1}, among: ${actions.map((a) => a.title).join(' | ')}`);
    await apply(fix);

    assert.match(doc.lineAt(line).text, /\back=1001\b/, 'the ack is set to the expected number');
    assert.doesNotMatch(doc.lineAt(line).text, /\back=1000\b/);
    const remaining = await waitForDiagnostics(doc, 'TT302 gone after the fix', (ds) => !ds.some((d) => codeOf(d) === 'TT302'));
    // The file is now the textbook exchange: nothing else may be left over either.
    assert.equal(
      remaining.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length,
      0,
      `no error left:\n${describeDiagnostics(remaining)}`,
    );
  });

  it('fixes every TT302 of a file at once ("fix all of this kind")', async () => {
    // Two off-by-one ACKs in the teardown: of the client's FIN, and of the server's FIN.
    // Neither changes what the sender of the other has received, so both are reported.
    const lines = (await readFixture('handshake.tcptrace')).split('\n');
    const finAck = lines.indexOf('server -> client: ACK seq=5001 ack=1102');
    const lastAck = lines.indexOf('client -> server: ACK seq=1102 ack=5002');
    assert.ok(finAck > 0 && lastAck > finAck, 'the fixture has both ACKs');
    lines[finAck] = 'server -> client: ACK seq=5001 ack=1101';
    lines[lastAck] = 'client -> server: ACK seq=1102 ack=5001';
    const two = await openNewFile('two-off-by-one.tcptrace', lines.join('\n'));
    const ds = await waitForDiagnostics(two, 'two TT302', (all) => all.filter((d) => codeOf(d) === 'TT302').length === 2);
    const first = ds.find((d) => codeOf(d) === 'TT302')!;
    const fixes = await quickFixesFor(two, 'TT302', first);
    // Told apart by what it does, not by its title: one action that edits both lines.
    const fixAll = fixes.find((a) => editedLines(a, two).size >= 2);
    assert.ok(fixAll, `an action fixing both, among: ${fixes.map((a) => a.title).join(' | ')}`);
    await apply(fixAll);
    await waitForDiagnostics(two, 'no TT302 left', (all) => !all.some((d) => codeOf(d) === 'TT302'));
    assert.equal(two.lineAt(finAck).text, 'server -> client: ACK seq=5001 ack=1102');
    assert.equal(two.lineAt(lastAck).text, 'client -> server: ACK seq=1102 ack=5002');
    await revert(two);
  });
});
