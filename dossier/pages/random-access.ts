/**
 * Positioned reads from a file on disk, from bytes in memory or from a ranged file (object
 * storage), so that TIFF directories and stored ZIP entries are read with one call each, straight
 * into their own buffer.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import type { PageInput } from './context.js';
import { isRangedFile } from './ranged-file.js';

export interface RandomAccess {
  /** Up to `length` bytes at `position`, fewer at the end; always a buffer of its own. */
  readAt(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** fs reads are limited to 2 GiB - 1 bytes per call. */
const MAX_READ = 1 << 30;

export async function openRandomAccess(input: PageInput): Promise<RandomAccess> {
  if (isRangedFile(input)) return { readAt: (position, length) => input.readAt(position, length), close: async () => {} };
  if (typeof input !== 'string') {
    return {
      readAt: async (position, length) => Buffer.from(input.subarray(position, position + length)),
      close: async () => {},
    };
  }
  const file = await fs.open(input, 'r');
  return {
    async readAt(position, length) {
      const bytes = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await file.read(bytes, filled, Math.min(length - filled, MAX_READ), position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.subarray(0, filled);
    },
    close: () => file.close(),
  };
}

/**
 * The same over synchronous reads, for a worker thread that only reads (the page worker): each
 * read is a pread on this thread instead of a hop through libuv's pool, which on a busy machine
 * cost more than the read (a PDF's pages are several small reads each).
 */
export function syncRandomAccess(path: string): RandomAccess {
  const fd = fsSync.openSync(path, 'r');
  return {
    async readAt(position, length) {
      const bytes = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const bytesRead = fsSync.readSync(fd, bytes, filled, Math.min(length - filled, MAX_READ), position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.subarray(0, filled);
    },
    close: async () => fsSync.closeSync(fd),
  };
}

/** Runs `use` with random access to `input`, closing the file afterwards whatever happens. */
export async function withRandomAccess<T>(input: PageInput, use: (access: RandomAccess) => Promise<T>): Promise<T> {
  const access = await openRandomAccess(input);
  try {
    return await use(access);
  } finally {
    await access.close();
  }
}
