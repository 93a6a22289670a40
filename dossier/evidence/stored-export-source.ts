/**
 * A sealed dossier as it is stored (its record, its page rows and the blob store), seen through
 * the same interface as an export ZIP, so that `verifyExport` checks a data directory the way a
 * receiver checks a download: the signature, every page's bytes against the manifest, the root,
 * the original and the receipts. Used after a restore, where no export has been made.
 */
import type { Readable } from 'node:stream';
import { streamDigests } from '../digest.js';
import type { DossierRecord } from '../model.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { TransferRepository } from '../ports/custody.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { PublicJwks } from '../signing/signer.js';
import { JWKS_FILE, MANIFEST_FILE, originalPath, pagePath, receiptPath } from './export-layout.js';
import type { ExportSource } from './verify-export.js';

const PAGE_WINDOW = 1000;

export interface StoredDossierDeps {
  readonly dossiers: Pick<DossierRepository, 'listPages'>;
  readonly blobs: Pick<BlobStore, 'read'>;
  readonly receipts: Pick<TransferRepository, 'receipts'>;
  readonly jwks: PublicJwks;
}

export async function storedExportSource(deps: StoredDossierDeps, d: DossierRecord): Promise<ExportSource> {
  // path → the blob holding it (pages, original) or its bytes (manifest, JWKS, receipts).
  const blobOf = new Map<string, string>();
  const small = new Map<string, Buffer>([
    [MANIFEST_FILE, Buffer.from(d.manifestJws ?? '')],
    [JWKS_FILE, Buffer.from(JSON.stringify(deps.jwks))],
  ]);
  for (const [i, r] of (await deps.receipts.receipts(d.id)).entries()) small.set(receiptPath(i + 1, r.transferId), Buffer.from(r.receipt));
  for (let offset = 0; offset < (d.pageCount ?? 0); offset += PAGE_WINDOW) {
    for (const p of await deps.dossiers.listPages(d.id, { offset, limit: PAGE_WINDOW })) blobOf.set(pagePath(p.index, p.mediaType), p.sha256);
  }
  if (d.sha256) blobOf.set(originalPath(d.filename), d.sha256);
  return {
    list: async () => [...small.keys(), ...blobOf.keys()],
    read: async (path) => small.get(path) ?? null,
    async digest(path, options) {
      const bytes = small.get(path);
      const blob = blobOf.get(path);
      if (bytes) return streamDigests([bytes], options?.sm3);
      if (!blob) return null;
      let stream: Readable;
      try {
        stream = await deps.blobs.read(blob);
      } catch {
        return null; // the blob is gone: the page is missing, which verifyExport reports
      }
      return streamDigests(stream, options?.sm3);
    },
  };
}
