/**
 * `npm run bench -- --only stream`: in-stream ingest (issue 13). The 5,253-page stored ZIP
 * uploaded to the compiled gateway with UPLOAD_STREAM_INGEST on and off: upload seconds, last byte
 * → sealed, first byte → sealed; then 1 GiB of random bytes through the gateway (on and off) and
 * through a bare @tus/server with its file store (bare-tus.ts), same client, one PATCH each.
 *
 * The ZIP is the synthetic dossier when its fixture is complete; otherwise (rendering 5,253 pages
 * takes 10–45 min on this machine) 5,253 entries cycled over the pages rendered so far, each copy
 * made distinct by a JPEG comment segment naming its number: every page hashes and stores as its
 * own blob, at the same sizes, which is what the ingest's cost depends on.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';
import { api, fmt, mb, pollUntil, timeCommand, upload } from './measure.js';
import { randomFileOnce } from './random-file.js';
import { cpuNow, cpuSince, threadCpuSince, threadsOf } from './cpu-time.js';
import { spawnServer, tokenFor } from '../support/server-process.js';

interface Options {
  readonly cacheDir: string;
  readonly runDir: string;
  readonly pages: number;
  /** Where each measured gateway writes its threads' CPU profiles (--cpu-prof DIR). */
  readonly cpuProfDir?: string;
}

