/** Stored first answers of creating POSTs, by (agency, Idempotency-Key); kept for a day. */
import type { Tx } from '../../dossier/ports/transactions.js';
import { type Database, queryableIn } from './database.js';

export interface StoredAnswer {
  readonly fingerprint: string;
  readonly status: number;
  readonly response: unknown;
}

/** How long a key answers with its first response. */
const KEEP = '24 hours';

export class SqlIdempotencyStore {
  constructor(private readonly db: Database) {}

  async find(agency: string, key: string): Promise<StoredAnswer | null> {
    const [row] = await this.db.query<{ fingerprint: string; status: number; response: unknown }>(
      `SELECT fingerprint, status, response FROM idempotency_keys WHERE agency = $1 AND key = $2 AND created_at > now() - interval '${KEEP}'`,
      [agency, key],
    );
    if (!row) return null;
    return { fingerprint: row.fingerprint, status: row.status, response: typeof row.response === 'string' ? JSON.parse(row.response) : row.response };
  }

  /** Stores the answer in the creating transaction; false when the key was taken meanwhile (the caller rolls back). */
  async save(agency: string, key: string, answer: StoredAnswer, within: Tx): Promise<boolean> {
    const q = queryableIn(this.db, within);
    // The agency's expired answers give way (its own key's included): the table holds about a day of keys.
    await q.query(`DELETE FROM idempotency_keys WHERE agency = $1 AND created_at <= now() - interval '${KEEP}'`, [agency]);
    const rows = await q.query(
      `INSERT INTO idempotency_keys (agency, key, fingerprint, status, response) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (agency, key) DO NOTHING RETURNING key`,
      [agency, key, answer.fingerprint, answer.status, JSON.stringify(answer.response)],
    );
    return rows.length > 0;
  }
}
