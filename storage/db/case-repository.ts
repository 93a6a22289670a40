import type { CaseRecord } from '../../dossier/model.js';
import type { CaseRepository, NewCase } from '../../dossier/ports/repositories.js';
import { DossierError } from '../../dossier/errors.js';
import { type Database, inTransaction } from './database.js';
import { caseVisibleSql } from './visibility.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface CaseRow {
  id: string;
  number: string;
  title: string;
  agency_id: string;
  created_by: string;
  created_at: Date;
}

const toCase = (r: CaseRow): CaseRecord => ({
  id: r.id,
  number: r.number,
  title: r.title,
  agency: r.agency_id,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
});

const VISIBLE_TO_P1 = caseVisibleSql('c', '$1');

export class SqlCaseRepository implements CaseRepository {
  constructor(private readonly db: Database) {}

  async create(c: NewCase, within?: Tx): Promise<CaseRecord> {
    const taken = () => new DossierError('conflict', `case number ${c.number} already exists in agency ${c.agency}`);
    return inTransaction(this.db, within, async (tx) => {
      const rows = await tx.query<CaseRow>(
        `INSERT INTO cases (id, number, title, agency_id, created_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (agency_id, number) DO NOTHING RETURNING *`,
        [c.id, c.number, c.title, c.agency, c.createdBy],
      );
      if (rows.length === 0) throw taken();
      // The owner's number is one of the case's numbers too: unique among every number the agency
      // uses, its own cases' and those it gave to cases it received.
      const numbered = await tx.query(
        `INSERT INTO case_numbers (case_id, agency_id, number) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING number`,
        [c.id, c.agency, c.number],
      );
      if (numbered.length === 0) throw taken();
      return toCase(rows[0]!);
    });
  }

  async findVisible(id: string, agency: string): Promise<CaseRecord | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query<CaseRow>(`SELECT c.* FROM cases c WHERE ${VISIBLE_TO_P1} AND c.id = $2`, [agency, id]);
    return rows[0] ? toCase(rows[0]) : null;
  }

  async listVisible(agency: string, o: { limit: number; offset: number; number?: string }): Promise<CaseRecord[]> {
    const rows = await this.db.query<CaseRow>(
      `SELECT c.* FROM cases c WHERE ${VISIBLE_TO_P1}
          AND ($4::text IS NULL OR c.number = $4 OR EXISTS (SELECT 1 FROM case_numbers n WHERE n.case_id = c.id AND n.number = $4))
        ORDER BY c.created_at DESC, c.id LIMIT $2 OFFSET $3`,
      [agency, o.limit, o.offset, o.number ?? null],
    );
    return rows.map(toCase);
  }
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
