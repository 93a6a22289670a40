/**
 * GET /api/dossiers/:id/export (and GET /d/:token): the sealed dossier as a ZIP, streamed as it is
 * built (no temporary file): each page is opened only when the archive reaches it, so the first
 * bytes leave at once and memory stays flat whatever the dossier's size.
 *
 * Order: manifest.jws, jwks.json, receipts/…, pages/0001.<ext> …, text/0001.txt … (the pages whose
 * text is ready; derived after sealing, not signed), and original/<filename> only when asked
 * (?original=1): the pages are the evidence, each signed and in the Merkle root; the original
 * (as large again) is for the receiver who wants the clerk's very file, and `dossier verify`
 * checks it against the manifest when it is there.
 */
import type { Request, Response } from 'express';
import { JWKS_FILE, MANIFEST_FILE, originalPath, pagePath, receiptPath, textPath } from '../../dossier/evidence/export-layout.js';
import { DossierError } from '../../dossier/errors.js';
import type { DossierRecord, PageRecord } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { PublicJwks } from '../../dossier/signing/signer.js';
import { ZipOutputClosedError, ZipStreamWriter, type StreamEntry } from '../zip/zip-stream-writer.js';

/** Page rows (and page texts) fetched per query while the archive is written. */
const PAGE_WINDOW = 500;
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

export interface ExportDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly jwks: PublicJwks;
  readonly receipts: Pick<TransferRepository, 'receipts'>;
  readonly pageTexts: Pick<PageTextRepository, 'list'>;
  /** Marks the download in the foreground while it streams: OCR yields to it (ocr/foreground-gate.ts). */
  readonly foreground?: () => () => void;
}

/** `?original=1` (or true) adds the original upload; absent or 0 leaves it out; anything else is refused. */
export function wantsOriginal(query: unknown): boolean {
  const v = (query as Record<string, unknown> | undefined)?.original;
  // CONTRACT.md: the export carries original/<filename>; ?original=0 leaves it out (half the bytes
  // where the pages are the upload's own content), and verification checks either form.
  if (v === undefined || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new DossierError('bad_request', 'original: expected 0 or 1');
}

export async function streamExport(req: Request, res: Response, deps: ExportDeps, d: DossierRecord): Promise<void> {
  const original = wantsOriginal(req.query);
  res.setHeader('Content-Type', 'application/zip');
  res.attachment(`dossier-${d.id}.zip`);
  res.setHeader('Cache-Control', 'private, no-store');
  const zip = new ZipStreamWriter(res);
  const mtime = d.sealedAt ?? FIXED_TIME;
  const ended = deps.foreground?.();
  if (ended) res.once('close', ended);
  try {
    await zip.add({ name: MANIFEST_FILE, mtime, bytes: Buffer.from(d.manifestJws!) });
    await zip.add({ name: JWKS_FILE, mtime, bytes: Buffer.from(JSON.stringify(deps.jwks, null, 2)) });
    // The custody receipts: the receiver can show whom it got exactly this dossier from.
    for (const [i, r] of (await deps.receipts.receipts(d.id)).entries()) {
      await zip.add({ name: receiptPath(i + 1, r.transferId), mtime, bytes: Buffer.from(r.receipt) });
    }
    for await (const entry of pageEntries(deps, d, mtime)) await zip.add(entry);
    for await (const entry of textEntries(deps, d, mtime, req)) await zip.add(entry);
    if (original && d.sha256 && d.bytes !== null) {
      const sha256 = d.sha256;
      await zip.add({ name: originalPath(d.filename), mtime, size: d.bytes, open: () => deps.blobs.read(sha256) });
    }
    await zip.finish();
  } catch (err) {
    // The client went away: nothing to answer, and the writer has already closed the open page.
    if (err instanceof ZipOutputClosedError) {
      req.log?.info({ dossier: d.id, bytes: zip.bytesWritten }, 'export aborted by the client');
      return;
    }
    throw err;
  } finally {
    ended?.();
  }
}

/**
 * Windows of rows, the next one queried while the current one is written: the socket keeps
 * draining during the query (PGlite runs in this thread) instead of waiting for it.
 */
async function* windows<T>(total: number, fetch: (offset: number) => Promise<T[]>): AsyncGenerator<T> {
  const start = (offset: number) => {
    const rows = fetch(offset);
    rows.catch(() => {}); // awaited below; this only keeps an export that stopped early from an unhandled rejection
    return rows;
  };
  let next = total > 0 ? start(0) : null;
  for (let offset = 0; next; offset += PAGE_WINDOW) {
    const rows = await next;
    next = offset + PAGE_WINDOW < total ? start(offset + PAGE_WINDOW) : null;
    yield* rows;
  }
}

async function* pageEntries(deps: ExportDeps, d: DossierRecord, mtime: Date): AsyncGenerator<StreamEntry> {
  for await (const p of windows<PageRecord>(d.pageCount ?? 0, (offset) => deps.dossiers.listPages(d.id, { offset, limit: PAGE_WINDOW }))) {
    yield { name: pagePath(p.index, p.mediaType), mtime, size: p.size, open: () => deps.blobs.read(p.sha256) };
  }
}

/** The text of every page whose OCR is done (as far as it was when its window was queried). */
async function* textEntries(deps: ExportDeps, d: DossierRecord, mtime: Date, req: Request): AsyncGenerator<StreamEntry> {
  const texts = windows(d.pageCount ?? 0, async (offset) => {
    const done = (await deps.pageTexts.list(d.id, offset + 1, offset + PAGE_WINDOW)).filter((t) => t.status === 'done' && t.textSha256);
    // The entry needs its size before its bytes; blobs are content-addressed, so it cannot change.
    return Promise.all(done.map(async (t) => ({ index: t.index, sha256: t.textSha256!, size: await deps.blobs.size(t.textSha256!) })));
  });
  for await (const t of texts) {
    if (t.size === null) {
      // Derived text whose blob is gone: the evidence still goes out, without this page's text.
      req.log?.warn({ dossier: d.id, page: t.index, blob: t.sha256 }, 'page text blob missing: left out of the export');
      continue;
    }
    yield { name: textPath(t.index), mtime, size: t.size, open: () => deps.blobs.read(t.sha256) };
  }
}
