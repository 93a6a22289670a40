/**
 * State shared by the readers of one upload. Limits such as the page count and the inflated byte
 * total apply to the dossier as a whole, across nested archives, so they are counted here rather
 * than per reader.
 */
import fs from 'node:fs/promises';
import { DossierError, type ErrorCode } from '../errors.js';
import { isRangedFile, type RangedFile } from './ranged-file.js';
import type { IngestLimits } from './types.js';

/**
 * A file on local disk (by path), bytes already in memory (an entry of an archive), or an upload
 * read by byte ranges from object storage (ranged-file.ts).
 */
export type PageInput = string | Buffer | RangedFile;

export interface ReadContext {
  readonly limits: IngestLimits;
  /** Pages handed to the consumer so far (read-pages.ts counts them). */
  pages: number;
  /** Bytes actually inflated from archives so far, nested archives included. */
  inflated: number;
}

export function newContext(limits: IngestLimits): ReadContext {
  return { limits, pages: 0, inflated: 0 };
}

/**
 * How a clerk reads the origin of a problem: the upload itself, a file in the archive, or a page
 * of either (`vol1/scan.pdf#3`, `#3`).
 */
export function where(name: string): string {
  const page = /^(.*)#(\d+)$/.exec(name);
  if (page) return `Page ${page[2]} of ${page[1] === '' ? 'the uploaded file' : `the file "${page[1]}" in the archive`}`;
  return name === '' ? 'The uploaded file' : `The file "${name}" in the archive`;
}

export function reject(code: ErrorCode, name: string, message: string, details: Record<string, unknown> = {}): DossierError {
  return new DossierError(code, `${where(name)} ${message}`, name === '' ? details : { entry: name, ...details });
}

/** Fails early when `more` pages (`atLeast` that many) would take the dossier past maxPages. */
export function expectPages(ctx: ReadContext, more: number, name: string, atLeast = false): void {
  const { maxPages } = ctx.limits;
  if (ctx.pages + more > maxPages) {
    const count = `${atLeast ? 'at least ' : ''}${more} page${more === 1 ? '' : 's'}`;
    throw reject('too_many_pages', name, `has ${count}, which takes the dossier past the ${maxPages} pages it may have.`, { limit: maxPages });
  }
}

/** The source name of page `n` (1-based) of a multi-page file: `vol1/scan.pdf#3`, or `#3` at the top. */
export function pageName(name: string, n: number): string {
  return `${name}#${n}`;
}

/**
 * The whole input as one Buffer. fs.readFile refuses files over 2 GiB, but a page (or a PDF up
 * to maxPdfBytes) may be larger, so the file is read in chunks into one allocation.
 */
export async function inputBytes(input: PageInput): Promise<Buffer> {
  if (isRangedFile(input)) return rangedBytes(input);
  if (typeof input !== 'string') return input;
  const file = await fs.open(input, 'r');
  try {
    const { size } = await file.stat();
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await file.read(bytes, filled, Math.min(size - filled, 1 << 30), filled);
      if (bytesRead === 0) break; // the file shrank while being read
      filled += bytesRead;
    }
    return filled === size ? bytes : bytes.subarray(0, filled);
  } finally {
    await file.close();
  }
}

/** Ranged reads larger than this are split, a few in flight: one long GET is slower than four. */
const WHOLE_READ_PART = 16 * 1024 * 1024;
const WHOLE_READ_PARALLEL = 4;

/** A whole ranged file in one allocation (a PDF is parsed in memory whatever its source). */
async function rangedBytes(file: RangedFile): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(file.size);
  const parts = Math.ceil(file.size / WHOLE_READ_PART);
  let next = 0;
  let filled = 0;
  const worker = async () => {
    for (let part = next++; part < parts; part = next++) {
      const at = part * WHOLE_READ_PART;
      const chunk = await file.readAt(at, Math.min(WHOLE_READ_PART, file.size - at));
      chunk.copy(bytes, at);
      filled += chunk.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(WHOLE_READ_PARALLEL, parts) }, worker));
  if (filled !== file.size) throw new Error(`the stored file ended after ${filled} of its ${file.size} bytes`);
  return bytes;
}

/** The input's size in bytes. */
export async function inputSize(input: PageInput): Promise<number> {
  if (isRangedFile(input)) return input.size;
  return typeof input === 'string' ? (await fs.stat(input)).size : input.length;
}
