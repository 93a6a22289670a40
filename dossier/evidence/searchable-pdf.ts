/**
 * The whole dossier as one searchable PDF (PDF 1.7), like OCRmyPDF's output: every page image as
 * stored, with the OCR words as an invisible text layer over it; stored PDF pages copied with
 * their own objects. Written as a stream: pages are taken one at a time from an async iterable
 * and each object leaves as soon as it is made, so memory holds one page and the xref offsets,
 * whatever the page count, and the first bytes leave at once.
 *
 * Deterministic: no dates and no random IDs; the trailer /ID comes from the caller (the dossier's
 * Merkle root), so the same dossier and the same text give the same bytes.
 */
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { WordsDocument } from '../ports/page-text.js';
import { copiedPage } from './pdf/copied-page.js';
import { CidEncoder, invisibleFontObjects, invisibleTextOperators, TEXT_FONT_NAME } from './pdf/invisible-text.js';
import { describeImage, imageObject } from './pdf/page-image.js';
import { literal, num, PdfFile } from './pdf/pdf-file.js';

export interface PdfPageInput {
  /** The stored page; a stream is read into memory (one page, never more). */
  readonly bytes: Buffer | Readable;
  readonly mediaType: string;
  /**
   * Words to lay over the page invisibly; null for none (OCR not done, or a PDF page whose own
   * text layer already carries the text).
   */
  readonly words: WordsDocument | null;
  /** Clockwise degrees that show the page upright (found by OCR): set as the page's /Rotate. */
  readonly rotation?: 0 | 90 | 180 | 270;
}

export interface SearchablePdfOptions {
  /** Trailer /ID (e.g. the Merkle root); the first 16 bytes are used. */
  readonly id?: Buffer;
  /** Document title (ASCII; other characters become '?'). */
  readonly title?: string;
  /**
   * Output size from which the cross-reference is a PDF 1.5 xref stream; default: past 10 GB,
   * where a classic xref table's 10-digit offsets run out.
   */
  readonly xrefStreamFrom?: number;
}

export async function* searchablePdf(pages: AsyncIterable<PdfPageInput>, options: SearchablePdfOptions = {}): AsyncGenerator<Buffer> {
  const file = new PdfFile(options.xrefStreamFrom);
  const catalog = file.allocate();
  const tree = file.allocate();
  const info = file.allocate();
  const font = { font: file.allocate(), cidFont: file.allocate(), descriptor: file.allocate(), toUnicode: file.allocate() };

  yield file.header();
  yield file.object(catalog, `<</Type /Catalog /Pages ${tree} 0 R>>`);
  const title = options.title ? ` /Title ${literal(options.title)}` : '';
  yield file.object(info, `<</Producer (dossier-gateway searchable PDF)${title}>>`);
  for (const o of invisibleFontObjects(font)) yield file.object(o.num, o.body);
  const cids = new CidEncoder();
  const text = (words: WordsDocument | null) => ({ font: font.font, cids, words });

  // One number per page: the only thing kept per page until the end (with its xref offset).
  const kids: number[] = [];
  for await (const page of pages) {
    const bytes = Buffer.isBuffer(page.bytes) ? page.bytes : await collect(page.bytes);
    const turn = page.rotation ?? 0;
    if (page.mediaType === 'application/pdf') kids.push(yield* copiedPage(file, bytes, tree, text(page.words), turn));
    else kids.push(yield* imagePage(file, bytes, page.mediaType, tree, text(page.words), turn));
  }

  // Last, since characters outside the BMP get their CIDs as the pages are written.
  yield* file.stream(font.toUnicode, '', Buffer.from(cids.toUnicodeCMap(), 'latin1'));

  yield file.object(tree, `<</Type /Pages /Count ${kids.length} /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}]>>`);
  yield file.finish({ root: catalog, info, id: options.id ? options.id.subarray(0, 16) : null });
}

/** An image page: the picture over the whole page, then the words. Returns the page's number. */
async function* imagePage(
  file: PdfFile,
  bytes: Buffer,
  mediaType: string,
  tree: number,
  { font, cids, words }: { font: number; cids: CidEncoder; words: WordsDocument | null },
  turn: number,
): AsyncGenerator<Buffer, number> {
  const image = await describeImage(bytes, mediaType);
  const pageNum = file.allocate();
  const contentsNum = file.allocate();
  const imageNum = file.allocate();
  const { width, height } = image;
  const text = words ? invisibleTextOperators(words, { x: 0, y: 0, width, height }, cids) : '';
  const fonts = text ? ` /Font <</${TEXT_FONT_NAME} ${font} 0 R>>` : '';
  yield file.object(
    pageNum,
    `<</Type /Page /Parent ${tree} 0 R /MediaBox [0 0 ${num(width)} ${num(height)}]${turn ? ` /Rotate ${turn}` : ''} /Resources <</XObject <</Im0 ${imageNum} 0 R>>${fonts}>> /Contents ${contentsNum} 0 R>>`,
  );
  const draw = `q ${num(width)} 0 0 ${num(height)} 0 0 cm /Im0 Do Q\n${text}`;
  yield* file.stream(contentsNum, ' /Filter /FlateDecode', zlib.deflateSync(Buffer.from(draw, 'latin1')));
  yield* imageObject(file, imageNum, image, bytes);
  return pageNum;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
