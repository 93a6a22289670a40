/**
 * Pictures of a page for people: its thumbnail and a view image of a chosen width, both shown
 * upright (the turn OCR found), for every page type: image pages scaled by the image library,
 * PDF and JPEG 2000 pages drawn by the page renderer. The stored, signed bytes stay as they are
 * (GET .../pages/:n serves those); these are derived views.
 */
import { buffer } from 'node:stream/consumers';
import type { Request, Response } from 'express';
import sharp, { type Sharp } from 'sharp';
import { z } from 'zod';
import type { PageRecord } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import { OCR_RENDER, renderableMediaTypes, type PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { notFound } from '../errors.js';
import { parseQuery } from '../validate.js';
import { sendBlob } from './send-blob.js';

export interface PageImageDeps {
  readonly blobs: BlobStore;
  readonly pageTexts: PageTextRepository;
  readonly renderer: PageRenderer;
}

/** Widths a viewer may ask for: a phone's column up to a 4K screen's zoom. */
export const viewQuery = z.object({ width: z.coerce.number().int().min(64).max(3000).default(1200) });

const uprightTurn = async (deps: PageImageDeps, p: PageRecord) => (await deps.pageTexts.get(p.dossierId, p.index))?.rotation ?? 0;

export async function sendThumbnail(req: Request, res: Response, deps: PageImageDeps, p: PageRecord): Promise<void> {
  if (!p.thumbnailSha256) throw notFound('thumbnail');
  // Turned here (240 px, a few ms), so the thumbnail made before OCR knew stays the one stored.
  const turn = await uprightTurn(deps, p);
  if (turn) {
    const upright = await sharp(await buffer(await deps.blobs.read(p.thumbnailSha256))).rotate(turn).jpeg({ quality: 70 }).toBuffer();
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('ETag', `"${p.thumbnailSha256}-r${turn}"`);
    res.type('image/jpeg').send(upright);
    return;
  }
  const size = (await deps.blobs.size(p.thumbnailSha256)) ?? 0;
  await sendBlob(req, res, deps.blobs, { sha256: p.thumbnailSha256, size, mediaType: 'image/jpeg', immutable: true });
}

export async function sendViewImage(req: Request, res: Response, deps: PageImageDeps, p: PageRecord): Promise<void> {
  const { width } = parseQuery(viewQuery, req.query);
  const turn = await uprightTurn(deps, p);
  const etag = `"${p.sha256}-w${width}-r${turn}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  const bytes = await buffer(await deps.blobs.read(p.sha256));
  let image: Sharp;
  if (renderableMediaTypes.has(p.mediaType)) {
    // The width asked for is the upright view's: a page turned sideways is drawn to that height.
    const drawWidth = turn % 180 === 0 ? width : Math.max(64, Math.round((width * (p.width ?? width)) / Math.max(1, p.height ?? width)));
    const drawn = await deps.renderer.render(bytes, p.mediaType, { ...OCR_RENDER, width: drawWidth });
    image = sharp(drawn.pixels, { raw: { width: drawn.width, height: drawn.height, channels: drawn.channels } }).rotate(turn);
  } else {
    // OCR's turn is of the stored raster as it stands; without one, EXIF orientation applies.
    const source = sharp(bytes, { failOn: 'none', limitInputPixels: 30_000 * 30_000 });
    image = turn ? source.rotate(turn) : source.rotate();
  }
  const out = await image.resize({ width, withoutEnlargement: true }).flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer();
  res.type('image/jpeg').send(out);
}
