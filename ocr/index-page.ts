/**
 * One page to searchable text: read the stored page, take the PDF's own text layer when it has
 * one, mark a blank page (no ink: ocr/blank-page.ts) done with no text, else recognise the image
 * (bounded by a timeout; the blank check and the engine's preparation share one decode); store the text (UTF-8) and the word boxes
 * (WordsDocument JSON) as blobs, then record the page done and index it in one transaction.
 */
import { buffer } from 'node:stream/consumers';
import { sha256Hex } from '../dossier/hash.js';
import type { PageRecord } from '../dossier/model.js';
import type { BlobStore } from '../dossier/ports/blob-store.js';
import type { PageRotation, PageTextRepository, WordsDocument } from '../dossier/ports/page-text.js';
import type { PageRenderer } from '../dossier/pages/render/page-renderer.js';
import type { ImageInput, ScaledPage } from './prepare-image.js';
import type { OcrEngine } from './engine.js';
import type { ForegroundGate } from './foreground-gate.js';
import { blankVerdict } from './blank-page.js';
import { tsvectorLiteral } from './index-terms.js';
import { pageContent } from './page-content.js';
import { failpoint } from '../dossier/failpoints.js';

export interface IndexPageDeps {
  readonly blobs: BlobStore;
  readonly pageTexts: PageTextRepository;
  /** The process's engine, created on first use (text-layer pages never need one). */
  readonly engine: () => Promise<OcrEngine>;
  readonly pageTimeoutMs: number;
  /** Draws the PDF and JPEG 2000 pages whose image cannot be read as it stands. */
  readonly renderer: PageRenderer;
  /** Downloads under way hold a page's work back (ocr/foreground-gate.ts); unset: never. */
  readonly gate?: ForegroundGate;
}

/** The engine name recorded for a page found blank (ocr/blank-page.ts). */
export const BLANK_DETECTOR = 'blank-page';

/** Bytes the detector cannot decode go on to the recogniser, which reports them (corrupt_image). */
const isBlank = (image: ImageInput): Promise<boolean> => blankVerdict(image).then((v) => v.blank, () => false);

export class PageTimeoutError extends Error {
  override readonly name = 'PageTimeoutError';
}

interface PageReading {
  readonly source: 'text-layer' | 'blank' | 'ocr';
  readonly text: string;
  readonly words: WordsDocument;
  readonly confidence: number;
  readonly engineName: string;
  readonly rotation: PageRotation;
  readonly languages: string | null;
  readonly note: string | null;
}

/** Resolves true when this call recorded the page, false when it was already done. */
export async function indexPage(deps: IndexPageDeps, page: PageRecord, signal: AbortSignal): Promise<boolean> {
  const bytes = await buffer(await deps.blobs.read(page.sha256));
  // All of the page's CPU work (drawing, the blank check, recognition) is one background turn:
  // while a download streams it waits, instead of its checks running beside the download.
  const giveBack = await deps.gate?.turn(signal);
  let r: PageReading;
  try {
    r = await readPage(deps, bytes, page.mediaType, signal);
  } finally {
    giveBack?.();
  }
  const { text, words, confidence, engineName, rotation, languages, note } = r;
  const textBytes = Buffer.from(text, 'utf8');
  const wordsBytes = Buffer.from(JSON.stringify(words), 'utf8');
  const textSha256 = sha256Hex(textBytes);
  const wordsSha256 = sha256Hex(wordsBytes);
  await Promise.all([deps.blobs.putBytes(textSha256, textBytes), deps.blobs.putBytes(wordsSha256, wordsBytes)]);
  failpoint('ocr.commit');
  return deps.pageTexts.markDone({
    dossierId: page.dossierId,
    index: page.index,
    source: r.source,
    confidence,
    textSha256,
    wordsSha256,
    engine: engineName,
    text,
    terms: tsvectorLiteral(text),
    rotation,
    languages,
    note,
  });
}

/** The page's text: its PDF text layer, nothing for a blank page, else the engine's reading. */
async function readPage(deps: IndexPageDeps, bytes: Uint8Array, mediaType: string, signal: AbortSignal): Promise<PageReading> {
  const content = await pageContent(bytes, mediaType, deps.renderer, signal);
  if (content.kind === 'text') {
    return { source: 'text-layer', text: content.text, words: content.words, confidence: 100, engineName: 'text-layer', rotation: 0, languages: null, note: null };
  }
  // Boxes are in the pixels recognised: the stored image's, or the rendering's (which covers
  // the whole page box, so the same proportions place them on the PDF page).
  const page = { v: 1, unit: 'px', width: content.width, height: content.height } as const;
  const blank = { source: 'blank', text: '', words: { ...page, words: [] }, confidence: 100, engineName: BLANK_DETECTOR, rotation: 0, languages: null, note: null } as const;
  const engine = await deps.engine();
  // One decode for the blank check and the engine's preparation where the engine offers it (the
  // scaled page is handed over, not the image); else the check, then the image as it is.
  let input: ImageInput | ScaledPage = content.image;
  if (engine.prepare) {
    const ready = await engine.prepare(content.image);
    if (ready.blank) return blank;
    input = ready.page;
  } else if (await isBlank(content.image)) return blank;
  const result = await recognizeWithin(engine, input, deps.pageTimeoutMs, signal);
  const omitted = content.rendered?.omittedImages ?? 0;
  return {
    source: 'ocr',
    text: result.text,
    words: { ...page, words: result.words },
    confidence: result.confidence,
    engineName: `${engine.name}:${engine.languages.join('+')}`,
    rotation: result.rotated,
    languages: result.languages.join('+'),
    note: omitted > 0 ? `${omitted} image${omitted > 1 ? 's' : ''} over the renderer's pixel budget left out: not read` : null,
  };
}

/**
 * The engine is handed an AbortSignal that fires at the page timeout (or when the worker stops);
 * the race makes sure that even an engine that ignores it cannot hold the batch. The timeout
 * counts from when the engine begins the page (its `started` call), not from the hand-over: an
 * OCR job hands several pages over at once, and a page's turn in the queue is no sign of a hang.
 */
async function recognizeWithin(engine: OcrEngine, image: ImageInput | ScaledPage, timeoutMs: number, stop: AbortSignal) {
  const timeout = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const started = () => {
    timer ??= setTimeout(() => timeout.abort(new PageTimeoutError(`OCR took longer than ${timeoutMs} ms`)), timeoutMs);
  };
  const signal = AbortSignal.any([stop, timeout.signal]);
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {}); // settled by the race below, or never needed
    return await Promise.race([engine.recognize(image, signal, started), aborted]);
  } finally {
    clearTimeout(timer);
  }
}
