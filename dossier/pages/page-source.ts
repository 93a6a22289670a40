/**
 * A page source yields each page with its SHA-256 already computed, and, when asked, its signed
 * statement. Two implementations: in this thread (tests, small inputs) and in a worker thread
 * (pages-in-worker.ts), which moves parsing, hashing and statement signing to the second core
 * while this thread stores and records.
 */
import { sm3Hex } from '../digest.js';
import type { BlobPreparation, PrepareBlob, PreparedBlob } from '../ports/blob-store.js';
import { pageStatement, signCanonical } from '../evidence/statements.js';
import { sha256Hex } from '../hash.js';
import { portableSigner } from '../signing/portable-signer.js';
import type { PortableSigningKey } from '../signing/signer.js';
import { withBlockCache } from './block-cache.js';
import { isRangedFile, type UploadInput } from './ranged-file.js';
import type { ExtractedPage, IngestLimits, PageReader } from './types.js';

export interface HashedPage extends ExtractedPage {
  readonly sha256: string;
  /** Only when asked for (`sm3: true`, the national suite). */
  readonly sm3?: string;
  /** Only when asked for (`statements`): the page statement, signed at `statement.index`. */
  readonly statement?: { readonly index: number; readonly kid: string; readonly jws: string };
  /** Only when asked for (`blobs`): the page as the blob store keeps it, made where it was read. */
  readonly prepared?: PreparedBlob;
  /**
   * The page's size when its bytes stayed in the thread that read it (`rangesKept` and `at`: the
   * store keeps the page as a range of the upload, so `bytes` are empty); else `bytes` has it.
   */
  readonly size?: number;
}

/**
 * What a read computes besides SHA-256 (always: blobs are addressed by it): the SM3 digest (the
 * national suite), and the page statements of a dossier, page n signed at index n, n from 1.
 */
export interface DigestOptions {
  readonly sm3?: boolean;
  readonly statements?: { readonly dossier: string; readonly case: string; readonly key: PortableSigningKey };
  /** The blob store's preparation of the pages (sealing at rest: BlobStore.preparation). */
  readonly blobs?: BlobPreparation;
  /** Pages found in the upload as they are (`at`), up to this size, are kept as its ranges: they need no preparation. */
  readonly rangesKept?: number;
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

/** Digests, then the statement of the `index`-th page when asked for: what a page source yields. */
export function pageEvidence(digests?: DigestOptions): (page: ExtractedPage, index: number) => Promise<HashedPage> {
  const st = digests?.statements;
  const signer = st ? portableSigner(st.key) : null;
  const blobs = digests?.blobs;
  let prepare: Promise<PrepareBlob> | null = null;
  return async (page, index) => {
    const digested = { ...page, ...pageDigests(page.bytes, digests) };
    // The evidence stays over the page's own bytes; what the store keeps is made beside it.
    const hashed = blobs && !keptAsRange(page, digests) ? { ...digested, prepared: (await (prepare ??= loadPreparation(blobs)))(digested.sha256, page.bytes) } : digested;
    if (!st || !signer) return hashed;
    const jws = await signCanonical(signer, pageStatement(st, index, { ...hashed, size: page.bytes.byteLength }));
    return { ...hashed, statement: { index, kid: signer.kid, jws } };
  };
}

/** Whether the store keeps this page as a range of the upload (so its bytes are never stored from). */
export function keptAsRange(page: ExtractedPage, digests?: DigestOptions): boolean {
  return page.at !== undefined && page.bytes.byteLength <= (digests?.rangesKept ?? -1);
}

/** The preparing function of a store's preparation, made in this thread (the one that reads the pages). */
async function loadPreparation(p: BlobPreparation): Promise<PrepareBlob> {
  const made = (await import(p.module)) as { default: (material: unknown) => PrepareBlob };
  return made.default(p.material);
}

export function inThreadPageSource(read: PageReader): PageSource {
  return async function* (input, limits, digests) {
    const evidence = pageEvidence(digests);
    let index = 0;
    for await (const page of read(isRangedFile(input) ? withBlockCache(input) : input, limits)) yield evidence(page, ++index);
  };
}
