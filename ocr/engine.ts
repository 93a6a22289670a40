/**
 * The OCR engine port. tesseract.js (worker threads) is the default engine; a native `tesseract`
 * binary implements the same interface (native-tesseract-engine.ts).
 */
import type { ImageInput, ReadyPage, ScaledPage } from './prepare-image.js';
export interface OcrWord {
  readonly text: string;
  readonly confidence: number;
  /** Pixel box on the page image: left, top, width, height. */
  readonly box: readonly [number, number, number, number];
}

export interface OcrResult {
  readonly text: string;
  /** Mean word confidence, 0–100. */
  readonly confidence: number;
  readonly words: readonly OcrWord[];
  /** Clockwise degrees the page was turned before recognition (orientation detection). */
  readonly rotated: 0 | 90 | 180 | 270;
  /** The languages the page was read with: all configured, or those of the page's script. */
  readonly languages: readonly string[];
}

/** The memory of one OCR worker process (a tesseract.js slot), from /proc/<pid>/status. */
export interface WorkerMemory {
  readonly pid: number;
  /** Resident now (VmRSS). */
  readonly rssBytes: number;
  /** Highest resident since the process started (VmHWM). */
  readonly peakBytes: number;
}

export interface OcrEngine {
  readonly name: string;
  /** Languages as tesseract names them, e.g. ['chi_sim', 'eng']. */
  readonly languages: readonly string[];
  /**
   * An encoded image file, raw pixels (a rendered PDF page), or a page this engine's `prepare`
   * scaled. `started` is called once, when the engine begins work on this page (after any wait
   * for a worker): the page timeout counts from there, so pages handed over together are not
   * timed out by their turn in the queue.
   */
  recognize(image: ImageInput | ScaledPage, signal?: AbortSignal, started?: () => void): Promise<OcrResult>;
  /**
   * The blank check and the preparation for this engine's languages on one decode
   * (prepare-image.ts preparePage); `recognize` then reads the scaled page without decoding it
   * again. Optional: without it, index-page.ts checks the image and hands it over as it is.
   */
  prepare?(image: ImageInput): Promise<ReadyPage>;
  close(): Promise<void>;
  /** The engine's long-lived worker processes and their memory, where it has any (/metrics). */
  workerMemory?(): readonly WorkerMemory[];
}
