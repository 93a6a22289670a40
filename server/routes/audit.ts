/**
 * The audit chain over HTTP. Reading events: auditors and admins, scoped like everything else to
 * the cases their agency sees (plus their agency's own events without a case); a caseId the
 * agency does not see is 404, exactly like a missing one. Verifying: auditors, admins and the
 * supervising committee; the answer says whether the whole chain holds, never what it contains.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import { DossierError } from '../../dossier/errors.js';
import type { AuditEvent } from '../../dossier/audit/event.js';
import type { AuditTrail } from '../../dossier/ports/audit-trail.js';
import type { CaseRepository } from '../../dossier/ports/repositories.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseQuery } from '../validate.js';

export interface AuditRouteDeps {
  readonly audit: AuditTrail;
  readonly cases: CaseRepository;
}

const listQuery = z.object({
  caseId: z.string().trim().min(1).max(100).optional(),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const eventView = (e: AuditEvent) => ({
  seq: e.seq,
  time: e.time,
  actor: e.actor,
  agency: e.agency,
  action: e.action,
  target: e.target,
  caseId: e.caseId,
  details: e.details,
  prevHash: e.prevHash,
  hash: e.hash,
});

export function auditRouter(deps: AuditRouteDeps): Router {
  const r = Router();
  r.get('/audit', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'audit:read');
    const q = parseQuery(listQuery, req.query);
    let caseId: string | undefined;
    if (q.caseId !== undefined) {
      const c = await deps.cases.findVisible(q.caseId, p.agency);
      if (!c) throw notFound('case');
      caseId = c.id;
    }
    const events = await deps.audit.list({ agency: p.agency, caseId, after: q.after, limit: q.limit });
    const next = events.length === q.limit ? events[events.length - 1]!.seq : null;
    res.json({ events: events.map(eventView), next });
  });
  // The newest signed checkpoint: auditors keep it (or publish it) outside the database, and give
  // it back to `dossier audit verify --anchor`; only such a copy reveals a tail cut together with
  // its checkpoints.
  r.get('/audit/checkpoint', async (req, res) => {
    requirePermission(principalOf(req), 'audit:verify');
    const c = await deps.audit.latestCheckpoint();
    if (!c) throw new DossierError('not_found', 'no checkpoint has been signed yet');
    res.setHeader('Cache-Control', 'no-store');
    res.json(c);
  });
  r.get('/audit/verify', async (req, res) => {
    requirePermission(principalOf(req), 'audit:verify');
    const report = await deps.audit.verify();
    res.setHeader('Cache-Control', 'no-store');
    res.json(report);
  });
  return r;
}
