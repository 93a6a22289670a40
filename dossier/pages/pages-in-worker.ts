/**
 * Runs the page reader and SHA-256 in a worker thread. Pages cross over as transferred buffers
 * (no copy on this side) under credit-based flow control, so at most `window` pages are in
 * memory between the two threads. Stopping the iteration early terminates the worker.
 */
import { Worker } from 'node:worker_threads';
import { DossierError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { HashedPage, PageSource } from './page-source.js';
import type { WorkerMessage } from './page-worker.js';

// The worker file sits beside this one: .js when compiled; .ts when run from source through tsx
// (tests, bench), where the worker thread must register tsx itself before importing it.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./page-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);

function startWorker(workerData: unknown): Worker {
  if (!fromSource) return new Worker(workerUrl, { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export function workerPageSource(options: { window?: number } = {}): PageSource {
  const window = options.window ?? 16;
  return (path, limits) => ({
    [Symbol.asyncIterator]() {
      const worker = startWorker({ path, limits, window });
      const queue: WorkerMessage[] = [];
      let waiting: (() => void) | null = null;
      let exited = false;
      const push = (m: WorkerMessage) => {
        queue.push(m);
        waiting?.();
      };
      worker.on('message', push);
      worker.on('error', (err) => push({ type: 'error', code: 'internal', message: err.message }));
      worker.on('exit', (code) => {
        exited = true;
        if (code !== 0) push({ type: 'error', code: 'internal', message: `page reader stopped (exit ${code})` });
        else waiting?.();
      });
      const stop = async () => {
        if (!exited) await worker.terminate();
      };
      return {
        async next(): Promise<IteratorResult<HashedPage>> {
          for (;;) {
            const m = queue.shift();
            if (m?.type === 'page') {
              worker.postMessage({ type: 'credit', n: 1 });
              return { value: { ...m.page, bytes: Buffer.from(m.page.bytes.buffer, m.page.bytes.byteOffset, m.page.bytes.byteLength) }, done: false };
            }
            if (m?.type === 'done') {
              await stop();
              return { value: undefined, done: true };
            }
            if (m?.type === 'error') {
              await stop();
              const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(m.code) ? (m.code as ErrorCode) : 'internal';
              throw new DossierError(code, m.message);
            }
            if (exited) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (waiting = resolve));
            waiting = null;
          }
        },
        async return(): Promise<IteratorResult<HashedPage>> {
          await stop();
          return { value: undefined, done: true };
        },
      };
    },
  });
}
