/**
 * Worker side of pages-in-worker.ts. The thread lives on between dossiers (starting one, with
 * its image and PDF libraries, costs about a second on a busy machine: more than a small dossier
 * takes to read), and reads one dossier at a time, each over a port of its own: read the pages,
 * hash them, sign their statements when asked (SM2 in JavaScript costs about as much as the rest
 * of a page's work on the main thread), hand them over when given credit. An upload read by
 * ranges (object storage) is read through the same port: the thread asks for a byte range, the
 * pool's side reads it from the store and sends it back; the block cache sits here, so only whole
 * blocks cross.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { isDossierError } from '../errors.js';
import { withBlockCache } from './block-cache.js';
import { keptAsRange, pageEvidence, type DigestOptions, type HashedPage } from './page-source.js';
import type { RangedFile } from './ranged-file.js';
import { readPages } from './read-pages.js';
import type { IngestLimits } from './types.js';

export type WorkerMessage =
  | { type: 'page'; page: Omit<HashedPage, 'bytes'> & { bytes: Uint8Array } }
  | { type: 'done' }
  | { type: 'error'; code: string; message: string }
  | RangeRequest;

/** The thread asks for bytes of a ranged upload. */
export interface RangeRequest {
  readonly type: 'range';
  readonly id: number;
  readonly position: number;
  readonly length: number;
}

/** The pool's answer: the bytes (transferred), or why they could not be read. */
export type RangeAnswer = { type: 'range'; id: number; bytes: Uint8Array } | { type: 'range'; id: number; error: string };

/** Pages of a file on disk, or of a ranged file of this size read over the port. */
export type ReadInput = { readonly path: string } | { readonly rangedSize: number };

/** What the pool sends to the thread: one dossier to read, and the port to answer on. */
export interface ReadRequest {
  readonly type: 'read';
  readonly port: MessagePort;
  readonly input: ReadInput;
  readonly limits: IngestLimits;
  readonly window: number;
  readonly digests?: DigestOptions;
}

async function read(req: ReadRequest): Promise<void> {
  const port = req.port;
  let credit = req.window;
  let wake: (() => void) | null = null;
  const pending = new Map<number, { resolve: (b: Buffer) => void; fail: (e: Error) => void }>();
  port.on('message', (m: { type: 'credit'; n: number } | RangeAnswer) => {
    if (m.type === 'range') {
      const waiting = pending.get(m.id);
      pending.delete(m.id);
      if ('bytes' in m) waiting?.resolve(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
      else waiting?.fail(new Error(m.error));
      return;
    }
    credit += m.n;
    wake?.();
  });
  let ids = 0;
  const ranged = (size: number): RangedFile => ({
    size,
    readAt: (position, length) =>
      new Promise<Buffer>((resolve, fail) => {
        const id = ids++;
        pending.set(id, { resolve, fail });
        port.postMessage({ type: 'range', id, position, length } satisfies WorkerMessage);
      }),
  });
  const input = 'path' in req.input ? req.input.path : withBlockCache(ranged(req.input.rangedSize));
  const evidence = pageEvidence(req.digests);
  let index = 0;
  try {
    for await (const page of readPages(input, req.limits)) {
      const owned = ownedBytes(page.bytes);
      // Hashed, signed and prepared for the store (sealed at rest) before waiting for credit: the work overlaps the main thread's.
      const evidenced = await evidence({ ...page, bytes: owned }, ++index);
      const prepared = evidenced.prepared ? { ...evidenced.prepared, stored: ownedBytes(evidenced.prepared.stored) } : null;
      // A page kept as a range of the upload is not stored from its bytes: only its place and size cross.
      const left = keptAsRange(page, req.digests);
      const sent = left ? { ...evidenced, bytes: new Uint8Array(0), size: owned.byteLength } : evidenced;
      const message: WorkerMessage = { type: 'page', page: prepared ? { ...sent, prepared } : sent };
      while (credit <= 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      credit--;
      port.postMessage(message, [...(left ? [] : [owned.buffer as ArrayBuffer]), ...(prepared ? [prepared.stored.buffer as ArrayBuffer] : [])]);
    }
    port.postMessage({ type: 'done' } satisfies WorkerMessage);
  } catch (err) {
    const message: WorkerMessage = isDossierError(err)
      ? { type: 'error', code: err.code, message: err.message }
      : { type: 'error', code: 'internal', message: err instanceof Error ? err.message : String(err) };
    port.postMessage(message);
  }
  port.close();
}

/** Bytes that own their memory outright, so a transfer moves exactly them, never a larger parent buffer. */
function ownedBytes<T extends Uint8Array>(b: T): T | Buffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : Buffer.from(new Uint8Array(b).buffer);
}

if (parentPort) {
  // One read at a time: the pool sends the next request only after this one's done or error.
  parentPort.on('message', (req: ReadRequest) => void read(req));
}
