/**
 * A block cache over a RangedFile: reads are served from aligned blocks (4 MiB by default), each
 * fetched once with one ranged request, contiguous missing blocks together. A read that follows
 * the previous one in the file also fetches the next blocks ahead, so the network works while the
 * pages already fetched are parsed. Memory stays bounded: at most `blocks` blocks are kept (least
 * recently used go first), and a read larger than half of that bypasses the cache in one request.
 */
import type { RangedFile } from './ranged-file.js';

export interface BlockCacheOptions {
  /** Bytes per block and per request at least (the last block of the file is shorter). */
  readonly blockBytes?: number;
  /** Blocks kept at most, those in flight included. */
  readonly blocks?: number;
  /** Blocks fetched ahead of a forward read. */
  readonly ahead?: number;
}

export const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;

export function withBlockCache(file: RangedFile, options: BlockCacheOptions = {}): RangedFile {
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const capacity = Math.max(2, options.blocks ?? 8);
  const ahead = Math.min(options.ahead ?? 2, capacity - 1);
  const blockCount = Math.ceil(file.size / blockBytes);
  const cache = new Map<number, Promise<Buffer>>();
  let lastBlock = -2;

  const touch = (index: number, block: Promise<Buffer>) => {
    cache.delete(index);
    cache.set(index, block);
  };
  const evict = () => {
    while (cache.size > capacity) cache.delete(cache.keys().next().value!);
  };

  /** Fetches blocks [first, last] that are not cached, each contiguous run with one request. */
  const ensure = (first: number, last: number) => {
    let runStart = -1;
    const fetchRun = (from: number, to: number) => {
      const start = from * blockBytes;
      const whole = file.readAt(start, Math.min(file.size, (to + 1) * blockBytes) - start);
      for (let i = from; i <= to; i++) {
        const offset = (i - from) * blockBytes;
        const block = whole.then((bytes) => bytes.subarray(offset, offset + blockBytes));
        // A failed block is forgotten, so that a later read asks again.
        block.catch(() => cache.get(i) === block && cache.delete(i));
        cache.set(i, block);
      }
    };
    for (let i = first; i <= last + 1; i++) {
      const missing = i <= last && !cache.has(i);
      if (missing && runStart < 0) runStart = i;
      if (!missing && runStart >= 0) {
        fetchRun(runStart, i - 1);
        runStart = -1;
      }
    }
  };

  return {
    size: file.size,
    async readAt(position, length) {
      const end = Math.min(file.size, position + Math.max(0, length));
      if (position >= end) return Buffer.alloc(0);
      const first = Math.floor(position / blockBytes);
      const last = Math.floor((end - 1) / blockBytes);
      if (last - first + 1 > capacity / 2) return file.readAt(position, end - position);
      const forward = first === lastBlock || first === lastBlock + 1;
      lastBlock = last;
      ensure(first, last);
      const wanted: Promise<Buffer>[] = [];
      for (let i = first; i <= last; i++) {
        const block = cache.get(i)!;
        touch(i, block);
        wanted.push(block);
      }
      if (forward && ahead > 0 && last + 1 < blockCount) ensure(last + 1, Math.min(blockCount - 1, last + ahead));
      evict();
      const blocks = await Promise.all(wanted);
      const out = Buffer.allocUnsafe(end - position);
      let filled = 0;
      for (let i = 0; i < blocks.length; i++) {
        const blockStart = (first + i) * blockBytes;
        const from = Math.max(position, blockStart) - blockStart;
        const to = Math.min(end - blockStart, blocks[i]!.length);
        if (to <= from) break; // the file was shorter than its declared size
        filled += blocks[i]!.copy(out, filled, from, to);
        if (to < blockBytes && blockStart + to < end) break;
      }
      return filled === out.length ? out : out.subarray(0, filled);
    },
  };
}
