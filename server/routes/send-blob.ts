/**
 * Streams a blob with its hash as a strong ETag, honouring a single Range (RFC 9110 §14), or
 * redirects a large one to a short-lived presigned URL of the object store (`redirectTo`).
 */
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import { answerRange, requestedRange } from '../http-range.js';

/** Blobs of at least `minBytes` (0: none) are served by the object store through a URL valid `ttlSeconds`. */
export interface BlobRedirect {
  readonly minBytes: number;
  readonly ttlSeconds: number;
}

/**
 * The presigned URL a download is redirected to, or null to stream it. Asked before the read is
 * audited, so that the audit event says the bytes left by the object store.
 */
export async function presignedRedirect(
  blobs: BlobStore,
  policy: BlobRedirect | undefined,
  blob: { sha256: string; size: number; mediaType: string; filename?: string },
): Promise<{ url: string; ttlSeconds: number } | null> {
  if (!policy || policy.minBytes <= 0 || blob.size < policy.minBytes) return null;
  const url = await blobs.downloadUrl(blob.sha256, { expiresInSeconds: policy.ttlSeconds, contentType: blob.mediaType, filename: blob.filename });
  return url ? { url, ttlSeconds: policy.ttlSeconds } : null;
}

export async function sendBlob(
  req: Request,
  res: Response,
  blobs: BlobStore,
  blob: { sha256: string; size: number; mediaType: string; immutable?: boolean; filename?: string; cacheControl?: string; redirectTo?: string | null },
): Promise<void> {
  if (blob.redirectTo) {
    // The URL is a credential for a few minutes: never cached, never passed on as a Referer.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, blob.redirectTo);
    return;
  }
  const etag = `"${blob.sha256}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', blob.mediaType);
  res.setHeader('X-Content-SHA256', blob.sha256);
  res.setHeader('Cache-Control', blob.cacheControl ?? (blob.immutable ? 'private, max-age=31536000, immutable' : 'private, no-cache'));
  if (blob.filename) res.attachment(blob.filename);
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  const range = requestedRange(req.headers.range, blob.size, req.headers['if-range'], etag);
  if (!answerRange(req, res, range, blob.size)) return;
  await pipeline(await blobs.read(blob.sha256, range ?? undefined), res);
}
