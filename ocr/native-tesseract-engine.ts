/**
 * OcrEngine over Debian's `tesseract` CLI (OCR_ENGINE=tesseract): at most `workers` processes at
 * a time (native-reader.ts), each single-threaded (OMP_THREAD_LIMIT=1) so that N processes use N
 * cores without oversubscription; a process reads one page, or several waiting pages of the same
 * languages (one model load for all), or checks one page's orientation when read-upright.ts asks.
 * The same image preparation as the tesseract.js engine, at most `workers` pages at a time; the
 * CLI's own data in /usr/share/tesseract-ocr.
 */
import os from 'node:os';
import pLimit, { type LimitFunction } from 'p-limit';
import type { OcrEngine, OcrResult } from './engine.js';
import { NativeReader, runCli } from './native-reader.js';
import { isScaledPage, preparePage, scalePage, toInputBox, type DetectOrientation, type ImageInput, type ReadyPage, type Rotation, type ScaledPage } from './prepare-image.js';
import { readUpright, type ReadPrepared } from './read-upright.js';
import { meanConfidence, wordsFromTsv } from './tsv.js';

export const NATIVE_TESSERACT = '/usr/bin/tesseract';
/** The child's whole environment: nothing of ours leaks in, OpenMP stays on one thread. */
export const NATIVE_ENV: Readonly<Record<string, string>> = Object.freeze({ OMP_THREAD_LIMIT: '1', LC_ALL: 'C.UTF-8' });

export interface NativeTesseractOptions {
  readonly languages: readonly string[];
  readonly workers: number;
  /** Read each page with the languages of its script (script.ts); default true. */
  readonly languagePerPage?: boolean;
  readonly binary?: string;
  /** The models' folder (--tessdata-dir); default the CLI's own. */
  readonly tessdataDir?: string | null;
  /** Pages one process reads at most (native-reader.ts); default NATIVE_MAX_BATCH. 1: a process a page. */
  readonly maxBatch?: number;
}

/**
 * Pages a process reads at most: enough to spread its model load thin (0.2 CPU-s over 4 pages is
 * 0.05 a page), few enough that a page's result is not held for long behind others.
 */
export const NATIVE_MAX_BATCH = 4;

/**
 * How much nicer than the gateway each tesseract process runs: background work, so the gateway's
 * own thread (a download, an API call) wins the core when both want it; on an idle machine it
 * changes nothing.
 */
export const NATIVE_NICE = 10;

/** Relative to the gateway's own (a gateway started under `nice` keeps the difference); 19 at most. */
export const childNice = (): number => Math.min(19, os.getPriority() + NATIVE_NICE);

/** `--psm 0` output: "Rotate: 90" (clockwise turn to upright) and "Orientation confidence: 9.8". */
export function parseOsd(out: string): { rotate: Rotation; confidence: number } | null {
  const rotate = /Rotate:\s*(\d+)/.exec(out)?.[1];
  const confidence = /Orientation confidence:\s*([\d.]+)/.exec(out)?.[1];
  if (rotate === undefined || confidence === undefined) return null;
  return { rotate: Number(rotate) as Rotation, confidence: Number(confidence) };
}

export class NativeTesseractEngine implements OcrEngine {
  readonly name = 'tesseract';
  readonly languages: readonly string[];
  private readonly languagePerPage: boolean;
  private readonly binary: string;
  /** `--tessdata-dir <dir>` when a folder is configured, else nothing (the CLI's default). */
  private readonly dataArgs: readonly string[];
  /** Preparation (decode, measure, scale): as many pages at once as there are processes. */
  private readonly limit: LimitFunction;
  readonly reader: NativeReader;

  constructor(options: NativeTesseractOptions) {
    this.languages = [...options.languages];
    this.languagePerPage = options.languagePerPage ?? true;
    this.binary = options.binary ?? NATIVE_TESSERACT;
    this.dataArgs = options.tessdataDir ? ['--tessdata-dir', options.tessdataDir] : [];
    const workers = Math.max(1, Math.floor(options.workers));
    this.limit = pLimit(workers);
    this.reader = new NativeReader({ workers, maxBatch: Math.max(1, options.maxBatch ?? NATIVE_MAX_BATCH), run: runCli(this.binary, NATIVE_ENV, childNice) });
  }

  /** Decode, blank check and preparation: as many pages at once as there are processes. */
  prepare(image: ImageInput): Promise<ReadyPage> {
    return this.limit(() => preparePage(image, this.languages, this.languagePerPage));
  }

  async recognize(image: ImageInput | ScaledPage, signal?: AbortSignal, started?: () => void): Promise<OcrResult> {
    signal?.throwIfAborted();
    // The page's time runs from its first process: preparation and the wait for a slot excluded.
    let begun = false;
    const onStart = () => {
      if (!begun) started?.();
      begun = true;
    };
    const page = isScaledPage(image) ? image : await this.limit(() => scalePage(image, this.languages, this.languagePerPage));
    const detect: DetectOrientation = (png) =>
      // Too little text makes the CLI fail; that only means "orientation unknown".
      this.reader.read({ png, width: 0, height: 0, args: [...this.dataArgs, '--psm', '0', '-l', 'osd'], reading: false, batchKey: null, signal, onStart }).then((out) => parseOsd(out.text), () => {
        signal?.throwIfAborted();
        return null;
      });
    const read: ReadPrepared = async (prepared) => {
      const langs = prepared.languages.join('+');
      // -c rather than the `txt tsv` config files: those live in <tessdata>/configs, which a
      // folder of models alone (OCR_TESSDATA_DIR) need not have.
      const args = [...this.dataArgs, '-l', langs, '--psm', '3', '-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_tsv=1'];
      const out = await this.reader.read({ png: prepared.png, width: prepared.width, height: prepared.height, args, reading: true, batchKey: langs, signal, onStart });
      const words = wordsFromTsv(out.tsv);
      return { prepared, text: out.text.replace(/\f/g, ''), words, confidence: meanConfidence(words) };
    };
    const r = await readUpright(page, read, detect);
    const words = r.words.map((w) => ({ ...w, box: toInputBox(w.box, r.prepared) }));
    return { text: r.text.trim(), confidence: r.confidence, words, rotated: r.prepared.rotated, languages: r.prepared.languages };
  }

  async close(): Promise<void> {
    this.limit.clearQueue();
    this.reader.clear(new Error('the OCR engine is closing'));
  }
}
