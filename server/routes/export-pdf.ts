/**
 * GET /api/dossiers/:id/export.pdf: the sealed dossier as one searchable PDF, streamed as it is
 * written (dossier/evidence/searchable-pdf.ts). Pages are read from the blob store in order, a
 * few ahead of the writer; a page whose OCR is done gets its words as an invisible text layer,
 * a page still queued (or failed) goes in without one. `X-Ocr-Pages: done/total` says how far
 * OCR was when the export started, so a client can tell a complete text layer from a partial one.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { searchablePdf, type PdfPageInput } from '../../dossier/evidence/searchable-pdf.js';
import type { DossierRecord, PageRecord } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { PageTextRecord, PageTextRepository, WordsDocument } from '../../dossier/ports/page-text.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import { readAhead } from '../../dossier/pages/read-ahead.js';

/** Page rows (and their text records) fetched per query while the PDF is written. */
const PAGE_WINDOW = 200;
/** Pages read ahead of the writer, and the bytes they may hold together. */
const READ_AHEAD = { window: 3, budget: 64 * 1024 * 1024 };

export interface ExportPdfDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly pageTexts: PageTextRepository;
}

/** The stored words blob is ours, but is checked all the same: a bad one costs a text layer, not the export. */
const wordsSchema = z.object({
  v: z.literal(1),
  unit: z.enum(['px', 'pt']),
  width: z.number().positive(),
  height: z.number().positive(),
  words: z.array(z.object({ text: z.string(), confidence: z.number(), box: z.tuple([z.number(), z.number(), z.number(), z.number()]) })),
});

export async function streamSearchablePdf(req: Request, res: Response, deps: ExportPdfDeps, d: DossierRecord): Promise<void> {
  const total = d.pageCount ?? 0;
  const ocr = await deps.pageTexts.progress(d.id);
  res.setHeader('Content-Type', 'application/pdf');
  res.attachment(`dossier-${d.id}.pdf`);
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('X-Ocr-Pages', `${ocr.done}/${total}`);

  const stop = new AbortController();
  res.once('close', () => stop.abort());
  const pages = pageInputs(deps, d, total, stop.signal, req.log);
  const pdf = Readable.from(searchablePdf(pages, { id: d.merkleRoot ? Buffer.from(d.merkleRoot, 'hex') : undefined, title: `Dossier ${d.id}` }), { objectMode: false });
  try {
    await pipeline(pdf, res);
  } catch (err) {
    // The client went away: nothing to answer, the pipeline has already stopped the reading.
    if (stop.signal.aborted && !res.writableFinished) {
      req.log?.info({ dossier: d.id }, 'searchable PDF export aborted by the client');
      return;
    }
    throw err;
  }
}

/** The dossier's pages in order, each with its words when OCR is done, read a few ahead. */
async function* pageInputs(deps: ExportPdfDeps, d: DossierRecord, total: number, signal: AbortSignal, log?: Logger): AsyncGenerator<PdfPageInput> {
  for (let offset = 0; offset < total && !signal.aborted; offset += PAGE_WINDOW) {
    const rows = await deps.dossiers.listPages(d.id, { offset, limit: PAGE_WINDOW });
    if (rows.length === 0) break;
    const texts = new Map((await deps.pageTexts.list(d.id, rows[0]!.index, rows[rows.length - 1]!.index)).map((t) => [t.index, t]));
    const start = (i: number) => {
      const page = rows[i]!;
      const reading = deps.blobs.read(page.sha256);
      return {
        result: readPage(deps, page, texts.get(page.index), reading, log),
        cancel: () => void reading.then((s) => s.destroy(), () => {}),
      };
    };
    for await (const input of readAhead(rows.length, start, { ...READ_AHEAD, sizeOf: (i) => rows[i]!.size })) {
      if (signal.aborted) return;
      yield input;
    }
  }
}

async function readPage(deps: ExportPdfDeps, page: PageRecord, text: PageTextRecord | undefined, reading: Promise<Readable>, log?: Logger): Promise<PdfPageInput> {
  const [bytes, words] = await Promise.all([reading.then(buffer), wordsOf(deps, page, text, log)]);
  return { bytes, mediaType: page.mediaType, words, rotation: text?.status === 'done' ? text.rotation : 0 };
}

/** The page's words for the text layer: none until OCR is done, none when the PDF page has its own. */
async function wordsOf(deps: ExportPdfDeps, page: PageRecord, text: PageTextRecord | undefined, log?: Logger): Promise<WordsDocument | null> {
  if (text?.status !== 'done' || text.source !== 'ocr' || !text.wordsSha256) return null;
  const json = (await buffer(await deps.blobs.read(text.wordsSha256))).toString('utf8');
  const parsed = wordsSchema.safeParse(parseJson(json));
  if (!parsed.success) {
    log?.warn({ dossier: page.dossierId, page: page.index }, 'stored word boxes are malformed: page exported without its text layer');
    return null;
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
