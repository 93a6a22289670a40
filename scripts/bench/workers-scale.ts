/**
 * `npm run bench -- --only workers [--worker-pages 24] [--max-workers 3]`: OCR throughput of the
 * scale-out wiring with 1, 2, … `dossier worker` processes (each one OCR slot: one process a
 * core), a gateway that runs no jobs, PostgreSQL (a private schema of --database-url) and the
 * filesystem blob store. For each count: one dossier of N synthetic A4 pages uploaded, sealed by
 * the workers, then timed from sealed to every page read. The first run also measures what a page
 * costs to keep: stored bytes per page (blobs: page, thumbnail, original, text) and database bytes
 * per 1,000 pages (the schema's tables and indexes, less their size when empty).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, pollUntil, upload } from './measure.js';

interface DossierJson {
  status: string;
  pageCount: number | null;
  progress: { ocr?: { done: number; failed: number; total: number } };
}

interface Run {
  workers: number;
  pages: number;
  sealedS: number;
  readS: number;
  storedBytesPerPage: number;
  dbBytesPer1000: number;
}

async function schemaBytes(client: pg.Client, schema: string): Promise<number> {
  const [row] = (await client.query(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS n
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
    [schema],
  )).rows;
  return Number(row.n);
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) total += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

async function runWith(workers: number, o: { zip: string; pages: number; runDir: string; databaseUrl: string }): Promise<Run> {
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: o.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${o.databaseUrl}${o.databaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = path.join(o.runDir, `workers-${workers}-${Date.now()}`);
  const env = { DATABASE_URL: url, DATA_DIR: dataDir, WORKERS: 'none', LOG_LEVEL: 'warn', OCR_WORKERS: '1', OCR_LANGS: 'eng', WORKER_STOP_GRACE: '1s' };
  const gateway = await spawnServer(env, undefined, { compiled: true });
  const children: ChildProcess[] = [];
  try {
    const empty = await schemaBytes(admin, schema);
    for (let i = 0; i < workers; i++) {
      children.push(spawn(process.execPath, [path.resolve('dist/scripts/dossier.js'), 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' }));
    }
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(gateway.url, token, 'POST', '/api/cases', { number: `BENCH-W${workers}-${Date.now()}` });
    const t0 = performance.now();
    const id = (await upload(gateway.url, token, o.zip, { filename: 'dense.zip', caseId: c.id })).split('/').pop()!;
    const get = () => api<DossierJson>(gateway.url, token, 'GET', `/api/dossiers/${id}`);
    await pollUntil(get, (d) => d.status === 'sealed' || d.status === 'rejected', 100);
    const sealedS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await pollUntil(get, (d) => (d.progress.ocr ? d.progress.ocr.done + d.progress.ocr.failed === o.pages : false), 250);
    const readS = (performance.now() - t1) / 1000;
    const db = (await schemaBytes(admin, schema)) - empty;
    const stored = await treeBytes(path.join(dataDir, 'blobs'));
    return { workers, pages: o.pages, sealedS, readS, storedBytesPerPage: stored / o.pages, dbBytesPer1000: (db / o.pages) * 1000 };
  } finally {
    for (const w of children) w.kill('SIGTERM');
    await Promise.all(children.map((w) => (w.exitCode === null ? new Promise((r) => w.once('exit', r)) : null)));
    await gateway.kill('SIGTERM');
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function workersScaleBench(o: { cacheDir: string; runDir: string; pages: number; maxWorkers: number; databaseUrl: string }): Promise<void> {
  const fixture = await ensureSyntheticDossier({ dir: path.join(o.cacheDir, 'workers-dense'), pages: o.pages });
  const zip = fixture.zipPath;
  await fs.mkdir(o.runDir, { recursive: true });
  const runs: Run[] = [];
  for (let n = 1; n <= o.maxWorkers; n++) runs.push(await runWith(n, { zip, pages: o.pages, runDir: o.runDir, databaseUrl: o.databaseUrl }));
  console.log(`OCR through \`dossier worker\` processes (one OCR slot each), gateway WORKERS=none, PostgreSQL, fs blobs; ${o.pages} synthetic A4 pages:\n`);
  console.log('| workers | upload→sealed s | sealed→all read s | pages/min | pages/min per worker |');
  console.log('|---|---|---|---|---|');
  for (const r of runs) {
    const ppm = (r.pages / r.readS) * 60;
    console.log(`| ${r.workers} | ${fmt(r.sealedS)} | ${fmt(r.readS)} | ${fmt(ppm, 0)} | ${fmt(ppm / r.workers, 0)} |`);
  }
  const first = runs[0]!;
  console.log(`\nKept per page (1-worker run): ${fmt(first.storedBytesPerPage / 1e3, 0)} kB of blobs (page, thumbnail, original, text); database ${fmt(first.dbBytesPer1000 / 1e6, 2)} MB per 1,000 pages (tables and indexes).\n`);
}
