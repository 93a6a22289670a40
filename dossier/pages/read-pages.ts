/**
 * The page reader of the service: detects the upload's format from its content and hands it to
 * the reader for that format. Limits that concern the dossier as a whole (page count, empty
 * result) are enforced here, as pages come out, so an oversized dossier stops early.
 */
import { DossierError, isDossierError } from '../errors.js';
import { newContext, type PageInput, type ReadContext } from './context.js';
import { detectFormat, readHead, type PageFormat } from './detect.js';
import { imagePages } from './image-pages.js';
import { pdfPages } from './pdf-pages.js';
import type { UploadInput } from './ranged-file.js';
import { tiffPages } from './tiff-pages.js';
import type { ExtractedPage, IngestLimits, PageReader } from './types.js';
import { zipPages, type PagesOf } from './zip-pages.js';

export const readPages: PageReader = (input: UploadInput, limits: IngestLimits) => pagesOfUpload(input, limits);

/** One file of a known format: the upload itself (level 0) or an entry of an archive. */
export const pagesOf: PagesOf = (input: PageInput, format: PageFormat, name: string, ctx: ReadContext, level: number) => {
  switch (format) {
    case 'zip':
      return zipPages(input, name, ctx, level + 1, pagesOf);
    case 'pdf':
      return pdfPages(input, name, ctx);
    case 'tiff':
      return tiffPages(input, name, ctx);
    default:
      return imagePages(input, format, name, ctx);
  }
};

async function* pagesOfUpload(path: UploadInput, limits: IngestLimits): AsyncGenerator<ExtractedPage> {
  const ctx = newContext(limits);
  try {
    const format = detectFormat(await readHead(path));
    if (format === null) {
      throw new DossierError(
        'unsupported_format',
        'The uploaded file is not in a supported format. Please upload a PDF, TIFF, JPEG, PNG, JPEG 2000 or WebP file, or a ZIP archive of such files.',
      );
    }
    for await (const page of pagesOf(path, format, '', ctx, 0)) {
      if (ctx.pages >= limits.maxPages) {
        throw new DossierError('too_many_pages', `The dossier has more than ${limits.maxPages} pages, the most one dossier may have.`, {
          limit: limits.maxPages,
        });
      }
      ctx.pages++;
      yield page;
    }
    if (ctx.pages === 0) throw new DossierError('empty_dossier', 'The upload contains no pages (no PDF, TIFF or image files were found in it).');
  } catch (err) {
    throw asDossierError(err);
  }
}

/** Failures that are not about the input (a missing staged file, a bug) surface as 'internal'. */
function asDossierError(err: unknown): DossierError {
  if (isDossierError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DossierError('internal', `Reading the pages failed unexpectedly: ${message}`, {
    cause: err instanceof Error ? err.name : typeof err,
  });
}
