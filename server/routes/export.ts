/**
 * GET /api/dossiers/:id/export: the sealed dossier as a ZIP, streamed as it is built (no temporary
 * file): each page is opened only when the archive reaches it, so the first bytes leave at once
 * and memory stays flat whatever the dossier's size.
 */
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import yazl from 'yazl';
import '../zip-crc.js';
import { JWKS_FILE, MANIFEST_FILE, originalPath, pagePath, receiptPath } from '../../dossier/evidence/export-layout.js';
import type { DossierRecord } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { PublicJwks } from '../../dossier/signing/signer.js';

/** Page rows fetched per query while the archive is written. */
const PAGE_WINDOW = 500;
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

export async function streamExport(
  req: Request,
  res: Response,
  deps: { dossiers: DossierRepository; blobs: BlobStore; jwks: PublicJwks; receipts: Pick<TransferRepository, 'receipts'> },
  d: DossierRecord,
): Promise<void> {
  const zip = new yazl.ZipFile();
  const stored = { compress: false, mtime: d.sealedAt ?? FIXED_TIME };
  res.setHeader('Content-Type', 'application/zip');
  res.attachment(`dossier-${d.id}.zip`);
  res.setHeader('Cache-Control', 'private, no-store');
  const sending = pipeline(zip.outputStream as NodeJS.ReadableStream & PassThrough, res);

  zip.addBuffer(Buffer.from(d.manifestJws!), MANIFEST_FILE, stored);
  zip.addBuffer(Buffer.from(JSON.stringify(deps.jwks, null, 2)), JWKS_FILE, stored);
  // The custody receipts: the receiver can show whom it got exactly this dossier from.
  (await deps.receipts.receipts(d.id)).forEach((r, i) => zip.addBuffer(Buffer.from(r.receipt), receiptPath(i + 1, r.transferId), stored));
  const lazyBlob = (sha256: string) => (cb: (err: unknown, stream: NodeJS.ReadableStream) => void) => {
    deps.blobs.read(sha256).then((s) => cb(null, s), (err: unknown) => cb(err, undefined as never));
  };
  for (let offset = 0; offset < (d.pageCount ?? 0); offset += PAGE_WINDOW) {
    if (req.destroyed) break;
    // Let the bytes already queued flow before the next window's query (PGlite runs in this thread).
    if (offset > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const p of await deps.dossiers.listPages(d.id, { offset, limit: PAGE_WINDOW })) {
      zip.addReadStreamLazy(pagePath(p.index, p.mediaType), { ...stored, size: p.size }, lazyBlob(p.sha256));
    }
  }
  if (d.sha256 && d.bytes !== null) {
    zip.addReadStreamLazy(originalPath(d.filename), { ...stored, size: d.bytes }, lazyBlob(d.sha256));
  }
  zip.end();
  await sending;
}
