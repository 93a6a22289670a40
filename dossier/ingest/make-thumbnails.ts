/**
 * Thumbnails for a range of pages: 240 px wide JPEGs, content-addressed like every blob. Image
 * pages are scaled by the image library; PDF and JPEG 2000 pages are drawn by the page renderer at
 * the thumbnail's width. A page that cannot be drawn is recorded as having none.
 */
import { buffer } from 'node:stream/consumers';
import sharp, { type Sharp } from 'sharp';
import { sha256Hex } from '../hash.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { PageMediaType } from '../pages/types.js';
import { renderableMediaTypes, type PageRenderer } from '../pages/render/page-renderer.js';

export const THUMBNAIL_WIDTH = 240;
const SCALABLE: ReadonlySet<PageMediaType> = new Set(['image/jpeg', 'image/png', 'image/tiff', 'image/webp']);

export interface ThumbnailDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly renderer: PageRenderer;
  readonly concurrency?: number;
  /**
   * Waits for a background turn and resolves with its give-back (ocr/foreground-gate.ts): while a
   * download streams, thumbnails share the turns OCR takes instead of taking cores beside it.
   */
  readonly backgroundTurn?: () => Promise<() => void>;
}

export async function makeThumbnails(
  deps: ThumbnailDeps,
  job: { dossierId: string; from: number; to: number },
): Promise<number> {
  const pages = await deps.dossiers.listPages(job.dossierId, { offset: job.from - 1, limit: job.to - job.from + 1 });
  const results: { index: number; sha256: string | null }[] = [];
  const todo = pages.filter((p) => p.thumbnailSha256 === null);
  const lanes = Math.max(1, deps.concurrency ?? 2);
  // A lane draws its next page while the blob of its last goes in: the writes of a job overlap,
  // and a store that records something per blob (a key row, sealed at rest) does it for many at once.
  const writes: Promise<void>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < todo.length) {
        const page = todo[next++]!;
        const giveBack = await deps.backgroundTurn?.();
        let drawn: { sha256: string; bytes: Buffer } | null;
        try {
          drawn = await thumbnail(deps, page.sha256, page.mediaType);
        } finally {
          giveBack?.();
        }
        if (!drawn) results.push({ index: page.index, sha256: null });
        else {
          const { sha256, bytes } = drawn;
          // A thumbnail that cannot be stored is recorded as none, like one that cannot be drawn.
          writes.push(deps.blobs.putBytes(sha256, bytes).then(() => sha256, () => null).then((stored) => void results.push({ index: page.index, sha256: stored })));
        }
      }
    }),
  );
  await Promise.all(writes);
  await deps.dossiers.setThumbnails(job.dossierId, results);
  return results.length;
}

/** The page's thumbnail and its hash, or null for a page that cannot be drawn. */
async function thumbnail(deps: ThumbnailDeps, pageSha256: string, mediaType: PageMediaType): Promise<{ sha256: string; bytes: Buffer } | null> {
  if (!SCALABLE.has(mediaType) && !renderableMediaTypes.has(mediaType)) return null;
  const bytes = await buffer(await deps.blobs.read(pageSha256));
  try {
    let image: Sharp;
    if (SCALABLE.has(mediaType)) {
      image = sharp(bytes, { failOn: 'none', sequentialRead: true }).rotate().resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true });
    } else {
      const drawn = await deps.renderer.render(bytes, mediaType, THUMBNAIL_RENDER);
      image = sharp(drawn.pixels, { raw: { width: drawn.width, height: drawn.height, channels: drawn.channels } }).flatten({ background: '#ffffff' });
    }
    const out = await image.jpeg({ quality: 70, mozjpeg: false }).toBuffer();
    return { sha256: sha256Hex(out), bytes: out };
  } catch {
    return null; // a page that cannot be drawn keeps no thumbnail; the page itself is intact
  }
}

/** Drawn straight at the thumbnail's width; the budgets still bound a page box that lies. */
const THUMBNAIL_RENDER = Object.freeze({ width: THUMBNAIL_WIDTH, maxPixels: THUMBNAIL_WIDTH * THUMBNAIL_WIDTH * 8, maxDpi: 300, maxImagePixels: 50_000_000 });
