/**
 * PDF: each page becomes its own single-page PDF (pdf-lib copies the page with everything it
 * draws: content streams, fonts, images). The whole PDF is parsed in memory, so its size is
 * checked before a byte is read. Output is deterministic (no dates, no IDs): an ingest that is
 * run again yields the same page hashes.
 */
import { ParseSpeeds, PDFCatalog, PDFDocument, PDFName, PDFNull, PDFPageLeaf, PDFPageTree, PDFStream, type PDFPage } from 'pdf-lib';
import { expectPages, inputBytes, inputSize, pageName, reject, type PageInput, type ReadContext } from './context.js';
import type { ExtractedPage } from './types.js';

export async function* pdfPages(input: PageInput, name: string, ctx: ReadContext): AsyncGenerator<ExtractedPage> {
  const size = await inputSize(input);
  if (size > ctx.limits.maxPdfBytes) {
    throw reject('pdf_too_large', name, `is a PDF of ${size} bytes, larger than the ${ctx.limits.maxPdfBytes} bytes that can be read.`, {
      bytes: size,
      limit: ctx.limits.maxPdfBytes,
    });
  }
  const source = await load(await inputBytes(input), name);
  const pages = detachPages(source, name);
  if (pages.length === 0) throw reject('empty_dossier', name, 'is a PDF without any page.');
  expectPages(ctx, pages.length, name);
  for (let i = 0; i < pages.length; i++) yield await splitPage(source, i, pages[i]!, pageName(name, i + 1));
}

async function load(bytes: Buffer, name: string): Promise<PDFDocument> {
  let doc: PDFDocument;
  try {
    // Fastest: no setTimeout(0) pauses between objects; this runs in the page worker thread.
    // ignoreEncryption, then isEncrypted below: pdf-lib is compiled to ES5, where its
    // EncryptedPDFError is a plain Error to `instanceof`, so the flag is the reliable signal.
    doc = await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest, ignoreEncryption: true });
  } catch (err) {
    throw reject('corrupt_pdf', name, 'is a damaged PDF that cannot be read.', { reason: firstLine(err) });
  }
  if (doc.isEncrypted) {
    throw reject('encrypted_pdf', name, 'is an encrypted (password-protected) PDF. Please upload it without the protection.');
  }
  return doc;
}

/**
 * The pages, each cut loose from the rest of the document. pdf-lib copies a page with everything
 * reachable from it. A link annotation (/Dest, /P) or article bead pointing at another page would
 * reach that page, its /Parent, the page tree and so every page of the document: each one-page
 * PDF would be the whole file. So inherited attributes are first moved into each page, and then
 * every page, page-tree node and the catalog is replaced by null in this in-memory copy, which
 * is never saved: references to them from inside a page become null references.
 */
function detachPages(doc: PDFDocument, name: string): PDFPage[] {
  let pages: PDFPage[];
  try {
    pages = doc.getPages(); // computed once and cached by pdf-lib, before the tree is cut
    for (const page of pages) {
      const leaf = page.node;
      for (const key of PDFPageLeaf.InheritableEntries) {
        const entry = PDFName.of(key);
        const value = leaf.getInheritableAttribute(entry);
        if (value && !leaf.get(entry)) leaf.set(entry, value);
      }
    }
  } catch (err) {
    throw reject('corrupt_pdf', name, 'is a damaged PDF: its list of pages cannot be read.', { reason: firstLine(err) });
  }
  for (const [ref, object] of doc.context.enumerateIndirectObjects()) {
    if (object instanceof PDFPageLeaf || object instanceof PDFPageTree || object instanceof PDFCatalog) doc.context.assign(ref, PDFNull);
  }
  return pages;
}

async function splitPage(source: PDFDocument, index: number, page: PDFPage, sourceName: string): Promise<ExtractedPage> {
  let saved: Uint8Array;
  try {
    const single = await PDFDocument.create({ updateMetadata: false });
    const [copy] = await single.copyPages(source, [index]);
    single.addPage(copy!);
    for (const [, object] of single.context.enumerateIndirectObjects()) {
      if (object instanceof PDFStream) object.copyBytesInto = copyStreamBytes;
    }
    // Measured on 500 pages with a 166 KB JPEG each: 1.7 ms/page without object streams, 2.7-4.1
    // ms/page with them (they deflate every object again), for 0.05 % more bytes.
    saved = await single.save({ useObjectStreams: false, objectsPerTick: Infinity, addDefaultPage: false, updateFieldAppearances: false });
  } catch (err) {
    throw reject('corrupt_pdf', sourceName, 'is a damaged PDF page that cannot be copied.', { reason: firstLine(err) });
  }
  const { width, height } = pageSize(page);
  // A view, not a copy: `saved` is a fresh array of exactly the document's size.
  return { bytes: Buffer.from(saved.buffer, saved.byteOffset, saved.byteLength), mediaType: 'application/pdf', width, height, sourceName };
}

const STREAM = Buffer.from('\nstream\n', 'latin1');
const ENDSTREAM = Buffer.from('\nendstream', 'latin1');

/**
 * PDFStream.copyBytesInto with one memcpy for the contents where pdf-lib copies byte by byte in
 * JavaScript: for a scanned page (one large image) that loop was 60 % of the time to save it
 * (2.0 → 0.8 ms per 166 KB page). Same bytes; set on the streams of our one-page documents only.
 */
function copyStreamBytes(this: PDFStream, buffer: Uint8Array, offset: number): number {
  this.updateDict();
  const start = offset;
  offset += this.dict.copyBytesInto(buffer, offset);
  buffer.set(STREAM, offset);
  offset += STREAM.length;
  const contents = this.getContents();
  buffer.set(contents, offset);
  offset += contents.length;
  buffer.set(ENDSTREAM, offset);
  return offset + ENDSTREAM.length - start;
}

/** The page's MediaBox in points; unknown for a page too broken to have one. */
function pageSize(page: PDFPage): { width: number | null; height: number | null } {
  try {
    const { width, height } = page.getSize();
    return Number.isFinite(width) && Number.isFinite(height) ? { width: Math.round(Math.abs(width)), height: Math.round(Math.abs(height)) } : { width: null, height: null };
  } catch {
    return { width: null, height: null };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
