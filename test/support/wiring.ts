/**
 * One test suite, two wirings. With TEST_WIRING=postgres-s3 (`npm run test:wirings`), every test
 * gateway that names no database or blob store of its own runs on the scale-out wiring instead
 * of the embedded default: PostgreSQL (a private schema of TEST_DATABASE_URL per data directory,
 * so a restart finds its data) and an S3 bucket (s3rver started once for the run, or
 * TEST_S3_ENDPOINT). Loaded with `--require`, its root hook drops the schemas and stops s3rver.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { testEnv } from './env.js';
import { startS3, type TestS3 } from './s3-server.js';

export const scaleOutWiring = testEnv.wiring === 'postgres-s3';

const byDataDir = new Map<string, Record<string, string>>();
const schemas: string[] = [];
let s3: Promise<TestS3> | null = null;

/** The environment that puts a gateway on `dataDir` onto the configured wiring ({} for the embedded default). */
export async function wiringEnv(dataDir: string): Promise<Record<string, string>> {
  if (!scaleOutWiring) return {};
  const known = byDataDir.get(dataDir);
  if (known) return known;
  const schema = `t_wiring_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: testEnv.postgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  schemas.push(schema);
  const base = testEnv.postgresUrl;
  const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = await (s3 ??= startS3());
  const env = { DATABASE_URL: url, ...store.env() };
  byDataDir.set(dataDir, env);
  return env;
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    if (schemas.length) {
      const admin = new pg.Client({ connectionString: testEnv.postgresUrl });
      await admin.connect();
      try {
        for (const s of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await admin.end();
      }
    }
    if (s3) await (await s3).stop();
  },
};
