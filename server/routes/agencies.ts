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

export interface AgencyRouteDeps {
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
    await deps.transactions.run(async (tx) => {
      if (!(await deps.agencies.create(body, tx))) throw new DossierError('conflict', `agency ${body.id} is already registered`);
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'agency.create', target: { type: 'agency', id: body.id }, details: { kind: body.kind } }, tx);
    });
    res.status(201).location(`/api/agencies/${body.id}`).json(body);
  });
  r.get('/agencies', async (_req, res) => {
    res.json({ agencies: await deps.agencies.list() });
  });
  return r;
}
