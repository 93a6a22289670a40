import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import { DossierError } from '../../dossier/errors.js';
import { MerkleTree, leafHash, toProofJson } from '../../dossier/merkle.js';
import { suiteHasher } from '../../dossier/digest.js';
import { manifestSuite } from '../../dossier/ingest/seal-dossier.js';
import type { DossierRecord, Principal } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import type { KeyRing } from '../../dossier/signing/signer.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseQuery } from '../validate.js';
import { dossierView, pageView } from './dossier-view.js';
import { presignedRedirect, sendBlob, type BlobRedirect } from './send-blob.js';
import { recordEvidenceRead } from './evidence-read.js';
import { exportRequest, rangeDetails, sendExport } from './export.js';
import { exportDepsOf } from './export-plan.js';
import type { CrcMemo } from '../zip/crc-memo.js';
import { streamSearchablePdf } from './export-pdf.js';
import { sendThumbnail, sendViewImage, type PageImageDeps } from './page-images.js';

export interface DossierRouteDeps extends PageImageDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly keys: KeyRing;
  /** Custody transfers: their receipts go into the export. */
  readonly transfers: TransferRepository;
  /** Bytes received so far of an upload in progress. */
  readonly uploadOffset: (id: string) => Promise<number | null>;
  /** OCR status and text of pages. */
  readonly pageTexts: PageTextRepository;
  readonly audit: AuditLog;
  /** Marks a download in the foreground while it streams (background OCR yields to it). */
  readonly foreground?: () => () => void;
  /** Large downloads from an object store go to a presigned URL (unset: always streamed). */
  readonly blobRedirect?: BlobRedirect;
  /** CRC-32s of exported blobs, for resumed exports (HTTP Range). */
  readonly exportCrcs?: CrcMemo;
}

const pageQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const pageNumber = z.coerce.number().int().min(1).max(10_000_000);
/** Up to this many dossiers' status in one request (a migration watches dozens waiting for their seal). */
export const STATUS_BATCH_MAX = 100;
const statusQuery = z.object({
  ids: z.string().transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.string().uuid()).min(1).max(STATUS_BATCH_MAX)),
});

