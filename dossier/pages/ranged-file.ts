/**
 * An upload that is not on this machine's disk (an original kept in object storage), read by byte
 * ranges: the page readers reach a ZIP's central directory and entries, a TIFF's directories and a
 * PDF's bytes through it without a local copy. Reads go through a block cache (block-cache.ts) in
 * the thread that parses, so that many small reads become few large requests.
 */

export interface RangedFile {
  /** The whole file's size in bytes, known before the first read. */
  readonly size: number;
  /** Up to `length` bytes at `position`, fewer at the end; always a buffer of its own. */
  readAt(position: number, length: number): Promise<Buffer>;
}

/** What a page source reads: a file on local disk by path, or a file read by ranges. */
export type UploadInput = string | RangedFile;

export function isRangedFile(input: unknown): input is RangedFile {
  return typeof input === 'object' && input !== null && !Buffer.isBuffer(input) && typeof (input as RangedFile).readAt === 'function';
}
