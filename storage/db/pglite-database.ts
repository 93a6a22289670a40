import fs from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable, SqlParam } from './database.js';
import { failpoint } from '../../dossier/failpoints.js';

/** int8 as a JS number: our int8 columns are byte counts and sequence numbers, far below 2^53. */
const parsers = { [types.INT8]: (v: string) => Number(v) };

export async function openPglite(dir: string): Promise<Database> {
  await fs.mkdir(dir, { recursive: true });
  const pg = await PGlite.create(dir, { parsers });
  const asQueryable = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<T>(sql: string, params?: readonly SqlParam[]) {
      const r = await q.query<T>(sql, params as unknown[] | undefined);
      return r.rows;
    },
  });
  return {
    kind: 'pglite',
    ...asQueryable(pg),
    async exec(sql) {
      await pg.exec(sql);
    },
    transaction(fn) {
      return pg.transaction(async (tx) => {
        const result = await fn(asQueryable(tx));
        failpoint('db.commit');
        return result;
      });
    },
    async close() {
      await pg.close();
    },
    // Inside a transaction of its own: no other transaction is half-way through while the files are
    // read (a query alone is atomic already), so the copy needs no crash recovery.
    snapshot: () => pg.transaction(() => pg.dumpDataDir('gzip')),
  };
}

/** Makes `dir` (absent or empty) the embedded database of a snapshot (`dossier restore`). */
export async function restorePglite(dir: string, snapshot: Blob): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  if ((await fs.readdir(dir)).length > 0) throw new Error(`${dir} is not empty`);
  const pg = await PGlite.create(dir, { parsers, loadDataDir: snapshot });
  await pg.close();
}
