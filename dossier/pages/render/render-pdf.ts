/**
 * Draws the first page of a PDF into RGBA pixels with pdf.js and a Skia canvas (@napi-rs/canvas,
 * which pdf.js uses in Node): every image encoding pdf.js decodes (JBIG2, CCITT G3/G4, JPEG 2000,
 * Flate/LZW with predictors, palettes, ICC, CMYK, masks) and vector content alike.
 *
 * The pixel budget bounds time and memory whatever the file claims: the output never exceeds
 * `maxPixels`, and an image larger than `maxImagePixels` is not decoded at all (pdf.js leaves it
 * out, and the result says how many were), so a 35000 x 35000 bilevel page costs a blank render,
 * not gigabytes; where Debian's poppler is installed, such a page is drawn by it instead, which
 * scales the image as it streams it (poppler.ts). Synchronous CPU work: run it in a worker thread
 * (page-renderer.ts).
 */
import { createCanvas } from '@napi-rs/canvas';
import type { PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { OPS } from './pdfjs-module.js';
import { DossierError } from '../../errors.js';
import { scanPageImages } from './pdf-page-images.js';
import { popplerAvailable, renderWithPoppler } from './poppler.js';
import { openPdf } from './pdfjs.js';

export interface RenderOptions {
  /** Largest output in pixels. */
  readonly maxPixels: number;
  /** Highest resolution drawn, dots per inch of the page. */
  readonly maxDpi: number;
  /** Images over this many pixels are left out (pdf.js `maxImageSize`). */
  readonly maxImagePixels: number;
  /** Draw at this width in pixels (thumbnails) instead of the page's own resolution. */
  readonly width?: number;
  /** Pages with an image over the budget go to poppler where installed (default), or are drawn without it. */
  readonly oversized?: 'poppler' | 'leave-out';
}

export interface RenderedPage {
  /** Width x height x channels bytes: RGBA (pdf.js), or gray (poppler), white where nothing is drawn. */
  readonly pixels: Uint8Array;
  readonly channels: 1 | 4;
  readonly width: number;
  readonly height: number;
  /** The resolution drawn at, in dots per inch of the page. */
  readonly dpi: number;
  /** Images left out because they exceed the image budget (none where poppler drew the page). */
  readonly omittedImages: number;
  /** Which library drew the page. */
  readonly by: 'pdf.js' | 'poppler';
}

/** Resolution used when the page draws no image (vector text, line art). */
const VECTOR_DPI = 300;
const MIN_DPI = 72;

const IMAGE_OPS = new Set<number>([OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageMaskXObject]);

/**
 * The images the page draws, with their pixel sizes, from its operator list (which also decodes
 * them, ready for the drawing). pdf.js gives [objId, width, height] or an image object.
 */
async function drawnImageSizes(page: PDFPageProxy): Promise<{ width: number; height: number }[]> {
  const ops = await page.getOperatorList();
  const sizes: { width: number; height: number }[] = [];
  ops.fnArray.forEach((fn, i) => {
    if (!IMAGE_OPS.has(fn)) return;
    const args = ops.argsArray[i] as unknown[];
    const [a, b, c] = args;
    if (typeof b === 'number' && typeof c === 'number') sizes.push({ width: b, height: c });
    else if (a && typeof a === 'object' && 'width' in a && 'height' in a) {
      const img = a as { width: number; height: number };
      sizes.push({ width: img.width, height: img.height });
    }
  });
  return sizes;
}

/**
 * The page's own resolution: that of its sharpest image over the page (a scan is drawn at the
 * resolution it was scanned at, never enlarged), capped by maxDpi and the pixel budget.
 */
export function chooseDpi(pageWidthPt: number, pageHeightPt: number, images: readonly { width: number; height: number }[], o: RenderOptions): number {
  if (o.width !== undefined) return (o.width / pageWidthPt) * 72;
  // An image drawn turned a quarter (a portrait scan on a landscape page) fits the page the other
  // way round: of the two ways its sides can lie along the page's, the one it fits is the one
  // needing the lower resolution.
  const along = (a: number, b: number) => Math.max(a / pageWidthPt, b / pageHeightPt) * 72;
  const native = images.reduce((best, im) => Math.max(best, Math.min(along(im.width, im.height), along(im.height, im.width))), 0);
  let dpi = native > 0 ? Math.min(Math.max(native, MIN_DPI), o.maxDpi) : Math.min(VECTOR_DPI, o.maxDpi);
  const pixels = (pageWidthPt * dpi / 72) * (pageHeightPt * dpi / 72);
  if (pixels > o.maxPixels) dpi *= Math.sqrt(o.maxPixels / pixels);
  return dpi;
}

export async function renderPdfPage(bytes: Uint8Array, options: RenderOptions, signal?: AbortSignal): Promise<RenderedPage> {
  // pdf.js says nothing of the images it leaves out: count them from the page's own objects.
  const images = await scanPageImages(bytes);
  const oversized = images.filter((im) => im.width * im.height > options.maxImagePixels);
  const doc = await openPdf(bytes, { maxImagePixels: options.maxImagePixels });
  try {
    if (doc.numPages < 1) throw new DossierError('corrupt_pdf', 'the stored PDF page has no page');
    const page = await doc.getPage(1);
    const box = page.getViewport({ scale: 1 });
    if (!(box.width > 0 && box.height > 0)) throw new DossierError('corrupt_pdf', 'the page has an empty page box');
    const [w, h] = [box.width, box.height];
    if (oversized.length > 0 && options.oversized !== 'leave-out' && popplerAvailable()) {
      const dpi = chooseDpi(w, h, images, options);
      const gray = await renderWithPoppler(bytes, dpi, signal);
      return { ...gray, channels: 1, dpi: Math.round(dpi * 10) / 10, omittedImages: 0, by: 'poppler' };
    }
    const omittedImages = oversized.length;
    const dpi = chooseDpi(w, h, await drawnImageSizes(page), options);
    const viewport = page.getViewport({ scale: dpi / 72 });
    // Rounded, not floored: a page box made from pixels at 72/dpi comes back as 753.9999.
    const width = Math.max(1, Math.round(viewport.width)), height = Math.max(1, Math.round(viewport.height));
    const canvas = createCanvas(width, height);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    // pdf.js's types name the DOM's canvas; @napi-rs/canvas is the one it uses in Node.
    await page.render({ canvas: canvas as never, canvasContext: ctx as never, viewport, background: 'rgb(255,255,255)' }).promise;
    const data = ctx.getImageData(0, 0, width, height).data;
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { pixels, channels: 4, width, height, dpi: Math.round(dpi * 10) / 10, omittedImages, by: 'pdf.js' };
  } finally {
    await doc.destroy();
  }
}
