/** Registered agencies: an admin registers one; any authenticated caller lists them (to address a transfer). */
import { Router } from 'express';
import { requirePermission } from '../../dossier/access/policy.js';
import { agencySchema } from '../../dossier/custody/agency-schema.js';
import { DossierError } from '../../dossier/errors.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { AgencyRepository } from '../../dossier/ports/custody.js';
import type { Transactions } from '../../dossier/ports/transactions.js';
import { principalOf } from '../auth.js';
import { parseBody } from '../validate.js';
import { idempotent, type IdempotencyDeps } from '../idempotent.js';

export interface AgencyRouteDeps extends IdempotencyDeps {
  readonly agencies: AgencyRepository;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
}

export function agenciesRouter(deps: AgencyRouteDeps): Router {
  const r = Router();
  r.post('/agencies', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'agency:manage');
    const body = parseBody(agencySchema, req.body);
    const answer = await idempotent(deps, req, p, async (tx) => {
      if (!(await deps.agencies.create(body, tx))) throw new DossierError('conflict', `agency ${body.id} is already registered`);
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'agency.create', target: { type: 'agency', id: body.id }, details: { kind: body.kind } }, tx);
      return { status: 201, body };
    });
    res.status(answer.status).location(`/api/agencies/${body.id}`).json(answer.body);
  });
  r.get('/agencies', async (_req, res) => {
    res.json({ agencies: await deps.agencies.list() });
  });
  return r;
}
