/**
 * Drives read-worker.ts: one read at a time, each within a time bound and the thread's heap
 * bound. A read past its time, or a thread that dies (its heap exhausted, a native crash), is an
 * outcome of its own, and the next read gets a fresh thread.
 */
import { Worker } from 'node:worker_threads';
import type { IngestLimits } from '../../../dossier/pages/types.js';
import type { ReadOutcome, ReadRequest } from './read-worker.js';

export type BoundedOutcome = ReadOutcome | { readonly kind: 'timeout'; readonly ms: number } | { readonly kind: 'died'; readonly message: string };

const workerUrl = new URL('./read-worker.ts', import.meta.url);

export interface ReaderInThread {
  read(path: string, limits: IngestLimits): Promise<BoundedOutcome>;
  close(): Promise<void>;
}

export function readerInThread(options: { timeoutMs: number; heapMb: number }): ReaderInThread {
  let worker: Worker | null = null;
  let ready: Promise<void> | null = null;
  let nextId = 0;

  const start = () => {
    const w = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb },
    });
    worker = w;
    ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        w.off('message', onReady);
        resolve();
      };
      w.on('message', onReady);
      w.once('error', reject);
    });
  };

  const discard = async () => {
    const w = worker;
    worker = null;
    ready = null;
    await w?.terminate();
  };

  return {
    async read(path, limits) {
      if (!worker) start();
      await ready;
      const w = worker!;
      const id = ++nextId;
      return new Promise<BoundedOutcome>((resolve) => {
        const started = performance.now();
        const done = (outcome: BoundedOutcome, keep: boolean) => {
          clearTimeout(timer);
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
          if (keep) resolve(outcome);
          else void discard().then(() => resolve(outcome));
        };
        const onMessage = (m: { id?: number; outcome?: ReadOutcome }) => {
          if (m.id === id && m.outcome) done(m.outcome, true);
        };
        const onError = (err: Error) => done({ kind: 'died', message: `${(err as { code?: string }).code ?? err.name}: ${err.message}` }, false);
        const onExit = (code: number) => done({ kind: 'died', message: `exit ${code}` }, false);
        const timer = setTimeout(() => done({ kind: 'timeout', ms: Math.round(performance.now() - started) }, false), options.timeoutMs);
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.postMessage({ id, path, limits } satisfies ReadRequest);
      });
    },
    close: discard,
  };
}
