/**
 * What OCR works on for a stored page. A PDF page with a real text layer (born digital, or a scan
 * that already carries OCR text) is taken as text, no recognition needed. A PDF page that is one
 * plain JPEG or 8-bit scan yields it as it stands (the fast path); every other PDF page, and a
 * JPEG 2000 page, is drawn by the page renderer. Other image pages are passed through.
 */
import sharp from 'sharp';
import type { WordsDocument } from '../dossier/ports/page-text.js';
import { DossierError } from '../dossier/errors.js';
import { OCR_RENDER, type PageRenderer } from '../dossier/pages/render/page-renderer.js';
import { pdfTextLayer } from './pdf-text-layer.js';
import { pdfPageImage } from './pdf-page-image.js';
import type { ImageInput } from './prepare-image.js';

/**
 * Non-blank characters from which a PDF text layer counts as the page's text. Below it the text
 * is a stamp (Bates number, "Page 3", a scanner's footer) on a scan, and the scan is read.
 */
export const MIN_TEXT_LAYER_CHARS = 40;

export type PageContent =
  | { readonly kind: 'text'; readonly text: string; readonly words: WordsDocument }
  | {
      readonly kind: 'image';
      readonly image: ImageInput;
      readonly width: number;
      readonly height: number;
      /** Set when the page renderer drew it: the resolution, and images left out as too large. */
      readonly rendered?: { readonly dpi: number; readonly omittedImages: number };
    };

export async function pageContent(bytes: Uint8Array, mediaType: string, renderer: PageRenderer, signal?: AbortSignal): Promise<PageContent> {
  const draw = async (): Promise<PageContent> => {
    const page = await renderer.render(bytes, mediaType, OCR_RENDER, signal);
    const image = { data: page.pixels, width: page.width, height: page.height, channels: page.channels };
    return { kind: 'image', image, width: page.width, height: page.height, rendered: { dpi: page.dpi, omittedImages: page.omittedImages } };
  };
  if (mediaType === 'application/pdf') {
    const layer = await pdfTextLayer(bytes);
    const chars = layer.text.replace(/\s+/g, '').length;
    if (chars >= MIN_TEXT_LAYER_CHARS) return { kind: 'text', ...layer };
    const { images, scan } = await pdfPageImage(bytes);
    if (scan) return { kind: 'image', ...scan };
    // No image but a few words of text: they are all there is (no need to draw them).
    if (images === 0 && chars > 0) return { kind: 'text', ...layer };
    return draw();
  }
  if (mediaType === 'image/jp2') return draw();
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
