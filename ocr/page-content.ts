/**
 * What OCR works on for a stored page. A PDF page with a real text layer (born digital, or a scan
 * that already carries OCR text) is taken as text, no recognition needed; a scanned PDF page
 * yields its scan; an image page is passed through.
 */
import sharp from 'sharp';
import type { WordsDocument } from '../dossier/ports/page-text.js';
import { DossierError } from '../dossier/errors.js';
import { pdfTextLayer } from './pdf-text-layer.js';
import { pdfPageImage } from './pdf-page-image.js';

/**
 * Non-blank characters from which a PDF text layer counts as the page's text. Below it the text
 * is a stamp (Bates number, "Page 3", a scanner's footer) on a scan, and the scan is read.
 */
export const MIN_TEXT_LAYER_CHARS = 40;

export type PageContent =
  | { readonly kind: 'text'; readonly text: string; readonly words: WordsDocument }
  | { readonly kind: 'image'; readonly image: Uint8Array; readonly width: number; readonly height: number };

export async function pageContent(bytes: Uint8Array, mediaType: string): Promise<PageContent> {
  if (mediaType === 'application/pdf') {
    const layer = await pdfTextLayer(bytes);
    if (layer.text.replace(/\s+/g, '').length >= MIN_TEXT_LAYER_CHARS) return { kind: 'text', ...layer };
    const scan = await pdfPageImage(bytes);
    // A page with little text and no image: its few words are all there is.
    return scan ? { kind: 'image', ...scan } : { kind: 'text', ...layer };
  }
  if (mediaType.startsWith('image/')) {
    let meta;
    try {
      meta = await sharp(bytes).metadata();
    } catch (err) {
      throw new DossierError('corrupt_image', `the page image cannot be read: ${(err as Error).message}`);
    }
    return { kind: 'image', image: bytes, width: meta.width ?? 0, height: meta.height ?? 0 };
  }
  throw new DossierError('unsupported_format', `no OCR for pages of type ${mediaType}`);
}
