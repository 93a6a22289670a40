/**
 * GET /d/:token (the export ZIP) and GET /d/:token/pages/:n (one page, Range supported): signed
 * download links, used without a bearer token. The token is the credential, so nothing of these
 * responses may be cached or leak it onward through a Referer.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { admitLink, consumeLink, spentLinkResumes } from '../../dossier/access/links.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { KeyRing } from '../../dossier/signing/signer.js';
import { notFound } from '../errors.js';
import { exportRequest, rangeDetails, sendExport } from './export.js';
import { exportDepsOf } from './export-plan.js';
import type { CrcMemo } from '../zip/crc-memo.js';
import type { LinkRouteDeps } from './links.js';
import { presignedRedirect, sendBlob, type BlobRedirect } from './send-blob.js';

export interface DownloadLinkDeps extends LinkRouteDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  /** The evidence keys, whose JWKS goes into the export. */
  readonly keys: KeyRing;
  /** Custody transfers: their receipts go into the export. */
  readonly transfers: TransferRepository;
  /** Page texts: those ready go into the export. */
  readonly pageTexts: PageTextRepository;
  /** Marks a download in the foreground while it streams (background OCR yields to it). */
  readonly foreground?: () => () => void;
  /** Large pages from an object store go to a presigned URL (unset: always streamed). */
  readonly blobRedirect?: BlobRedirect;
  /** CRC-32s of exported blobs, for resumed exports (HTTP Range). */
  readonly exportCrcs?: CrcMemo;
}

const NO_STORE = 'no-store';
const pageNumber = z.coerce.number().int().min(1).max(10_000_000);

export function downloadLinksRouter(deps: DownloadLinkDeps): Router {
  const r = Router();
  r.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', NO_STORE);
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  r.get('/:token', async (req, res) => {
    const now = new Date();
    const { link, dossier, spent } = await admitLink(deps, req.params.token, now, { resumable: true });
    const exportDeps = exportDepsOf(deps);
    const asked = await exportRequest(req, exportDeps, dossier);
    const range = asked.range === 'unsatisfiable' ? null : asked.range;
    if (spent) spentLinkResumes({ ifRange: req.headers['if-range'], etag: asked.plan.etag, rangeStart: range?.start ?? null });
    // Counted and audited when bytes leave: a HEAD or an unsatisfiable range spends no single use.
    if (req.method !== 'HEAD' && asked.range !== 'unsatisfiable') {
      if (!spent) await consumeLink(deps.links, link, now);
      await deps.audit.record({
        actor: `link:${link.id}`,
        agency: link.audience,
        action: 'link.use',
        target: { type: 'dossier', id: dossier.id },
        caseId: dossier.caseId,
        details: { linkId: link.id, scope: link.scope, what: 'export', ...rangeDetails(range), ...(spent ? { resumed: true } : {}) },
      });
      req.log?.info({ dossier: dossier.id, link: link.id, pages: dossier.pageCount, from: range?.start ?? 0, resumed: spent }, 'export through a link started');
    }
    await sendExport(req, res, exportDeps, dossier, asked);
  });

  r.get('/:token/pages/:n', async (req, res) => {
    const now = new Date();
    const { link, dossier } = await admitLink(deps, req.params.token, now);
    const n = pageNumber.safeParse(req.params.n);
    const page = n.success ? await deps.dossiers.getPage(dossier.id, n.data) : null;
    if (!page) throw notFound('page');
    await consumeLink(deps.links, link, now);
    const redirect = await presignedRedirect(deps.blobs, deps.blobRedirect, page);
    await deps.audit.record({
      actor: `link:${link.id}`,
      agency: link.audience,
      action: 'link.use',
      target: { type: 'page', id: `${dossier.id}/${page.index}` },
      caseId: dossier.caseId,
      details: { linkId: link.id, scope: link.scope, what: 'page', page: page.index, ...(redirect ? { presigned: true, ttlSeconds: redirect.ttlSeconds } : {}) },
    });
    await sendBlob(req, res, deps.blobs, { sha256: page.sha256, size: page.size, mediaType: page.mediaType, cacheControl: NO_STORE, redirectTo: redirect?.url });
  });

  return r;
}
