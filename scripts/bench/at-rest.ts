/**
 * `npm run bench -- --only at-rest [--pages N]`: what envelope encryption at rest costs. Raw
 * seal and open throughput of one core for AES-256-GCM and SM4-CTR + HMAC-SM3 (64 KiB segments,
 * as stored), then the ingest of the N-page ZIP dossier with encryption off, AES-256-GCM and SM4,
 * in one run, each on a fresh gateway process (the compiled build, embedded default).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { sealBuffer, OpeningTransform } from '../../storage/blobs/envelope/seal-streams.js';
import { segmentCipher, type CipherName } from '../../storage/blobs/envelope/segment-cipher.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { spawnServer, tokenFor } from '../support/server-process.js';

function sealRate(name: CipherName): number {
  const k = { cipher: segmentCipher(name), dataKey: randomBytes(32), sha256: 'ab'.repeat(32) };
  const plain = randomBytes(64 * 1024 * 1024);
  sealBuffer(k, plain.subarray(0, 4 * 1024 * 1024)); // warm
  const t = performance.now();
  sealBuffer(k, plain);
  return mb(plain.length) / ((performance.now() - t) / 1000);
}

async function openRate(name: CipherName): Promise<number> {
  const k = { cipher: segmentCipher(name), dataKey: randomBytes(32), sha256: 'ab'.repeat(32) };
  const plain = randomBytes(64 * 1024 * 1024);
  const sealed = sealBuffer(k, plain);
  const t = performance.now();
  const out = await buffer(Readable.from([sealed]).pipe(new OpeningTransform(k, { size: plain.length, first: 0, skip: 0, take: plain.length })));
  if (!out.equals(plain)) throw new Error('open gave other bytes');
  return mb(plain.length) / ((performance.now() - t) / 1000);
}

async function ingest(runDir: string, zip: string, env: Record<string, string>) {
  const dataDir = path.join(runDir, `at-rest-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, undefined, { compiled: true });
  await first.kill('SIGTERM');
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, undefined, { compiled: true });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `REST-${Date.now()}` });
    const t0 = performance.now();
    const url = await upload(server.url, token, zip, { filename: 'bench.zip', caseId: c.id });
    const id = url.split('/').pop()!;
    const sealed = await pollUntil(() => api<{ status: string; pageCount: number }>(server.url, token, 'GET', `/api/dossiers/${id}`), (d) => d.status === 'sealed' || d.status === 'rejected');
    if (sealed.value.status !== 'sealed') throw new Error(`ingest ended ${sealed.value.status}`);
    return { seconds: (performance.now() - t0) / 1000, pages: sealed.value.pageCount };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function atRestBench(o: { runDir: string; zipPath: string; size: number }): Promise<void> {
  console.log('| cipher (one core, 64 MiB in 64 KiB segments) | seal MB/s | open MB/s |');
  console.log('|---|---|---|');
  for (const name of ['aes-256-gcm', 'sm4-ctr-hmac-sm3'] as const) {
    const seal = sealRate(name);
    console.log(`| ${name} | ${fmt(seal, 0)} | ${fmt(await openRate(name), 0)} |`);
  }
  console.log('');
  const key = path.join(o.runDir, 'bench-master.key');
  await fs.writeFile(key, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const runs: { label: string; seconds: number; pages: number }[] = [];
  for (const [label, env] of [
    ['off', {}],
    ['aes-256-gcm', { MASTER_KEY_FILE: key, ENCRYPTION_AT_REST: 'aes-256-gcm' }],
    ['sm4-ctr-hmac-sm3', { MASTER_KEY_FILE: key, ENCRYPTION_AT_REST: 'sm4-ctr-hmac-sm3' }],
  ] as const) {
    runs.push({ label, ...(await ingest(o.runDir, o.zipPath, env)) });
  }
  console.log('| encryption at rest | pages | MB | upload → sealed s | MB/s | × off |');
  console.log('|---|---|---|---|---|---|');
  for (const r of runs) console.log(`| ${r.label} | ${r.pages} | ${fmt(mb(o.size), 0)} | ${fmt(r.seconds)} | ${fmt(mb(o.size) / r.seconds, 0)} | ${fmt(r.seconds / runs[0]!.seconds, 2)} |`);
  console.log('');
}
