import * as assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import {
  activateExtension,
  codeOf,
  errorsOf,
  lineOf,
  openFixture,
  rangeOf,
  replaceOnLine,
  revert,
  waitForDiagnostics,
} from './helpers';

const MISTAKE = 'mistakes/syn-ack-off-by-one.tcptrace';

describe('diagnostics', () => {
  let opened: vscode.TextDocument[] = [];
  before(activateExtension);
  afterEach(async () => {
    for (const doc of opened) await revert(doc);
    opened = [];
  });

  it('reports the off-by-one ACK of a SYN as TT302 on the ack field', async () => {
    const doc = await openFixture(MISTAKE);
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    const diagnostics = await waitForDiagnostics(doc, 'TT302', (ds) => ds.some((d) => codeOf(d) === 'TT302'));
    const tt302 = diagnostics.filter((d) => codeOf(d) === 'TT302');
    assert.equal(tt302.length, 1, 'one TT302');
    const d = tt302[0]!;
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(d.range.start.line, line, 'on the SYN,ACK line');
    assert.equal(d.range.end.line, line, 'within the SYN,ACK line');
    // On the offending token, not the whole line: the range overlaps `ack=1000` and stays short.
    const ackField = rangeOf(doc, line, 'ack=1000');
    assert.ok(d.range.intersection(ackField) && !d.range.intersection(ackField)!.isEmpty, `range ${doc.getText(d.range)} is on ack=1000`);
    assert.ok(d.range.end.character - d.range.start.character <= 'ack=1000'.length, `range "${doc.getText(d.range)}" is the field only`);
    // The message says what was expected.
    assert.match(d.message, /1001/);
  });

  it('links diagnostic codes to their documentation', async () => {
    const doc = await openFixture(MISTAKE);
    const [d] = (await waitForDiagnostics(doc, 'TT302', (ds) => ds.some((x) => codeOf(x) === 'TT302'))).filter(
      (x) => codeOf(x) === 'TT302',
    );
    assert.ok(d && typeof d.code === 'object', 'code carries a target (LSP codeDescription)');
    assert.ok(d.code.target.toString().length > 0);
  });

  it('clears the diagnostic when the mistake is taken back, leaving the correct trace without error', async () => {
    const doc = await openFixture('handshake.tcptrace');
    // A clean file publishes nothing: first prove the server checks this document by
    // making a mistake as one would type it, then take it back.
    opened.push(doc);
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    await replaceOnLine(doc, line, 'ack=1001', 'ack=1000');
    await waitForDiagnostics(doc, 'TT302 after the edit', (ds) =>
      ds.some((d) => codeOf(d) === 'TT302' && d.range.start.line === line),
    );
    await replaceOnLine(doc, line, 'ack=1000', 'ack=1001');
    const after = await waitForDiagnostics(doc, 'no error after undoing the edit', (ds) => errorsOf(ds).length === 0);
    assert.deepEqual(errorsOf(after), []);
  });

  it('follows edits: a mistake typed later in the file is reported at its line', async () => {
    const doc = await openFixture('handshake.tcptrace');
    opened.push(doc);
    // The ACK of the FIN: FIN consumes one number too, so ack=1102 -> 1101 is TT302.
    const line = lineOf(doc, 'server -> client: ACK seq=5001 ack=1102');
    await replaceOnLine(doc, line, 'ack=1102', 'ack=1101');
    const ds = await waitForDiagnostics(doc, 'TT302 on the ACK of the FIN', (all) =>
      all.some((d) => codeOf(d) === 'TT302' && d.range.start.line === line),
    );
    assert.ok(errorsOf(ds).every((d) => d.range.start.line >= line), 'nothing before the edit is reported');
  });
});
