/**
 * `npm run bench -- --only workers [--worker-pages 24] [--max-workers 3]`: OCR throughput of the
 * scale-out wiring with 1, 2, … `dossier worker` processes (each one OCR slot: one process a
 * core), a gateway that runs no jobs, PostgreSQL (a private schema of --database-url) and the
 * filesystem blob store. For each count: one dossier of N synthetic A4 pages uploaded, sealed by
 * the workers, then timed from sealed to every page read. The first run also measures what a page
 * costs to keep: stored bytes per page (blobs: page, thumbnail, original, text) and database bytes
 * per 1,000 pages (the schema's tables and indexes, less their size when empty).
 *
 * `npm run bench -- --only scale-out [--pages 5253] [--max-workers 3] [--searchable-pages N]`: the
 * benchmark dossier through the embedded default (one process) and through the scale-out wiring
 * (one gateway, WORKERS=none, 1…M workers, PostgreSQL, s3rver), the same runs as above on S3:
 * upload→sealed, sealed→searchable (the first N pages read, default all). After the 1-worker run,
 * the original is read back from the bucket by byte ranges beside the local file (ranged-read.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { printRangedRead, rangedReadRun, type RangedRead } from './ranged-read.js';
import { killS3rver, spawnS3rver } from './s3rver-process.js';

interface DossierJson {
  status: string;
  sha256: string | null;
  bytes: number | null;
  pageCount: number | null;
  progress: { ocr?: { done: number; failed: number; total: number } };
}

interface Run {
  workers: number;
  pages: number;
  uploadS: number;
  sealedS: number;
  readS: number;
  /** Pages whose reading readS timed (all, or --searchable-pages). */
  readPages: number;
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

interface RunOptions {
  zip: string;
  pages: number;
  runDir: string;
  databaseUrl: string;
  /** Blobs in an s3rver bucket of the run's own instead of the filesystem. */
  s3?: boolean;
  /** Stop timing once this many pages are read (default: all). */
  searchable?: number;
  /** Runs while the wiring is up, once the dossier is sealed (the bucket still serves). */
  afterSealed?: (sealed: { s3Endpoint: string | null; sha256: string; size: number }) => Promise<void>;
}

const S3_BUCKET = 'bench';

