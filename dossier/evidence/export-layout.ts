/**
 * The layout of a dossier export (CONTRACT.md): what the gateway writes and what `dossier verify`
 * reads. manifest.jws, jwks.json, pages/0001.<ext> …, original/<filename>, receipts/0001-<transfer id>.jws ….
 */
import type { PageMediaType } from '../pages/types.js';

export const MANIFEST_FILE = 'manifest.jws';
export const JWKS_FILE = 'jwks.json';
export const PAGES_DIR = 'pages';
export const ORIGINAL_DIR = 'original';
export const RECEIPTS_DIR = 'receipts';

const EXTENSIONS: Record<PageMediaType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/tiff': 'tif',
  'image/jp2': 'jp2',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

/** `pages/0001.jpg`: numbered to at least four digits so that names sort in page order. */
export function pagePath(index: number, mediaType: PageMediaType): string {
  return `${PAGES_DIR}/${String(index).padStart(4, '0')}.${EXTENSIONS[mediaType]}`;
}

/** The original's name inside the export: the uploaded file name, stripped of any path. */
export function originalPath(filename: string): string {
  const base = filename.split(/[\\/]/).pop() || 'original';
  return `${ORIGINAL_DIR}/${base.replace(/^\.+/, '_')}`;
}

/** `receipts/0001-<transfer id>.jws`: the custody receipts, numbered in the order they were answered. */
export function receiptPath(seq: number, transferId: string): string {
  return `${RECEIPTS_DIR}/${String(seq).padStart(4, '0')}-${transferId}.jws`;
}

/** The transfer id a receipt file is named after, or null when the name is not a receipt's. */
export function receiptTransferId(path: string): string | null {
  const m = new RegExp(`^${RECEIPTS_DIR}/\\d{4,}-([0-9a-f-]{36})\\.jws$`).exec(path);
  return m ? m[1]! : null;
}
