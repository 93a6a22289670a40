/**
 * State shared by the readers of one upload. Limits such as the page count and the inflated byte
 * total apply to the dossier as a whole, across nested archives, so they are counted here rather
 * than per reader.
 */
import { DossierError, type ErrorCode } from '../errors.js';
import type { IngestLimits } from './types.js';

/** A file on local disk (by path) or bytes already in memory (an entry of an archive). */
export type PageInput = string | Buffer;

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

/** How a clerk reads the origin of a problem: the upload itself, or an entry in it. */
export function where(name: string): string {
  return name === '' ? 'The uploaded file' : `The file "${name}" in the archive`;
}

export function reject(code: ErrorCode, name: string, message: string, details: Record<string, unknown> = {}): DossierError {
  return new DossierError(code, `${where(name)} ${message}`, name === '' ? details : { entry: name, ...details });
}

/** Fails early when `more` pages are announced that would take the dossier past maxPages. */
export function expectPages(ctx: ReadContext, more: number, name: string): void {
  if (ctx.pages + more > ctx.limits.maxPages) {
    throw reject('too_many_pages', name, `would take the dossier past the limit of ${ctx.limits.maxPages} pages.`, {
      limit: ctx.limits.maxPages,
    });
  }
}

/** The source name of page `n` (1-based) of a multi-page file: `vol1/scan.pdf#3`, or `#3` at the top. */
export function pageName(name: string, n: number): string {
  return `${name}#${n}`;
}
