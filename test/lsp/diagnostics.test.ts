import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { check } from '../../src/core';
import { LspClient, lineOf, ROOT } from './support/lsp-client';

const BASE = 'https://example.org/tcptrace/';
const examples = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.tcptrace'))
    .map((f) => join(dir, f));

describe('diagnostics over LSP', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start({ initializationOptions: { docsBaseUrl: BASE } });
  });
  after(() => c.stop());

  test('the server declares incremental sync and the features', () => {
    const caps = c.initializeResult.capabilities;
    assert.deepEqual(caps.textDocumentSync, { openClose: true, change: 2 });
    for (const k of [
      'hoverProvider',
      'completionProvider',
      'inlayHintProvider',
      'codeActionProvider',
      'documentSymbolProvider',
      'foldingRangeProvider',
      'semanticTokensProvider',
      'documentFormattingProvider',
      'renameProvider',
      'referencesProvider',
      'definitionProvider',
    ] as const) {
      assert.ok(caps[k], k);
    }
  });

  test('every example: the published diagnostics are exactly the checker\'s', async () => {
    for (const file of [...examples('examples'), ...examples('examples/mistakes')]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const uri = `file:///${file}`;
      await c.open(uri, text);
      const got = await c.waitForDiagnostics(uri);
      const want = check(text).diagnostics;
      assert.deepEqual(
        got.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character, d.range.end.character, d.message]),
        want.map((d) => [d.code, d.line, d.start, d.end, d.message]),
        file,
      );
    }
  });

  test('a diagnostic carries its code, severity, documentation link and related information', async () => {
    const text = readFileSync(join(ROOT, 'examples/mistakes/ack-of-syn-off-by-one.tcptrace'), 'utf8');
    const uri = 'file:///links.tcptrace';
    await c.open(uri, text);
    const { diagnostics } = await c.waitForDiagnostics(uri);
    const d = diagnostics.find((x) => x.code === 'TT302');
    assert.ok(d, 'TT302 reported');
    assert.equal(d.severity, 1);
    assert.equal(d.source, 'tcptrace');
    assert.equal(d.codeDescription?.href, `${BASE}docs/language.md#tt302`);
    assert.equal(d.range.start.line, lineOf(text, 'ACK seq=1001 ack=5000'));
    assert.equal(text.split('\n')[d.range.start.line].slice(d.range.start.character, d.range.end.character), 'ack=5000');
    // Every diagnostic with `related` in the core shows it as relatedInformation on this document.
    const withRelated = check(text).diagnostics.filter((x) => x.related.length > 0);
    for (const core of withRelated) {
      const lsp = diagnostics.find((x) => x.code === core.code && x.range.start.line === core.line);
      assert.equal(lsp?.relatedInformation?.length, core.related.length);
      assert.equal(lsp?.relatedInformation?.[0].location.uri, uri);
    }
  });

  test('related information points at the cause of a consequential diagnostic', async () => {
    // The SYN,ACK's bad ack leaves the client in SYN_SENT; its ACK is then impossible because of that.
    const text = 'server: listen\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=2000\nclient -> server: ACK seq=1001 ack=5001\n';
    const core = check(text).diagnostics.filter((d) => d.related.length > 0);
    assert.ok(core.length > 0, 'this example has a consequence with a named cause');
    const uri = 'file:///related.tcptrace';
    await c.open(uri, text);
    const { diagnostics } = await c.waitForDiagnostics(uri);
    const lsp = diagnostics.filter((d) => d.relatedInformation && d.relatedInformation.length > 0);
    assert.equal(lsp.length, core.length);
    assert.equal(lsp[0].code, 'TT200');
    assert.equal(lsp[0].relatedInformation![0].location.range.start.line, 2, 'the cause is the SYN,ACK');
    const r = lsp[0].relatedInformation![0];
    assert.equal(r.message, core[0].related[0].message);
    assert.deepEqual(r.location.range.start, { line: core[0].related[0].line, character: core[0].related[0].start });
  });

  test('as you type: an incremental edit introduces an error, the next one removes it', async () => {
    const uri = 'file:///typing.tcptrace';
    const text = readFileSync(join(ROOT, 'examples/handshake.tcptrace'), 'utf8');
    await c.open(uri, text);
    const first = await c.waitForDiagnostics(uri);
    assert.equal(first.diagnostics.filter((d) => d.severity === 1).length, 0, 'the example is clean');
    // Change the ACK of the SYN,ACK from 5001 to 5000: the classic off-by-one.
    const line = lineOf(text, 'client -> server: [.] seq=1001 ack=5001');
    const col = text.split('\n')[line].indexOf('5001');
    await c.change(uri, [{ range: { start: { line, character: col }, end: { line, character: col + 4 } }, text: '5000' }]);
    const broken = await c.waitForDiagnostics(uri);
    assert.equal(broken.version, 2);
    assert.ok(broken.diagnostics.some((d) => d.code === 'TT302' && d.range.start.line === line), JSON.stringify(broken.diagnostics));
    await c.change(uri, [{ range: { start: { line, character: col }, end: { line, character: col + 4 } }, text: '5001' }]);
    const fixed = await c.waitForDiagnostics(uri);
    assert.equal(fixed.version, 3);
    assert.deepEqual(fixed.diagnostics, first.diagnostics);
  });

  test('several changes in one notification, including line insertions, are applied in order', async () => {
    const uri = 'file:///multi.tcptrace';
    const text = 'client -> server: SYN seq=1000\n';
    await c.open(uri, text);
    await c.waitForDiagnostics(uri);
    // Insert `server: listen` above, then (in the new coordinates) the SYN,ACK and ACK below.
    await c.change(uri, [
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: 'server: listen\n' },
      { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text: 'server -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK seq=1001 ack=5001\n' },
    ]);
    const d = await c.waitForDiagnostics(uri);
    assert.equal(c.texts.get(uri), 'server: listen\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK seq=1001 ack=5001\n');
    assert.deepEqual(
      d.diagnostics.map((x) => x.code),
      check(c.texts.get(uri)!).diagnostics.map((x) => x.code),
    );
    assert.ok(!d.diagnostics.some((x) => x.severity === 1));
  });

  test('closing a document clears its diagnostics', async () => {
    const uri = 'file:///closing.tcptrace';
    await c.open(uri, 'client -> server: SYN,ACK seq=1\n');
    const d = await c.waitForDiagnostics(uri);
    assert.ok(d.diagnostics.length > 0);
    const cleared = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const list = c.diagnostics.get(uri)!;
        if (list[list.length - 1].diagnostics.length === 0) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    await c.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await cleared;
  });
});

