/**
 * Where blobs are sealed: in this thread (`inlineSealer`: tests, tools) or in a pool of worker
 * threads (`SealPool`: the gateway). Sealing is all CPU (SM4 in OpenSSL's portable C runs at tens
 * of MB/s a core, against hundreds to thousands for AES-GCM). Pages are sealed in their reader's
 * thread (thread-sealer.ts); what comes here is a page the store seals again (another key stood)
 * and the original upload, a file of up to gigabytes: the pool's threads read it themselves, in
 * runs of 64 segments, seal each run and write it at its place in the sealed file, several runs on
 * different threads at once (segments are independent of one another). None of the file's bytes
 * pass through the main thread, whose garbage collector the streamed copies kept busy.
 */
import fs from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Piscina } from 'piscina';
import { SEGMENT_BYTES } from './layout.js';
import { sealBuffer, SealingTransform, type BlobSealingKey } from './seal-streams.js';
import type { SealTask } from './seal-worker.js';

export interface Sealer {
  sealBuffer(k: BlobSealingKey, plain: Uint8Array): Promise<Buffer>;
  /**
   * The sealed blob of the file at `src` (header first), written to a new file at `dst` (mode
   * 0600, not yet synced). `background`: one run at a time, beside other work (the page extraction).
   */
  sealFile(k: BlobSealingKey, src: string, dst: string, options?: { background?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export const inlineSealer: Sealer = {
  sealBuffer: async (k, plain) => sealBuffer(k, plain),
  sealFile: (k, src, dst) => pipeline(createReadStream(src, { highWaterMark: 1024 * 1024 }), new SealingTransform(k), createWriteStream(dst, { mode: 0o600 })),
  close: async () => {},
};

/** Segments a task of a file seals: 4 MiB of plaintext. */
export const RUN_SEGMENTS = 64;
const RUN_BYTES = RUN_SEGMENTS * SEGMENT_BYTES;
const fromSource = import.meta.url.endsWith('.ts');

export class SealPool implements Sealer {
  private readonly pool: Piscina<SealTask, Buffer | number>;
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

  async sealBuffer(k: BlobSealingKey, plain: Uint8Array): Promise<Buffer> {
    // One segment or less (thumbnails): the hop to a thread would cost more than the sealing.
    if (plain.byteLength <= SEGMENT_BYTES) return sealBuffer(k, plain);
    // A copy crosses to the thread (the caller's bytes are left alone), the sealed blob comes back moved.
    const copy = new Uint8Array(plain);
    const sealed = (await this.pool.run({ ...keyOf(k), plain: copy }, { transferList: [copy.buffer] })) as Buffer;
    return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  }

  async sealFile(k: BlobSealingKey, src: string, dst: string, options: { background?: boolean } = {}): Promise<void> {
    const input = await fs.open(src, 'r');
    try {
      const { size } = await input.stat();
      const output = await fs.open(dst, 'wx', 0o600);
      try {
        await output.write(k.header, 0, k.header.byteLength, 0);
        // File descriptors belong to the process: the threads read and write through these two.
        const runs = Math.max(1, Math.ceil(size / RUN_BYTES));
        const key = keyOf(k);
        let next = 0;
        const lane = async () => {
          for (let r = next++; r < runs; r = next++) {
            const position = r * RUN_BYTES;
            await this.pool.run({ ...key, file: { input: input.fd, output: output.fd, position, length: Math.min(RUN_BYTES, size - position), last: r === runs - 1 } });
          }
        };
        await Promise.all(Array.from({ length: options.background ? 1 : Math.min(this.depth, runs) }, lane));
      } finally {
        await output.close();
      }
    } finally {
      await input.close();
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The key as it crosses to a thread: its own 32 bytes (a Buffer may be a view of Node's shared pool, which a clone would copy whole). */
const keyOf = (k: BlobSealingKey) => ({ cipher: k.cipher.name, dataKey: new Uint8Array(k.dataKey), sha256: k.sha256, header: new Uint8Array(k.header) });
