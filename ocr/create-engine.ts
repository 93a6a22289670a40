/**
 * The process's OCR engine from configuration. Workers start on the first page, not here, so
 * building an engine is cheap for processes that never OCR.
 */
import type { Config } from '../runtime/config.js';
import type { OcrEngine } from './engine.js';
import { NativeTesseractEngine } from './native-tesseract-engine.js';
import { TesseractJsEngine } from './tesseract-js-engine.js';

export function createOcrEngine(ocr: Config['ocr']): OcrEngine {
  const options = { languages: ocr.langs, workers: ocr.workers };
  if (ocr.engine === 'tesseract') return new NativeTesseractEngine({ ...options, tessdataDir: ocr.models.kind === 'folder' ? ocr.models.dir : null });
  return new TesseractJsEngine({ ...options, models: ocr.models, pagesPerSlot: ocr.pagesPerSlot });
}