describe('diagnostic settings', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start({ settings: { diagnostics: { severity: { TT303: 'off', TT202: 'error', tt209: 'hint' } } } });
  });
  after(() => c.stop());

  test('per-code severity overrides: off removes, others change the severity', async () => {
    const text = readFileSync(join(ROOT, 'examples/mistakes/beyond-window.tcptrace'), 'utf8');
    assert.ok(check(text).diagnostics.some((d) => d.code === 'TT303'), 'the example has a TT303 to hide');
    const uri = 'file:///sev.tcptrace';
    await c.open(uri, text);
    const d = await c.waitForDiagnostics(uri);
    assert.ok(!d.diagnostics.some((x) => x.code === 'TT303'));
    const refused = readFileSync(join(ROOT, 'examples/connection-refused.tcptrace'), 'utf8');
    const uri2 = 'file:///sev2.tcptrace';
    await c.open(uri2, refused);
    const d2 = await c.waitForDiagnostics(uri2);
    const tt202 = d2.diagnostics.filter((x) => x.code === 'TT202');
    assert.ok(tt202.length > 0, JSON.stringify(d2.diagnostics));
    assert.ok(tt202.every((x) => x.severity === 1));
  });

  test('a settings change re-publishes with the new severities and no documentation base falls back to no link', async () => {
    const uri = 'file:///sev3.tcptrace';
    const text = 'server: listen\nclient -> server: SYN seq=1\n';
    await c.open(uri, text);
    const before = await c.waitForDiagnostics(uri);
    const tt209 = before.diagnostics.filter((x) => x.code === 'TT209');
    assert.ok(tt209.length > 0);
    assert.ok(tt209.every((x) => x.severity === 4), 'lower-case code in the setting still applies');
    assert.equal(tt209[0].codeDescription, undefined);
    const count = c.diagnostics.get(uri)!.length;
    await c.setSettings({ diagnostics: { severity: { TT209: 'off' } }, docs: { baseUrl: 'https://docs.example/x' } });
    await waitUntil(() => c.diagnostics.get(uri)!.length > count);
    const after = c.diagnostics.get(uri)!.at(-1)!;
    assert.ok(!after.diagnostics.some((x) => x.code === 'TT209'));
    assert.ok(after.diagnostics.every((x) => x.codeDescription?.href.startsWith('https://docs.example/x/docs/language.md#tt')));
    assert.ok(c.refreshes.includes('inlayHint') && c.refreshes.includes('semanticTokens'));
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('settings pushed by a client that cannot be asked (no workspace/configuration)', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start({ pullConfiguration: false });
  });
  after(() => c.stop());

  test('didChangeConfiguration settings apply', async () => {
    const uri = 'file:///push.tcptrace';
    await c.open(uri, 'server: listen\nclient -> server: SYN seq=1\n');
    const before = await c.waitForDiagnostics(uri);
    assert.ok(before.diagnostics.some((x) => x.code === 'TT209'));
    const count = c.diagnostics.get(uri)!.length;
    await c.setSettings({ diagnostics: { severity: { TT209: 'off' } } });
    await waitUntil(() => c.diagnostics.get(uri)!.length > count);
    assert.ok(!c.diagnostics.get(uri)!.at(-1)!.diagnostics.some((x) => x.code === 'TT209'));
  });
});
