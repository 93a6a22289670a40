/** The key-encryption keys of blobs sealed at rest, wrapped by master keys (migration 023). */
import type { CipherName } from '../blobs/envelope/segment-cipher.js';
import type { WrappedKey } from '../keys/master-keys.js';
import type { Database } from './database.js';

export interface KekRow extends WrappedKey {
  readonly id: string;
}

interface Raw {
  id: string;
  cipher: string;
  master_kid: string;
  wrapped: Uint8Array;
}

const COLUMNS = 'id, cipher, master_kid, wrapped';
const row = (r: Raw): KekRow => ({ id: r.id, cipher: r.cipher as CipherName, masterKid: r.master_kid, wrapped: Buffer.from(r.wrapped) });

export class SqlBlobKekRepository {
  constructor(private readonly db: Database) {}

  async all(): Promise<KekRow[]> {
    return (await this.db.query<Raw>(`SELECT ${COLUMNS} FROM blob_keks ORDER BY created_at, id`)).map(row);
  }

  async get(id: string): Promise<KekRow | null> {
    const [r] = await this.db.query<Raw>(`SELECT ${COLUMNS} FROM blob_keks WHERE id = $1`, [id]);
    return r ? row(r) : null;
  }

  /** Records `k` as its cipher's current key unless one stands (another process's, first writer wins); answers the one that stands. */
  async ensureCurrent(k: KekRow): Promise<KekRow> {
    await this.db.query(
      'INSERT INTO blob_keks (id, cipher, master_kid, wrapped, current) VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING',
      [k.id, k.cipher, k.masterKid, k.wrapped],
    );
    const [r] = await this.db.query<Raw>(`SELECT ${COLUMNS} FROM blob_keks WHERE cipher = $1 AND current`, [k.cipher]);
    return row(r!);
  }

  /** Replaces wrappings in one transaction, each only if still wrapped as read (a concurrent rotation wins cleanly). */
  async rewrap(updates: readonly { id: string; from: string; to: WrappedKey }[]): Promise<number> {
    return this.db.transaction(async (q) => {
      let n = 0;
      for (const u of updates) {
        const done = await q.query<{ id: string }>('UPDATE blob_keks SET master_kid = $2, wrapped = $3 WHERE id = $1 AND master_kid = $4 RETURNING id', [
          u.id,
          u.to.masterKid,
          u.to.wrapped,
          u.from,
        ]);
        n += done.length;
      }
      return n;
    });
  }
}
