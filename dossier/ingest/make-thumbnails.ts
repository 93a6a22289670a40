/**
 * Thumbnails for a range of pages: 240 px wide JPEGs, content-addressed like every blob. Pages
 * whose format the image library cannot render (PDF, JPEG 2000) are recorded as having none.
 */
import { buffer } from 'node:stream/consumers';
import sharp from 'sharp';
import { sha256Hex } from '../hash.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { PageMediaType } from '../pages/types.js';

export const THUMBNAIL_WIDTH = 240;
const RENDERABLE: ReadonlySet<PageMediaType> = new Set(['image/jpeg', 'image/png', 'image/tiff', 'image/webp']);

export async function makeThumbnails(
  deps: { dossiers: DossierRepository; blobs: BlobStore; concurrency?: number },
  job: { dossierId: string; from: number; to: number },
): Promise<number> {
  const pages = await deps.dossiers.listPages(job.dossierId, { offset: job.from - 1, limit: job.to - job.from + 1 });
  const results: { index: number; sha256: string | null }[] = [];
  const todo = pages.filter((p) => p.thumbnailSha256 === null);
  const lanes = Math.max(1, deps.concurrency ?? 2);
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < todo.length) {
        const page = todo[next++]!;
        results.push({ index: page.index, sha256: RENDERABLE.has(page.mediaType) ? await thumbnail(deps.blobs, page.sha256) : null });
      }
    }),
  );
  await deps.dossiers.setThumbnails(job.dossierId, results);
  return results.length;
}

async function thumbnail(blobs: BlobStore, pageSha256: string): Promise<string | null> {
  const bytes = await buffer(await blobs.read(pageSha256));
  try {
    const out = await sharp(bytes, { failOn: 'none', sequentialRead: true })
      .rotate()
      .resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true })
      .jpeg({ quality: 70, mozjpeg: false })
      .toBuffer();
    const sha = sha256Hex(out);
    await blobs.putBytes(sha, out);
    return sha;
  } catch {
    return null; // a page the library cannot render keeps no thumbnail; the page itself is intact
  }
}
