/** GET /api/search: full text over the pages of the cases the caller's agency may see. */
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { PageSearch } from '../../dossier/ports/page-text.js';
import { searchPages } from '../../ocr/search-pages.js';
import { principalOf } from '../auth.js';
import { parseQuery } from '../validate.js';

export interface SearchRouteDeps {
  readonly search: PageSearch;
  readonly audit: AuditLog;
}

const searchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  caseId: z.uuid().optional(),
  dossierId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function searchRouter(deps: SearchRouteDeps): Router {
  const r = Router();
  r.get('/search', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'dossier:read');
    const q = parseQuery(searchQuery, req.query);
    const hits = await searchPages(deps.search, { agency: p.agency, q: q.q, caseId: q.caseId, dossierId: q.dossierId, limit: q.limit });
    // The query's length, never its words: a search for a name is itself sensitive.
    await deps.audit.record({
      actor: p.subject,
      agency: p.agency,
      action: 'search',
      target: q.dossierId ? { type: 'dossier', id: q.dossierId } : q.caseId ? { type: 'case', id: q.caseId } : { type: 'search', id: '*' },
      caseId: q.caseId ?? null,
      details: { queryLength: q.q.length, hits: hits.length },
    });
    res.json({ hits });
  });
  return r;
}
