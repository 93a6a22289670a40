/**
 * `npm run bench -- --only gateways [--uploads 50]`: the scale-out wiring on this machine: two
 * gateway processes (WORKERS=none) and one `dossier worker` on PostgreSQL (a private schema of
 * --database-url, default postgres://postgres@127.0.0.1:5432/test), s3rver and one shared
 * data directory; N concurrent uploads of a 10-page ZIP, each upload's 1 MiB PATCHes sent to the
 * gateways in turn. Times: all uploaded, all sealed.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { writeStoredZip } from './fixtures/archives.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil } from './measure.js';
import { killS3rver, spawnS3rver } from './s3rver-process.js';

/** A tus upload (plain HTTP, tus 1.0) whose every PATCH goes to the next gateway: the load balancer's worst case. */
async function alternatingUpload(gateways: string[], token: string, bytes: Buffer, metadata: Record<string, string>): Promise<string> {
  const auth = { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' };
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');
  const created = await fetch(`${gateways[0]}/files/`, { method: 'POST', headers: { ...auth, 'upload-length': String(bytes.length), 'upload-metadata': meta } });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
  const location = new URL(created.headers.get('location')!, gateways[0]).pathname;
  const CHUNK = 1024 * 1024;
  for (let offset = 0, turn = 0; offset < bytes.length; turn++) {
    const body = bytes.subarray(offset, Math.min(bytes.length, offset + CHUNK));
    const res = await fetch(`${gateways[turn % gateways.length]}${location}`, {
      method: 'PATCH',
      headers: { ...auth, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
      body,
    });
    if (res.status !== 204) throw new Error(`PATCH at ${offset}: ${res.status} ${await res.text()}`);
    offset = Number(res.headers.get('upload-offset'));
  }
  return location;
}

export async function twoGatewaysBench(o: { cacheDir: string; runDir: string; uploads: number; databaseUrl: string }): Promise<void> {
  const base = o.databaseUrl;
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const shared = path.join(o.runDir, `gateways-${Date.now()}`);
  const s3Dir = path.join(o.runDir, `gateways-s3-${Date.now()}`);
  await fs.mkdir(s3Dir, { recursive: true });
  const s3 = await spawnS3rver(s3Dir, 0, 'bench');
  const env = {
    DATABASE_URL: url, DATA_DIR: shared, WORKERS: 'none', LOG_LEVEL: 'warn', OCR_WORKERS: '1',
    BLOB_STORE: 's3', S3_ENDPOINT: `http://127.0.0.1:${s3.port}`, S3_BUCKET: 'bench', S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER',
  };
  // The first gateway makes the keys on the shared directory; the second starts after it.
  const a = await spawnServer(env, undefined, { compiled: true });
  const b = await spawnServer(env, undefined, { compiled: true });
  const worker = spawn(process.execPath, [path.resolve('dist/scripts/dossier.js'), 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    const fixture = await ensureSyntheticDossier({ dir: path.join(o.cacheDir, 's3-300'), pages: 300 });
    const zip = path.join(o.runDir, 'ten-pages.zip');
    const size = await writeStoredZip(fixture.pageFiles.slice(0, 10).map((file, i) => ({ file, name: `${i + 1}.jpg` })), zip);
    const bytes = await fs.readFile(zip);
    const token = await tokenFor(shared, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(a.url, token, 'POST', '/api/cases', { number: `BENCH-LB-${Date.now()}` });
    const t0 = performance.now();
    const urls = await Promise.all(Array.from({ length: o.uploads }, () => alternatingUpload([a.url, b.url], token, bytes, { filename: 'd.zip', caseId: c.id })));
    const uploadedS = (performance.now() - t0) / 1000;
    const ids = urls.map((u) => u.split('/').pop()!);
    const states = await pollUntil(
      () => Promise.all(ids.map((id) => api<{ status: string; pageCount: number | null }>(b.url, token, 'GET', `/api/dossiers/${id}`))),
      (all) => all.every((d) => d.status === 'sealed' || d.status === 'rejected'),
      250,
    );
    const sealedS = (performance.now() - t0) / 1000;
    const sealed = states.value.filter((d) => d.status === 'sealed' && d.pageCount === 10).length;
    console.log('| two gateways, one worker (PostgreSQL, s3rver) | uploads | MB each | all uploaded s | MB/s | all sealed s | sealed with 10 pages |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(`| ${o.uploads} concurrent, PATCHes alternating | ${o.uploads} | ${fmt(mb(size))} | ${fmt(uploadedS)} | ${fmt(mb(size * o.uploads) / uploadedS, 0)} | ${fmt(sealedS)} | ${sealed}/${o.uploads} |\n`);
  } finally {
    worker.kill('SIGTERM');
    await a.kill('SIGTERM');
    await b.kill('SIGTERM');
    await killS3rver(s3.child);
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await fs.rm(shared, { recursive: true, force: true });
    await fs.rm(s3Dir, { recursive: true, force: true });
  }
}
