/**
 * Which OCR models a process reads: a tessdata folder of plain `<lang>.traineddata` files
 * (OCR_TESSDATA_DIR, or Debian's tesseract-ocr-* packages where installed: tessdata_fast,
 * Apache-2.0), else the @tesseract.js-data npm packages (traineddata.ts), which work after a
 * plain `npm install` with nothing else on the machine. A folder is used only when it holds every
 * configured language and osd: tesseract.js reads all languages of a worker from one place, and
 * mixing model builds would make a page's text depend on which language it asked for.
 * Measured (BENCHMARKS.md): the fast models cost tesseract.js ~30 % less CPU a page than the
 * npm best_int ones at the same CER on clean pages.
 */
import fs from 'node:fs';
import path from 'node:path';
import { installedLanguages as npmLanguages } from './traineddata.js';

export const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

export type ModelSource =
  /** Plain traineddata files in one folder (gzip false for tesseract.js, --tessdata-dir for the CLI). */
  | { readonly kind: 'folder'; readonly dir: string }
  /** The gzipped best_int models of the @tesseract.js-data packages. */
  | { readonly kind: 'npm' };

const LANG = /^[a-z_]+$/;

/** Languages with a `<lang>.traineddata` in the folder (osd is not a language). */
export function folderLanguages(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .map((f) => /^([a-z_]+)\.traineddata$/.exec(f)?.[1])
      .filter((l): l is string => l !== undefined && l !== 'osd')
      .sort();
  } catch {
    return [];
  }
}

/** True when the folder can serve these languages and orientation detection. */
export function folderServes(dir: string, languages: readonly string[]): boolean {
  return [...languages, 'osd'].every((l) => LANG.test(l) && fs.existsSync(path.join(dir, `${l}.traineddata`)));
}

/**
 * The folder to try: the configured one, else Debian's where it exists; null when there is none.
 * A configured folder that does not exist is a configuration error (config.ts reports it).
 */
export function tessdataFolder(configured: string | null): string | null {
  if (configured) return path.resolve(configured);
  return fs.existsSync(DEBIAN_TESSDATA) ? DEBIAN_TESSDATA : null;
}

/** Where the models of these languages come from. */
export function resolveModelSource(folder: string | null, languages: readonly string[]): ModelSource {
  return folder && folderServes(folder, languages) ? { kind: 'folder', dir: folder } : { kind: 'npm' };
}

/** Every language some source can serve: the folder's and the npm packages'. */
export function availableLanguages(folder: string | null): string[] {
  return [...new Set([...(folder ? folderLanguages(folder) : []), ...npmLanguages()])].sort();
}
