/**
 * The original read back from the bucket by byte ranges (what a worker without the staging volume,
 * or one that takes up an ingest after the original moved, does) beside the same file read from
 * local disk: every page parsed and hashed by the page worker thread, as in an ingest, without
 * storing. Requests and bytes fetched per page, and the page hashes checked equal.
 *
 * Alone: `npm run bench -- --only ranged [--pages N]` puts the benchmark dossier's ZIP into an
 * s3rver bucket and reads it so; `--only scale-out` runs it after its 1-worker run.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { hashFile } from '../../dossier/hash.js';
import { storedOriginal } from '../../dossier/ingest/stored-original.js';
import { workerPageSource } from '../../dossier/pages/pages-in-worker.js';
import type { UploadInput } from '../../dossier/pages/ranged-file.js';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';
import { S3BlobStore } from '../../storage/blobs/s3-blob-store.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { fmt, mb } from './measure.js';
import { killS3rver, spawnS3rver } from './s3rver-process.js';

export interface RangedRead {
  pages: number;
  size: number;
  localS: number;
  rangedS: number;
  requests: number;
  fetched: number;
}

const s3rverStore = (endpoint: string, bucket: string) =>
  S3BlobStore.open({ endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, maxAttempts: 3, publicEndpoint: null, objectLock: null });

async function hashesOf(input: UploadInput): Promise<{ s: number; hashes: string[] }> {
  const source = workerPageSource({ keep: 0 });
  const t = performance.now();
  const hashes: string[] = [];
  try {
    for await (const page of source(input, DEFAULT_LIMITS)) hashes.push(page.sha256);
  } finally {
    await source.close();
  }
  return { s: (performance.now() - t) / 1000, hashes };
}

export async function rangedReadRun(o: { endpoint: string; bucket: string; sha256: string; size: number; localPath: string }): Promise<RangedRead> {
  const store = await s3rverStore(o.endpoint, o.bucket);
  try {
    const local = await hashesOf(o.localPath);
    const file = storedOriginal(store, o.sha256, o.size);
    const ranged = await hashesOf(file);
    if (ranged.hashes.join() !== local.hashes.join()) throw new Error('the pages read by range differ from those read from disk');
    return { pages: local.hashes.length, size: o.size, localS: local.s, rangedS: ranged.s, requests: file.fetched.requests, fetched: file.fetched.bytes };
  } finally {
    store.close();
  }
}

export function printRangedRead(r: RangedRead): void {
  console.log(`The original (${fmt(mb(r.size), 0)} MB, ${r.pages} pages) read and hashed page by page, from local disk and from the bucket by ranged GETs (4 MiB blocks, 2 ahead); same page hashes:\n`);
  console.log('| read from | s | pages/s | GET requests | requests per page | MB fetched | kB fetched per page |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| local file | ${fmt(r.localS)} | ${fmt(r.pages / r.localS, 0)} | – | – | – | – |`);
  console.log(`| s3rver, ranged | ${fmt(r.rangedS)} | ${fmt(r.pages / r.rangedS, 0)} | ${r.requests} | ${fmt(r.requests / r.pages, 3)} | ${fmt(mb(r.fetched), 0)} | ${fmt(r.fetched / r.pages / 1e3, 0)} |\n`);
}

export async function rangedReadBench(o: { cacheDir: string; runDir: string; pages: number }): Promise<void> {
  const fixture = await ensureSyntheticDossier({ dir: o.cacheDir, pages: o.pages });
  const dir = path.join(o.runDir, `ranged-s3-${Date.now()}`);
  await fs.mkdir(dir, { recursive: true });
  const s3 = await spawnS3rver(dir, 0, 'bench');
  const endpoint = `http://127.0.0.1:${s3.port}`;
  try {
    const { sha256, size } = await hashFile(fixture.zipPath);
    const store = await s3rverStore(endpoint, 'bench');
    await store.putFile(sha256, fixture.zipPath, { move: false });
    store.close();
    printRangedRead(await rangedReadRun({ endpoint, bucket: 'bench', sha256, size, localPath: fixture.zipPath }));
  } finally {
    await killS3rver(s3.child);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
