/**
 * The process's OCR engine from configuration. Workers start on the first page, not here, so
 * building an engine is cheap for processes that never OCR.
 */
import type { Config } from '../runtime/config.js';
import type { OcrEngine } from './engine.js';
import { NATIVE_MAX_BATCH, NativeTesseractEngine } from './native-tesseract-engine.js';
import { TesseractJsEngine } from './tesseract-js-engine.js';

export function createOcrEngine(ocr: Config['ocr']): OcrEngine {
  const options = { languages: ocr.langs, workers: ocr.workers };
  if (ocr.engine === 'tesseract') return new NativeTesseractEngine({ ...options, tessdataDir: ocr.models.kind === 'folder' ? ocr.models.dir : null });
  return new TesseractJsEngine({ ...options, models: ocr.models, pagesPerSlot: ocr.pagesPerSlot, env: ocr.processEnv });
}

/**
 * Pages an OCR job hands this engine at once: the native CLI reads waiting pages in one process
 * (native-reader.ts), so each job keeps a batch's worth in its queue; tesseract.js gains nothing
 * from pages waiting, so one at a time.
 */
export const ocrPagesAtOnce = (ocr: Config['ocr']): number => (ocr.engine === 'tesseract' ? NATIVE_MAX_BATCH : 1);

/**
 * OCR jobs a process runs at once: one per engine worker, twice that for the native CLI, so that
 * pages wait for its processes even in a small dossier's short jobs (a 24-page dossier is cut into
 * jobs of two pages: two jobs at once would leave no page waiting beside the two being read).
 */
export const ocrJobsAtOnce = (ocr: Config['ocr']): number => ocr.workers * (ocr.engine === 'tesseract' ? 2 : 1);
