import type { CaseNumber } from '../../dossier/custody/model.js';
import type { CaseNumberRepository } from '../../dossier/ports/custody.js';
import type { Database } from './database.js';

export class SqlCaseNumberRepository implements CaseNumberRepository {
  constructor(private readonly db: Database) {}

  async numbersOf(caseIds: readonly string[]): Promise<Map<string, CaseNumber[]>> {
    const out = new Map<string, CaseNumber[]>(caseIds.map((id) => [id, []]));
    if (caseIds.length === 0) return out;
    const rows = await this.db.query<{ case_id: string; agency_id: string; number: string }>(
      `SELECT n.case_id, n.agency_id, n.number FROM case_numbers n JOIN cases c ON c.id = n.case_id
        WHERE n.case_id = ANY($1::uuid[])
        ORDER BY (n.agency_id = c.agency_id) DESC, n.created_at, n.agency_id`,
      [caseIds],
    );
    for (const r of rows) out.get(r.case_id)?.push({ agency: r.agency_id, number: r.number });
    return out;
  }
}
