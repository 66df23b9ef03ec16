/**
 * The extension's handle on a DiagramSession: in the shared worker thread
 * (dist/preview-worker.js) when it can start, else in the extension host itself.
 * Pure Node (no `vscode`).
 */
import { Worker } from 'node:worker_threads';
import type { ChunkData } from '../../webview/messages';
import { DiagramSession, type LayoutCore, type SessionSettings } from './session';

export type WorkerRequest =
  | { id: number; session: number; op: 'update'; text: string; version: number; settings: SessionSettings }
  | { id: number; session: number; op: 'chunks'; keys: string[] }
  | { id: number; session: number; op: 'mermaid' }
  | { id: number; session: number; op: 'reset' }
  | { id: number; session: number; op: 'dispose' };

/** A request without its ids (an Omit that keeps the union apart). */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id' | 'session'> : never) : never;

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface SessionClient {
  update(text: string, version: number, settings: SessionSettings): Promise<LayoutCore>;
  chunks(keys: readonly string[]): Promise<ChunkData[]>;
  mermaid(): Promise<string | undefined>;
  reset(): Promise<void>;
  dispose(): void;
}

/** Runs the session in the calling thread (tests, or when no worker can start). */
export class InlineSessionClient implements SessionClient {
  private readonly session = new DiagramSession();
  update(text: string, version: number, settings: SessionSettings): Promise<LayoutCore> {
    return Promise.resolve(this.session.update(text, version, settings));
  }
  chunks(keys: readonly string[]): Promise<ChunkData[]> {
    return Promise.resolve(this.session.chunks(keys));
  }
  mermaid(): Promise<string | undefined> {
    return Promise.resolve(this.session.mermaid());
  }
  reset(): Promise<void> {
    this.session.reset();
    return Promise.resolve();
  }
  dispose(): void {}
}

/** One worker thread shared by every preview; each preview has a session id in it. */
export class SessionWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private nextSession = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failed = false;

  constructor(private readonly script: string) {}

  /** A client backed by the worker, or an inline one when the worker cannot start. */
  client(): SessionClient {
    const w = this.start();
    if (!w) return new InlineSessionClient();
    const session = this.nextSession++;
    const call = <T>(req: RequestBody): Promise<T> => this.call<T>({ ...req, session, id: 0 } as WorkerRequest);
    return {
      update: (text, version, settings) => call<LayoutCore>({ op: 'update', text, version, settings }),
      chunks: (keys) => call<ChunkData[]>({ op: 'chunks', keys: [...keys] }),
      mermaid: () => call<string | undefined>({ op: 'mermaid' }),
      reset: () => call<void>({ op: 'reset' }),
      dispose: () => void call<void>({ op: 'dispose' }).catch(() => undefined),
    };
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    try {
      const w = new Worker(this.script);
      w.on('message', (r: WorkerReply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (this.pending.size === 0) w.unref();
        if (r.ok) p.resolve(r.value);
        else p.reject(new Error(r.error));
      });
      const fail = (err: Error) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.worker = undefined;
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`the preview worker exited (${code})`)));
      // Idle, the worker must not keep a process alive; with a request pending, it must.
      w.unref();
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  private call<T>(req: WorkerRequest): Promise<T> {
    const w = this.start();
    if (!w) return Promise.reject(new Error('the preview worker is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ ...req, id });
    });
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
