/**
 * The original of a dossier as kept in a blob store without a local path (S3), read by byte
 * ranges: one ranged GET per request of the page readers' block cache. With envelope encryption
 * the store opens only the 64 KiB segments a range covers. Counts what it fetched, for the log
 * line and the benchmark (requests and bytes per page).
 */
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '../ports/blob-store.js';
import type { RangedFile } from '../pages/ranged-file.js';

export interface CountedRangedFile extends RangedFile {
  readonly fetched: { requests: number; bytes: number };
}

export function storedOriginal(blobs: Pick<BlobStore, 'read'>, sha256: string, size: number): CountedRangedFile {
  const fetched = { requests: 0, bytes: 0 };
  return {
    size,
    fetched,
    async readAt(position, length) {
      const end = Math.min(size, position + length);
      if (position >= end) return Buffer.alloc(0);
      fetched.requests++;
      const bytes = await buffer(await blobs.read(sha256, { start: position, end: end - 1 }));
      fetched.bytes += bytes.length;
      return bytes;
    },
  };
}
