import type { LinkRecord, LinkRepository, LinkScope, NewLink } from '../../dossier/ports/link-repository.js';
import { type Database, queryableIn } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface LinkRow {
  id: string;
  dossier_id: string;
  case_id: string;
  audience_agency: string;
  scope: LinkScope;
  created_by: string;
  created_agency: string;
  created_at: Date;
  expires_at: Date;
  single_use: boolean;
  used_at: Date | null;
  uses: number;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const date = (d: Date | string | null) => (d === null ? null : new Date(d));

const toLink = (r: LinkRow): LinkRecord => ({
  id: r.id,
  dossierId: r.dossier_id,
  caseId: r.case_id,
  audience: r.audience_agency,
  scope: r.scope,
  createdBy: r.created_by,
  createdAgency: r.created_agency,
  createdAt: date(r.created_at)!,
  expiresAt: date(r.expires_at)!,
  singleUse: r.single_use,
  usedAt: date(r.used_at),
  uses: Number(r.uses),
  revokedAt: date(r.revoked_at),
  revokedBy: r.revoked_by,
});

export class SqlLinkRepository implements LinkRepository {
  constructor(private readonly db: Database) {}

  async create(l: NewLink, within?: Tx): Promise<LinkRecord> {
    const rows = await queryableIn(this.db, within).query<LinkRow>(
      `INSERT INTO links (id, dossier_id, case_id, audience_agency, scope, created_by, created_agency, created_at, expires_at, single_use)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [l.id, l.dossierId, l.caseId, l.audience, l.scope, l.createdBy, l.createdAgency, l.createdAt, l.expiresAt, l.singleUse],
    );
    return toLink(rows[0]!);
  }

  async get(id: string): Promise<LinkRecord | null> {
    const rows = await this.db.query<LinkRow>(`SELECT * FROM links WHERE id = $1`, [id]);
    return rows[0] ? toLink(rows[0]) : null;
  }

  async revoke(id: string, agency: string, by: string, at: Date, within?: Tx): Promise<LinkRecord | null> {
    const rows = await queryableIn(this.db, within).query<LinkRow>(
      `UPDATE links SET revoked_at = coalesce(revoked_at, $3), revoked_by = coalesce(revoked_by, $4)
        WHERE id = $1 AND created_agency = $2 RETURNING *`,
      [id, agency, at, by],
    );
    return rows[0] ? toLink(rows[0]) : null;
  }

  async consume(id: string, now: Date): Promise<LinkRecord | null> {
    // One statement: PostgreSQL re-checks the WHERE on the row a concurrent use just updated.
    const rows = await this.db.query<LinkRow>(
      `UPDATE links SET uses = uses + 1, used_at = coalesce(used_at, $2)
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND (NOT single_use OR used_at IS NULL)
        RETURNING *`,
      [id, now],
    );
    return rows[0] ? toLink(rows[0]) : null;
  }

  async listByDossier(dossierId: string, agency: string): Promise<LinkRecord[]> {
    const rows = await this.db.query<LinkRow>(
      `SELECT * FROM links WHERE dossier_id = $1 AND created_agency = $2 ORDER BY created_at DESC, id LIMIT 500`,
      [dossierId, agency],
    );
    return rows.map(toLink);
  }
}
