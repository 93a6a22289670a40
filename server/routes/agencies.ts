/** Registered agencies: an admin registers one; any authenticated caller lists them (to address a transfer). */
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import { AGENCY_KINDS } from '../../dossier/custody/model.js';
import { DossierError } from '../../dossier/errors.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { AgencyRepository } from '../../dossier/ports/custody.js';
import { principalOf } from '../auth.js';
import { parseBody } from '../validate.js';

/** The same shape as a token's `agency` claim: an agency id must be usable in tokens. */
export const agencyId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected an agency id (letters, digits, . _ -)');
export const agencySchema = z.object({
  id: agencyId,
  name: z.string().trim().min(1).max(200),
  kind: z.enum(AGENCY_KINDS),
});

export interface AgencyRouteDeps {
  readonly agencies: AgencyRepository;
  readonly audit: AuditLog;
}

export function agenciesRouter(deps: AgencyRouteDeps): Router {
  const r = Router();
  r.post('/agencies', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'agency:manage');
    const body = parseBody(agencySchema, req.body);
    if (!(await deps.agencies.create(body))) throw new DossierError('conflict', `agency ${body.id} is already registered`);
    await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'agency.create', target: { type: 'agency', id: body.id }, details: { kind: body.kind } });
    res.status(201).location(`/api/agencies/${body.id}`).json(body);
  });
  r.get('/agencies', async (_req, res) => {
    res.json({ agencies: await deps.agencies.list() });
  });
  return r;
}
