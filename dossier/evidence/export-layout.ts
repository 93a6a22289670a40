/**
 * The layout of a dossier export (CONTRACT.md): what the gateway writes and what `dossier verify`
 * reads. manifest.jws, jwks.json, pages/0001.<ext> …, original/<filename>.
 */
import type { PageMediaType } from '../pages/types.js';

export const MANIFEST_FILE = 'manifest.jws';
export const JWKS_FILE = 'jwks.json';
export const PAGES_DIR = 'pages';
export const ORIGINAL_DIR = 'original';

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
