/**
 * The fast path for a stored PDF page that is one plain scan: a page that draws exactly one image,
 * unmasked, either a JPEG (DCTDecode: taken as it stands, byte for byte) or 8-bit gray / RGB Flate
 * pixels without a predictor (inflated and handed over raw). Anything else (JBIG2, CCITT, JPEG
 * 2000, predictors, palettes, masks, several images, vector content) returns null: the page
 * renderer draws it.
 */
import zlib from 'node:zlib';
import { DossierError } from '../dossier/errors.js';
import { scanPageImages, type PageImageInfo } from '../dossier/pages/render/pdf-page-images.js';
import type { ImageInput } from './prepare-image.js';
import { OCR_RENDER } from '../dossier/pages/render/page-renderer.js';

export interface PageImage {
  readonly image: ImageInput;
  readonly width: number;
  readonly height: number;
}

function plainFlate(im: PageImageInfo): boolean {
  return im.filters.length === 1 && im.filters[0] === 'FlateDecode' && im.components !== null && im.bitsPerComponent === 8 && im.predictor === 1;
}

/** The images of the page, and its one plain scan when it has exactly that. */
export async function pdfPageImage(bytes: Uint8Array): Promise<{ images: number; scan: PageImage | null }> {
  const images = await scanPageImages(bytes);
  const only = images.length === 1 && !images[0]!.masked ? images[0]! : null;
  if (!only) return { images: images.length, scan: null };
  const { width, height } = only;
  if (only.filters.length === 1 && only.filters[0] === 'DCTDecode') return { images: 1, scan: { image: only.stream.contents, width, height } };
  // Inflating a huge Flate scan costs its whole raw size in this thread: over the renderer's
  // image budget, the renderer (poppler where installed) draws it within its pixel budget.
  if (!plainFlate(only) || width * height > OCR_RENDER.maxImagePixels) return { images: 1, scan: null };
  const channels = only.components!;
  let pixels: Buffer;
  try {
    pixels = zlib.inflateSync(only.stream.contents, { maxOutputLength: width * height * channels + 1024 });
  } catch (err) {
    throw new DossierError('corrupt_pdf', `the page's image stream does not inflate: ${(err as Error).message}`);
  }
  if (pixels.length < width * height * channels) throw new DossierError('corrupt_pdf', `the page's image has ${pixels.length} bytes for ${width}x${height}x${channels}`);
  return { images: 1, scan: { image: { data: pixels.subarray(0, width * height * channels), width, height, channels }, width, height } };
}
