/** Blobs kept as byte ranges of other blobs (migration 024; storage/blobs/contained-blob-store.ts). */
import type { ContainedBlob } from '../../dossier/ports/blob-store.js';
import type { Database } from './database.js';

/** Rows per INSERT: 4 parameters each, well under PostgreSQL's 65,535. */
const BATCH = 1000;

interface Raw {
  sha256: string;
  container: string;
  start_at: string | number;
  size: string | number;
}

export class SqlBlobRangeRepository {
  constructor(private readonly db: Database) {}

  /** Records each range once (a page kept twice in one upload, or re-recorded on a retry, is one row). */
  async add(ranges: readonly ContainedBlob[]): Promise<void> {
    for (let i = 0; i < ranges.length; i += BATCH) {
      const batch = ranges.slice(i, i + BATCH);
      const params: (string | number)[] = [];
      const tuples = batch.map((r) => {
        const n = params.push(r.sha256, r.container, r.start, r.size);
        return `($${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      await this.db.query(`INSERT INTO blob_ranges (sha256, container, start_at, size) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, params);
    }
  }

  /** Every blob that holds `sha256` as a range, oldest container name first (a stable order). */
  async find(sha256: string): Promise<ContainedBlob[]> {
    const rows = await this.db.query<Raw>('SELECT sha256, container, start_at, size FROM blob_ranges WHERE sha256 = $1 ORDER BY container', [sha256]);
    return rows.map((r) => ({ sha256: r.sha256, container: r.container, start: Number(r.start_at), size: Number(r.size) }));
  }
}
