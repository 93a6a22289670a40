/** Search as the API answers it: the query through the index's own term function, snippets on top. */
import { DossierError } from '../dossier/errors.js';
import type { PageSearch } from '../dossier/ports/page-text.js';
import { tsqueryLiteral } from './index-terms.js';
import { snippet } from './snippet.js';

export interface SearchHit {
  readonly dossierId: string;
  readonly caseId: string;
  readonly page: number;
  readonly snippet: string;
  readonly score: number;
}

export async function searchPages(
  search: PageSearch,
  request: { agency: string; q: string; caseId?: string; dossierId?: string; limit: number },
): Promise<SearchHit[]> {
  const tsquery = tsqueryLiteral(request.q);
  if (!tsquery) throw new DossierError('bad_request', 'q: no searchable word (letters, digits or CJK characters)');
  const rows = await search.search({ agency: request.agency, tsquery, caseId: request.caseId, dossierId: request.dossierId, limit: request.limit });
  return rows.map((r) => ({
    dossierId: r.dossierId,
    caseId: r.caseId,
    page: r.index,
    snippet: snippet(r.text, request.q),
    score: Math.round(r.score * 1e6) / 1e6,
  }));
}
