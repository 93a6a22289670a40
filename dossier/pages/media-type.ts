/** The media type of a whole upload, from its first bytes. */
import { detectFormat, readHead } from './detect.js';
import type { UploadInput } from './ranged-file.js';

const MEDIA_TYPES = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  tiff: 'image/tiff',
  jp2: 'image/jp2',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
} as const;

export async function sniffMediaType(input: UploadInput): Promise<string> {
  const format = detectFormat(await readHead(input, 1024));
  return format ? MEDIA_TYPES[format] : 'application/octet-stream';
}
