/**
 * A single image (JPEG, PNG, WebP, JPEG 2000) is one page, stored byte-identical: a scanner's
 * JPEG stays exactly what the clerk sent, so its hash can be checked against the clerk's copy.
 * Only the header is read (size and pixel-flood check); nothing is decoded here. The size comes
 * from our own header parsers (image-header.ts: sharp costs too much per page for ZIPs of
 * thousands of scans); a header they do not understand goes to sharp, and if libvips cannot
 * read it either the image is rejected as damaged.
 */
import sharp from 'sharp';
import { inputBytes, reject, type PageInput, type ReadContext } from './context.js';
import { headerSize, type ImageSize } from './image-header.js';
import type { ExtractedPage, IngestLimits, PageMediaType } from './types.js';

export type SingleImageFormat = 'jpeg' | 'png' | 'webp' | 'jp2';

const MEDIA_TYPES: Record<SingleImageFormat, PageMediaType> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  jp2: 'image/jp2',
};

export async function* imagePages(
  input: PageInput,
  format: SingleImageFormat,
  name: string,
  ctx: ReadContext,
): AsyncGenerator<ExtractedPage> {
  const bytes = await inputBytes(input);
  yield await imagePage(bytes, format, name, ctx.limits);
}

export async function imagePage(bytes: Buffer, format: SingleImageFormat, name: string, limits: IngestLimits): Promise<ExtractedPage> {
  // The bundled libvips has no JPEG 2000 support: for JP2 our parser is the only judge.
  const size = headerSize(format, bytes) ?? (format === 'jp2' ? null : await sharpSize(bytes));
  if (!size) throw reject('corrupt_image', name, 'is damaged or not a readable image.', { format });
  checkPixels(size, name, limits);
  return {
    bytes,
    mediaType: MEDIA_TYPES[format],
    width: size.width,
    height: size.height,
    sourceName: name === '' ? '#1' : name,
  };
}

/** Refuses a page whose pixel count would exhaust memory when decoded (a "pixel flood"). */
export function checkPixels(size: ImageSize, name: string, limits: IngestLimits): void {
  if (size.width * size.height > limits.maxPixels) {
    throw reject(
      'image_too_large',
      name,
      `is an image of ${size.width} x ${size.height} pixels, more than the ${limits.maxPixels} pixels a page may have.`,
      { width: size.width, height: size.height, limit: limits.maxPixels },
    );
  }
}

async function sharpSize(bytes: Buffer): Promise<ImageSize | null> {
  try {
    const { width, height } = await sharp(bytes).metadata();
    return width > 0 && height > 0 ? { width, height } : null;
  } catch {
    return null; // libvips could not parse the header: the image is damaged
  }
}
