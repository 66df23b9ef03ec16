/**
 * Entry of dist/preview-worker.js: one DiagramSession per preview, in a worker
 * thread, so that checking and laying out a large trace (about 0.8 s for
 * 100 000 events) never blocks the extension host, which every extension
 * shares. Requests are answered in order; see sessionClient.ts.
 */
import { parentPort } from 'node:worker_threads';
import { DiagramSession } from './session';
import type { WorkerReply, WorkerRequest } from './sessionClient';

const sessions = new Map<number, DiagramSession>();

function session(id: number): DiagramSession {
  let s = sessions.get(id);
  if (!s) sessions.set(id, (s = new DiagramSession()));
  return s;
}

parentPort?.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    switch (req.op) {
      case 'update':
        reply = { id: req.id, ok: true, value: session(req.session).update(req.text, req.version, req.settings) };
        break;
      case 'chunks':
        reply = { id: req.id, ok: true, value: session(req.session).chunks(req.keys) };
        break;
      case 'mermaid':
        reply = { id: req.id, ok: true, value: session(req.session).mermaid() };
        break;
      case 'reset':
        session(req.session).reset();
        reply = { id: req.id, ok: true, value: undefined };
        break;
      case 'dispose':
        sessions.delete(req.session);
        reply = { id: req.id, ok: true, value: undefined };
        break;
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort?.postMessage(reply);
});
