// The diagram preview inside a real VS Code: the webview runs in the workbench's own
// webview iframe, with the extension's real CSP and the bundled Mermaid. What the webview
// drew comes back as its render report (counted from the SVG it put in its page), read
// through the extension's API.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { TcptraceApi } from '../../../src/client/extension';
import type { RenderReport } from '../../../src/webview/messages';
import { activateExtension, lineOf, openFixture, openNewFile, replaceOnLine, revert, waitFor } from './helpers';

let api: TcptraceApi;

function report(doc: vscode.TextDocument, test: (r: RenderReport) => boolean, what: string): Promise<RenderReport> {
  return api.preview.waitForReport(doc.uri, test, 30_000).catch((err: unknown) => {
    throw new Error(`${what}: ${String(err)}`);
  });
}

describe('preview', () => {
  let doc: vscode.TextDocument;

  before(async () => {
    api = (await activateExtension()).exports as TcptraceApi;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    doc = await openFixture('examples/handshake.tcptrace');
  });

  after(async () => {
    await revert(doc);
    // The trace and its preview stay open: with --grep preview, the runner's final screenshot shows them.
    const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    editor.selection = new vscode.Selection(line, 0, line, 0);
    await report(doc, (x) => x.activeLine === line, 'the final picture');
  });

  it('opens beside the trace and draws its diagram', async () => {
    await vscode.commands.executeCommand('tcptrace.showPreviewToSide');
    const r = await report(doc, (x) => x.live > 0 && x.arrows === 3, 'the diagram of handshake.tcptrace');
    // Three segments, no lost one; both endpoints' states shown over each of them.
    assert.equal(r.lostArrows, 0);
    assert.equal(r.stateNotes.length, 2);
    assert.ok(r.stateNotes[0] >= 3 && r.stateNotes[1] >= 4, `state notes per endpoint: ${r.stateNotes}`);
    assert.deepEqual(r.errors, []);
    const [p] = api.preview.previews();
    assert.equal(p.resource, doc.uri.toString());
    assert.equal(p.locked, false);
    assert.equal(p.viewColumn, vscode.ViewColumn.Two, 'beside the editor');
    // The editor keeps the focus, as with Markdown's preview.
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), doc.uri.toString());
  });

  it('highlights the event at the cursor', async () => {
    const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    editor.selection = new vscode.Selection(line, 0, line, 0);
    await report(doc, (x) => x.activeLine === line, `the highlight on line ${line + 1}`);
  });

  it('shows a newly introduced error, and keeps the last diagram while the text does not parse', async () => {
    const line = lineOf(doc, 'server -> client: SYN,ACK');
    const before = api.preview.previews()[0].lastReport!;
    // An off-by-one ACK of the SYN: an error (TT302) drawn under that arrow.
    await replaceOnLine(doc, line, 'ack=1001', 'ack=1000');
    const r = await report(doc, (x) => x.diagnosticNotes > before.diagnosticNotes, 'the new error in the diagram');
    assert.equal(api.preview.previews()[0].lastLayout?.counts.errors !== 0, true);
    assert.equal(r.banner, null);
    // A half-typed line: the diagram stays (still three arrows), the banner names the line.
    await replaceOnLine(doc, line, 'SYN,ACK', 'SYN,ACK seq=');
    const broken = await report(doc, (x) => x.banner !== null, 'the syntax error banner');
    assert.match(broken.banner!, new RegExp(`^Line ${line + 1}: `));
    assert.match(broken.banner!, /last text that parsed/);
    assert.equal(broken.arrows, 3);
    await revert(doc);
    await report(doc, (x) => x.banner === null && x.diagnosticNotes === before.diagnosticNotes, 'the diagram after the revert');
  });

  it('follows the active trace; a locked preview stays on its file', async () => {
    const other = await openFixture('examples/connection-refused.tcptrace');
    await waitFor('the preview to follow the active editor', () => (api.preview.previews()[0]?.resource === other.uri.toString() ? true : undefined), {
      describe: () => JSON.stringify(api.preview.previews().map((p) => p.resource)),
    });
    // A late report of the file shown before may still arrive: wait for this file's diagram (two arrows).
    const r = await report(other, (x) => x.live > 0 && x.arrows === 2, 'the diagram of connection-refused.tcptrace');
    assert.equal(r.lostArrows, 0);
    await vscode.commands.executeCommand('tcptrace.preview.toggleLock');
    await openFixture('examples/handshake.tcptrace');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(api.preview.previews()[0].resource, other.uri.toString(), 'the locked preview did not follow');
    assert.equal(api.preview.previews()[0].locked, true);
  });

  it('restores a panel after a reload from the state its webview saved', async () => {
    const other = await openFixture('examples/time-wait.tcptrace');
    // What VS Code does on a reload: a bare panel of our view type and the saved state, handed to the serializer.
    const panel = vscode.window.createWebviewPanel('tcptrace.preview', 'restored', vscode.ViewColumn.Three, {});
    await api.preview.revive(panel, { resource: other.uri.toString(), locked: true, zoom: 1.5, fit: false, anchor: null });
    const r = await report(other, (x) => x.live > 0, 'the restored preview');
    assert.ok(r.arrows > 0);
    const restored = api.preview.previews().find((p) => p.resource === other.uri.toString());
    assert.equal(restored?.locked, true);
    assert.match(panel.title, /time-wait\.tcptrace/);
    panel.dispose();
  });

  it('exports the whole diagram as SVG and copies it as Mermaid', async () => {
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('tcptrace.showPreviewToSide');
    await report(doc, (x) => x.live > 0, 'a preview of handshake.tcptrace');
    const svg = await api.preview.exportDiagram(doc.uri, 'svg');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/class="messageLine[01]/g) ?? []).length, 3);
    assert.ok(!svg.includes('class="tt-hit'), 'no interaction aids in the picture');
    await vscode.env.clipboard.writeText('');
    await vscode.commands.executeCommand('tcptrace.preview.copyMarkdown', doc.uri);
    const copied = await vscode.env.clipboard.readText();
    assert.match(copied, /^```mermaid\nsequenceDiagram\n/);
    assert.equal((copied.match(/^ *E[01]->>E[01]: /gm) ?? []).length, 3);
  });

  it('updates a long trace after an edit (the layout goes as an edit of the chunk list the page holds)', async () => {
    const lines = ['endpoint client 10.0.0.1:40000', 'endpoint server 10.0.0.2:80', 'server: listen', 'client -> server: SYN seq=1000', 'server -> client: SYN,ACK seq=5000 ack=1001', 'client -> server: ACK seq=1001 ack=5001'];
    let c = 1001;
    for (let i = 0; i < 2_000; i++) {
      lines.push(`client -> server: PSH,ACK seq=${c} ack=5001 len=100`, `server -> client: ACK seq=5001 ack=${c + 100}`);
      c += 100;
    }
    const long = await openNewFile('long-preview.tcptrace', lines.join('\n') + '\n');
    await vscode.commands.executeCommand('tcptrace.showPreviewToSide');
    const first = await report(long, (x) => x.live > 0 && x.diagnosticNotes === 0, 'the diagram of a 4,000-event trace');
    const preview = api.preview.previews().find((p) => p.resource === long.uri.toString())!;
    const chunks = preview.lastLayout!.chunks.length;
    assert.ok(chunks > 64, `${chunks} chunks: enough for the layout to be sent as an edit`);
    // An off-by-one ACK near the top, in view: one chunk changes, drawn with its error.
    await replaceOnLine(long, 7, 'ack=1101', 'ack=1100');
    const r = await report(long, (x) => x.seq > first.seq && x.diagnosticNotes > 0, 'the edited chunk drawn with its error');
    assert.equal(r.banner, null);
    assert.equal(preview.lastLayout!.chunks.length, chunks);
    await revert(long);
    await report(long, (x) => x.diagnosticNotes === 0, 'the diagram after the revert');
    // Last in this suite: the previews other tests count are left as they were.
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
