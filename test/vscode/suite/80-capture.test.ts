// Capture import inside a real VS Code (proposed for test/vscode/suite/, by the capture engineer):
// the command imports a capture's connection into an untitled trace, and .pcap/.pcapng files (also
// gzip-compressed) open in the read-only connection list.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { listConnections, traceOf } from '../../../src/client/capture/capture';
import { writeTransferCapture } from '../../support/transfer-capture';
import { activateExtension, waitFor, workspaceRoot } from './helpers';

describe('capture import', () => {
  let root: string;

  before(async () => {
    await activateExtension();
    root = join(workspaceRoot().fsPath, 'captures');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('imports the connection of a capture as an untitled trace', async () => {
    const capture = vscode.Uri.file(join(root, 'refused.pcapng'));
    await vscode.commands.executeCommand('tcptrace.importCapture', capture);
    const expected = readFileSync(join(root, 'expected/refused-1.tcptrace'), 'utf8');
    const doc = await waitFor('an untitled tcptrace document with the imported trace', () =>
      vscode.workspace.textDocuments.find((d) => d.isUntitled && d.languageId === 'tcptrace' && d.getText() === expected),
    );
    assert.equal(doc.getText(), expected);
  });

  it('with { saveTo }, writes the trace to that file and opens it', async () => {
    const capture = vscode.Uri.file(join(root, 'refused.pcapng'));
    const dir = mkdtempSync(join(tmpdir(), 'tcptrace-save-'));
    try {
      const target = vscode.Uri.file(join(dir, 'refused-1.tcptrace'));
      await vscode.commands.executeCommand('tcptrace.importCapture', capture, { saveTo: target });
      assert.equal(readFileSync(target.fsPath, 'utf8'), readFileSync(join(root, 'expected/refused-1.tcptrace'), 'utf8'));
      await waitFor('the saved trace in an editor', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === target.fsPath));
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a trace over 50 MB (more than VS Code gives extensions) is saved to a file, not opened', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'tcptrace-long-'));
    try {
      const capture = join(dir, 'transfer.pcap');
      writeTransferCapture(capture, 700_000);
      const target = vscode.Uri.file(join(dir, 'transfer-1.tcptrace'));
      const before = vscode.workspace.textDocuments.length;
      const spools = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('tcptrace-spool-'));
      const spooled = spools();
      await vscode.commands.executeCommand('tcptrace.importCapture', vscode.Uri.file(capture), { saveTo: target });
      // The trace went through a temporary file (it is not held in memory), removed afterwards.
      assert.deepEqual(spools(), spooled);
      assert.ok(statSync(target.fsPath).size > 50 * 1024 * 1024, `${statSync(target.fsPath).size} bytes written`);
      const head = readFileSync(target.fsPath, 'utf8').slice(0, 200);
      assert.match(head, /^# Imported from transfer\.pcap: connection 1, frames 1-700000 \(700000 packets\), closed/);
      assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.fsPath === target.fsPath), 'the saved trace was opened');
      assert.equal(vscode.workspace.textDocuments.filter((d) => d.languageId === 'tcptrace').length <= before, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cancelled import gives no trace (never one cut short) and no listing, and leaves no temporary file', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'tcptrace-cancel-'));
    try {
      const capture = vscode.Uri.file(join(dir, 'transfer.pcap'));
      writeTransferCapture(capture.fsPath, 700_000);
      const spools = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('tcptrace-spool-'));
      const spooled = spools();
      const whole = await traceOf(capture, 1);
      assert.ok(whole?.file !== undefined && whole.bytes > 50 * 1024 * 1024, 'the whole trace, in a temporary file');
      rmSync(join(whole.file, '..'), { recursive: true, force: true });
      // Cancelled before it starts, and while it reads.
      const before = new vscode.CancellationTokenSource();
      before.cancel();
      assert.equal(await traceOf(capture, 1, before.token), undefined);
      assert.equal(await traceOf(capture, 1, cancelAfterReads(3)), undefined);
      assert.deepEqual(spools(), spooled);
      // The listing too: cancelled, it is none (the command then stops), not the connections read so far.
      assert.equal((await listConnections(capture))?.connections.length, 1);
      assert.equal(await listConnections(capture, before.token), undefined);
      assert.equal(await listConnections(capture, cancelAfterReads(3)), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens .pcap files in the connection list', async () => {
    const capture = vscode.Uri.file(join(root, 'port-reuse.pcap'));
    await vscode.commands.executeCommand('vscode.open', capture);
    const tab = await waitFor('a tab with the capture in a custom editor', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === capture.toString()),
    );
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'tcptrace.captureViewer');
  });

  it('imports and lists a gzip-compressed capture (.pcapng.gz) as the capture itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcptrace-gz-'));
    try {
      const capture = vscode.Uri.file(join(dir, 'refused.pcapng.gz'));
      writeFileSync(capture.fsPath, gzipSync(readFileSync(join(root, 'refused.pcapng'))));
      const target = vscode.Uri.file(join(dir, 'refused-1.tcptrace'));
      await vscode.commands.executeCommand('tcptrace.importCapture', capture, { saveTo: target });
      const expected = readFileSync(join(root, 'expected/refused-1.tcptrace'), 'utf8').replace('Imported from refused.pcapng:', 'Imported from refused.pcapng.gz:');
      assert.equal(readFileSync(target.fsPath, 'utf8'), expected);
      const listing = await listConnections(capture);
      assert.equal(listing?.report.compression, 'gzip');
      assert.equal(listing?.connections.length, 1);
      await vscode.commands.executeCommand('vscode.open', capture);
      const tab = await waitFor('a tab with the compressed capture in a custom editor', () =>
        vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.toString() === capture.toString()),
      );
      assert.equal((tab.input as vscode.TabInputCustom).viewType, 'tcptrace.captureViewer');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A token cancelled once the import has asked it `reads` times (it asks
 * before each chunk it reads): a cancel in the middle of the capture, at the
 * same point on any machine.
 */
function cancelAfterReads(reads: number): vscode.CancellationToken {
  let asked = 0;
  return {
    get isCancellationRequested() {
      return ++asked > reads;
    },
    onCancellationRequested: () => ({ dispose() {} }),
  };
}
