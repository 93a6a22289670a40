/**
 * One indirect object (`12 0 obj … endobj`) read from its offset in the file, parsed by pdf-lib's
 * own object parser, so that every object is the same value the whole-file parse made of it.
 * Only its bytes are read: the end of its extent (the next object's start) bounds the read, and a
 * stream with a direct /Length is read to its end and no further.
 */
import { PDFInvalidObject, PDFObjectParser, type PDFContext, type PDFObject } from 'pdf-lib';
import type { RandomAccess } from '../random-access.js';

export interface PdfBytes {
  readonly access: RandomAccess;
  readonly size: number;
}

/** First read of an object; most objects but image streams fit. */
const HEAD = 64 * 1024;
const WHOLE = 1024 * 1024;

const HEADER = /^[\0\t\n\f\r ]*(\d+)[\0\t\n\f\r ]+(\d+)[\0\t\n\f\r ]+obj/;

export interface IndirectObject {
  readonly num: number;
  readonly gen: number;
  readonly object: PDFObject;
  /** Bytes read for it: what keeping it costs. */
  readonly size: number;
}

/** The object at `offset`, or null when no object header sits there. `end` bounds the read. */
export async function readIndirectObject(file: PdfBytes, offset: number, end: number, ctx: PDFContext): Promise<IndirectObject | null> {
  const extent = Math.max(0, Math.min(end, file.size) - offset);
  // An object of up to WHOLE bytes (a scanned page's image) is read in one go, a larger one in two.
  let bytes = await file.access.readAt(offset, extent <= WHOLE ? extent : HEAD);
  const header = HEADER.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) return null;
  const needed = streamEnd(bytes, header[0].length);
  if (needed !== null && needed > bytes.length && bytes.length < extent) bytes = await file.access.readAt(offset, Math.min(extent, needed));
  const num = Number(header[1]);
  const gen = Number(header[2]);
  const body = (b: Buffer) => b.subarray(header[0].length);
  let object = parse(body(bytes), ctx);
  if (object === null && bytes.length < extent) {
    bytes = await file.access.readAt(offset, extent);
    object = parse(body(bytes), ctx);
  }
  // As the whole-file parser does with an object it cannot read: its raw bytes up to endobj.
  object ??= invalidObject(body(bytes));
  if (object === null) return null;
  return { num, gen, object, size: bytes.length };
}

function parse(bytes: Buffer, ctx: PDFContext): PDFObject | null {
  try {
    return PDFObjectParser.forBytes(bytes, ctx).parseObject();
  } catch {
    return null;
  }
}

function invalidObject(body: Buffer): PDFObject | null {
  let start = 0;
  while (start < body.length && isWhite(body[start]!)) start++;
  const end = body.indexOf('endobj', start, 'latin1');
  return end < 0 ? null : PDFInvalidObject.of(body.subarray(start, end));
}

const isWhite = (b: number) => b === 0 || b === 9 || b === 10 || b === 12 || b === 13 || b === 32;

/**
 * Where a stream with a direct /Length ends (with room for `endstream endobj`), counted from the
 * object's first byte; null for anything else. A guess that only sizes the read: the parser
 * decides, and a wrong guess costs one more read of the whole extent.
 */
export function streamEnd(head: Buffer, from: number): number | null {
  // Buffer searches, not a string of the whole head: this runs for every object read.
  const limit = Math.min(head.length, from + 16 * 1024);
  const endobj = head.indexOf('endobj', from, 'latin1');
  const end = endobj < 0 || endobj > limit ? limit : endobj;
  let keyword = head.indexOf('stream', from, 'latin1');
  while (keyword >= 0 && keyword < end && keyword > from && isLetter(head[keyword - 1]!)) keyword = head.indexOf('stream', keyword + 6, 'latin1');
  if (keyword < 0 || keyword >= end) return null;
  let data = keyword + 6;
  if (head[data] === 13) data++;
  if (head[data] === 10) data++;
  const dict = head.toString('latin1', from, keyword);
  const lengths = [...dict.matchAll(/\/Length[\0\t\n\f\r ]+(\d+)(?![\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R)(?=[^\d])/g)];
  const length = lengths.length ? Number(lengths[lengths.length - 1]![1]) : null;
  return length === null ? null : data + length + 64;
}

const isLetter = (b: number) => (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
