/** The wrapped data keys of blobs sealed at rest (migration 018). */
import type { CipherName } from '../blobs/envelope/segment-cipher.js';
import type { WrappedKey } from '../keys/master-keys.js';
import type { Database, SqlParam } from './database.js';

export interface BlobKeyRow extends WrappedKey {
  readonly sha256: string;
  /** Plaintext bytes. */
  readonly size: number;
}

interface Raw {
  sha256: string;
  cipher: string;
  master_kid: string;
  wrapped: Uint8Array;
  size: string | number;
}

const row = (r: Raw): BlobKeyRow => ({ sha256: r.sha256, cipher: r.cipher as CipherName, masterKid: r.master_kid, wrapped: Buffer.from(r.wrapped), size: Number(r.size) });

export class SqlBlobKeyRepository {
  constructor(private readonly db: Database) {}

  async get(sha256: string): Promise<BlobKeyRow | null> {
    const [r] = await this.db.query<Raw>('SELECT sha256, cipher, master_kid, wrapped, size FROM blob_keys WHERE sha256 = $1', [sha256]);
    return r ? row(r) : null;
  }

  /** Records the key unless the blob has one already; answers the key that stands (first writer wins). */
  async ensure(k: BlobKeyRow): Promise<BlobKeyRow> {
    return (await this.ensureAll([k]))[0]!;
  }

  /**
   * `ensure` of many keys in one statement (one round trip, which on the embedded database is
   * main-thread work): the key that stands for each, in order. A hash given twice keeps its first.
   */
  async ensureAll(ks: readonly BlobKeyRow[]): Promise<BlobKeyRow[]> {
    if (ks.length === 0) return [];
    const params: SqlParam[] = [];
    const seen = new Set<string>();
    const tuples: string[] = [];
    for (const k of ks) {
      if (seen.has(k.sha256)) continue;
      seen.add(k.sha256);
      const n = params.length;
      params.push(k.sha256, k.cipher, k.masterKid, k.wrapped, k.size);
      tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5})`);
    }
    const inserted = await this.db.query<Raw>(
      `INSERT INTO blob_keys (sha256, cipher, master_kid, wrapped, size) VALUES ${tuples.join(', ')}
       ON CONFLICT (sha256) DO NOTHING RETURNING sha256, cipher, master_kid, wrapped, size`,
      params,
    );
    const standing = new Map(inserted.map((r) => [r.sha256, row(r)]));
    const others = [...seen].filter((h) => !standing.has(h));
    if (others.length) {
      const rs = await this.db.query<Raw>('SELECT sha256, cipher, master_kid, wrapped, size FROM blob_keys WHERE sha256 = ANY($1)', [others]);
      for (const r of rs) standing.set(r.sha256, row(r));
    }
    return ks.map((k) => standing.get(k.sha256)!);
  }

  /** How many data keys each master key wraps, with one row of each to try the key on. */
  async byMasterKey(): Promise<{ masterKid: string; count: number; sample: BlobKeyRow }[]> {
    const counts = await this.db.query<{ master_kid: string; n: string }>('SELECT master_kid, count(*) AS n FROM blob_keys GROUP BY master_kid');
    const out = [];
    for (const c of counts) {
      const [r] = await this.db.query<Raw>('SELECT sha256, cipher, master_kid, wrapped, size FROM blob_keys WHERE master_kid = $1 LIMIT 1', [c.master_kid]);
      out.push({ masterKid: c.master_kid, count: Number(c.n), sample: row(r!) });
    }
    return out;
  }

  /** Up to `limit` keys not wrapped by `kid`, in key order after `after`. */
  async notWrappedBy(kid: string, after: string, limit: number): Promise<BlobKeyRow[]> {
    const rs = await this.db.query<Raw>(
      'SELECT sha256, cipher, master_kid, wrapped, size FROM blob_keys WHERE master_kid <> $1 AND sha256 > $2 ORDER BY sha256 LIMIT $3',
      [kid, after, limit],
    );
    return rs.map(row);
  }

  /** Replaces wrappings in one transaction, each only if still wrapped as read (a concurrent rotation wins cleanly). */
  async rewrap(updates: readonly { sha256: string; from: string; to: WrappedKey }[]): Promise<number> {
    return this.db.transaction(async (q) => {
      let n = 0;
      for (const u of updates) {
        const done = await q.query<{ sha256: string }>(
          'UPDATE blob_keys SET master_kid = $2, wrapped = $3 WHERE sha256 = $1 AND master_kid = $4 RETURNING sha256',
          [u.sha256, u.to.masterKid, u.to.wrapped, u.from],
        );
        n += done.length;
      }
      return n;
    });
  }
}
