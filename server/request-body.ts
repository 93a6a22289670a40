/**
 * A request body as a web stream that honours backpressure by bytes. Node 20's Readable.toWeb
 * (which srvx uses for @tus/server) queues by chunk count with a byte-sized high-water mark, so a
 * fast client fills memory with up to gigabytes of one PATCH; this one pauses the socket once
 * 4 MiB are queued and resumes when the store has written them.
 */
import type { Readable } from 'node:stream';

const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export function backpressuredBody(req: Readable & { complete?: boolean }): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.pause();
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          controller.error(err);
        };
        req.once('error', fail);
        req.once('close', () => {
          if (!req.complete) fail(new Error('request aborted'));
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        req.pause();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_BYTES }),
  );
}
