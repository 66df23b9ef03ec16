// Capture import inside a real VS Code (proposed for test/vscode/suite/, by the capture engineer):
// the command imports a capture's connection into an untitled trace, and .pcap/.pcapng files open
// in the read-only connection list.
import * as assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
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
      writeTransfer(capture, 700_000);
      const target = vscode.Uri.file(join(dir, 'transfer-1.tcptrace'));
      const before = vscode.workspace.textDocuments.length;
      await vscode.commands.executeCommand('tcptrace.importCapture', vscode.Uri.file(capture), { saveTo: target });
      assert.ok(statSync(target.fsPath).size > 50 * 1024 * 1024, `${statSync(target.fsPath).size} bytes written`);
      const head = readFileSync(target.fsPath, 'utf8').slice(0, 200);
      assert.match(head, /^# Imported from transfer\.pcap: connection 1, frames 1-700000 \(700000 packets\), closed/);
      assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.fsPath === target.fsPath), 'the saved trace was opened');
      assert.equal(vscode.workspace.textDocuments.filter((d) => d.languageId === 'tcptrace').length <= before, true);
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
});

/**
 * A capture of one bulk transfer of `packets` packets, headers only (as
 * `tcpdump -s 96` writes it): a handshake, data with an ACK for every second
 * segment, and a close.
 */
function writeTransfer(path: string, packets: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1 << 20);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(96, 16);
  buf.writeUInt32LE(1, 20);
  let at = 24;
  let n = 0;
  const packet = (fromClient: boolean, flags: number, seq: number, ack: number, len: number): void => {
    if (at + 70 > buf.length) {
      writeSync(fd, buf, 0, at);
      at = 0;
    }
    const usec = n * 10;
    buf.writeUInt32LE(1_700_000_000 + Math.floor(usec / 1e6), at);
    buf.writeUInt32LE(usec % 1e6, at + 4);
    buf.writeUInt32LE(54, at + 8);
    buf.writeUInt32LE(54 + len, at + 12);
    const f = at + 16;
    buf.fill(0, f, f + 54);
    buf[f + 12] = 0x08;
    buf[f + 14] = 0x45;
    buf.writeUInt16BE(40 + len, f + 16);
    buf[f + 22] = 64;
    buf[f + 23] = 6;
    buf.writeUInt32BE(fromClient ? 0x0a000001 : 0x0a000002, f + 26);
    buf.writeUInt32BE(fromClient ? 0x0a000002 : 0x0a000001, f + 30);
    buf.writeUInt16BE(fromClient ? 40000 : 5201, f + 34);
    buf.writeUInt16BE(fromClient ? 5201 : 40000, f + 36);
    buf.writeUInt32BE(seq >>> 0, f + 38);
    buf.writeUInt32BE(ack >>> 0, f + 42);
    buf[f + 46] = 0x50;
    buf[f + 47] = flags;
    buf.writeUInt16BE(65535, f + 48);
    at += 70;
    n++;
  };
  let c = 1000;
  let s = 900000;
  packet(true, 0x02, c, 0, 0);
  packet(false, 0x12, s, c + 1, 0);
  c++;
  s++;
  packet(true, 0x10, c, s, 0);
  for (let i = 0; n < packets - 3; i++) {
    packet(true, 0x10, c, s, 1448);
    c += 1448;
    if (i % 2 === 1) packet(false, 0x10, s, c, 0);
  }
  packet(true, 0x11, c, s, 0);
  packet(false, 0x11, s, c + 1, 0);
  packet(true, 0x10, c + 1, s + 1, 0);
  writeSync(fd, buf, 0, at);
  closeSync(fd);
}
