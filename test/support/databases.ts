/**
 * The database engines a contract suite runs on: PGlite always, PostgreSQL when reachable
 * (mandatory in CI). Each opened database is private: a fresh PGlite directory, or a fresh
 * schema on the server, dropped afterwards.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../storage/db/database.js';
import { openPglite } from '../../storage/db/pglite-database.js';
import { openPostgres } from '../../storage/db/postgres-database.js';
import { testEnv } from './env.js';

export interface EngineHandle {
  db: Database;
  /** The DATABASE_URL that reaches this database (postgres only). */
  url: string | null;
  dispose(): Promise<void>;
}

export interface Engine {
  name: 'pglite' | 'postgres';
  /** null when usable; else why it is skipped. */
  unavailable(): Promise<string | null>;
  open(): Promise<EngineHandle>;
}

let postgresProbe: Promise<string | null> | null = null;

export const engines: Engine[] = [
  {
    name: 'pglite',
    unavailable: async () => null,
    async open() {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-pglite-'));
      const db = await openPglite(dir);
      return { db, url: null, dispose: async () => (await db.close(), await fs.rm(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'postgres',
    unavailable() {
      postgresProbe ??= (async () => {
        const client = new pg.Client({ connectionString: testEnv.postgresUrl, connectionTimeoutMillis: 3000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return null;
        } catch (err) {
          const why = `PostgreSQL at ${testEnv.postgresUrl} unreachable (${(err as Error).message})`;
          if (testEnv.ci) throw new Error(`${why}: mandatory in CI`);
          return why;
        } finally {
          await client.end().catch(() => {});
        }
      })();
      return postgresProbe;
    },
    async open() {
      const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      const admin = new pg.Client({ connectionString: testEnv.postgresUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const url = `${testEnv.postgresUrl}${testEnv.postgresUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const db = await openPostgres(url, { max: 4 });
      return {
        db,
        url,
        async dispose() {
          await db.close();
          const c = new pg.Client({ connectionString: testEnv.postgresUrl });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  },
];

/** Opens the engine's database in a `before` hook, or skips the suite with a visible notice. */
export async function openOrSkip(ctx: Mocha.Context, engine: Engine): Promise<EngineHandle> {
  const why = await engine.unavailable();
  if (why) {
    console.warn(`    ⚠ skipped on ${engine.name}: ${why}`);
    ctx.skip();
  }
  return engine.open();
}

/** PostgreSQL, for the suites of the scale-out wiring. */
export const postgresEngine = (): Engine => engines.find((e) => e.name === 'postgres')!;

/** Declares a `describe` per engine; the body gets a getter for the engine's open database. */
export function forEachEngine(title: string, body: (get: () => EngineHandle) => void): void {
  for (const engine of engines) {
    describe(`${title} [${engine.name}]`, function () {
      let handle: EngineHandle | null = null;
      before(async function () {
        handle = await openOrSkip(this, engine);
      });
      after(async () => {
        await handle?.dispose();
      });
      body(() => {
        if (!handle) throw new Error('engine not open');
        return handle;
      });
    });
  }
}
