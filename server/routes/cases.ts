import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import type { CaseRecord, DossierRecord } from '../../dossier/model.js';
import type { CaseRepository, DossierRepository } from '../../dossier/ports/repositories.js';
import type { CaseNumber } from '../../dossier/custody/model.js';
import type { CaseNumberRepository } from '../../dossier/ports/custody.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { Transactions } from '../../dossier/ports/transactions.js';
import type { OcrProgress, PageTextRepository } from '../../dossier/ports/page-text.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseBody, parseQuery } from '../validate.js';
import { dossierView } from './dossier-view.js';
import { idempotent, type IdempotencyDeps } from '../idempotent.js';

export const createCase = z.object({
  number: z.string().trim().min(1).max(100),
  title: z.string().trim().max(500).default(''),
});
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  number: z.string().trim().min(1).max(100).optional(),
});

/** `number` is the owner's; `numbers` every agency's own number for the case (owner first). */
const caseView = (c: CaseRecord, dossiers?: DossierRecord[], numbers: readonly CaseNumber[] = [{ agency: c.agency, number: c.number }], ocr?: Map<string, OcrProgress>) => ({
  id: c.id,
  number: c.number,
  numbers,
  title: c.title,
  agency: c.agency,
  createdAt: c.createdAt.toISOString(),
  ...(dossiers ? { dossiers: dossiers.map((d) => dossierView(d, null, ocrProgress(d, ocr))) } : {}),
});

/** A sealed dossier's OCR count, as in GET /api/dossiers/:id; null before the seal. */
const ocrProgress = (d: DossierRecord, ocr?: Map<string, OcrProgress>) => {
  const counted = d.status === 'sealed' ? ocr?.get(d.id) : undefined;
  return counted ? { ...counted, total: d.pageCount ?? 0 } : null;
};

/** Each case with its dossiers and their OCR progress, in one query per kind. */
async function casesWithDossiers(deps: CaseRouteDeps, list: readonly CaseRecord[]) {
  const numbers = await deps.caseNumbers.numbersOf(list.map((c) => c.id));
  const dossiers = await Promise.all(list.map((c) => deps.dossiers.listByCase(c.id)));
  const ocr = await deps.pageTexts.progressOf(dossiers.flat().filter((d) => d.status === 'sealed').map((d) => d.id));
  return list.map((c, i) => caseView(c, dossiers[i], numbers.get(c.id), ocr));
}

interface CaseRouteDeps extends IdempotencyDeps {
  readonly cases: CaseRepository;
  readonly dossiers: DossierRepository;
  readonly caseNumbers: CaseNumberRepository;
  readonly pageTexts: Pick<PageTextRepository, 'progressOf'>;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
}

export function casesRouter(deps: CaseRouteDeps): Router {
  const r = Router();
  r.post('/cases', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'case:create');
    const body = parseBody(createCase, req.body);
    const answer = await idempotent(deps, req, p, async (tx) => {
      const c = await deps.cases.create({ id: randomUUID(), number: body.number, title: body.title, agency: p.agency, createdBy: p.subject }, tx);
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'case.create', target: { type: 'case', id: c.id }, caseId: c.id, details: { number: c.number } }, tx);
      req.log?.info({ case: c.id }, 'case created');
      return { status: 201, body: caseView(c) };
    });
    res.status(answer.status).location(`/api/cases/${(answer.body as { id: string }).id}`).json(answer.body);
  });
  r.get('/cases', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'case:read');
    const q = parseQuery(listQuery, req.query);
    res.json({ cases: await casesWithDossiers(deps, await deps.cases.listVisible(p.agency, q)) });
  });
  r.get('/cases/:id', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'case:read');
    const c = await deps.cases.findVisible(req.params.id, p.agency);
    if (!c) throw notFound('case');
    res.json((await casesWithDossiers(deps, [c]))[0]);
  });
  return r;
}
