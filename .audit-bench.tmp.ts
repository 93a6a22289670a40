import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openPglite } from '/work/main/storage/db/pglite-database.js';
import { openPostgres } from '/work/main/storage/db/postgres-database.js';
import { migrate } from '/work/main/storage/db/migrate.js';
import { SqlAuditLog } from '/work/main/storage/db/audit-log.js';
import { FileKeyRing } from '/work/main/storage/keys/file-keyring.js';
import pg from 'pg';

const keys = await FileKeyRing.open(await fs.mkdtemp(path.join(os.tmpdir(), 'k-')), { create: true });
async function run(name: string, db: any) {
  await migrate(db);
  const log = new SqlAuditLog(db, keys, { checkpointEvery: 1000 });
  const e = { actor: 'u', agency: 'a', action: 'page.read' as const, target: { type: 'page', id: 'd/1' }, caseId: null, details: { n: 1 } };
  for (let i = 0; i < 200; i++) await log.record(e);
  const N = 3000;
  let t = performance.now();
  for (let i = 0; i < N; i++) await log.record(e);
  const seqMs = performance.now() - t;
  t = performance.now();
  await Promise.all(Array.from({ length: N }, () => log.record(e)));
  const parMs = performance.now() - t;
  t = performance.now();
  const r = await log.verify();
  const vMs = performance.now() - t;
  console.log(name, { sequentialPerSec: Math.round(N / seqMs * 1000), msEach: (seqMs / N).toFixed(2), parallelPerSec: Math.round(N / parMs * 1000), verifyPerSec: Math.round(r.checked / vMs * 1000), ok: r.ok, checked: r.checked });
}
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'p-'));
const p = await openPglite(dir);
await run('pglite', p);
await p.close();
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await admin.connect(); await admin.query('CREATE SCHEMA IF NOT EXISTS auditbench'); await admin.query('DROP SCHEMA auditbench CASCADE'); await admin.query('CREATE SCHEMA auditbench');
const db = await openPostgres('postgres://postgres@127.0.0.1:5432/test?options=' + encodeURIComponent('-c search_path=auditbench'), { max: 10 });
await run('postgres', db);
await db.close();
await admin.query('DROP SCHEMA auditbench CASCADE'); await admin.end();
await fs.rm(dir, { recursive: true, force: true });
