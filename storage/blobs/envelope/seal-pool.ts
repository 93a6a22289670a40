/**
 * Where blobs are sealed: in this thread (`inlineSealer`: tests, tools) or in a pool of worker
 * threads (`SealPool`: the gateway). Sealing is all CPU (SM4 in OpenSSL's portable C runs at tens
 * of MB/s a core, against hundreds to thousands for AES-GCM), and on the ingest's main thread it
 * held up the blob writes and the page rows behind it while the page reader's thread sat idle.
 * A file (an original of gigabytes) is sealed in runs of 16 segments, several runs in flight on
 * different threads, joined in order: segments are independent of one another.
 */
import os from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { Piscina } from 'piscina';
import { header, SEGMENT_BYTES } from './layout.js';
import { sealBuffer, SealingTransform, type BlobSealKey } from './seal-streams.js';
import type { SealTask } from './seal-worker.js';

export interface Sealer {
  sealBuffer(k: BlobSealKey, plain: Uint8Array): Promise<Buffer>;
  /** Plaintext in, the sealed blob out (header first). */
  sealingTransform(k: BlobSealKey): Transform;
  close(): Promise<void>;
}

export const inlineSealer: Sealer = {
  sealBuffer: async (k, plain) => sealBuffer(k, plain),
  sealingTransform: (k) => new SealingTransform(k),
  close: async () => {},
};

/** Segments a task of a file seals: 1 MiB of plaintext. */
const RUN_BYTES = 16 * SEGMENT_BYTES;
const fromSource = import.meta.url.endsWith('.ts');

export class SealPool implements Sealer {
  private readonly pool: Piscina<SealTask, Buffer>;
  private readonly depth: number;

  constructor(options: { threads?: number } = {}) {
    const threads = Math.max(1, options.threads ?? os.availableParallelism());
    this.depth = 2 * threads;
    this.pool = new Piscina({
      // Compiled: the .js beside this file; from source the .ts (the thread inherits `--import tsx`).
      filename: new URL(`./seal-worker${fromSource ? '.ts' : '.js'}`, import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 10_000,
    });
  }

  /** Seals `plain` (a copy of it crosses to the thread; the caller's bytes are left alone). */
  private run(k: BlobSealKey, plain: Uint8Array, first: number, last: boolean): Promise<Buffer> {
    const copy = new Uint8Array(plain);
    const task: SealTask = { cipher: k.cipher.name, dataKey: k.dataKey, sha256: k.sha256, plain: copy, first, last };
    return this.pool.run(task, { transferList: [copy.buffer] }).then((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  async sealBuffer(k: BlobSealKey, plain: Uint8Array): Promise<Buffer> {
    // One segment or less (thumbnails): the hop to a thread would cost more than the sealing.
    if (plain.byteLength <= SEGMENT_BYTES) return sealBuffer(k, plain);
    return Buffer.concat([header(k.cipher.name), await this.run(k, plain, 0, true)]);
  }

  sealingTransform(k: BlobSealKey): Transform {
    return new PooledSealing(k, (plain, first, last) => this.run(k, plain, first, last), this.depth);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Runs of a file sealed on the pool, up to `depth` at once, pushed in order; the last run is known only at the end. */
class PooledSealing extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private next = 0;
  private readonly inFlight: Promise<Buffer>[] = [];

  constructor(k: BlobSealKey, private readonly seal: (plain: Uint8Array, first: number, last: boolean) => Promise<Buffer>, private readonly depth: number) {
    super();
    this.push(header(k.cipher.name));
  }

  private start(plain: Uint8Array, last: boolean): void {
    const p = this.seal(plain, this.next, last);
    p.catch(() => {}); // awaited in order below; a failure surfaces there
    this.inFlight.push(p);
    this.next += RUN_BYTES / SEGMENT_BYTES;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.held.push(chunk);
    this.heldBytes += chunk.byteLength;
    void (async () => {
      // More than a run held: the run is not the blob's last.
      while (this.heldBytes > RUN_BYTES) {
        const all = Buffer.concat(this.held);
        this.start(all.subarray(0, RUN_BYTES), false);
        this.held = [all.subarray(RUN_BYTES)];
        this.heldBytes -= RUN_BYTES;
        while (this.inFlight.length >= this.depth) this.push(await this.inFlight.shift()!);
      }
    })().then(() => done(), (err: Error) => done(err));
  }

  override _flush(done: TransformCallback): void {
    this.start(Buffer.concat(this.held), true);
    void (async () => {
      for (const p of this.inFlight.splice(0)) this.push(await p);
    })().then(() => done(), (err: Error) => done(err));
  }
}
