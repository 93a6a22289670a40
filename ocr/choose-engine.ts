/**
 * OCR_ENGINE=auto, decided by measurement (BENCHMARKS.md, "OCR at native speed"): where Debian's
 * `tesseract` binary and a tessdata folder that serves every configured language are installed,
 * the native CLI reads a page for less CPU than tesseract.js on the same fast model, and its
 * processes give their memory back after every page; elsewhere tesseract.js, the engine that works
 * after a plain `npm install`.
 */
import fs from 'node:fs';
import { folderServes, resolveModelSource, type ModelSource } from './model-source.js';
import { installedLanguages as npmLanguages } from './traineddata.js';

export type EngineSetting = 'auto' | 'tesseract.js' | 'tesseract';
export type EngineName = Exclude<EngineSetting, 'auto'>;

export interface EngineChoice {
  readonly engine: EngineName;
  readonly models: ModelSource;
}

export interface ChoiceInputs {
  readonly setting: EngineSetting;
  readonly languages: readonly string[];
  /** The tessdata folder to try (model-source.ts tessdataFolder), or null. */
  readonly folder: string | null;
  /** The native binary; checked for existence. */
  readonly binary: string;
}

/** The engine and models for these settings; a string saying why when none can serve them. */
export function chooseEngine(i: ChoiceInputs): EngineChoice | string {
  const models = resolveModelSource(i.folder, i.languages);
  const inFolder = models.kind === 'folder';
  const inNpm = i.languages.every((l) => npmLanguages().includes(l));
  const native = inFolder && fs.existsSync(i.binary);
  if (i.setting === 'tesseract') {
    if (!fs.existsSync(i.binary)) return `no ${i.binary}: install Debian's tesseract-ocr`;
    if (!inFolder) return `no tessdata folder holds ${[...i.languages, 'osd'].join(', ')}${i.folder ? ` (looked in ${i.folder})` : ''}`;
    return { engine: 'tesseract', models };
  }
  if (i.setting === 'auto' && native) return { engine: 'tesseract', models };
  if (!inFolder && !inNpm) {
    const where = i.folder && !folderServes(i.folder, i.languages) ? ` nor in ${i.folder}` : '';
    return `no traineddata for ${i.languages.filter((l) => !npmLanguages().includes(l)).join(', ')} in the @tesseract.js-data packages${where}`;
  }
  return { engine: 'tesseract.js', models };
}