export function dossiersRouter(deps: DossierRouteDeps): Router {
  const r = Router();

  const visible = async (p: Principal, id: string): Promise<DossierRecord> => {
    requirePermission(p, 'dossier:read');
    const d = await deps.dossiers.findVisible(id, p.agency);
    if (!d) throw notFound('dossier');
    return d;
  };
  const sealed = async (p: Principal, id: string): Promise<DossierRecord> => {
    const d = await visible(p, id);
    if (d.status !== 'sealed') throw new DossierError('conflict', `dossier is ${d.status}, not sealed`);
    return d;
  };
  const page = async (d: DossierRecord, n: string) => {
    const index = pageNumber.safeParse(n);
    const found = index.success ? await deps.dossiers.getPage(d.id, index.data) : null;
    if (!found) throw notFound('page');
    return found;
  };
  /** A sealed dossier's page, read by the caller and audited as `action`. */
  const auditedPage = async (req: Request<{ id: string; n: string }>, action: 'page.read' | 'page.view' | 'proof.read') => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    const p = await page(d, req.params.n);
    await recordEvidenceRead(deps.audit, principal, action, d, p.index);
    return { d, p };
  };

  // Many dossiers as GET /api/dossiers/:id answers each, less the outline (a status question: the
  // bookmarks are the viewer's); one not visible is left out, as a missing one is.
  r.get('/dossiers', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'dossier:read');
    const { ids } = parseQuery(statusQuery, req.query);
    const byId = new Map((await deps.dossiers.findVisibleMany(ids, p.agency)).map((d) => [d.id, d]));
    const found = ids.flatMap((id) => byId.get(id) ?? []);
    const ocr = await deps.pageTexts.progressOf(found.filter((d) => d.status === 'sealed').map((d) => d.id));
    const views = await Promise.all(found.map(async (d) => {
      const counted = d.status === 'sealed' ? ocr.get(d.id) : undefined;
      return dossierView(d, d.status === 'receiving' ? await deps.uploadOffset(d.id) : null, counted ? { ...counted, total: d.pageCount ?? 0 } : null);
    }));
    res.json({ dossiers: views });
  });

  r.get('/dossiers/:id', async (req, res) => {
    const d = await visible(principalOf(req), req.params.id);
    const ocr = d.status === 'sealed' ? { ...(await deps.pageTexts.progress(d.id)), total: d.pageCount ?? 0 } : null;
    // The outline (a PDF's bookmarks) only here: listings of dossiers stay small.
    const outline = d.status === 'sealed' ? { outline: await deps.dossiers.outline(d.id) } : {};
    res.json({ ...dossierView(d, d.status === 'receiving' ? await deps.uploadOffset(d.id) : null, ocr), ...outline });
  });

  r.get('/dossiers/:id/pages', async (req, res) => {
    const d = await visible(principalOf(req), req.params.id);
    const q = parseQuery(pageQuery, req.query);
    const pages = await deps.dossiers.listPages(d.id, q);
    const texts = pages.length > 0 && d.status === 'sealed' ? await deps.pageTexts.list(d.id, pages[0]!.index, pages[pages.length - 1]!.index) : [];
    const byIndex = new Map(texts.map((t) => [t.index, t]));
    res.json(pages.map((p) => pageView(p, d.status === 'sealed' ? (byIndex.get(p.index) ?? 'queued') : null)));
  });

  // The page's text (OCR or the PDF's text layer). Pending → 409 ocr_pending (try again later);
  // failed → 409 ocr_failed with the reason (there is no text, and the page itself exists).
  r.get('/dossiers/:id/pages/:n/text', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    const p = await page(d, req.params.n);
    const t = await deps.pageTexts.get(d.id, p.index);
    if (t?.status === 'failed') throw new DossierError('ocr_failed', `OCR of page ${p.index} failed: ${t.reason ?? 'unknown reason'}`);
    if (t?.status !== 'done' || !t.textSha256) throw new DossierError('ocr_pending', `the text of page ${p.index} is not ready yet: OCR is pending`);
    const size = (await deps.blobs.size(t.textSha256)) ?? 0;
    await deps.audit.record({ actor: principal.subject, agency: principal.agency, action: 'page.text.read', target: { type: 'page', id: `${d.id}/${p.index}` }, caseId: d.caseId });
    await sendBlob(req, res, deps.blobs, { sha256: t.textSha256, size, mediaType: 'text/plain; charset=utf-8', immutable: true });
  });

  r.get('/dossiers/:id/pages/:n', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    const p = await page(d, req.params.n);
    const redirect = await presignedRedirect(deps.blobs, deps.blobRedirect, p);
    await recordEvidenceRead(deps.audit, principal, 'page.read', d, p.index, redirect ? { presigned: true, ttlSeconds: redirect.ttlSeconds } : undefined);
    await sendBlob(req, res, deps.blobs, { sha256: p.sha256, size: p.size, mediaType: p.mediaType, immutable: true, redirectTo: redirect?.url });
  });

  // The upload exactly as the clerk sent it (also in the export, as original/<filename>).
  r.get('/dossiers/:id/original', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    if (!d.sha256 || d.bytes === null) throw notFound('original');
    const blob = { sha256: d.sha256, size: d.bytes, mediaType: d.mediaType ?? 'application/octet-stream', filename: d.filename };
    const redirect = await presignedRedirect(deps.blobs, deps.blobRedirect, blob);
    await recordEvidenceRead(deps.audit, principal, 'original.read', d, undefined, redirect ? { presigned: true, ttlSeconds: redirect.ttlSeconds } : undefined);
    await sendBlob(req, res, deps.blobs, { ...blob, immutable: true, redirectTo: redirect?.url });
  });

  r.get('/dossiers/:id/pages/:n/thumbnail', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    const p = await page(d, req.params.n);
    if (!p.thumbnailSha256) throw notFound('thumbnail');
    // A thumbnail shows the page's content too: audited like the page.
    await recordEvidenceRead(deps.audit, principal, 'thumbnail.read', d, p.index);
    await sendThumbnail(req, res, deps, p);
  });

  r.get('/dossiers/:id/pages/:n/image', async (req, res) => {
    // A view of the page shows its content: audited like the page.
    const { p } = await auditedPage(req, 'page.view');
    await sendViewImage(req, res, deps, p);
  });

  r.get('/dossiers/:id/pages/:n/proof', async (req, res) => {
    const { d, p } = await auditedPage(req, 'proof.read');
    // The tree of the dossier's own suite: SM3 over the pages' SM3 for one sealed under sm2-sm3.
    const suite = manifestSuite(d.manifestJws!);
    const opts = { hasher: suiteHasher(suite) };
    const leaves = (await deps.dossiers.pageHashes(d.id, suite === 'sm2-sm3' ? 'sm3' : 'sha256')).map((h) => leafHash(Buffer.from(h, 'hex'), opts));
    const tree = new MerkleTree(leaves, opts);
    if (tree.root.toString('hex') !== d.merkleRoot) throw new DossierError('internal', 'stored pages do not match the sealed root');
    res.json(toProofJson({ index: p.index - 1, treeSize: tree.size, leafHash: leaves[p.index - 1]!, proof: tree.inclusionProof(p.index - 1), root: tree.root }));
  });

  r.get('/dossiers/:id/manifest', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    await recordEvidenceRead(deps.audit, principal, 'manifest.read', d);
    sendJws(res, d.manifestJws!);
  });

  r.get('/dossiers/:id/export', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    const exportDeps = exportDepsOf(deps);
    const asked = await exportRequest(req, exportDeps, d);
    // Audited when bytes leave: not for a HEAD or an unsatisfiable range.
    if (req.method !== 'HEAD' && asked.range !== 'unsatisfiable') {
      await recordEvidenceRead(deps.audit, principal, 'dossier.export', d, undefined, { format: 'zip', ...rangeDetails(asked.range) });
      req.log?.info({ dossier: d.id, pages: d.pageCount, from: asked.range?.start ?? 0 }, 'export started');
    }
    await sendExport(req, res, exportDeps, d, asked);
  });

  // The searchable PDF: page images with the OCR text as an invisible layer (export-pdf.ts).
  r.get('/dossiers/:id/export.pdf', async (req, res) => {
    const principal = principalOf(req);
    const d = await sealed(principal, req.params.id);
    await deps.audit.record({ actor: principal.subject, agency: principal.agency, action: 'dossier.export', target: { type: 'dossier', id: d.id }, caseId: d.caseId, details: { format: 'pdf' } });
    req.log?.info({ dossier: d.id, pages: d.pageCount }, 'searchable PDF export started');
    await streamSearchablePdf(req, res, deps, d);
  });

  return r;
}

function sendJws(res: Response, jws: string): void {
  res.type('application/jose').setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  res.send(jws);
}
