/**
 * POST and GET /api/dossiers/:id/links and DELETE /api/links/:id: signed download links are made,
 * listed with their uses and revoked by an authenticated user; they are used without one
 * (download-links.ts).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { createLink, linkTtlSeconds, signLinkToken, type LinkDeps } from '../../dossier/access/links.js';
import { requirePermission } from '../../dossier/access/policy.js';
import { requireCustodian } from '../../dossier/custody/rules.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { Transactions } from '../../dossier/ports/transactions.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseBody } from '../validate.js';
import { idempotent, type IdempotencyDeps } from '../idempotent.js';

export interface LinkRouteDeps extends LinkDeps, IdempotencyDeps {
  readonly audit: AuditLog;
  readonly transactions: Transactions;
  /** A dossier's transfers: who holds it now (dossier/custody/rules.ts). */
  readonly transfers: TransferRepository;
  /** LINK_MAX_TTL in seconds. */
  readonly linkMaxTtlSeconds: number;
  /** PUBLIC_URL without a trailing slash; null: links point at the host the request came to. */
  readonly publicUrl: string | null;
}

const createBody = z.strictObject({
  ttl: z.union([z.number(), z.string().max(32)]).optional(),
  singleUse: z.boolean().default(false),
});

export function linksRouter(deps: LinkRouteDeps): Router {
  const r = Router();

  r.post('/dossiers/:id/links', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'link:create');
    const body = parseBody(createBody, req.body);
    const ttlSeconds = linkTtlSeconds(body.ttl, deps.linkMaxTtlSeconds);
    const dossier = await deps.dossiers.findVisible(req.params.id, p.agency);
    if (!dossier) throw notFound('dossier');
    // Seeing is not holding: an agency that merely reads the dossier (it returned it, or has yet
    // to accept it, or sent it on) may not hand out links to it.
    requireCustodian(p.agency, dossier, await deps.transfers.listByDossier(dossier.id));
    // A repeated Idempotency-Key answers the first link again (the same URL), not a second link.
    const answer = await idempotent(deps, req, p, async (tx) => {
      const { link: l, token } = await createLink(deps, { principal: p, dossier, ttlSeconds, singleUse: body.singleUse }, new Date(), tx);
      await deps.audit.record({
        actor: p.subject,
        agency: p.agency,
        action: 'link.create',
        target: { type: 'dossier', id: dossier.id },
        caseId: dossier.caseId,
        details: { linkId: l.id, scope: l.scope, singleUse: l.singleUse, expiresAt: l.expiresAt.toISOString() },
      }, tx);
      req.log?.info({ dossier: dossier.id, link: l.id }, 'link created');
      return { status: 201, body: { id: l.id, url: `${baseUrl(req, deps.publicUrl)}/d/${token}`, expiresAt: l.expiresAt.toISOString(), scope: l.scope, singleUse: l.singleUse } };
    });
    res.status(answer.status).setHeader('Cache-Control', 'no-store');
    res.json(answer.body);
  });

  // The links the caller's agency made to a dossier, with their uses. A live link's URL is signed
  // again from its row (Ed25519 is deterministic: the same key gives the same token), so a
  // person can copy it later; a revoked or expired one has no URL to hand on.
  r.get('/dossiers/:id/links', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'link:create');
    const dossier = await deps.dossiers.findVisible(req.params.id, p.agency);
    if (!dossier) throw notFound('dossier');
    const now = new Date();
    const links = await deps.links.listByDossier(dossier.id, p.agency);
    const base = baseUrl(req, deps.publicUrl);
    const views = await Promise.all(links.map(async (l) => {
      const spent = l.singleUse && l.usedAt !== null;
      const state = l.revokedAt ? 'revoked' : l.expiresAt <= now ? 'expired' : spent ? 'used' : 'active';
      return {
        id: l.id, scope: l.scope, singleUse: l.singleUse, createdBy: l.createdBy, createdAt: l.createdAt.toISOString(), expiresAt: l.expiresAt.toISOString(),
        uses: l.uses, firstUsedAt: l.usedAt?.toISOString() ?? null, revokedAt: l.revokedAt?.toISOString() ?? null, state,
        url: state === 'active' ? `${base}/d/${await signLinkToken(deps.linkKeys, l)}` : null,
      };
    }));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ links: views });
  });

  r.delete('/links/:id', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'link:revoke');
    // Only the agency that made a link may revoke it; to any other it does not exist.
    await deps.transactions.run(async (tx) => {
      const link = await deps.links.revoke(req.params.id, p.agency, p.subject, new Date(), tx);
      if (!link) throw notFound('link');
      await deps.audit.record({
        actor: p.subject,
        agency: p.agency,
        action: 'link.revoke',
        target: { type: 'dossier', id: link.dossierId },
        caseId: link.caseId,
        details: { linkId: link.id },
      }, tx);
    });
    res.status(204).end();
  });

  return r;
}

function baseUrl(req: Request, publicUrl: string | null): string {
  return publicUrl ?? `${req.protocol}://${req.get('host')}`;
}
