/**
 * A page's text, once OCR (or the PDF's own text layer) has produced it. The text and the word
 * boxes are blobs in the blob store (content-addressed); this record points at them. The search
 * index and the searchable PDF export read through this port.
 */
import type { Tx } from './transactions.js';

export const OCR_STATUSES = ['queued', 'done', 'failed'] as const;
export type OcrStatus = (typeof OCR_STATUSES)[number];

export interface PageTextRecord {
  readonly dossierId: string;
  readonly index: number;
  readonly status: OcrStatus;
  /**
   * Where the text came from: recognised from the image, the PDF page's own text layer, or none:
   * a blank page (no ink, ocr/blank-page.ts), done with empty text without the recogniser.
   */
  readonly source: 'ocr' | 'text-layer' | 'blank' | null;
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
  /** Clockwise degrees that show the page upright (found by OCR); the stored bytes are untouched. */
  readonly rotation: PageRotation;
  /** The OCR languages the page was read with, e.g. 'eng' or 'chi_sim' ('+'-joined); null for a text layer. */
  readonly languages: string | null;
  /** What OCR could not take, for a person: e.g. an image over the renderer's pixel budget. */
  readonly note: string | null;
}

export type PageRotation = 0 | 90 | 180 | 270;

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

/** What one finished page stores: its blobs are written before this is recorded. */
export interface PageTextDone {
  readonly dossierId: string;
  readonly index: number;
  readonly source: 'ocr' | 'text-layer' | 'blank';
  readonly confidence: number;
  readonly textSha256: string;
  readonly wordsSha256: string;
  readonly engine: string;
  /** The page's plain text: kept beside the index for ranking and snippets. */
  readonly text: string;
  /** The index terms as a tsvector literal (ocr/index-terms.ts). */
  readonly terms: string;
  readonly rotation?: PageRotation;
  readonly languages?: string | null;
  readonly note?: string | null;
}

/** OCR counts of a dossier; pages without a record yet are neither done nor failed. */
export interface OcrProgress {
  readonly done: number;
  readonly failed: number;
}

export interface PageTextRepository {
  get(dossierId: string, index: number): Promise<PageTextRecord | null>;
  /** Records of pages from..to (inclusive) that have one, in page order. */
  list(dossierId: string, from: number, to: number): Promise<PageTextRecord[]>;
  /** Records the page done and indexes it, in one transaction; false if it was already done. */
  markDone(page: PageTextDone): Promise<boolean>;
  /**
   * Counts a failed attempt and keeps its reason: the page stays `queued` and `retry` runs in the
   * same transaction (enqueueing the next attempt, so a crash cannot keep one without the other),
   * or, at `maxAttempts`, the page ends `failed`. Nothing changes for a page already done or failed.
   */
  recordFailure(
    dossierId: string,
    index: number,
    reason: string,
    options: { readonly maxAttempts: number; readonly retry: (attempts: number, within: Tx) => Promise<void> },
  ): Promise<{ attempts: number; status: OcrStatus }>;
  /** Ends every page from..to that is not done `failed` (a job that gave up for good). */
  failRemaining(dossierId: string, from: number, to: number, reason: string): Promise<void>;
  progress(dossierId: string): Promise<OcrProgress>;
  /** The same for several dossiers in one query (a case listing); a dossier with no record yet counts zero. */
  progressOf(dossierIds: readonly string[]): Promise<Map<string, OcrProgress>>;
}

export interface SearchRequest {
  /** The caller's agency: only pages of cases visible to it are searched. */
  readonly agency: string;
  /** tsquery literal (ocr/index-terms.ts tsqueryLiteral). */
  readonly tsquery: string;
  readonly caseId?: string;
  readonly dossierId?: string;
  readonly limit: number;
}

export interface SearchRow {
  readonly dossierId: string;
  readonly caseId: string;
  readonly index: number;
  readonly score: number;
  readonly text: string;
}

export interface PageSearch {
  /** Best first (rank, then dossier and page). */
  search(request: SearchRequest): Promise<SearchRow[]>;
}
