/**
 * The landing page of a signed link for a receiver without an account: a browser that opens
 * GET /d/:token (asking for HTML) gets the web application, which reads GET /d/:token/info and
 * offers the download at /d/:token?download=1. Other clients (curl, `dossier download`) asking
 * for anything else get the export ZIP from /d/:token as before. Reading the info does not spend
 * a single-use link.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { admitLink } from '../../dossier/access/links.js';
import type { CaseRepository } from '../../dossier/ports/repositories.js';
import type { DownloadLinkDeps } from './download-links.js';

export function linkLandingRouter(deps: DownloadLinkDeps & { cases: CaseRepository }, sendIndex: ((req: Request, res: Response) => void) | null): Router {
  const r = Router();
  r.get('/:token/info', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const { link, dossier } = await admitLink(deps, req.params.token, new Date());
    const c = await deps.cases.findVisible(dossier.caseId, link.audience);
    res.json({
      case: { number: c?.number ?? '', title: c?.title ?? '' },
      dossier: { id: dossier.id, filename: dossier.filename, pageCount: dossier.pageCount, sealedAt: dossier.sealedAt?.toISOString() ?? null, merkleRoot: dossier.merkleRoot, sha256: dossier.sha256 },
      expiresAt: link.expiresAt.toISOString(),
      singleUse: link.singleUse,
    });
  });
  r.get('/:token', (req: Request, res: Response, next: NextFunction) => {
    const wantsPage = req.query.download === undefined && req.accepts(['application/zip', 'text/html']) === 'text/html';
    if (!wantsPage || !sendIndex) return next();
    res.setHeader('Referrer-Policy', 'no-referrer');
    sendIndex(req, res);
  });
  return r;
}
