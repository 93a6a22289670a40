/**
 * `npm run bench -- --only at-rest [--pages N]`: what envelope encryption at rest and the national
 * suite cost, in one run. Raw seal and open throughput of one core for AES-256-GCM and SM4-CTR +
 * HMAC-SM3 (64 KiB segments, as stored), then the ingest of the benchmark dossier (a stored ZIP of
 * its first N pages; all 5,253 by default) under each suite with encryption off and on, each row
 * on a fresh gateway process (the compiled build, embedded default), against the default row.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { sealBuffer, OpeningTransform } from '../../storage/blobs/envelope/seal-streams.js';
import { segmentCipher, type CipherName } from '../../storage/blobs/envelope/segment-cipher.js';
import { HEADER_V2_BYTES, headerV2 } from '../../storage/blobs/envelope/layout.js';
import type { SignatureSuite } from '../../dossier/signing/suite.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { benchZip } from './suites.js';
import { spawnServer, tokenFor } from '../support/server-process.js';

function sealRate(name: CipherName): number {
  const plain = randomBytes(64 * 1024 * 1024);
  const k = { cipher: segmentCipher(name), dataKey: randomBytes(32), sha256: 'ab'.repeat(32), header: headerV2(name, 'cd'.repeat(16), plain.length) };
  sealBuffer(k, plain.subarray(0, 4 * 1024 * 1024)); // warm
  const t = performance.now();
  sealBuffer(k, plain);
  return mb(plain.length) / ((performance.now() - t) / 1000);
}

async function openRate(name: CipherName): Promise<number> {
  const plain = randomBytes(64 * 1024 * 1024);
  const k = { cipher: segmentCipher(name), dataKey: randomBytes(32), sha256: 'ab'.repeat(32), header: headerV2(name, 'cd'.repeat(16), plain.length) };
  const sealed = sealBuffer(k, plain);
  const t = performance.now();
  // The stored segments after the blob's header, as a read from the store hands them over.
  const out = await buffer(Readable.from([sealed.subarray(HEADER_V2_BYTES)]).pipe(new OpeningTransform(k, { size: plain.length, first: 0, skip: 0, take: plain.length })));
  if (!out.equals(plain)) throw new Error('open gave other bytes');
  return mb(plain.length) / ((performance.now() - t) / 1000);
}

interface Row {
  /** What `--rows` names it by. */
  readonly name: string;
  readonly label: string;
  readonly suite: SignatureSuite;
  readonly cipher: CipherName | null;
}

/** The default first (the baseline), then each suite and cipher alone, then the national deployment. */
const ROWS: readonly Row[] = [
  { name: 'default', label: 'default: ed25519-sha256, at rest off', suite: 'ed25519-sha256', cipher: null },
  { name: 'aes', label: 'ed25519-sha256, AES-256-GCM at rest', suite: 'ed25519-sha256', cipher: 'aes-256-gcm' },
  { name: 'sm2', label: 'sm2-sm3, at rest off', suite: 'sm2-sm3', cipher: null },
  { name: 'sm2-aes', label: 'sm2-sm3, AES-256-GCM at rest', suite: 'sm2-sm3', cipher: 'aes-256-gcm' },
  { name: 'national', label: 'national: sm2-sm3, SM4-CTR + HMAC-SM3 at rest', suite: 'sm2-sm3', cipher: 'sm4-ctr-hmac-sm3' },
];

async function ingest(runDir: string, zip: string, row: Row, masterKey: string, cpuProfDir?: string) {
  const dataDir = path.join(runDir, `at-rest-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const env: Record<string, string> = { DATA_DIR: dataDir, SIGNATURE_SUITE: row.suite, OCR_WORKERS: '1', ...(row.cipher ? { MASTER_KEY_FILE: masterKey, ENCRYPTION_AT_REST: row.cipher } : {}) };
  // First start: PGlite's initdb (whose heap stays for the process); measure a restarted gateway.
  const first = await spawnServer({ ...env, LOG_LEVEL: 'warn' }, undefined, { compiled: true, startTimeoutMs: 300_000 });
  await first.kill('SIGTERM');
  // Profiled: every thread of the measured gateway (main, page readers, seal pool), written at its exit.
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(cpuProfDir, row.name)}`] : [];
  const server = await spawnServer({ ...env, LOG_LEVEL: 'info' }, undefined, { compiled: true, startTimeoutMs: 300_000, nodeArgs });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `REST-${Date.now()}` });
    const t0 = performance.now();
    const url = await upload(server.url, token, zip, { filename: 'bench.zip', caseId: c.id });
    const uploadS = (performance.now() - t0) / 1000;
    const id = url.split('/').pop()!;
    // Polled every 0.2 s: a status request costs the gateway's main thread too.
    const sealed = await pollUntil(() => api<{ status: string; pageCount: number }>(server.url, token, 'GET', `/api/dossiers/${id}`), (d) => d.status === 'sealed' || d.status === 'rejected', 200);
    if (sealed.value.status !== 'sealed') throw new Error(`ingest ended ${sealed.value.status}`);
    const seconds = (performance.now() - t0) / 1000;
    const line = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    const phases = line ? (JSON.parse(line).phases as Record<string, number>) : {};
    return { seconds, uploadS, pages: sealed.value.pageCount, phases };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function atRestBench(o: { runDir: string; pagesDir: string; pages: number; rows?: readonly string[]; cpuProfDir?: string }): Promise<void> {
  const rows = o.rows ? ROWS.filter((r) => o.rows!.includes(r.name)) : ROWS;
  console.log('| cipher (one core, 64 MiB in 64 KiB segments, this thread) | seal MB/s | open MB/s |');
  console.log('|---|---|---|');
  for (const name of ['aes-256-gcm', 'sm4-ctr-hmac-sm3'] as const) {
    const seal = sealRate(name);
    console.log(`| ${name} | ${fmt(seal, 0)} | ${fmt(await openRate(name), 0)} |`);
  }
  console.log('');
  await fs.mkdir(o.runDir, { recursive: true });
  const key = path.join(o.runDir, 'bench-master.key');
  await fs.writeFile(key, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const { file, pages } = await benchZip(o.pagesDir, o.pages, path.join(o.runDir, `suites-${o.pages}.zip`));
  const size = (await fs.stat(file)).size;
  console.log(`Ingest of ${pages} pages (${fmt(mb(size), 0)} MB stored ZIP), upload start to sealed, one fresh gateway a row (the compiled build):\n`);
  console.log('| suite, encryption at rest | pages | upload s | upload → sealed s | total s | × default | pages (ms) | keepOriginal (ms) | seal (ms) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  let base: number | null = null;
  for (const row of rows) {
    const r = await ingest(o.runDir, file, row, key, o.cpuProfDir);
    base ??= r.seconds;
    console.log(`| ${row.label} | ${r.pages} | ${fmt(r.uploadS)} | ${fmt(r.seconds - r.uploadS)} | ${fmt(r.seconds)} | ${fmt(r.seconds / base, 2)} | ${r.phases.pages ?? '?'} | ${r.phases.keepOriginal ?? '?'} | ${r.phases.seal ?? '?'} |`);
  }
  console.log('');
}
