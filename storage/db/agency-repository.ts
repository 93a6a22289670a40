import type { Agency, AgencyKind } from '../../dossier/custody/model.js';
import type { AgencyRepository } from '../../dossier/ports/custody.js';
import { type Database, queryableIn } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface AgencyRow {
  id: string;
  name: string;
  kind: AgencyKind;
}
const toAgency = (r: AgencyRow): Agency => ({ id: r.id, name: r.name, kind: r.kind });

export class SqlAgencyRepository implements AgencyRepository {
  constructor(private readonly db: Database) {}

  async upsert(a: Agency): Promise<Agency> {
    const rows = await this.db.query<AgencyRow>(
      `INSERT INTO agencies (id, name, kind) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind RETURNING id, name, kind`,
      [a.id, a.name, a.kind],
    );
    return toAgency(rows[0]!);
  }

  async create(a: Agency, within?: Tx): Promise<boolean> {
    const rows = await queryableIn(this.db, within).query(`INSERT INTO agencies (id, name, kind) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id`, [a.id, a.name, a.kind]);
    return rows.length === 1;
  }

  async get(id: string): Promise<Agency | null> {
    const rows = await this.db.query<AgencyRow>(`SELECT id, name, kind FROM agencies WHERE id = $1`, [id]);
    return rows[0] ? toAgency(rows[0]) : null;
  }

  async list(): Promise<Agency[]> {
    return (await this.db.query<AgencyRow>(`SELECT id, name, kind FROM agencies ORDER BY id`)).map(toAgency);
  }
}
