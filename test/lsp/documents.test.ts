import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/protocol';
import { DocumentStore } from '../../src/server/documents';

const uri = 'file:///store.tcptrace';
const TEXT = 'server: listen\nclient -> server: SYN seq=1\nserver -> client: SYN,ACK seq=9 ack=2\nclient -> server: ACK seq=2 ack=10\n';
const at = (line: number, character = 0): { line: number; character: number } => ({ line, character });

describe('document store (incremental sync and the first changed line)', () => {
  test('tracks the first line any change touched since the last check', () => {
    const s = new DocumentStore();
    s.open({ textDocument: { uri, languageId: 'tcptrace', version: 1, text: TEXT } });
    assert.equal(s.dirtyFromLine(uri), 0, 'a new document is checked from the top');
    const a1 = s.analysis(uri, DEFAULT_SETTINGS)!;
    assert.equal(s.dirtyFromLine(uri), Infinity);
    // Two changes in one notification: the second one's range is in the text the first left.
    const first = s.change({
      textDocument: { uri, version: 2 },
      contentChanges: [
        { range: { start: at(3, 32), end: at(3, 34) }, text: '11' },
        { range: { start: at(2, 0), end: at(2, 0) }, text: '# note\n' },
      ],
    });
    assert.equal(first, 2);
    assert.equal(s.get(uri)!.getText(), 'server: listen\nclient -> server: SYN seq=1\n# note\nserver -> client: SYN,ACK seq=9 ack=2\nclient -> server: ACK seq=2 ack=11\n');
    s.change({ textDocument: { uri, version: 3 }, contentChanges: [{ range: { start: at(4, 0), end: at(4, 0) }, text: '' }] });
    assert.equal(s.dirtyFromLine(uri), 2, 'the smallest line since the last check');
    const a2 = s.analysis(uri, DEFAULT_SETTINGS)!;
    assert.notEqual(a2, a1);
    assert.equal(a2.version, 3);
    assert.equal(s.dirtyFromLine(uri), Infinity);
    // A full-text change touches everything.
    s.change({ textDocument: { uri, version: 4 }, contentChanges: [{ text: TEXT }] });
    assert.equal(s.dirtyFromLine(uri), 0);
  });

  test('one check per version; presentation settings reuse it, severity settings do not', () => {
    const s = new DocumentStore();
    s.open({ textDocument: { uri, languageId: 'tcptrace', version: 1, text: TEXT } });
    const a = s.analysis(uri, DEFAULT_SETTINGS)!;
    assert.equal(s.analysis(uri, DEFAULT_SETTINGS), a);
    const rfc = { ...DEFAULT_SETTINGS, states: { spelling: 'rfc' as const } };
    const b = s.analysis(uri, rfc)!;
    assert.equal(b.result, a.result, 'same check result');
    assert.equal(b.spelling, 'rfc');
    const quiet = { ...DEFAULT_SETTINGS, diagnostics: { severity: { TT209: 'off' as const } } };
    const q = s.analysis(uri, quiet)!;
    assert.notEqual(q.result, a.result);
    assert.ok(a.result.diagnostics.some((d) => d.code === 'TT209'));
    assert.ok(!q.result.diagnostics.some((d) => d.code === 'TT209'));
  });
});
