/**
 * Where the OCR models come from: the installed `@tesseract.js-data/<lang>` npm packages, never
 * the network. Each package ships two builds of the same language:
 *   4.0.0           legacy + LSTM models (eng 10.9 MB, chi_sim 20.2 MB gzipped)
 *   4.0.0_best_int  the LSTM model only, integer-quantised (eng 2.9 MB, chi_sim 1.7 MB)
 * We run LSTM only (OEM 1), so the legacy half of 4.0.0 is dead weight. Measured on synthetic
 * pages 1–3 (tesseract.js 7, one worker, this 2-core machine): 4.0.0_best_int 2.56 s/page,
 * CER 0.27 %; 4.0.0 2.41 s/page, CER 0.27 % — the same LSTM network, so the same text and speed
 * within noise. best_int wins on what differs: 4–12× less to gunzip and hold per worker, which
 * is what a pool of N workers (and chi_sim) pays at every start. Orientation detection needs the
 * legacy engine; `osd` is the same file in both directories.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export const MODEL_DIR = '4.0.0_best_int';
const SCOPE = '@tesseract.js-data';
const require = createRequire(import.meta.url);

function scopeDir(): string | null {
  try {
    // Any installed data package leads to the scope folder; osd is always a dependency.
    return path.dirname(path.dirname(require.resolve(`${SCOPE}/osd/package.json`)));
  } catch {
    return null;
  }
}

/** Absolute path of `<lang>.traineddata.gz` from its npm package; throws if not installed. */
export function traineddataFile(lang: string): string {
  const dir = scopeDir();
  const file = dir ? path.join(dir, lang, MODEL_DIR, `${lang}.traineddata.gz`) : null;
  if (!file || !/^[a-z_]+$/.test(lang) || !fs.existsSync(file)) {
    throw new Error(`no traineddata for "${lang}": install the npm package ${SCOPE}/${lang}`);
  }
  return file;
}

/** Recognition languages whose data package is installed (osd is not a language). */
export function installedLanguages(): string[] {
  const dir = scopeDir();
  if (!dir) return [];
  return fs
    .readdirSync(dir)
    .filter((lang) => lang !== 'osd' && fs.existsSync(path.join(dir, lang, MODEL_DIR, `${lang}.traineddata.gz`)))
    .sort();
}
