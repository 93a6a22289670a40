/**
 * A page source yields each page with its SHA-256 already computed. Two implementations: in this
 * thread (tests, small inputs) and in a worker thread (pages-in-worker.ts), which moves parsing
 * and hashing to the second core while this thread stores, signs and records.
 */
import { sm3Hex } from '../digest.js';
import { sha256Hex } from '../hash.js';
import { withBlockCache } from './block-cache.js';
import { isRangedFile, type UploadInput } from './ranged-file.js';
import type { ExtractedPage, IngestLimits, PageReader } from './types.js';

export interface HashedPage extends ExtractedPage {
  readonly sha256: string;
  /** Only when asked for (`sm3: true`, the national suite). */
  readonly sm3?: string;
}

/** Which digests besides SHA-256 (always: blobs are addressed by it) a read computes. */
export interface DigestOptions {
  readonly sm3?: boolean;
}

/**
 * A ranged input is handed over uncached: the source puts the block cache in the thread that
 * parses, so that only whole blocks cross between threads.
 */
export type PageSource = (input: UploadInput, limits: IngestLimits, digests?: DigestOptions) => AsyncIterable<HashedPage>;

/** The page's digests, computed where the page is read (the worker thread, off the main one). */
export function pageDigests(bytes: Uint8Array, digests?: DigestOptions): { sha256: string; sm3?: string } {
  return digests?.sm3 ? { sha256: sha256Hex(bytes), sm3: sm3Hex(bytes) } : { sha256: sha256Hex(bytes) };
}

export function inThreadPageSource(read: PageReader): PageSource {
  return async function* (input, limits, digests) {
    for await (const page of read(isRangedFile(input) ? withBlockCache(input) : input, limits)) yield { ...page, ...pageDigests(page.bytes, digests) };
  };
}
