import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Database, Queryable, SqlParam } from './database.js';

const INT8_OID = 20;

/** `tls`: verified TLS options (runtime/tls-files.ts); false: plain, never pg's own reading of PGSSLMODE. */
export async function openPostgres(url: string, options: { max?: number; tls?: ConnectionOptions | false } = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    ssl: options.tls ?? false,
    max: options.max ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // Fail at start, not at the first request, when the server is unreachable.
  const probe = await pool.connect();
  probe.release();
  const asQueryable = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: readonly SqlParam[]) {
      const r = await q.query(sql, params as unknown[] | undefined);
      return r.rows as T[];
    },
  });
  return {
    kind: 'postgres',
    ...asQueryable(pool),
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(asQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
