/** Stages of proceedings and their deadlines: anyone authenticated reads them, an admin writes them. */
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { Transactions } from '../../dossier/ports/transactions.js';
import type { StageRepository } from '../../dossier/ports/custody.js';
import { principalOf } from '../auth.js';
import { parseBody } from '../validate.js';

/** ISO 8601 duration, e.g. P7D, P1M, PT36H; at least one component, time after T. */
const isoDuration = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'expected an ISO 8601 duration such as P7D or P1M');
const stageName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a stage name (lowercase letters, digits, -)');
const putStage = z.object({
  label: z.object({ en: z.string().trim().min(1).max(200), 'zh-CN': z.string().trim().min(1).max(200) }),
  deadline: isoDuration,
  order: z.number().int().min(0).max(1_000_000).optional(),
});

export interface StageRouteDeps {
  readonly stages: StageRepository;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
}

export function stagesRouter(deps: StageRouteDeps): Router {
  const r = Router();
  r.get('/stages', async (_req, res) => {
    res.json({ stages: await deps.stages.list() });
  });
  r.put('/stages/:name', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'stage:manage');
    const name = parseBody(stageName, req.params.name);
    const body = parseBody(putStage, req.body);
    const { stage, created } = await deps.transactions.run(async (tx) => {
      const put = await deps.stages.put(name, body, tx);
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'stage.update', target: { type: 'stage', id: name }, details: { deadline: put.stage.deadline, created: put.created } }, tx);
      return put;
    });
    res.status(created ? 201 : 200).json(stage);
  });
  return r;
}
