/**
 * `npm run bench -- --only s3 [--s3-pages N]`: the S3 blob store against s3rver on loopback beside
 * the filesystem store (page-sized puts and gets, one large multipart file), then the ingest of a
 * generated dossier of N pages (default 300) by a gateway process with BLOB_STORE=fs and =s3.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import pLimit from 'p-limit';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import { FsBlobStore } from '../../storage/blobs/fs-blob-store.js';
import { S3BlobStore } from '../../storage/blobs/s3-blob-store.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { killS3rver, spawnS3rver } from './s3rver-process.js';

const BUCKET = 'bench';
const S3RVER_KEYS = { S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' };

async function timed<T>(f: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { s: (performance.now() - t) / 1000, value };
}

/** Page-sized puts and gets, 16 at once (as the ingest writes), then one large file in and out. */
async function storeRun(label: string, store: BlobStore, pages: Buffer[], large: { path: string; sha256: string; size: number }) {
  const limit = pLimit(16);
  const keys = pages.map((p) => createHash('sha256').update(p).digest('hex'));
  const bytes = pages.reduce((n, p) => n + p.length, 0);
  const put = await timed(() => Promise.all(pages.map((p, i) => limit(() => store.putBytes(keys[i]!, p)))));
  const get = await timed(() => Promise.all(keys.map((k) => limit(async () => (await buffer(await store.read(k))).length))));
  const file = await timed(() => store.putFile(large.sha256, large.path, { move: false }));
  const read = await timed(async () => (await buffer(await store.read(large.sha256))).length);
  return { label, count: pages.length, bytes, putS: put.s, getS: get.s, fileS: file.s, readS: read.s, large: large.size };
}

async function ingestRun(label: string, env: Record<string, string>, zipPath: string, runDir: string) {
  const dataDir = path.join(runDir, `s3-ingest-${label}-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const base = { DATA_DIR: dataDir, LOG_LEVEL: 'info', OCR_WORKERS: '1', ...env };
  // Restarted once, as in the main benchmark: PGlite's initdb is not what is measured.
  const first = await spawnServer({ ...base, LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  await first.kill('SIGTERM');
  const server = await spawnServer(base, undefined, { compiled: true });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-S3-${label}-${Date.now()}` });
    const t0 = performance.now();
    const url = await upload(server.url, token, zipPath, { filename: 'dossier.zip', caseId: c.id });
    const uploadS = (performance.now() - t0) / 1000;
    const id = url.split('/').pop()!;
    const sealed = await pollUntil(() => api<{ status: string; pageCount: number }>(server.url, token, 'GET', `/api/dossiers/${id}`), (d) => d.status === 'sealed' || d.status === 'rejected');
    const totalS = (performance.now() - t0) / 1000;
    const line = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    const phases = line ? (JSON.parse(line).phases as Record<string, number>) : {};
    return { label, status: sealed.value.status, pages: sealed.value.pageCount, uploadS, sealS: totalS - uploadS, totalS, phases };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function objectStoreBench(o: { cacheDir: string; runDir: string; pages: number }): Promise<void> {
  const s3Dir = path.join(o.runDir, `s3rver-${Date.now()}`);
  const fsDir = path.join(o.runDir, `fs-blobs-${Date.now()}`);
  await fs.mkdir(s3Dir, { recursive: true });
  const s3 = await spawnS3rver(s3Dir, 0, BUCKET);
  const endpoint = `http://127.0.0.1:${s3.port}`;
  try {
    const fixture = await ensureSyntheticDossier({ dir: path.join(o.cacheDir, `s3-${o.pages}`), pages: o.pages });
    const pages = await Promise.all(fixture.pageFiles.map((f) => fs.readFile(f)));
    const largeBytes = randomBytes(256 * 1024 * 1024);
    const large = { path: path.join(o.runDir, 'large.bin'), sha256: createHash('sha256').update(largeBytes).digest('hex'), size: largeBytes.length };
    await fs.writeFile(large.path, largeBytes);

    const s3Store = await S3BlobStore.open({ endpoint, region: 'us-east-1', bucket: BUCKET, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, maxAttempts: 3, publicEndpoint: null, objectLock: null });
    const runs = [await storeRun('fs', await FsBlobStore.open(fsDir), pages, large), await storeRun('s3 (s3rver)', s3Store, pages, large)];
    s3Store.close();
    console.log(`| store | page puts | page MB | put MB/s | put pages/s | get MB/s | ${fmt(mb(large.size), 0)} MB putFile (copy) MB/s | read MB/s |`);
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of runs) {
      console.log(`| ${r.label} | ${r.count} | ${fmt(mb(r.bytes), 0)} | ${fmt(mb(r.bytes) / r.putS, 0)} | ${fmt(r.count / r.putS, 0)} | ${fmt(mb(r.bytes) / r.getS, 0)} | ${fmt(mb(r.large) / r.fileS, 0)} | ${fmt(mb(r.large) / r.readS, 0)} |`);
    }
    console.log('');

    const s3Env = { BLOB_STORE: 's3', S3_ENDPOINT: endpoint, S3_BUCKET: BUCKET, S3_FORCE_PATH_STYLE: 'true', ...S3RVER_KEYS };
    const ingests = [await ingestRun('fs', {}, fixture.zipPath, o.runDir), await ingestRun('s3', s3Env, fixture.zipPath, o.runDir)];
    console.log(`| BLOB_STORE | pages | MB | upload s | upload→sealed s | pages phase ms | keep original ms | seal ms | pages/s (upload→sealed) |`);
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of ingests) {
      console.log(`| ${r.label} | ${r.pages} | ${fmt(mb(fixture.totalBytes), 0)} | ${fmt(r.uploadS)} | ${fmt(r.sealS)} | ${r.phases.pages ?? '?'} | ${r.phases.keepOriginal ?? '?'} | ${r.phases.seal ?? '?'} | ${fmt(r.pages / r.sealS, 0)} |`);
    }
    console.log('');
  } finally {
    await killS3rver(s3.child);
    await fs.rm(s3Dir, { recursive: true, force: true });
    await fs.rm(fsDir, { recursive: true, force: true });
    await fs.rm(path.join(o.runDir, 'large.bin'), { force: true });
  }
}
