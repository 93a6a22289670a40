/**
 * A page image as a PDF image XObject. JPEG goes in as it is (DCTDecode: the stored bytes, no
 * re-encode, no loss, no time), and so does JPEG 2000 (JPXDecode); every other raster (PNG,
 * TIFF, WebP, 12-bit or arithmetic-coded JPEG) is decoded by sharp to 8-bit pixels and deflated
 * on the way out (FlateDecode: lossless, streamed by zlib).
 */
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import { DossierError } from '../../errors.js';
import { headerSize } from '../../pages/image-header.js';
import { readJpegHeader } from './jpeg-header.js';
import type { PdfFile } from './pdf-file.js';

/**
 * Scanners write their resolution into the file; below this a declared density is a software
 * default (72 dpi from libjpeg/sharp, 96 from screenshots), not a scan's: taken literally it
 * would turn an A4 page scanned at 300 dpi into a page 2.9 m wide.
 */
const MIN_PLAUSIBLE_DPI = 100;
/** Unknown resolution: 300 dpi, the usual resolution of document scans (an A4 page stays A4). */
export const DEFAULT_DPI = 300;
/** Acrobat's largest page side (200 inches); larger images get a higher dpi instead. */
const MAX_PAGE_POINTS = 14_400;

export interface PageImage {
  readonly pixelWidth: number;
  readonly pixelHeight: number;
  /** The page size in points. */
  readonly width: number;
  readonly height: number;
  /** JPEG or JPEG 2000 kept as is, or pixels to deflate. */
  readonly embed: { kind: 'dct'; colorSpace: string; decode: string } | { kind: 'jpx' } | { kind: 'flate'; gray: boolean; alpha: boolean };
}

export async function describeImage(bytes: Buffer, mediaType: string): Promise<PageImage> {
  if (mediaType === 'image/jpeg') {
    const jpeg = readJpegHeader(bytes);
    if (jpeg?.embeddable) {
      // No resolution in the header segments: sharp may still find one (slower, and rare).
      const dpi = jpeg.dpi ?? (await metadataOf(bytes, mediaType)).density ?? null;
      const colorSpace = jpeg.components === 1 ? '/DeviceGray' : jpeg.components === 3 ? '/DeviceRGB' : '/DeviceCMYK';
      // Adobe's CMYK (and YCCK) JPEGs store inverted ink values and say so with an APP14 "Adobe"
      // segment; the Decode array turns them back, as img2pdf and Ghostscript do.
      const decode = jpeg.components === 4 && jpeg.adobe ? ' /Decode [1 0 1 0 1 0 1 0]' : '';
      return { ...pageSize(jpeg.width, jpeg.height, dpi), embed: { kind: 'dct', colorSpace, decode } };
    }
  }
  if (mediaType === 'image/jp2') {
    // The bundled libvips cannot decode JPEG 2000, but PDF readers can (JPXDecode, PDF 1.5):
    // the stored file goes in as it is, its colour space read from it by the reader.
    const size = headerSize('jp2', bytes);
    if (!size) throw new DossierError('corrupt_image', 'a stored JPEG 2000 page has no readable size');
    return { ...pageSize(size.width, size.height, null), embed: { kind: 'jpx' } };
  }
  const meta = await metadataOf(bytes, mediaType);
  const { width, height } = meta;
  if (!width || !height) throw new DossierError('corrupt_image', `a stored ${mediaType} page has no pixel size`);
  const gray = meta.channels === 1 || (meta.channels === 2 && meta.hasAlpha === true) || meta.space === 'b-w';
  return { ...pageSize(width, height, meta.density ?? null), embed: { kind: 'flate', gray, alpha: meta.hasAlpha === true } };
}

async function metadataOf(bytes: Buffer, mediaType: string): Promise<Metadata> {
  try {
    return await sharp(bytes).metadata();
  } catch (err) {
    throw new DossierError('corrupt_image', `a stored ${mediaType} page cannot be read: ${(err as Error).message}`);
  }
}

function pageSize(pixelWidth: number, pixelHeight: number, declaredDpi: number | null) {
  const declared = declaredDpi !== null && declaredDpi >= MIN_PLAUSIBLE_DPI ? declaredDpi : DEFAULT_DPI;
  const dpi = Math.max(declared, (Math.max(pixelWidth, pixelHeight) * 72) / MAX_PAGE_POINTS);
  return { pixelWidth, pixelHeight, width: (pixelWidth * 72) / dpi, height: (pixelHeight * 72) / dpi };
}

/** Writes the image XObject `num` (and, for deflated pixels, an object with its length after it). */
export async function* imageObject(file: PdfFile, num: number, image: PageImage, bytes: Buffer): AsyncGenerator<Buffer> {
  const common = `/Type /XObject /Subtype /Image /Width ${image.pixelWidth} /Height ${image.pixelHeight} /BitsPerComponent 8`;
  if (image.embed.kind === 'dct') {
    yield* file.stream(num, `${common} /ColorSpace ${image.embed.colorSpace}${image.embed.decode} /Filter /DCTDecode`, bytes);
    return;
  }
  if (image.embed.kind === 'jpx') {
    yield* file.stream(num, `/Type /XObject /Subtype /Image /Width ${image.pixelWidth} /Height ${image.pixelHeight} /Filter /JPXDecode`, bytes);
    return;
  }
  const { gray, alpha } = image.embed;
  // The deflated size is known only at the end: /Length refers to an object written after.
  const lengthNum = file.allocate();
  yield file.streamStart(num, `${common} /ColorSpace ${gray ? '/DeviceGray' : '/DeviceRGB'} /Filter /FlateDecode`, lengthNum);
  // Transparent areas become white paper; pixels go out as 8-bit gray or sRGB, rows top down.
  let pixels = sharp(bytes);
  if (alpha) pixels = pixels.flatten({ background: '#ffffff' });
  pixels = pixels.toColourspace(gray ? 'b-w' : 'srgb').raw({ depth: 'uchar' });
  const deflated = pipeline(pixels, zlib.createDeflate({ level: 6 }), () => {});
  let length = 0;
  try {
    for await (const chunk of deflated as AsyncIterable<Buffer>) {
      length += chunk.length;
      yield file.emit(chunk);
    }
  } catch (err) {
    throw new DossierError('corrupt_image', `a stored page image cannot be decoded: ${(err as Error).message}`);
  }
  yield file.streamEnd();
  yield file.object(lengthNum, String(length));
}
