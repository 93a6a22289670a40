/**
 * One page to searchable text: read the stored page, take the PDF's own text layer when it has
 * one, mark a blank page (no ink: ocr/blank-page.ts) done with no text, else recognise the image
 * (bounded by a timeout); store the text (UTF-8) and the word boxes
 * (WordsDocument JSON) as blobs, then record the page done and index it in one transaction.
 */
import { buffer } from 'node:stream/consumers';
import { sha256Hex } from '../dossier/hash.js';
import type { PageRecord } from '../dossier/model.js';
import type { BlobStore } from '../dossier/ports/blob-store.js';
import type { PageRotation, PageTextRepository, WordsDocument } from '../dossier/ports/page-text.js';
import type { PageRenderer } from '../dossier/pages/render/page-renderer.js';
import type { ImageInput } from './prepare-image.js';
import type { OcrEngine } from './engine.js';
import type { ForegroundGate } from './foreground-gate.js';
import { blankVerdict } from './blank-page.js';
import { tsvectorLiteral } from './index-terms.js';
import { pageContent } from './page-content.js';

export interface IndexPageDeps {
  readonly blobs: BlobStore;
  readonly pageTexts: PageTextRepository;
  /** The process's engine, created on first use (text-layer pages never need one). */
  readonly engine: () => Promise<OcrEngine>;
  readonly pageTimeoutMs: number;
  /** Draws the PDF and JPEG 2000 pages whose image cannot be read as it stands. */
  readonly renderer: PageRenderer;
  /** Downloads under way slow recognition down (ocr/foreground-gate.ts); unset: never. */
  readonly gate?: ForegroundGate;
}

/** The engine name recorded for a page found blank (ocr/blank-page.ts). */
export const BLANK_DETECTOR = 'blank-page';

/** Bytes the detector cannot decode go on to the recogniser, which reports them (corrupt_image). */
const isBlank = (image: ImageInput): Promise<boolean> => blankVerdict(image).then((v) => v.blank, () => false);

export class PageTimeoutError extends Error {
  override readonly name = 'PageTimeoutError';
}

/** Resolves true when this call recorded the page, false when it was already done. */
export async function indexPage(deps: IndexPageDeps, page: PageRecord, signal: AbortSignal): Promise<boolean> {
  const bytes = await buffer(await deps.blobs.read(page.sha256));
  const content = await pageContent(bytes, page.mediaType, deps.renderer, signal);
  let text: string;
  let words: WordsDocument;
  let confidence: number;
  let engineName: string;
  let rotation: PageRotation = 0;
  let languages: string | null = null;
  let note: string | null = null;
  const blank = content.kind === 'image' && (await isBlank(content.image));
  if (content.kind === 'text') {
    text = content.text;
    words = content.words;
    confidence = 100;
    engineName = 'text-layer';
  } else if (blank) {
    text = '';
    words = { v: 1, unit: 'px', width: content.width, height: content.height, words: [] };
    confidence = 100;
    engineName = BLANK_DETECTOR;
  } else {
    const engine = await deps.engine();
    const giveBack = await deps.gate?.turn(signal);
    const result = await recognizeWithin(engine, content.image, deps.pageTimeoutMs, signal).finally(() => giveBack?.());
    text = result.text;
    confidence = result.confidence;
    engineName = `${engine.name}:${engine.languages.join('+')}`;
    rotation = result.rotated;
    languages = result.languages.join('+');
    // Boxes are in the pixels recognised: the stored image's, or the rendering's (which covers
    // the whole page box, so the same proportions place them on the PDF page).
    words = { v: 1, unit: 'px', width: content.width, height: content.height, words: result.words };
    const omitted = content.rendered?.omittedImages ?? 0;
    if (omitted > 0) note = `${omitted} image${omitted > 1 ? 's' : ''} over the renderer's pixel budget left out: not read`;
  }
  const textBytes = Buffer.from(text, 'utf8');
  const wordsBytes = Buffer.from(JSON.stringify(words), 'utf8');
  const textSha256 = sha256Hex(textBytes);
  const wordsSha256 = sha256Hex(wordsBytes);
  await Promise.all([deps.blobs.putBytes(textSha256, textBytes), deps.blobs.putBytes(wordsSha256, wordsBytes)]);
  return deps.pageTexts.markDone({
    dossierId: page.dossierId,
    index: page.index,
    source: content.kind === 'text' ? 'text-layer' : blank ? 'blank' : 'ocr',
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

/**
 * The engine is handed an AbortSignal that fires at the page timeout (or when the worker stops);
 * the race makes sure that even an engine that ignores it cannot hold the batch. The timeout
 * counts from when the engine begins the page (its `started` call), not from the hand-over: an
 * OCR job hands several pages over at once, and a page's turn in the queue is no sign of a hang.
 */
async function recognizeWithin(engine: OcrEngine, image: ImageInput, timeoutMs: number, stop: AbortSignal) {
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