export async function streamIngestBench(o: Options): Promise<void> {
  const zip = await benchZip(o);
  const size = (await fs.stat(zip.file)).size;
  console.log(`in-stream ingest: ${zip.pages} pages, ${fmt(mb(size), 0)} MB (${zip.source})\n`);
  const on = await zipRun(o, zip.file, { UPLOAD_STREAM_INGEST: 'true' }, 'in-stream');
  const off = await zipRun(o, zip.file, { UPLOAD_STREAM_INGEST: 'false' }, 'after-upload');
  console.log('| 5,253-page ZIP | upload s | MB/s | last byte → sealed s | first byte → sealed s | ingest phases (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, r] of [['read in the stream', on], ['read after the upload', off]] as const) {
    console.log(`| ${label} | ${fmt(r.uploadS, 2)} | ${fmt(mb(size) / r.uploadS, 0)} | ${fmt(r.sealS, 2)} | ${fmt(r.uploadS + r.sealS, 2)} | ${Object.entries(r.phases).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  }
  // Where the two cores went during the upload: the client (this process) and each gateway thread.
  console.log('\n| CPU-s during the upload | client | busiest gateway threads |');
  console.log('|---|---|---|');
  for (const [label, r] of [['read in the stream', on], ['read after the upload', off]] as const) {
    console.log(`| ${label} | ${fmt(r.uploadCpu.client, 2)} | ${r.uploadCpu.gateway.slice(0, 6).map(([t, s]) => `${t} ${fmt(s, 2)}`).join(', ')} |`);
  }
  console.log(`\nfirst byte → sealed ÷ the upload alone (read after): ${fmt((on.uploadS + on.sealS) / off.uploadS, 2)} (goal ≤ 1.1); upload throughput in the stream ÷ after: ${fmt((100 * off.uploadS) / on.uploadS, 0)} % (goal ≥ 80 %)\n`);

  const random = await randomFileOnce(path.join(o.cacheDir, 'random-1GiB.bin'), 1024 ** 3);
  const gwOn = await rawRun(o, random, { UPLOAD_STREAM_INGEST: 'true' });
  const gwOff = await rawRun(o, random, { UPLOAD_STREAM_INGEST: 'false' });
  const bare = await bareTusRun(o, random);
  console.log('| 1 GiB random bytes, one PATCH, tus-js-client | seconds | MB/s | ÷ bare @tus/server |');
  console.log('|---|---|---|---|');
  for (const [label, s] of [['gateway, in-stream reading (hash off the receiving thread)', gwOn], ['gateway, UPLOAD_STREAM_INGEST=false (hash on the receiving thread)', gwOff], ['bare @tus/server + @tus/file-store', bare]] as const) {
    console.log(`| ${label} | ${fmt(s, 2)} | ${fmt(mb(1024 ** 3) / s, 0)} | ${fmt(s / bare, 2)} |`);
  }
  console.log('');
}

async function fresh(o: Options, env: Record<string, string>, profile?: string) {
  const dataDir = path.join(o.runDir, `stream-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  // A restarted gateway (PGlite's initdb heap is not that of a running service), as run.ts does.
  // PGlite's initdb takes minutes when eight sessions share the two cores.
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, undefined, { compiled: true, startTimeoutMs: 300_000 });
  await first.kill('SIGTERM');
  const nodeArgs = o.cpuProfDir && profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(o.cpuProfDir, profile)}`] : [];
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }, undefined, { compiled: true, startTimeoutMs: 300_000, nodeArgs });
  return { server, dataDir, token: await tokenFor(dataDir, 'police-bench', 'clerk') };
}

async function zipRun(o: Options, file: string, env: Record<string, string>, profile: string) {
  const { server, dataDir, token } = await fresh(o, env, profile);
  try {
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `STREAM-${Date.now()}` });
    await timeCommand('sync', []);
    const threads0 = threadsOf(server.child.pid!);
    const client0 = cpuNow();
    const t0 = performance.now();
    const url = await upload(server.url, token, file, { filename: 'dossier.zip', caseId: c.id });
    const lastByte = performance.now();
    const uploadCpu = { client: cpuSince(client0).self, gateway: threadCpuSince(threads0, threadsOf(server.child.pid!)) };
    const id = url.split('/').pop()!;
    const sealed = await pollUntil(() => api<{ status: string; error?: unknown }>(server.url, token, 'GET', `/api/dossiers/${id}`), (d) => d.status === 'sealed' || d.status === 'rejected', 20);
    if (sealed.value.status !== 'sealed') throw new Error(`not sealed: ${JSON.stringify(sealed.value.error)}`);
    const line = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    return { uploadCpu, uploadS: (lastByte - t0) / 1000, sealS: (performance.now() - lastByte) / 1000, phases: line ? (JSON.parse(line).phases as Record<string, number>) : {} };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function rawRun(o: Options, file: string, env: Record<string, string>): Promise<number> {
  const { server, dataDir, token } = await fresh(o, { WORKERS: 'none', ...env });
  try {
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `RAW-${Date.now()}` });
    await timeCommand('sync', []);
    const t0 = performance.now();
    await upload(server.url, token, file, { filename: 'random.bin', caseId: c.id });
    return (performance.now() - t0) / 1000;
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** The same client and file against a bare @tus/server with its file store, in its own process. */
export async function bareTusRun(o: Pick<Options, 'runDir'>, file: string): Promise<number> {
  const dir = path.join(o.runDir, `bare-tus-${Date.now()}`);
  await fs.mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('scripts/bench/bare-tus.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`bare tus server exited (${code})`)));
    });
    await timeCommand('sync', []);
    const t0 = performance.now();
    await upload(url, 'none', file, { filename: 'random.bin' });
    return (performance.now() - t0) / 1000;
  } finally {
    child.kill('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The synthetic dossier's ZIP when complete, else the cycled one described above. */
async function benchZip(o: Options): Promise<{ file: string; pages: number; source: string }> {
  const synthetic = path.join(o.cacheDir, 'dossier.zip');
  if (await fs.stat(path.join(o.cacheDir, 'complete.json')).then(() => true, () => false)) return { file: synthetic, pages: o.pages, source: 'the synthetic dossier' };
  const pagesDir = path.join(o.cacheDir, 'pages');
  const rendered = (await fs.readdir(pagesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jpg')).sort();
  if (rendered.length < 100) throw new Error(`at least 100 rendered pages needed in ${pagesDir} (run npm run bench -- --only zip first)`);
  const file = path.join(o.cacheDir, `stream-${o.pages}-of-${rendered.length}.zip`);
  const source = `${rendered.length} rendered pages cycled, each copy distinct`;
  if (await fs.stat(file).then(() => true, () => false)) return { file, pages: o.pages, source };
  const zip = new yazl.ZipFile();
  const done = new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(`${file}.tmp`)).on('close', resolve).on('error', reject));
  for (let i = 0; i < o.pages; i++) {
    const jpeg = await fs.readFile(path.join(pagesDir, rendered[i % rendered.length]!));
    const note = Buffer.from(`copy ${i + 1}`, 'latin1');
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, note.length + 2]), note]);
    const distinct = Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)]);
    zip.addBuffer(distinct, `dossier/${String(i + 1).padStart(4, '0')}.jpg`, { compress: false });
  }
  zip.end();
  await done;
  await fs.rename(`${file}.tmp`, file);
  return { file, pages: o.pages, source };
}
