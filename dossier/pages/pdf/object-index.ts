/**
 * Where each object of a PDF sits: its offset in the file, or its place in an object stream. Read
 * from the cross-reference data (xref.ts) where it is sound, else rebuilt by scanning the file
 * for object headers (object-scan.ts), as the whole-file parse did. Either way only the index is
 * kept in memory (a few tens of bytes an object), never the file.
 */
import type { PDFContext, PDFObject } from 'pdf-lib';
import type { PdfBytes } from './indirect-object.js';
import { scanObjects } from './object-scan.js';
import { readXref } from './xref.js';

export type IndexEntry =
  | { readonly type: 'offset'; readonly offset: number; readonly gen: number }
  | { readonly type: 'compressed'; readonly stream: number; readonly index: number }
  | { readonly type: 'free' };

export interface ObjectIndex {
  readonly entries: ReadonlyMap<number, IndexEntry>;
  /** Every known start of an object or cross-reference section, ascending: an object ends before the next. */
  readonly bounds: readonly number[];
  /** The trailer's /Root and /Encrypt (as the whole-file parse kept them: the newest that has each). */
  readonly root: PDFObject | undefined;
  readonly encrypt: PDFObject | undefined;
  readonly how: 'xref' | 'scan';
}

export async function readIndex(file: PdfBytes, ctx: PDFContext): Promise<ObjectIndex> {
  return (await readXref(file, ctx)) ?? (await scanObjects(file, ctx));
}

/** The end of the object starting at `offset`: the next known start, or the end of the file. */
export function extentEnd(index: ObjectIndex, offset: number, size: number): number {
  const bounds = index.bounds;
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < bounds.length ? bounds[lo]! : size;
}
