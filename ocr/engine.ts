/**
 * The OCR engine port. tesseract.js (worker threads) is the default engine; a native `tesseract`
 * binary or remote worker processes implement the same interface. Nothing implements it yet:
 * OCR arrives with its own issue; the ingest already enqueues derivative work after the seal.
 */
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
}

export interface OcrEngine {
  readonly name: string;
  /** Languages as tesseract names them, e.g. ['chi_sim', 'eng']. */
  readonly languages: readonly string[];
  recognize(image: Uint8Array, signal?: AbortSignal): Promise<OcrResult>;
  close(): Promise<void>;
}
