import type { UploadInput } from './ranged-file.js';

/**
 * Page readers turn one dossier file into an ordered stream of pages. Each reader is chosen by
 * the file's content (see detect.ts), never by its name.
 */
export type PageMediaType =
  | 'image/jpeg'
  | 'image/png'
  | 'image/tiff'
  | 'image/jp2'
  | 'image/webp'
  | 'application/pdf';

export interface ExtractedPage {
  /** The exact bytes to store: their SHA-256 is the page's hash. */
  readonly bytes: Buffer;
  readonly mediaType: PageMediaType;
  /** Pixel size where known (images), or the PDF page's size in points. */
  readonly width: number | null;
  readonly height: number | null;
  /** Where the page came from inside the upload, for people: `vol1/0002.jpg`, `#3` of a TIFF. */
  readonly sourceName: string;
  /**
   * On the first page of a PDF that has bookmarks: its outline, pages counted from this page
   * (1 is this page). The ingest turns them into the dossier's page numbers.
   */
  readonly outline?: readonly OutlineEntry[];
  /**
   * Where `bytes` sit, unchanged, in the upload itself (a stored entry of an uploaded ZIP): the
   * store may keep the page as that range of the upload instead of a copy. Absent: made anew.
   */
  readonly at?: number;
}

/** One bookmark of a PDF's outline: its title, the page it opens (null: none of the PDF's pages), its children. */
export interface OutlineEntry {
  readonly title: string;
  readonly page: number | null;
  readonly children: readonly OutlineEntry[];
}

/** Limits against hostile input; every reader enforces the ones that concern it. */
export interface IngestLimits {
  readonly maxPages: number;
  /** Largest uncompressed size of one ZIP entry. */
  readonly maxEntryBytes: number;
  /** Largest sum of uncompressed ZIP entry sizes. */
  readonly maxTotalUncompressedBytes: number;
  /** Largest ratio of uncompressed to compressed size of one entry (zip bomb guard). */
  readonly maxCompressionRatio: number;
  /** Largest number of pixels of one page image (pixel flood guard). */
  readonly maxPixels: number;
  /** Deepest nesting of archives / folders that is followed. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: IngestLimits = Object.freeze({
  maxPages: 100_000,
  maxEntryBytes: 2 * 1024 ** 3,
  maxTotalUncompressedBytes: 64 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxPixels: 268_402_689, // sharp's default limitInputPixels (0x3FFF * 0x3FFF)
  maxDepth: 8,
});

/**
 * Reads pages from a file on local disk or a ranged file (object storage), in dossier order. Throws DossierError with a rejection
 * code (errors.ts) on hostile or broken input. Must not buffer more than one page (plus the
 * reader's own bounded read-ahead) in memory: a PDF too is read by offset, object by object.
 */
export type PageReader = (input: UploadInput, limits: IngestLimits) => AsyncIterable<ExtractedPage>;
