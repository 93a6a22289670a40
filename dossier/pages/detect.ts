/**
 * Format detection by magic bytes only. Names lie (a `.pdf` that is a JPEG, a `.zip` renamed to
 * `.jpg`); the first bytes do not, so every reader is chosen here.
 */
import fs from 'node:fs/promises';
import { isRangedFile, type UploadInput } from './ranged-file.js';

export type PageFormat = 'jpeg' | 'png' | 'tiff' | 'jp2' | 'webp' | 'pdf' | 'zip';

/** How many leading bytes detection needs: `%PDF-` may follow up to 1 KiB of junk. */
export const HEAD_BYTES = 1024;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JP2_SIGNATURE = Buffer.from([0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]);
const J2K_CODESTREAM = Buffer.from([0xff, 0x4f, 0xff, 0x51]);
const PDF = Buffer.from('%PDF-', 'latin1');

const startsWith = (head: Buffer, magic: Buffer | number[], at = 0): boolean =>
  head.length >= at + magic.length && magic.every((byte, i) => head[at + i] === byte);

export function detectFormat(head: Buffer): PageFormat | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, PNG)) return 'png';
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(head, [0x49, 0x49, 0x2b, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (startsWith(head, JP2_SIGNATURE) || startsWith(head, J2K_CODESTREAM)) return 'jp2';
  if (startsWith(head, Buffer.from('RIFF', 'latin1')) && startsWith(head, Buffer.from('WEBP', 'latin1'), 8)) return 'webp';
  // Local file header, or the end-of-central-directory record of an empty archive.
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  // PDF readers accept the header anywhere in the first KiB (some tools prepend a MIME preamble).
  if (head.subarray(0, HEAD_BYTES).indexOf(PDF) !== -1) return 'pdf';
  return null;
}

/** The first `length` bytes of a file (fewer if the file is shorter). */
export async function readHead(path: UploadInput, length = HEAD_BYTES): Promise<Buffer> {
  if (isRangedFile(path)) return path.readAt(0, length);
  const file = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await file.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
