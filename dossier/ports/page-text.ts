/**
 * A page's text, once OCR (or the PDF's own text layer) has produced it. The text and the word
 * boxes are blobs in the blob store (content-addressed); this record points at them. The search
 * index and the searchable PDF export read through this port.
 */
export const OCR_STATUSES = ['queued', 'done', 'failed'] as const;
export type OcrStatus = (typeof OCR_STATUSES)[number];

export interface PageTextRecord {
  readonly dossierId: string;
  readonly index: number;
  readonly status: OcrStatus;
  /** Where the text came from: recognised from the image, or the PDF page's own text layer. */
  readonly source: 'ocr' | 'text-layer' | null;
  /** Mean word confidence 0–100 (100 for a text layer); null until done. */
  readonly confidence: number | null;
  /** Blob of the page's plain text (UTF-8). */
  readonly textSha256: string | null;
  /** Blob of the page's WordsDocument (JSON). */
  readonly wordsSha256: string | null;
  readonly engine: string | null;
  /** Why the page ended `failed`. */
  readonly reason: string | null;
  readonly attempts: number;
}

/**
 * Word boxes as stored (JSON, one blob per page). Coordinates are in the stored page's own
 * space, origin top-left: pixels of the page image (`unit: 'px'`), or PDF points of a PDF page
 * (`unit: 'pt'`). `width`/`height` are the page's size in that unit.
 */
export interface WordsDocument {
  readonly v: 1;
  readonly unit: 'px' | 'pt';
  readonly width: number;
  readonly height: number;
  readonly words: readonly { readonly text: string; readonly confidence: number; readonly box: readonly [number, number, number, number] }[];
}
