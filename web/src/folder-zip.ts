/**
 * A dropped folder of page images becomes one dossier, as `dossier migrate` makes it
 * (scripts/support/folder-zip.ts): a ZIP of the images, stored (scans are compressed already),
 * in natural order segment by segment (sub-folders as volumes), paths relative to the folder,
 * fixed entry times, named `<folder>.zip`, its own time the newest source's. The same folder
 * gives the same bytes, name, size and time, so Uppy's fingerprint finds an interrupted upload
 * of it again after the browser was closed. The server reads the ZIP in the same natural order.
 */
import { downloadZip } from 'client-zip';

const FIXED_TIME = new Date('2000-01-01T00:00:00Z');
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
/** The junk migrate and the server's ZIP reader skip: dotfiles, macOS forks, Windows thumbnails. */
const hidden = (name: string) => name.startsWith('.') || name === '__MACOSX' || name.toLowerCase() === 'thumbs.db' || name.toLowerCase() === 'desktop.ini';
const IMAGE_NAME = /\.(jpe?g|png|tiff?|jp2|j2k|jpf|jpx|gif|webp|bmp)$/i;

export interface FolderFile {
  readonly file: File;
  /** The path under the dropped folder, `/`-separated, without the folder's own name. */
  readonly path: string;
}

/** A page image of a folder: by its type, or by its name where the browser gave no type. */
export const isPageImage = (f: File, path: string): boolean =>
  !path.split('/').some(hidden) && (f.type.startsWith('image/') || (!f.type && IMAGE_NAME.test(f.name)));

export function naturalOrder(a: FolderFile, b: FolderFile): number {
  const x = a.path.split('/');
  const y = b.path.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = collator.compare(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export async function folderZip(folder: string, files: readonly FolderFile[]): Promise<File> {
  const ordered = [...files].sort(naturalOrder);
  const blob = await downloadZip(ordered.map((f) => ({ name: f.path, lastModified: FIXED_TIME, input: f.file }))).blob();
  const newest = Math.max(0, ...ordered.map((f) => f.file.lastModified));
  return new File([blob], `${folder}.zip`, { type: 'application/zip', lastModified: newest });
}
