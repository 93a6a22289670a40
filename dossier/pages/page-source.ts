/**
 * A page source yields each page with its SHA-256 already computed. Two implementations: in this
 * thread (tests, small inputs) and in a worker thread (pages-in-worker.ts), which moves parsing
 * and hashing to the second core while this thread stores, signs and records.
 */
import { sha256Hex } from '../hash.js';
import type { ExtractedPage, IngestLimits, PageReader } from './types.js';

export interface HashedPage extends ExtractedPage {
  readonly sha256: string;
}

export type PageSource = (path: string, limits: IngestLimits) => AsyncIterable<HashedPage>;

export function inThreadPageSource(read: PageReader): PageSource {
  return async function* (path, limits) {
    for await (const page of read(path, limits)) yield { ...page, sha256: sha256Hex(page.bytes) };
  };
}
