/**
 * A page image as a PDF image XObject. JPEG goes in as it is (DCTDecode: the stored bytes, no
 * re-encode, no loss, no time); every other raster (PNG, TIFF, WebP, JPEG 2000) is decoded by
 * sharp to 8-bit pixels and deflated on the way out (FlateDecode: lossless, streamed by zlib).
 */
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import { DossierError } from '../../errors.js';
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
  /** JPEG kept as is, or pixels to deflate. */
  readonly embed: { kind: 'dct'; colorSpace: string; decode: string } | { kind: 'flate'; gray: boolean; alpha: boolean };
}

export async function describeImage(bytes: Buffer, mediaType: string): Promise<PageImage> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new DossierError('corrupt_image', `a stored ${mediaType} page cannot be read: ${(err as Error).message}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new DossierError('corrupt_image', `a stored ${mediaType} page has no pixel size`);
  const declared = meta.density && meta.density >= MIN_PLAUSIBLE_DPI ? meta.density : DEFAULT_DPI;
  const dpi = Math.max(declared, (Math.max(width, height) * 72) / MAX_PAGE_POINTS);
  const size = { pixelWidth: width, pixelHeight: height, width: (width * 72) / dpi, height: (height * 72) / dpi };
  if (meta.format === 'jpeg' && meta.channels !== undefined && [1, 3, 4].includes(meta.channels)) {
    const colorSpace = meta.channels === 1 ? '/DeviceGray' : meta.channels === 3 ? '/DeviceRGB' : '/DeviceCMYK';
    // Adobe's CMYK (and YCCK) JPEGs store inverted ink values and say so with an APP14 "Adobe"
    // segment; the Decode array turns them back, as img2pdf and Ghostscript do.
    const decode = meta.channels === 4 && hasAdobeMarker(bytes) ? ' /Decode [1 0 1 0 1 0 1 0]' : '';
    return { ...size, embed: { kind: 'dct', colorSpace, decode } };
  }
  const gray = meta.channels === 1 || (meta.channels === 2 && meta.hasAlpha === true) || meta.space === 'b-w';
  return { ...size, embed: { kind: 'flate', gray, alpha: meta.hasAlpha === true } };
}

/** Writes the image XObject `num` (and, for deflated pixels, an object with its length after it). */
export async function* imageObject(file: PdfFile, num: number, image: PageImage, bytes: Buffer): AsyncGenerator<Buffer> {
  const common = `/Type /XObject /Subtype /Image /Width ${image.pixelWidth} /Height ${image.pixelHeight} /BitsPerComponent 8`;
  if (image.embed.kind === 'dct') {
    yield file.stream(num, `${common} /ColorSpace ${image.embed.colorSpace}${image.embed.decode} /Filter /DCTDecode`, bytes);
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

/** An APP14 segment naming Adobe among the JPEG's header segments (before the scan data). */
function hasAdobeMarker(jpeg: Buffer): boolean {
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xda) return false; // start of scan: no more header segments
    const length = jpeg.readUInt16BE(at + 2);
    if (marker === 0xee && jpeg.toString('latin1', at + 4, at + 9) === 'Adobe') return true;
    at += 2 + length;
  }
  return false;
}
