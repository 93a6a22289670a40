import type { Readable } from 'node:stream';

/**
 * Content-addressed object storage: a blob's key is the lowercase hex SHA-256 of its bytes, so a
 * page scanned twice is stored once and a key always names the same bytes. Implementations:
 * filesystem (storage/blobs/fs-blob-store.ts) and S3 (storage/blobs/s3-blob-store.ts); both pass
 * test/blob-store.contract.ts.
 */
export interface BlobStore {
  /** Stores the bytes under their hash; a no-op when present. Durable when it resolves. */
  putBytes(sha256: string, bytes: Uint8Array): Promise<void>;
  /**
   * Takes a finished local file whose hash the caller computed. With `move`, the file is moved
   * (a rename on the filesystem store: no copy of gigabytes) and is gone from `localPath` after.
   */
  putFile(sha256: string, localPath: string, options: { move: boolean }): Promise<void>;
  /** Size in bytes, or null when absent. */
  size(sha256: string): Promise<number | null>;
  /** Reads the blob, or an inclusive byte range of it. Throws not_found when absent. */
  read(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  /** A path on this machine where the blob can be read with random access, when the store has one. */
  localPath(sha256: string): string | null;
  /**
   * A short-lived URL that serves the blob without us (an S3 presigned GET), or null when the
   * store has none (the filesystem store): then the gateway streams it.
   */
  downloadUrl(sha256: string, options: DownloadUrlOptions): Promise<string | null>;
  /**
   * What the store does to a blob's bytes before it keeps them (sealing at rest), in a form that
   * crosses to another thread, so that the thread that makes a page (its reader) does it there;
   * absent or null when the store keeps the bytes as they are.
   */
  preparation?(): BlobPreparation | null;
  /**
   * Stores a blob that `preparation()`'s function prepared: like `putBytes`, with the work done.
   * `bytes` are the blob itself, for a blob the preparation no longer fits (stored meanwhile).
   */
  putPrepared?(sha256: string, bytes: Uint8Array, prepared: PreparedBlob): Promise<void>;
  /**
   * For a store that rewrites a file to keep it (sealing it at rest, where no rename will do):
   * that work begins now, while the file is still being read elsewhere (its pages extracted).
   * `finish` then does what `putFile(sha256, localPath, { move: true })` does; `abandon` leaves
   * nothing of the file in the store. Absent: keep the file with `putFile` when done with it.
   */
  beginPutFile?(sha256: string, localPath: string): PendingPut;
  /**
   * Keeps blobs that are byte ranges of another blob (`container`: a page that is a stored entry
   * of its ZIP upload) as those ranges: no second copy, one row each. Reads of such a blob are
   * served from its container, which must be stored before anything reads them; the caller has
   * hashed each range's bytes itself. Absent: the store keeps every blob whole (`putBytes`).
   */
  keepContained?(ranges: readonly ContainedBlob[]): Promise<void>;
  /**
   * The largest blob `keepContained` is for: larger ones are kept whole (a store that sends large
   * downloads to presigned URLs keeps them presignable). Absent: any size.
   */
  readonly containedMaxBytes?: number;
}

/** The largest blob `store` keeps as a range of another (`keepContained`), or null: none. */
export function containedLimit(store: BlobStore): number | null {
  return store.keepContained ? (store.containedMaxBytes ?? Number.MAX_SAFE_INTEGER) : null;
}

/** A blob that is bytes [start, start + size) of the blob `container`. */
export interface ContainedBlob {
  readonly sha256: string;
  readonly container: string;
  readonly start: number;
  readonly size: number;
}

export interface PendingPut {
  finish(): Promise<void>;
  abandon(): Promise<void>;
}

/**
 * A store's preparation of blobs, as structured-clonable data: the URL of a module whose default
 * export makes the preparing function (`PrepareBlob`) of `material`. Opaque to the domain, which
 * only carries it to the thread and the prepared blobs back.
 */
export interface BlobPreparation {
  readonly module: string;
  readonly material: unknown;
}

/** A blob as the store will keep it, and what the store needs with it (`note`, opaque here). */
export interface PreparedBlob {
  /** A buffer of its own (transferable to another thread whole). */
  readonly stored: Uint8Array;
  readonly note: unknown;
}

export type PrepareBlob = (sha256: string, bytes: Uint8Array) => PreparedBlob;

export interface DownloadUrlOptions {
  readonly expiresInSeconds: number;
  readonly contentType?: string;
  /** Offered to the browser as the saved file's name. */
  readonly filename?: string;
}
