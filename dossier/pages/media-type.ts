/** The media type of a whole upload, from its first bytes. */
import fs from 'node:fs/promises';
import { detectFormat } from './detect.js';

const MEDIA_TYPES = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  tiff: 'image/tiff',
  jp2: 'image/jp2',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
} as const;

export async function sniffMediaType(path: string): Promise<string> {
  const fh = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const format = detectFormat(head.subarray(0, bytesRead));
    return format ? MEDIA_TYPES[format] : 'application/octet-stream';
  } finally {
    await fh.close();
  }
}
