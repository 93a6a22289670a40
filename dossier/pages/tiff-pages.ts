/**
 * TIFF: every image file directory is a page. A single-page TIFF is stored byte-identical. The
 * pages of a multi-page TIFF are each re-encoded LOSSLESSLY as a single-page TIFF: bilevel pages
 * (fax, CCITT G4 scans) as CCITT G4, all others with LZW, keeping colour space, bit depth, ICC
 * profile and resolution. A file on disk is read page by page through libvips (at most two pages
 * decoded at a time: one encodes ahead); a Buffer (an archive entry) works the same way. A TIFF
 * kept in object storage is read by ranges: its directories, then each page copied out as a TIFF
 * of its own (tiff-page-copy.ts) for libvips to decode from memory.
 */
import sharp from 'sharp';
import { expectPages, inputBytes, pageName, reject, type PageInput, type ReadContext } from './context.js';
import { checkPixels } from './image-pages.js';
import { readAhead } from './read-ahead.js';
import { withRandomAccess } from './random-access.js';
import { isRangedFile } from './ranged-file.js';
import { singlePageTiff, TiffNotCopyable } from './tiff-page-copy.js';
import { readTiffDirectories, TiffStructureError, type TiffDirectory } from './tiff-ifd.js';
import type { ExtractedPage, IngestLimits } from './types.js';

export async function* tiffPages(input: PageInput, name: string, ctx: ReadContext): AsyncGenerator<ExtractedPage> {
  const pages = await listPages(input, name, ctx);
  // Every page is checked before the first one is decoded: a flood on page 900 fails at once.
  pages.forEach((page, i) => checkPixels(page, pageName(name, i + 1), ctx.limits));
  if (pages.length === 1) {
    yield await singlePage(input, pages[0]!, name);
    return;
  }
  // One page encodes ahead: a decoded page may be as large as maxPixels allows.
  yield* readAhead(pages.length, (i) => ({ result: encodePage(input, pages[i]!, pageName(name, i + 1), ctx.limits) }), { window: 2 });
}

async function listPages(input: PageInput, name: string, ctx: ReadContext): Promise<TiffDirectory[]> {
  const remaining = ctx.limits.maxPages - ctx.pages;
  let listed: Awaited<ReturnType<typeof readTiffDirectories>>;
  try {
    listed = await withRandomAccess(input, ({ readAt }) => readTiffDirectories(readAt, remaining));
  } catch (err) {
    if (err instanceof TiffStructureError) throw reject('corrupt_image', name, 'is a damaged TIFF image.', { reason: err.message });
    throw err;
  }
  const pages = listed.directories.filter((d) => !d.reduced);
  expectPages(ctx, listed.complete ? pages.length : remaining + 1, name, !listed.complete);
  if (pages.length === 0) throw reject('corrupt_image', name, 'is a TIFF file without any page image.');
  return pages;
}

async function singlePage(input: PageInput, page: TiffDirectory, name: string): Promise<ExtractedPage> {
  const bytes = await inputBytes(input);
  try {
    await sharp(bytes).metadata(); // libvips must at least understand the header
  } catch {
    throw reject('corrupt_image', name, 'is a damaged TIFF image.');
  }
  return { bytes, mediaType: 'image/tiff', width: page.width, height: page.height, sourceName: pageName(name, 1) };
}

// Colour spaces re-encoded as they are; anything else (e.g. Lab) goes through libvips' sRGB default.
const KEPT_SPACES = new Set(['b-w', 'grey16', 'srgb', 'rgb16', 'cmyk']);

/** What libvips reads a page from: the file or buffer itself, or, ranged, that page copied out. */
async function decodable(input: PageInput, page: TiffDirectory, sourceName: string, limits: IngestLimits): Promise<{ source: string | Buffer; page: number }> {
  if (!isRangedFile(input)) return { source: input, page: page.index };
  try {
    return { source: await singlePageTiff((at, n) => input.readAt(at, n), page.offset, limits.maxEntryBytes), page: 0 };
  } catch (err) {
    if (err instanceof TiffNotCopyable) return { source: await inputBytes(input), page: page.index }; // rare: read whole, in memory
    if (err instanceof TiffStructureError) throw reject('corrupt_image', sourceName, 'is a damaged TIFF page that cannot be decoded.', { reason: err.message });
    throw err;
  }
}

async function encodePage(input: PageInput, page: TiffDirectory, sourceName: string, limits: IngestLimits): Promise<ExtractedPage> {
  const resolution = tiffResolution(page);
  const from = await decodable(input, page, sourceName, limits);
  let bytes: Buffer;
  try {
    // failOn 'error': libtiff warnings about unknown private tags are common in scanner output.
    const image = sharp(from.source, { page: from.page, limitInputPixels: limits.maxPixels, failOn: 'error' });
    if (isBilevel(page)) {
      image.toColourspace('b-w').tiff({ compression: 'ccittfax4', bitdepth: 1, miniswhite: page.photometric === 0, ...resolution });
    } else {
      const { space } = await image.metadata();
      if (KEPT_SPACES.has(space)) image.pipelineColourspace(space).toColourspace(space);
      const bitdepth = space === 'b-w' && page.samplesPerPixel === 1 && (page.bitsPerSample === 2 || page.bitsPerSample === 4) ? page.bitsPerSample : undefined;
      image.keepIccProfile().tiff({ compression: 'lzw', ...(bitdepth ? { bitdepth } : {}), ...resolution });
    }
    bytes = await image.toBuffer();
  } catch (err) {
    // libvips names the file in its messages; the server's paths are no business of the reader.
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    throw reject('corrupt_image', sourceName, 'is a damaged TIFF page that cannot be decoded.', {
      reason: typeof input === 'string' ? reason.split(input).join('<file>') : reason,
    });
  }
  return { bytes, mediaType: 'image/tiff', width: page.width, height: page.height, sourceName };
}

function isBilevel(page: TiffDirectory): boolean {
  return page.bitsPerSample === 1 && page.samplesPerPixel === 1 && (page.photometric === 0 || page.photometric === 1 || page.photometric === null);
}

/** sharp takes resolution in pixels per millimetre and writes it in the unit asked for. */
function tiffResolution(page: TiffDirectory): { xres?: number; yres?: number; resolutionUnit?: 'inch' | 'cm' } {
  if (page.xres === null || (page.resolutionUnit !== 2 && page.resolutionUnit !== 3)) return {};
  const perMm = page.resolutionUnit === 2 ? 25.4 : 10;
  const xres = page.xres / perMm;
  const yres = (page.yres ?? page.xres) / perMm;
  // sharp accepts 0.001 to 1e6 pixels/mm; a value outside is junk and is better left out.
  const valid = (v: number) => v >= 0.001 && v <= 1e6;
  if (!valid(xres) || !valid(yres)) return {};
  return { xres, yres, resolutionUnit: page.resolutionUnit === 2 ? 'inch' : 'cm' };
}
