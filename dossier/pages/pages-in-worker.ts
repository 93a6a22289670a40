/**
 * Runs the page reader and SHA-256 in worker threads. Pages cross over as transferred buffers
 * (no copy on this side) under credit-based flow control, so at most `window` pages are in
 * memory between the two threads. Threads are kept between dossiers, up to `keep` idle ones, so
 * a small dossier does not pay a thread's start (measured: most of a one-page dossier's ingest).
 * Stopping an iteration early, or a failed read, terminates its thread: a hostile file never
 * leaves a thread half-way through it for the next dossier.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { DossierError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { HashedPage, PageSource } from './page-source.js';
import type { RangeAnswer, RangeRequest, ReadRequest, WorkerMessage } from './page-worker.js';
import { isRangedFile, type RangedFile } from './ranged-file.js';

// The worker file sits beside this one: .js when compiled; .ts when run from source through tsx
// (tests, bench), where the worker thread must register tsx itself before importing it.
const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./page-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);

function startWorker(): Worker {
  const worker = fromSource
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`, { eval: true })
    : new Worker(workerUrl);
  // An idle thread must not keep the process alive; close() ends them on a clean stop.
  worker.unref();
  return worker;
}

export interface PooledPageSource extends PageSource {
  /** Ends the idle threads (reads under way end their own when they finish). */
  close(): Promise<void>;
}

export function workerPageSource(options: { window?: number; keep?: number } = {}): PooledPageSource {
  const window = options.window ?? 16;
  const keep = options.keep ?? 2;
  const idle: Worker[] = [];
  let closed = false;
  const release = (worker: Worker) => {
    if (!closed && idle.length < keep) idle.push(worker);
    else void worker.terminate();
  };

  const source: PageSource = (input, limits, digests) => ({
    [Symbol.asyncIterator]() {
      const worker = idle.pop() ?? startWorker();
      const channel = new MessageChannel();
      const queue: WorkerMessage[] = [];
      let waiting: (() => void) | null = null;
      let finished = false;
      const push = (m: WorkerMessage) => {
        queue.push(m);
        waiting?.();
      };
      const onError = (err: Error) => push({ type: 'error', code: 'internal', message: err.message });
      const onExit = (code: number) => push({ type: 'error', code: 'internal', message: `page reader stopped (exit ${code})` });
      channel.port1.on('message', (m: WorkerMessage) => {
        if (m.type === 'range') {
          if (isRangedFile(input)) serveRange(channel.port1, input, m);
        } else push(m);
      });
      worker.on('error', onError);
      worker.on('exit', onExit);
      const read = isRangedFile(input) ? { rangedSize: input.size } : { path: input };
      const request: ReadRequest = { type: 'read', port: channel.port2, input: read, limits, window, ...(digests ? { digests } : {}) };
      worker.postMessage(request, [channel.port2]);
      /** `reuse`: the read ended cleanly, the thread may take the next dossier. */
      const finish = async (reuse: boolean) => {
        if (finished) return;
        finished = true;
        worker.off('error', onError);
        worker.off('exit', onExit);
        channel.port1.close();
        if (reuse) release(worker);
        else await worker.terminate();
      };
      return {
        async next(): Promise<IteratorResult<HashedPage>> {
          for (;;) {
            const m = queue.shift();
            if (m?.type === 'page') {
              channel.port1.postMessage({ type: 'credit', n: 1 });
              return { value: { ...m.page, bytes: Buffer.from(m.page.bytes.buffer, m.page.bytes.byteOffset, m.page.bytes.byteLength) }, done: false };
            }
            if (m?.type === 'done') {
              await finish(true);
              return { value: undefined, done: true };
            }
            if (m?.type === 'error') {
              await finish(false);
              const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(m.code) ? (m.code as ErrorCode) : 'internal';
              throw new DossierError(code, m.message);
            }
            if (finished) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (waiting = resolve));
            waiting = null;
          }
        },
        async return(): Promise<IteratorResult<HashedPage>> {
          await finish(false);
          return { value: undefined, done: true };
        },
      };
    },
  });
  return Object.assign(source, {
    async close() {
      closed = true;
      await Promise.all(idle.splice(0).map((w) => w.terminate()));
    },
  });
}

/** Reads a range the thread asked for and sends it back, the bytes transferred, not copied. */
function serveRange(port: MessagePort, file: RangedFile, m: RangeRequest): void {
  file.readAt(m.position, m.length).then(
    (bytes) => {
      // Own the memory outright: a small Buffer may sit in Node's shared pool, which must not move.
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
      postIfOpen(port, { type: 'range', id: m.id, bytes: owned }, [owned.buffer as ArrayBuffer]);
    },
    (err: unknown) => postIfOpen(port, { type: 'range', id: m.id, error: err instanceof Error ? err.message : String(err) }, []),
  );
}

/** The read may have ended (closed port) while the range was on its way. */
function postIfOpen(port: MessagePort, answer: RangeAnswer, transfer: ArrayBuffer[]): void {
  try {
    port.postMessage(answer, transfer);
  } catch {
    // closed: nobody waits for it any more
  }
}
