/**
 * The preview's host side, without a browser: chunk boundaries, the statement-to-item
 * mapping, reuse of unchanged chunks across edits, bounds, and the "last text that
 * parsed" rule (src/client/preview/chunks.ts, session.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { check } from '../../src/core/check/checker';
import { buildDiagram } from '../../src/core/diagram/model';
import { CHUNKING, chunkBoundaries, planChunks, visibleLength, writeChunk } from '../../src/client/preview/chunks';
import type { ChunkData } from '../../src/webview/messages';
import type { DiagramModel } from '../../src/core/diagram/model';
import { DiagramSession } from '../../src/client/preview/session';
import { writeLongTrace } from '../support/trace-model';

const ROOT = join(__dirname, '..', '..');

function examples(): Array<[string, string]> {
  const dir = join(ROOT, 'examples');
  const files = [
    ...readdirSync(dir).filter((f) => f.endsWith('.tcptrace')).map((f) => join(dir, f)),
    ...readdirSync(join(dir, 'mistakes')).filter((f) => f.endsWith('.tcptrace')).map((f) => join(dir, 'mistakes', f)),
  ];
  return files.map((f) => [f.slice(ROOT.length + 1), readFileSync(f, 'utf8')]);
}

/** Every chunk of a model, written. */
function writeChunks(model: DiagramModel, spelling: 'socket' | 'rfc'): { chunks: ChunkData[] } {
  return { chunks: planChunks(model, spelling).map((p) => writeChunk(model, p.range, spelling, p.key)) };
}

function longTrace(events: number, seed: number): string {
  let text = '';
  writeLongTrace(events, seed, (c: string) => (text += c));
  return text;
}

