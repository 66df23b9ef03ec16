/**
 * The worker thread of `tcptrace-cli import` (see check-pool.ts): writes and
 * checks the batches of traces the main thread announces (their bytes are in
 * the shared ring) and answers with the counts of diagnostics by severity and
 * any failure to write a file. A batch the
 * main thread has taken back (its claim slot no longer says it waits) is
 * skipped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LAST, checkBatch, type BatchMessage, type ResultMessage, type WorkerSetup } from './check-pool';

const setup = workerData as WorkerSetup;
const { claims, results } = setup;
const ring = new Uint8Array(setup.ring);

parentPort!.on('message', (m: BatchMessage) => {
  if (m.seq === LAST) {
    results.postMessage({ seq: LAST, counts: [], writeErrors: [] } satisfies ResultMessage);
    return;
  }
  if (Atomics.compareExchange(claims, m.seq % claims.length, m.seq + 1, -(m.seq + 1)) !== m.seq + 1) return;
  let answer: ResultMessage;
  try {
    answer = { seq: m.seq, ...checkBatch(ring, m.start, m.lens, m.paths) };
  } catch (e) {
    answer = { seq: m.seq, error: e instanceof Error ? e.message : String(e) };
  }
  results.postMessage(answer);
});
