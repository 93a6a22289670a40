import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { DossierError } from '../../dossier/errors.js';
import type { Database, Queryable, SqlParam } from './database.js';
import { failpoint } from '../../dossier/failpoints.js';

/** Socket errors, and PostgreSQL's connection exceptions (class 08) and shutdowns (57P01–57P03). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03']);

/** True for an error that says the server could not be reached or went away, not that the query was wrong. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused/i.test(message);
}

/** The database's outage as a value the edge answers 503 with Retry-After; the cause is logged, not sent. */
function unavailable(err: unknown): unknown {
  return isUnreachable(err) ? new DossierError('unavailable', 'the database cannot be reached; try again shortly', { cause: String(err) }) : err;
}

const INT8_OID = 20;

export interface PostgresOptions {
  readonly max?: number;
  /** Told of a pooled connection's error (the server went away); the pool replaces the connection. */
  readonly onPoolError?: (err: Error) => void;
  /** Verified TLS options (runtime/tls-files.ts); false: plain, never pg's own reading of PGSSLMODE. */
  readonly tls?: ConnectionOptions | false;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    ssl: options.tls ?? false,
    max: options.max ?? 10,
    // While the server is unreachable a request waits this long for a connection, not forever.
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that dies (server restart, network cut) emits here; unheard, it would end the process.
  pool.on('error', (err) => options.onPoolError?.(err));
  // Fail at start, not at the first request, when the server is unreachable.
  const probe = await pool.connect();
  probe.release();
  const asQueryable = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: readonly SqlParam[]) {
      try {
        const r = await q.query(sql, params as unknown[] | undefined);
        return r.rows as T[];
      } catch (err) {
        throw unavailable(err);
      }
    },
  });
  return {
    kind: 'postgres',
    ...asQueryable(pool),
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect().catch((err: unknown) => {
        throw unavailable(err);
      });
      let broken: Error | undefined;
      // A checked-out connection that dies emits 'error' on itself; unheard, that ends the process.
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(asQueryable(client));
        failpoint('db.commit');
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        // A connection that failed is thrown away, not handed to the next request.
        if (isUnreachable(err) || (err instanceof DossierError && err.code === 'unavailable')) broken = err as Error;
        throw unavailable(err);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
