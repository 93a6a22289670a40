/**
 * The layout of a dossier export (CONTRACT.md): what the gateway writes and what `dossier verify`
 * reads. manifest.jws, jwks.json, pages/0001.<ext> …, text/0001.txt …, original/<filename>,
 * receipts/0001-<transfer id>.jws ….
 */
import type { PageMediaType } from '../pages/types.js';

export const MANIFEST_FILE = 'manifest.jws';
export const JWKS_FILE = 'jwks.json';
export const PAGES_DIR = 'pages';
export const ORIGINAL_DIR = 'original';
export const RECEIPTS_DIR = 'receipts';
export const TEXT_DIR = 'text';

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

/**
 * `text/0001.txt`: a page's OCR text (or its PDF text layer), UTF-8. Derived after sealing, so not
 * covered by the manifest's signature; present only for pages whose text was ready at export.
 */
export function textPath(index: number): string {
  return `${TEXT_DIR}/${String(index).padStart(4, '0')}.txt`;
}

/** The page a text file is named after (`text/0001.txt` → 1), or null when the name is not a page text's. */
export function textPageIndex(path: string): number | null {
  const m = new RegExp(`^${TEXT_DIR}/(\\d{4,})\\.txt$`).exec(path);
  if (!m) return null;
  const index = Number(m[1]);
  // One spelling per page: `text/00001.txt` is not page 1's text.
  return index >= 1 && textPath(index) === path ? index : null;
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