async function runWith(workers: number, o: RunOptions): Promise<Run> {
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: o.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${o.databaseUrl}${o.databaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = path.join(o.runDir, `workers-${workers}-${Date.now()}`);
  const s3Dir = `${dataDir}-s3`;
  const s3 = o.s3 ? await fs.mkdir(s3Dir, { recursive: true }).then(() => spawnS3rver(s3Dir, 0, S3_BUCKET)) : null;
  const s3Endpoint = s3 ? `http://127.0.0.1:${s3.port}` : null;
  const s3Env: Record<string, string> = s3Endpoint ? { BLOB_STORE: 's3', S3_ENDPOINT: s3Endpoint, S3_BUCKET, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' } : {};
  const env = { DATABASE_URL: url, DATA_DIR: dataDir, WORKERS: 'none', LOG_LEVEL: 'warn', OCR_WORKERS: '1', OCR_LANGS: 'eng', WORKER_STOP_GRACE: '1s', ...s3Env };
  const readPages = Math.min(o.searchable ?? o.pages, o.pages);
  const children: ChildProcess[] = [];
  const gateway = await spawnServer(env, undefined, { compiled: true });
  try {
    const empty = await schemaBytes(admin, schema);
    for (let i = 0; i < workers; i++) {
      children.push(spawn(process.execPath, [path.resolve('dist/scripts/dossier.js'), 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' }));
    }
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(gateway.url, token, 'POST', '/api/cases', { number: `BENCH-W${workers}-${Date.now()}` });
    const t0 = performance.now();
    const id = (await upload(gateway.url, token, o.zip, { filename: 'dossier.zip', caseId: c.id })).split('/').pop()!;
    const uploadS = (performance.now() - t0) / 1000;
    const { sealedS, readS, sealed } = await sealedThenRead(() => api<DossierJson>(gateway.url, token, 'GET', `/api/dossiers/${id}`), t0, readPages);
    const db = (await schemaBytes(admin, schema)) - empty;
    const stored = await treeBytes(path.join(dataDir, 'blobs'));
    if (o.afterSealed) await o.afterSealed({ s3Endpoint, sha256: sealed.sha256!, size: sealed.bytes! });
    return { workers, pages: o.pages, uploadS, sealedS, readS, readPages, storedBytesPerPage: stored / o.pages, dbBytesPer1000: (db / o.pages) * 1000 };
  } finally {
    for (const w of children) w.kill('SIGTERM');
    await Promise.all(children.map((w) => (w.exitCode === null ? new Promise((r) => w.once('exit', r)) : null)));
    await gateway.kill('SIGTERM');
    await killS3rver(s3?.child ?? null);
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(s3Dir, { recursive: true, force: true });
  }
}

/** Upload start → sealed, then sealed → `readPages` pages read (OCR done or failed). */
async function sealedThenRead(get: () => Promise<DossierJson>, t0: number, readPages: number) {
  // The whole 5,253-page dossier's OCR takes an hour on two cores: wait as long as it needs.
  const sealed = await pollUntil(get, (d) => d.status === 'sealed' || d.status === 'rejected', 100, 6 * 3600);
  if (sealed.value.status !== 'sealed') throw new Error(`the dossier was ${sealed.value.status}`);
  const sealedS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await pollUntil(get, (d) => (d.progress.ocr ? d.progress.ocr.done + d.progress.ocr.failed >= readPages : false), 250, 12 * 3600);
  return { sealedS, readS: (performance.now() - t1) / 1000, sealed: sealed.value };
}

/** The embedded default: one gateway process (PGlite, fs blobs, in-process workers), restarted once so PGlite's initdb is not timed. */
async function embeddedRun(o: { zip: string; pages: number; runDir: string; searchable?: number }): Promise<Run> {
  const dataDir = path.join(o.runDir, `embedded-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn', OCR_LANGS: 'eng' };
  await (await spawnServer(env, undefined, { compiled: true })).kill('SIGTERM');
  const gateway = await spawnServer(env, undefined, { compiled: true });
  const readPages = Math.min(o.searchable ?? o.pages, o.pages);
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(gateway.url, token, 'POST', '/api/cases', { number: `BENCH-EMB-${Date.now()}` });
    const t0 = performance.now();
    const id = (await upload(gateway.url, token, o.zip, { filename: 'dossier.zip', caseId: c.id })).split('/').pop()!;
    const uploadS = (performance.now() - t0) / 1000;
    const { sealedS, readS } = await sealedThenRead(() => api<DossierJson>(gateway.url, token, 'GET', `/api/dossiers/${id}`), t0, readPages);
    return { workers: os.availableParallelism(), pages: o.pages, uploadS, sealedS, readS, readPages, storedBytesPerPage: 0, dbBytesPer1000: 0 };
  } finally {
    await gateway.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function scaleOutBench(o: { cacheDir: string; runDir: string; pages: number; maxWorkers: number; databaseUrl: string; searchable?: number }): Promise<void> {
  // The benchmark dossier of the main runs (the same cache), synthetic A4 scans with text.
  const fixture = await ensureSyntheticDossier({ dir: o.cacheDir, pages: o.pages });
  await fs.mkdir(o.runDir, { recursive: true });
  const runs: { label: string; run: Run }[] = [{ label: 'embedded default (PGlite, fs, in-process OCR: one per core)', run: await embeddedRun({ zip: fixture.zipPath, pages: o.pages, runDir: o.runDir, searchable: o.searchable }) }];
  let ranged: RangedRead | null = null;
  for (let n = 1; n <= o.maxWorkers; n++) {
    const run = await runWith(n, {
      zip: fixture.zipPath, pages: o.pages, runDir: o.runDir, databaseUrl: o.databaseUrl, s3: true, searchable: o.searchable,
      afterSealed: n === 1 ? async (s) => void (ranged = await rangedReadRun({ endpoint: s.s3Endpoint!, bucket: S3_BUCKET, sha256: s.sha256, size: s.size, localPath: fixture.zipPath })) : undefined,
    });
    runs.push({ label: `scale-out: 1 gateway, ${n} worker${n > 1 ? 's' : ''} (PostgreSQL, s3rver)`, run });
  }
  console.log(`The benchmark dossier, ${o.pages} pages, ${fmt(mb(fixture.totalBytes), 0)} MB, embedded beside scale-out (one OCR slot per worker process); searchable = ${runs[0]!.run.readPages} pages read:\n`);
  console.log('| wiring | upload s | upload→sealed s | sealed→searchable s | pages/min | pages/min per OCR slot |');
  console.log('|---|---|---|---|---|---|');
  for (const { label, run: r } of runs) {
    const ppm = (r.readPages / r.readS) * 60;
    console.log(`| ${label} | ${fmt(r.uploadS)} | ${fmt(r.sealedS)} | ${fmt(r.readS)} | ${fmt(ppm, 0)} | ${fmt(ppm / r.workers, 0)} |`);
  }
  console.log('');
  if (ranged) printRangedRead(ranged);
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
