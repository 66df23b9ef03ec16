import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { check } from '../../src/core';
import { ensureBuilt, ROOT } from './support/lsp-client';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Expands a snippet body with every placeholder at its default (mirrors included). */
function expand(body: string): string {
  const defaults = new Map<string, string>();
  return body.replace(/\$\{(\d+):([^}]*)\}|\$(\d+)/g, (_m, n: string | undefined, d: string | undefined, bare: string | undefined) => {
    if (n !== undefined) {
      if (!defaults.has(n)) defaults.set(n, d ?? '');
      return defaults.get(n)!;
    }
    return bare === '0' ? '' : (defaults.get(bare!) ?? '');
  });
}

/** An open connection: the snippets for later phases are inserted after it. */
const OPEN = 'server: listen\nclient: connect\nclient -> server: SYN seq=1000\nserver -> client: SYN,ACK seq=5000 ack=1001\nclient -> server: ACK seq=1001 ack=5001\n';
const NEEDS_OPEN = new Set(['Data and acknowledgment', 'Active close', 'Simultaneous close', 'Abort', 'Lost segment and retransmission', 'Segment in flight']);

describe('snippets', () => {
  const snippets = JSON.parse(readFileSync(join(ROOT, 'snippets/tcptrace.json'), 'utf8')) as Record<string, { prefix: string[]; body: string[]; description: string }>;

  test('the classic exchanges are there', () => {
    for (const name of ['Three-way handshake', 'Active close', 'Simultaneous open', 'Simultaneous close', 'Connection refused', 'Symbolic handshake and close', 'Lost segment and retransmission']) {
      assert.ok(snippets[name], name);
    }
  });

  test('every snippet, expanded with its defaults, is a correct trace (no error, no warning)', () => {
    for (const [name, s] of Object.entries(snippets)) {
      assert.ok(s.description.length > 10 && s.prefix.length > 0, name);
      const text = (NEEDS_OPEN.has(name) ? OPEN : '') + expand(s.body.join('\n')) + '\n';
      const problems = check(text).diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
      // An in-flight segment snippet leaves room ($0) for what happens before delivery: an unanswered segment is expected there.
      const allowed = name === 'Segment in flight' ? problems.filter((d) => d.code !== 'TT210') : problems;
      assert.deepEqual(allowed.map((d) => `${d.code}@${d.line}: ${d.message}`), [], `${name}:\n${text}`);
    }
  });
});

describe('extension manifest and package', () => {
  test('the language, grammars, snippets and configuration point at files that exist', () => {
    const c = pkg.contributes;
    assert.equal(c.languages[0].id, 'tcptrace');
    assert.deepEqual(c.languages[0].extensions, ['.tcptrace']);
    for (const p of [c.languages[0].configuration, c.languages[0].icon.light, ...c.grammars.map((g: { path: string }) => g.path), ...c.snippets.map((s: { path: string }) => s.path), pkg.icon]) {
      assert.ok(existsSync(join(ROOT, p)), p);
    }
    const props = c.configuration[0].properties;
    for (const k of ['tcptrace.diagnostics.severity', 'tcptrace.states.spelling', 'tcptrace.inlayHints.stateChanges', 'tcptrace.inlayHints.inferredNumbers', 'tcptrace.format.tcpdumpFlags', 'tcptrace.docs.baseUrl', 'tcptrace.statusBar.enabled']) {
      assert.ok(props[k], k);
    }
    assert.deepEqual(pkg.capabilities, { untrustedWorkspaces: { supported: true }, virtualWorkspaces: true });
    // The preview panel is restored after a reload only with its own activation event.
    assert.deepEqual(pkg.activationEvents, ['onLanguage:tcptrace', 'onWebviewPanel:tcptrace.preview']);
    assert.equal(pkg.main, './dist/extension.js');
  });

  test('the language configuration: # comments, brackets, auto-closing quotes', () => {
    const lc = JSON.parse(readFileSync(join(ROOT, 'language-configuration.json'), 'utf8'));
    assert.equal(lc.comments.lineComment, '#');
    assert.deepEqual(lc.brackets, [['[', ']']]);
    assert.ok(lc.autoClosingPairs.some((p: { open: string; close: string }) => p.open === '"' && p.close === '"'));
  });

  test('the .vsix ships exactly what runs', () => {
    ensureBuilt();
    const vsce = join(ROOT, 'node_modules', '.bin', 'vsce');
    const r = spawnSync(vsce, ['ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = r.stdout.trim().split('\n').filter((l) => l && !l.startsWith('npm warn')).sort();
    const expected = [
      'dist/extension.js',
      'dist/preview-worker.js',
      'dist/server.js',
      'docs/language.md',
      'language-configuration.json',
      'media/icons/tcptrace-file.svg',
      'media/icons/tcptrace.png',
      'package.json',
      'snippets/tcptrace.json',
      'syntaxes/tcptrace.markdown.tmLanguage.json',
      'syntaxes/tcptrace.tmLanguage.json',
    ];
    // Files other engineers may add to what ships (README, LICENSE, CHANGELOG, webview media) are fine; nothing else is.
    const extra = files.filter((f) => !expected.includes(f) && !/^(README|CHANGELOG|LICENSE)(\.md|\.txt)?$/.test(f) && !/^media\/(?!icons\/)/.test(f));
    assert.deepEqual(extra, [], 'nothing beyond the runtime files');
    for (const f of expected) assert.ok(files.includes(f), `${f} ships`);
  });
});
