/**
 * IdOrder (src/cli/id-order.ts), which lists an import's connections in the
 * order they started while holding at most a window of them: every item goes
 * on once; in id order whenever the window is never exceeded; never more
 * than the window waiting.
 *
 * Seeds: fixed under CI, random locally; FC_SEED and FC_RUNS override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IdOrder } from '../../src/cli/id-order';
import { propertyParams } from '../support/random-captures';

const params = propertyParams(0x1d0);

/** Feeds ids 1..n in the order given; returns what went on, and the most that waited. */
function run(order: number[], window: number): { out: number[]; most: number } {
  const out: number[] = [];
  const q = new IdOrder<{ id: number }>(window, (x) => out.push(x.id));
  let most = 0;
  for (const id of order) {
    q.add({ id });
    most = Math.max(most, q.waiting);
  }
  q.finish();
  assert.equal(q.waiting, 0);
  return { out, most };
}

/** A permutation of 1..n, by sorting random keys. */
const permutation = fc.array(fc.double({ noNaN: true }), { minLength: 0, maxLength: 300 }).map((keys) =>
  keys
    .map((k, i) => [k, i + 1] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, id]) => id),
);

test('every item goes on exactly once, and never more than the window wait', () => {
  fc.assert(
    fc.property(permutation, fc.integer({ min: 1, max: 64 }), (order, window) => {
      const { out, most } = run(order, window);
      assert.deepEqual([...out].sort((a, b) => a - b), [...order].sort((a, b) => a - b));
      assert.ok(most <= window, `${most} waited, window ${window}`);
    }),
    params(300),
  );
});

test('with a window as large as the input, items go on in id order', () => {
  fc.assert(
    fc.property(permutation, (order) => {
      const { out } = run(order, Math.max(1, order.length));
      assert.deepEqual(out, [...order].sort((a, b) => a - b));
    }),
    params(200),
  );
});

test('items that come in order go on at once; one that stays open too long goes on when it ends', () => {
  const out: number[] = [];
  const q = new IdOrder<{ id: number }>(3, (x) => out.push(x.id));
  for (const id of [1, 2, 3]) q.add({ id });
  assert.deepEqual(out, [1, 2, 3]);
  // 4 is still open while 5..8 end: three wait; the fourth is one too many, so the order stops
  // waiting for 4 and goes on from 5; 4 goes on when it ends.
  for (const id of [5, 6, 7]) q.add({ id });
  assert.deepEqual(out, [1, 2, 3]);
  q.add({ id: 8 });
  assert.deepEqual(out, [1, 2, 3, 5, 6, 7, 8]);
  q.add({ id: 4 });
  assert.deepEqual(out, [1, 2, 3, 5, 6, 7, 8, 4]);
  q.add({ id: 10 });
  assert.deepEqual(out, [1, 2, 3, 5, 6, 7, 8, 4]);
  q.add({ id: 9 });
  assert.deepEqual(out, [1, 2, 3, 5, 6, 7, 8, 4, 9, 10]);
  q.finish();
  assert.equal(out.length, 10);
});