/** A deterministic pseudo-random sequence (xorshift). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('chunks', () => {
  test('every chunk of every example maps each message and note to its item', () => {
    for (const [name, text] of [...examples(), ['long-2000', longTrace(2000, 3)] as [string, string]]) {
      const model = buildDiagram(check(text));
      const { chunks } = writeChunks(model, model.stateSpelling);
      let items = 0;
      for (const c of chunks) {
        assert.ok(c.mapped, `${name}: chunk at ${c.from} not mapped`);
        assert.equal(c.from, items, name);
        items += c.lines.length;
        const messages = (c.text.match(/^ *E[01](->>|-x|-\)|--\))E[01]: /gm) ?? []).length;
        const notes = (c.text.match(/^ *Note over /gm) ?? []).length;
        assert.equal(c.messages.length, messages, name);
        assert.equal(c.notes.length, notes, name);
        // Each segment item has exactly one message, in order.
        const segs = c.lines.map((_: number, i: number) => i).filter((i: number) => model.items[c.from + i].kind === 'segment');
        assert.deepEqual(c.messages, segs, name);
      }
      assert.equal(items, model.items.length, `${name}: every item in one chunk`);
    }
  });

  test('an edit keeps the other chunks: one inserted note changes at most three chunks of 2 000 events', () => {
    const text = longTrace(2000, 11);
    const lines = text.split('\n');
    const s = new DiagramSession();
    const before = s.update(text, 1).chunks.map((c) => c.key);
    const r = rng(5);
    for (let k = 0; k < 20; k++) {
      const at = 20 + Math.floor(r() * (lines.length - 40));
      const edited = [...lines.slice(0, at), 'note over client: inserted', ...lines.slice(at)].join('\n');
      const after = new DiagramSession().update(edited, 2).chunks.map((c) => c.key);
      const old = new Set(before);
      const changed = after.filter((k2) => !old.has(k2)).length;
      // Its own chunk, which it may split in two, and the next one when a boundary moves.
      assert.ok(changed <= 3, `insert at line ${at}: ${changed} chunks changed`);
    }
  });

  test('a chunk\'s weight is known before it is written', () => {
    const model = buildDiagram(check(longTrace(300, 2)));
    for (const p of planChunks(model, 'socket')) {
      const d = writeChunk(model, p.range, 'socket', p.key);
      assert.equal(d.messages.length + d.notes.length, p.weight);
    }
  });

  test('the spacers are the widest labels as written', () => {
    const text = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const s = new DiagramSession();
    const l = s.update(text, 1);
    const all = s.chunks(l.chunks.map((c) => c.key)).map((c) => c.text).join('\n');
    for (const m of l.spacers.messages) assert.ok(all.includes(`: ${m}\n`), m);
    for (const n of l.spacers.notes.filter((x) => !/^[A-Z_-]+$/.test(x))) assert.ok(all.includes(`: ${n}\n`), n);
    assert.ok(l.spacers.messages.includes('SYN,ACK seq=5000 ack=1001 win=65160 mss=1460 sackOK'));
  });

  test('reusing the previous chunks gives exactly what writing them all gives', () => {
    const base = longTrace(600, 21).split('\n');
    const r = rng(9);
    const s = new DiagramSession();
    s.update(base.join('\n'), 0);
    let lines = base;
    let compared = 0;
    for (let k = 0; k < 60; k++) {
      const at = Math.floor(r() * lines.length);
      const op = Math.floor(r() * 4);
      const prev = lines;
      lines = [...lines];
      if (op === 0) lines.splice(at, 0, 'note over server: added');
      else if (op === 1) lines.splice(at, 1);
      else if (op === 2) lines[at] = lines[at].replace(/win=(\d+)/, (_m, w: string) => `win=${Number(w) - 1}`);
      else lines[at] = lines[at].replace(/seq=(\d+)/, (_m, q: string) => `seq=${Number(q) + 1}`); // a checker error from here on
      const text = lines.join('\n');
      const fresh = new DiagramSession().update(text, k + 1);
      if (fresh.problem) {
        // A syntax error: the session rightly keeps its last good layout; undo the edit.
        lines = prev;
        continue;
      }
      const incremental = s.update(text, k + 1);
      compared++;
      assert.deepEqual(incremental, fresh, `edit ${k} (${op} at ${at})`);
      assert.deepEqual(s.chunks(incremental.chunks.map((c) => c.key)), freshChunks(text), `edit ${k}`);
    }
    assert.ok(compared >= 40, `${compared} edits compared`);
  });

  test('no chunk goes over the bounds, however long its labels', () => {
    const evil = '%#;<>&"'.repeat(40);
    const text = [
      'endpoint a 10.0.0.1:1',
      'endpoint b 10.0.0.2:2',
      ...Array.from({ length: 60 }, (_, i) => `note over a, b: ${evil}${i}`),
      'a: connect',
      'a -> b: SYN seq=1',
      `note over a: ${evil}`,
    ].join('\n');
    const model = buildDiagram(check(text));
    const { chunks } = writeChunks(model, 'socket');
    for (const c of chunks) {
      assert.ok(c.text.length <= CHUNKING.hardText, `${c.text.length} characters`);
      assert.ok(c.messages.length + c.notes.length <= CHUNKING.maxWeight + 4);
    }
    assert.ok(chunkBoundaries(model).length >= 3);
  });

  test('visible length counts an entity code as one character', () => {
    assert.equal(visibleLength('a#59;b'), 3);
    assert.equal(visibleLength('#;#1'), 4);
  });
});

function freshChunks(text: string) {
  const s = new DiagramSession();
  const l = s.update(text, 0);
  return s.chunks(l.chunks.map((c) => c.key));
}

describe('session', () => {
  test('while the text does not parse, the last layout that parsed is kept, with the first syntax error', () => {
    const good = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const s = new DiagramSession();
    const l1 = s.update(good, 1);
    assert.equal(l1.problem, null);
    const broken = good.replace('server -> client: SYN,ACK', 'server -> client: SYN,ACK seq=');
    const l2 = s.update(broken, 2);
    assert.equal(l2.stale, true);
    assert.deepEqual(l2.chunks, l1.chunks);
    assert.equal(l2.version, 1, 'the version shown is the good one');
    assert.ok(l2.problem && l2.problem.code.startsWith('TT10') && l2.problem.line === good.split('\n').findIndex((l) => l.startsWith('server -> client: SYN,ACK')));
    // The chunks of the kept layout are still served.
    assert.equal(s.chunks(l2.chunks.map((c) => c.key)).length, l2.chunks.length);
    const l3 = s.update(good, 3);
    assert.equal(l3.stale, false);
    assert.equal(l3.problem, null);
  });

  test('a text that never parsed is drawn as it is', () => {
    const bad = readFileSync(join(ROOT, 'examples', 'mistakes', 'malformed-line.tcptrace'), 'utf8');
    const l = new DiagramSession().update(bad, 1);
    assert.equal(l.stale, false);
    assert.ok(l.problem);
    assert.ok(l.chunks.length > 0);
  });

  test('severity overrides and state spelling reach the diagram', () => {
    const text = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const s = new DiagramSession();
    const plain = s.update(text, 1);
    assert.ok(plain.counts.infos > 0);
    const off = s.update(text, 2, { severities: { TT209: 'off' }, spelling: 'rfc' });
    assert.equal(off.counts.infos, 0);
    assert.ok(off.stateNames.includes('SYN-RECEIVED'));
    const texts = s.chunks(off.chunks.map((c) => c.key)).map((c) => c.text).join('\n');
    assert.ok(texts.includes('SYN-SENT') && !texts.includes('TT209'));
  });

  test('the whole diagram as Mermaid (copy) is the core writer\'s', () => {
    const text = readFileSync(join(ROOT, 'examples', 'handshake.tcptrace'), 'utf8');
    const s = new DiagramSession();
    s.update(text, 1);
    const m = s.mermaid()!;
    assert.ok(m.startsWith('sequenceDiagram\ntitle Three-way handshake\n'));
  });
});
