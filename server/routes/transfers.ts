/**
 * Transfers between agencies: send a sealed dossier, list the inbox and outbox, accept or return.
 * A transfer is visible to its sender and its receiver only; anyone else gets 404.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import type { CustodyService } from '../../dossier/custody/custody-service.js';
import { TRANSFER_STATUSES, type Transfer } from '../../dossier/custody/model.js';
import { DossierError } from '../../dossier/errors.js';
import type { Principal } from '../../dossier/model.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseBody, parseQuery } from '../validate.js';
import { idempotencyKeyOf } from '../idempotency.js';
import { agencyIdSchema as agencyId } from '../../dossier/custody/agency-schema.js';
import { failpoint } from '../../dossier/failpoints.js';

export const sendBody = z.object({
  toAgency: agencyId,
  stage: z.string().min(1).max(64),
  note: z.string().trim().max(2000).optional(),
});
export const acceptBody = z.object({ caseNumber: z.string().trim().min(1).max(100).optional() });
export const returnBody = z.object({ reason: z.string().trim().min(1, 'a return needs a reason').max(2000) });
const listQuery = z.object({
  direction: z.enum(['in', 'out']).default('in'),
  status: z.enum(TRANSFER_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const transferView = (t: Transfer) => ({
  id: t.id,
  dossierId: t.dossierId,
  caseId: t.caseId,
  fromAgency: t.from,
  toAgency: t.to,
  stage: t.stage,
  note: t.note,
  status: t.status,
  sentBy: t.sentBy,
  sentAt: t.sentAt.toISOString(),
  answeredBy: t.answeredBy,
  answeredAt: t.answeredAt?.toISOString() ?? null,
  reason: t.reason,
  receipt: t.receipt,
  dueAt: t.dueAt?.toISOString() ?? null,
  overdueAt: t.overdueAt?.toISOString() ?? null,
});

export interface TransferRouteDeps {
  readonly dossiers: DossierRepository;
  readonly transfers: TransferRepository;
  readonly custody: CustodyService;
}

export function transfersRouter(deps: TransferRouteDeps): Router {
  const r = Router();

  const visibleTransfer = async (p: Principal, id: string) => {
    const t = await deps.transfers.findVisible(id, p.agency);
    if (!t) throw notFound('transfer');
    return t;
  };
  const visibleDossier = async (p: Principal, id: string) => {
    const d = await deps.dossiers.findVisible(id, p.agency);
    if (!d) throw notFound('dossier');
    return d;
  };

  // The sender sees its transfer but may not answer it: refused before the body is looked at.
  const receiverOnly = (p: Principal, t: Transfer) => {
    if (t.to !== p.agency) throw new DossierError('forbidden', 'only the receiving agency may answer a transfer');
    return t;
  };

  r.post('/dossiers/:id/transfers', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'transfer:send');
    const key = idempotencyKeyOf(req);
    const d = await visibleDossier(p, req.params.id);
    const body = parseBody(sendBody, req.body);
    const { transfer, created } = await deps.custody.send(p, d, { ...body, idempotencyKey: key });
    if (created) req.log?.info({ transfer: transfer.id, dossier: d.id, to: transfer.to }, 'transfer sent');
    failpoint('answer.transfer');
    // A repeated key answers exactly as the first time.
    res.status(201).location(`/api/transfers/${transfer.id}`).json({ id: transfer.id, status: 'pending' });
  });

  r.get('/dossiers/:id/transfers', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'transfer:read');
    const d = await visibleDossier(p, req.params.id);
    res.json({ transfers: (await deps.transfers.listByDossier(d.id)).map(transferView) });
  });

  r.get('/transfers', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'transfer:read');
    const q = parseQuery(listQuery, req.query);
    res.json({ direction: q.direction, transfers: (await deps.transfers.list(p.agency, q)).map(transferView) });
  });

  r.get('/transfers/:id', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'transfer:read');
    res.json(transferView(await visibleTransfer(p, req.params.id)));
  });

  // Accept or return: the same checks, each with its own body.
  const answer = (decision: 'accepted' | 'returned') => async (req: Request<{ id: string }>, res: Response) => {
    const p = principalOf(req);
    requirePermission(p, 'transfer:answer');
    const t = receiverOnly(p, await visibleTransfer(p, req.params.id));
    const options = decision === 'accepted' ? { caseNumber: parseBody(acceptBody, req.body).caseNumber } : { reason: parseBody(returnBody, req.body).reason };
    const answered = await deps.custody.answer(p, t, decision, options);
    req.log?.info({ transfer: t.id }, `transfer ${decision}`);
    failpoint('answer.transfer');
    res.json(transferView(answered));
  };
  r.post('/transfers/:id/accept', answer('accepted'));
  r.post('/transfers/:id/return', answer('returned'));

  return r;
}
