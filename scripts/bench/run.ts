/**
 * `npm run bench`: the 5,253-page dossier (ZIP of JPEG, then the same pages as one PDF) uploaded
 * over loopback with tus-js-client to a gateway process (the compiled build, embedded default),
 * timed from upload start to sealed and to every thumbnail, beside `cp` and `sha256sum` of the
 * same bytes; then a 1 GB upload of random bytes against `cp`. Prints markdown tables.
 *
 *   npm run bench -- [--pages N] [--only zip|pdf|migrate|upload|search] [--ocr-pages N] [--keep]
 *
 * `--only zip`: also the export's size and speed beside OCR and idle, the export's gateway CPU per MB
 * idle, and for the default configuration's run (read after upload) the time from sealed until every
 * page is searchable, the gateway's CPU-s per page over it and its peak RSS (kernel VmHWM, and
 * sampled every 500 ms with its tesseract children). With the full 5,253 pages that run waits for
 * the whole dossier's OCR: the better part of an hour on a quiet 2-core machine.
 *
 * `--only ocr [--ocr-synthetic N] [--corpus DIR]`: OCR pages/minute, CPU-s per page (this process and
 * its children: the load of a shared machine moves it far less than wall time) and CER, tesseract.js
 * 1 and 2 workers, the service pipeline (blank check + native engine, pages sharing a process, and
 * a process a page) beside the bare native tesseract CLI, on N synthetic pages (default 20), the
 * corpus images and a Chinese page; then where the service pipeline's CPU goes, phase by phase.
 * On a quiet machine: `npm run bench -- --only ocr --corpus ../shared/corpus`; `--ocr-skip-js` leaves the
 * (slow) tesseract.js rows out.
 *
 * `--only render [--corpus DIR]`: the corpus read before and after the page renderer, drawing time per
 * scan encoding and size, orientation and language-per-page costs (scripts/bench/render.ts).
 * `--only supervision [--transfers N] [--deliveries N] [--database-url URL]`: GET /api/stats p50/p95
 * over N generated transfers on PostgreSQL, the overdue check, webhook deliveries a second
 * (scripts/bench/supervision.ts).
 *
 * `--only s3 [--s3-pages N]`: the S3 blob store (s3rver on loopback) beside the filesystem store,
 * and the ingest of an N-page dossier with BLOB_STORE=fs and s3 (scripts/bench/object-store.ts).
 *
 * `--only stream [--cpu-prof DIR]`: in-stream ingest, the ZIP read while it arrives against after
 * its last byte, with the CPU each thread spent during the upload, and the upload against a bare
 * @tus/server (scripts/bench/stream-ingest.ts); `--cpu-prof` profiles the two ZIP gateways.
 *
 * `--only gateways [--uploads N]`: N concurrent uploads through two gateways and a worker on
 * PostgreSQL and s3rver, PATCHes alternating between the gateways (scripts/bench/two-gateways.ts).
 *
 * `--only workers [--worker-pages N] [--max-workers M]`: OCR pages per minute with 1…M `dossier worker`
 * processes on PostgreSQL, and the blob and database bytes a page costs (scripts/bench/workers-scale.ts).
 * `--only scale-out [--pages N] [--max-workers M] [--searchable-pages K]`: the benchmark dossier through
 * the embedded default and through one gateway with 1…M workers on PostgreSQL and s3rver: upload→sealed,
 * sealed→searchable (K pages read, default all: about an hour per run for 5,253 pages on two cores),
 * then its original read back from the bucket by byte ranges, requests and bytes per page
 * (scripts/bench/workers-scale.ts, ranged-read.ts). `--only ranged [--pages N]`: that last read alone.
 * `--only suites [--pages N]`: SM3 vs SHA-256, SM2 vs Ed25519, and the ingest of the benchmark
 * dossier (its first N pages) under each SIGNATURE_SUITE, alternating (scripts/bench/suites.ts).
 * `--only at-rest [--pages N] [--rows default,aes,sm2,sm2-aes,national] [--cpu-prof DIR]`: AES-256-GCM
 * and SM4 seal rates, then the ingest of the benchmark dossier (its first N pages) under each suite
 * with encryption at rest off and on, against the default, in one run: the issue-16 cost table
 * (scripts/bench/at-rest.ts); `--cpu-prof` writes each measured gateway's CPU profiles to DIR.
 *
 * `--only web [--pages N]`: the web application in Debian's chromium: first-load script, time to
 * show the grid of the N-page dossier (ingested once into .cache/bench/web-grid), the longest
 * task while scrolling it, and a 30-page folder dropped on a case page to sealed and searchable
 * (scripts/bench/web-grid.ts, which runs alone too).
 *
 * `--only download [--pages N]`: the export through a signed link with `dossier download` (plain,
 * --verify, and resumed at half) beside curl (scripts/bench/download.ts; needs `npm run build`).
 *
 * `--only pdf-memory [--pdf-pages 1000,5253,20000] [--pdf-gateway-max 5253]`: peak RSS of PDF ingest by
 * size, the page reader alone and the gateway at seal, up to a 4.6 GB PDF (scripts/bench/pdf-memory.ts).
 *
 * `--only search`: search latency over an index of N pages and sealed → searchable for an
 * --ocr-pages dossier (default 100) through the OCR workers (scripts/bench/search.ts).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil, timeCommand, timeDownload, timeFileOverHttp, upload } from './measure.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { randomFileOnce } from './random-file.js';
import { exportPdfRuns, printExportPdf } from './export-pdf.js';
import { makeSampleArchive } from './fixtures/sample-archive.js';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { searchBench } from './search.js';
import { ocrBench } from './ocr.js';
import { renderBench } from './render.js';
import { supervisionBench } from './supervision.js';
import { objectStoreBench } from './object-store.js';
import { twoGatewaysBench } from './two-gateways.js';
import { scaleOutBench, workersScaleBench } from './workers-scale.js';
import { rangedReadBench } from './ranged-read.js';
import { suitesBench } from './suites.js';
import { bareTusRun, streamIngestBench } from './stream-ingest.js';
import { cpuOf } from './cpu-time.js';
import { sampleRss } from './rss-sampler.js';
import { downloadBench } from './download.js';
import { pdfMemoryBench } from './pdf-memory.js';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '5253' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'ocr-pages': { type: 'string', default: '100' },
    'ocr-synthetic': { type: 'string', default: '20' },
    'ocr-skip-js': { type: 'boolean', default: false },
    corpus: { type: 'string' },
    transfers: { type: 'string', default: '100000' },
    deliveries: { type: 'string', default: '2000' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    's3-pages': { type: 'string', default: '300' },
    uploads: { type: 'string', default: '50' },
    'worker-pages': { type: 'string', default: '24' },
    'max-workers': { type: 'string', default: '3' },
    'searchable-pages': { type: 'string' },
    rounds: { type: 'string', default: '2' },
    'pdf-pages': { type: 'string', default: '1000,5253,20000' },
    'pdf-gateway-max': { type: 'string', default: '5253' },
    rows: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const pages = Number(args.pages);
/** A gateway's start (PGlite's initdb on the first) takes minutes on a loaded machine: wait for it. */
const START_TIMEOUT_MS = 10 * 60_000;

/** scripts/bench/web-grid.ts in a process of its own, its tables passed through. */
async function webBench(): Promise<void> {
  if (!existsSync('/usr/bin/chromium')) return console.log('\n(web: skipped, /usr/bin/chromium is not installed)');
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web-grid.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--pages', String(pages), '--data', path.join(cacheDir, 'web-grid')], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`web-grid.ts exited with ${code}`);
}
const cacheDir = path.resolve('.cache/bench');
const runDir = path.resolve('.cache/bench-run');

interface DossierJson {
  id: string;
  status: string;
  pageCount: number | null;
  progress: { pages: number; thumbnails: number; ocr: { done: number; failed: number; total: number } };
  error?: { code: string };
}

async function baseline(file: string) {
  const copy = path.join(runDir, 'cp-target');
  await fs.rm(copy, { force: true });
  const cp = await timeCommand('cp', [file, copy]);
  const sync = await timeCommand('sync', []);
  await fs.rm(copy, { force: true });
  const sha = await timeCommand('sha256sum', [file]);
  return { cp, cpSync: cp + sync, sha };
}

async function freshServer(env: Record<string, string> = {}) {
  const dataDir = path.join(runDir, `data-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  // A gateway's first start runs PGlite's initdb, whose WASM heap (~0.9 GB) stays for the life of
  // that process; production runs on an initialised directory, so measure a restarted gateway.
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, undefined, { compiled: true, startTimeoutMs: START_TIMEOUT_MS });
  await first.kill('SIGTERM');
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }, undefined, { compiled: true, startTimeoutMs: START_TIMEOUT_MS });
  const token = await tokenFor(dataDir, 'police-bench', 'clerk');
  return { server, token, dataDir };
}

/**
 * One dossier through a gateway. `searchable`: after the downloads beside OCR, wait until every
 * page is OCR'd (done or failed) and report the time from sealed to searchable, with the
 * gateway's RSS over the whole run (its kernel peak, and sampled with its tesseract children).
 */
async function dossierRun(label: string, file: string, env: Record<string, string> = {}, searchable = false) {
  const size = (await fs.stat(file)).size;
  const base = await baseline(file);
  const fresh = await freshServer(env);
  let server = fresh.server;
  const { token, dataDir } = fresh;
  const rssSampler = sampleRss(server.child.pid!);
  try {
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-${label}-${Date.now()}` });
    // Start from a clean disk: the previous run's dirty pages must not be written back on our time.
    await timeCommand('sync', []);
    const t0 = performance.now();
    const url = await upload(server.url, token, file, { filename: path.basename(file), caseId: c.id });
    const uploadS = (performance.now() - t0) / 1000;
    const id = url.split('/').pop()!;
    const get = () => api<DossierJson>(server.url, token, 'GET', `/api/dossiers/${id}`);
    const sealed = await pollUntil(get, (d) => d.status === 'sealed' || d.status === 'rejected');
    // The ingest's own peak, read before thumbnails and OCR add theirs.
    const rssAtSeal = await server.peakRss();
    if (sealed.value.status !== 'sealed') throw new Error(`${label}: ${JSON.stringify(sealed.value.error)}`);
    const totalS = (performance.now() - t0) / 1000;
    const sealedAt = performance.now();
    const cpuAtSeal = cpuOf(server.child.pid!);
    const thumbs = await pollUntil(get, (d) => d.progress.thumbnails >= (d.pageCount ?? 0), 250);
    const thumbsS = (performance.now() - t0) / 1000;
    // The receiver's side: the export ZIP with a bearer token, then through a signed link, while
    // this gateway OCRs the dossier it just sealed (both cores busy)…
    const exportZip = await timeDownload(`${server.url}/api/dossiers/${id}/export`, token);
    const link = await api<{ url: string }>(server.url, token, 'POST', `/api/dossiers/${id}/links`, {});
    const viaLink = await timeDownload(link.url, null);
    const sealedLine = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    const phases = sealedLine ? (JSON.parse(sealedLine).phases as Record<string, number>) : {};
    let ocr: { sealedToSearchableS: number; done: number; failed: number; cpuPerPage: { own: number; children: number } | null } | null = null;
    if (searchable) {
      // Every page read (or given up on): sealed → searchable, and the gateway's CPU per page
      // over that time (its own threads and its ended tesseract children; the thumbnails and the
      // exports beside OCR above included).
      const all = await pollUntil(get, (d) => d.progress.ocr.done + d.progress.ocr.failed >= d.progress.ocr.total, 2000, 6 * 3600);
      const cpu = cpuOf(server.child.pid!);
      const n = all.value.pageCount ?? 1;
      ocr = { sealedToSearchableS: (performance.now() - sealedAt) / 1000, done: all.value.progress.ocr.done, failed: all.value.progress.ocr.failed, cpuPerPage: cpu && cpuAtSeal ? { own: (cpu.self - cpuAtSeal.self) / n, children: (cpu.children - cpuAtSeal.children) / n } : null };
    }
    const rss = await server.peakRss();
    const sampled = rssSampler.stop();
    // …then on a gateway with no background work (the OCR left to `dossier worker` processes),
    // beside the ceiling: the fixture's bytes as one file over plain HTTP, with the same client.
    await server.kill('SIGTERM');
    server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', WORKERS: 'none' }, undefined, { compiled: true, startTimeoutMs: START_TIMEOUT_MS });
    // Three rounds, alternated, the median of each: single downloads on two cores swing ±30 %.
    const idleRuns: Download[] = [];
    const plainRuns: Download[] = [];
    let idleCpu = 0, idleMb = 0;
    for (let round = 0; round < 3; round++) {
      // The gateway's CPU for the export with nothing else to do: what streaming costs a MB.
      const c0 = cpuOf(server.child.pid!);
      const d = await timeDownload(`${server.url}/api/dossiers/${id}/export`, token);
      const c1 = cpuOf(server.child.pid!);
      if (c0 && c1) [idleCpu, idleMb] = [idleCpu + c1.self - c0.self, idleMb + mb(d.bytes)];
      idleRuns.push(d);
      plainRuns.push(await timeFileOverHttp(file));
    }
    const [idleExport, plainHttp] = [median(idleRuns), median(plainRuns)];
    return {
      phases, ocr, sampled, exportCpuMsPerMb: idleMb ? (1000 * idleCpu) / idleMb : null,
      label, size, pageCount: sealed.value.pageCount ?? 0, uploadS, sealS: totalS - uploadS, totalS, thumbsS,
      thumbsAfterSealS: thumbs.seconds, rss, rssAtSeal, base, exportZip, viaLink, idleExport, plainHttp,
    };
  } finally {
    rssSampler.stop();
    await server.kill('SIGTERM');
    if (!args.keep) await fs.rm(dataDir, { recursive: true, force: true });
  }
}

type Download = Awaited<ReturnType<typeof timeDownload>>;

/** The run whose rate is the median. */
function median(runs: readonly Download[]): Download {
  return [...runs].sort((a, b) => a.bytes / a.seconds - b.bytes / b.seconds)[Math.floor(runs.length / 2)]!;
}

async function rawUploadRun() {
  const size = 1024 ** 3;
  const file = await randomFileOnce(path.join(cacheDir, 'random-1GiB.bin'), size);
  const base = await baseline(file);
  const { server, token, dataDir } = await freshServer({ WORKERS: 'none' });
  try {
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-RAW-${Date.now()}` });
    const t0 = performance.now();
    await upload(server.url, token, file, { filename: 'random.bin', caseId: c.id });
    const uploadS = (performance.now() - t0) / 1000;
    const chunked = performance.now();
    await upload(server.url, token, file, { filename: 'random.bin', caseId: c.id }, 64 * 1024 * 1024);
    const chunkedS = (performance.now() - chunked) / 1000;
    return { size, file, uploadS, chunkedS, rss: await server.peakRss(), base };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function migrateRun(pageFiles: readonly string[]) {
  const dir = path.join(runDir, `migrate-${Date.now()}`);
  // The synthetic A4 scans, so that the bytes moved are those of a real archive.
  const page = (seed: number) => fs.readFile(pageFiles[seed % pageFiles.length]!);
  const { root, expected } = await makeSampleArchive(dir, { cases: 20, page });
  const { server, token, dataDir } = await freshServer();
  try {
    const cli = path.resolve('dist/scripts/dossier.js');
    const t0 = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [cli, 'migrate', root, '--concurrency', '4', '--json'], {
        env: { ...process.env, DOSSIER_SERVER: server.url, DOSSIER_TOKEN: token, DOSSIER_STATE_DIR: path.join(dir, 'state') },
        maxBuffer: 64 * 1024 * 1024,
      }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    const seconds = (performance.now() - t0) / 1000;
    const rows = JSON.parse(out) as { status: string; bytes: number; pages: number }[];
    return {
      cases: expected.size, dossiers: rows.length, sealed: rows.filter((r) => r.status === 'sealed').length,
      pages: rows.reduce((n, r) => n + (r.pages ?? 0), 0), bytes: rows.reduce((n, r) => n + r.bytes, 0), seconds,
    };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  await fs.mkdir(runDir, { recursive: true });
  console.log(`# dossier gateway benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / 1024 ** 3, 0)} GiB, node ${process.version}\n`);
  const only = args.only;
  if (only === 'at-rest') {
    // The benchmark dossier's page files (its generator's cache), the first `pages` of them; made when missing.
    const pagesDir = path.join(cacheDir, 'pages');
    const have = (await fs.readdir(pagesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jpg')).length;
    if (have < pages) await ensureSyntheticDossier({ dir: cacheDir, pages });
    const { atRestBench } = await import('./at-rest.js');
    await atRestBench({ runDir, pagesDir, pages, ...(args.rows ? { rows: args.rows.split(',') } : {}), ...(args['cpu-prof'] ? { cpuProfDir: path.resolve(args['cpu-prof']) } : {}) });
  }
  if (!only || only === 'zip' || only === 'pdf') {
    const t = performance.now();
    const fixture = await ensureSyntheticDossier({ dir: cacheDir, pages });
    console.log(`fixture: ${pages} pages, ${fmt(mb(fixture.totalBytes), 0)} MB of JPEG (ready in ${fmt((performance.now() - t) / 1000)} s)\n`);
    const runs = [];
    if (!only || only === 'zip') runs.push(await dossierRun('ZIP, read while it arrives', fixture.zipPath, { UPLOAD_STREAM_INGEST: 'true' }));
    // The same ZIP read after its last byte (in-stream ingest off): the upload without the reading.
    // The default configuration's run also waits until every page is searchable (OCR of the whole dossier).
    if (!only || only === 'zip') runs.push(await dossierRun('ZIP, read after upload', fixture.zipPath, { UPLOAD_STREAM_INGEST: 'false' }, true));
    if (!only || only === 'pdf') runs.push(await dossierRun('PDF', fixture.pdfPath));
    console.log('| dossier | pages | MB | upload s | upload→sealed s | total s | MB/s | pages/s | server peak RSS at seal MB | server peak RSS MB | all thumbnails s | cp s | cp+sync s | sha256sum s | seal ÷ (cp+sha256sum) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of runs) {
      console.log(
        `| ${r.label} | ${r.pageCount} | ${fmt(mb(r.size), 0)} | ${fmt(r.uploadS)} | ${fmt(r.sealS)} | ${fmt(r.totalS)} | ${fmt(mb(r.size) / r.totalS, 0)} | ${fmt(r.pageCount / r.totalS, 0)} | ${fmt(mb(r.rssAtSeal ?? 0), 0)} | ${fmt(mb(r.rss ?? 0), 0)} | ${fmt(r.thumbsS)} | ${fmt(r.base.cp, 2)} | ${fmt(r.base.cpSync, 2)} | ${fmt(r.base.sha, 2)} | ${fmt(r.sealS / (r.base.cp + r.base.sha), 2)} |`,
      );
    }
    console.log('');
    // In-stream ingest (issue 13): the ZIP read while it arrives beside the same ZIP read after it.
    const streamed = runs.find((r) => r.label === 'ZIP, read while it arrives');
    const afterUpload = runs.find((r) => r.label === 'ZIP, read after upload');
    if (streamed && afterUpload) {
      console.log('| 5,253-page ZIP | upload s | MB/s | last byte → sealed s | first byte → sealed s |');
      console.log('|---|---|---|---|---|');
      for (const r of [streamed, afterUpload]) console.log(`| ${r.label} | ${fmt(r.uploadS, 2)} | ${fmt(mb(r.size) / r.uploadS, 0)} | ${fmt(r.sealS, 2)} | ${fmt(r.totalS, 2)} |`);
      console.log(`\nfirst byte → sealed ÷ the upload alone: ${fmt(streamed.totalS / afterUpload.uploadS, 2)} (goal ≤ 1.1); upload throughput with in-stream reading ÷ without: ${fmt((100 * afterUpload.uploadS) / streamed.uploadS, 0)} % (goal ≥ 80 %)\n`);
    }
    console.log('| dossier | export ZIP MB | beside OCR: first byte ms | MB/s | through a signed link: first byte ms | MB/s | no background work (median of 3): first byte ms | seconds | MB/s | same bytes as one file over HTTP (median of 3) MB/s | cp MB/s |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of runs) {
      const rate = (d: { bytes: number; seconds: number }) => fmt(mb(d.bytes) / d.seconds, 0);
      const [e, l, i] = [r.exportZip, r.viaLink, r.idleExport];
      console.log(
        `| ${r.label} | ${fmt(mb(e.bytes), 0)} | ${fmt(e.firstByteMs)} | ${rate(e)} | ${fmt(l.firstByteMs)} | ${rate(l)} | ${fmt(i.firstByteMs)} | ${fmt(i.seconds, 2)} | ${rate(i)} | ${rate(r.plainHttp)} | ${fmt(mb(r.size) / r.base.cp, 0)} |`,
      );
    }
    console.log('');
    console.log(`| dossier | sealed → every page searchable s | pages read / failed | gateway CPU-s per page, sealed → searchable (own + tesseract children) | gateway peak RSS MB (kernel VmHWM) | sampled peak RSS MB: gateway / with its tesseract children | export CPU ms per MB, idle (median-of-3 runs' total) |`);
    console.log('|---|---|---|---|---|---|---|');
    for (const r of runs) {
      const o = r.ocr;
      console.log(`| ${r.label} | ${o ? fmt(o.sealedToSearchableS) : 'not waited for'} | ${o ? `${o.done} / ${o.failed}` : ''} | ${o?.cpuPerPage ? `${fmt(o.cpuPerPage.own + o.cpuPerPage.children, 2)} (${fmt(o.cpuPerPage.own, 2)} + ${fmt(o.cpuPerPage.children, 2)})` : ''} | ${fmt(mb(r.rss ?? 0), 0)} | ${fmt(mb(r.sampled.self), 0)} / ${fmt(mb(r.sampled.withChildren), 0)} | ${r.exportCpuMsPerMb === null ? '' : fmt(r.exportCpuMsPerMb, 1)} |`);
    }
    console.log(`\nload average at the end: ${os.loadavg().map((l) => fmt(l, 2)).join(', ')}\n`);
    console.log('| dossier | ingest phases (ms) |');
    console.log('|---|---|');
    for (const r of runs) console.log(`| ${r.label} | ${Object.entries(r.phases).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
    console.log('');
  }
  if (!only || only === 'migrate') {
    const m = await migrateRun((await ensureSyntheticDossier({ dir: cacheDir, pages })).pageFiles);
    console.log('| dossier migrate, concurrency 4 | cases | dossiers sealed | pages | MB | seconds | cases/min | MB/s |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(`| sample archive | ${m.cases} | ${m.sealed}/${m.dossiers} | ${m.pages} | ${fmt(mb(m.bytes))} | ${fmt(m.seconds)} | ${fmt(m.cases / (m.seconds / 60))} | ${fmt(mb(m.bytes) / m.seconds)} |\n`);
  }
  if (!only || only === 'pdf-memory') {
    const sizes = args['pdf-pages']!.split(',').map(Number);
    await pdfMemoryBench({ cacheDir, runDir, fixturePages: pages, sizes, gatewayMax: Number(args['pdf-gateway-max']) });
  }
  if (!only || only === 'search') {
    await searchBench({ indexPages: pages, ocrPages: Number(args['ocr-pages']), cacheDir, runDir });
  }
  if (!only || only === 'ocr') {
    await ocrBench({ syntheticPages: Number(args['ocr-synthetic']), corpusDir: args.corpus, runDir, skipJs: args['ocr-skip-js'] });
  }
  if (!only || only === 'render') await renderBench({ corpusDir: args.corpus, runDir });
  // Supervision and integration on PostgreSQL: stats latency, the overdue check, webhook deliveries.
  if (!only || only === 'supervision') await supervisionBench({ databaseUrl: args['database-url']!, transfers: Number(args.transfers), deliveries: Number(args.deliveries) });
  if (!only || only === 's3') {
    await objectStoreBench({ cacheDir, runDir, pages: Number(args['s3-pages']) });
  }
  if (!only || only === 'suites') {
    // The pages of the benchmark dossier (its generator's cache), the first `pages` of them.
    process.stdout.write(`${await suitesBench({ pagesDir: path.join(cacheDir, 'pages'), pages, runDir, rounds: Number(args.rounds) })}\n`);
  }
  if (!only || only === 'gateways') {
    await twoGatewaysBench({ cacheDir, runDir, uploads: Number(args.uploads), databaseUrl: args['database-url']! });
  }
  if (!only || only === 'workers') {
    await workersScaleBench({ cacheDir, runDir, pages: Number(args['worker-pages']), maxWorkers: Number(args['max-workers']), databaseUrl: args['database-url']! });
  }
  if (only === 'ranged') await rangedReadBench({ cacheDir, runDir, pages });
  if (only === 'scale-out') {
    const searchable = args['searchable-pages'] ? Number(args['searchable-pages']) : undefined;
    await scaleOutBench({ cacheDir, runDir, pages, maxWorkers: Number(args['max-workers']), databaseUrl: args['database-url']!, searchable });
  }
  if (!only || only === 'stream') await streamIngestBench({ cacheDir, runDir, pages, ...(args['cpu-prof'] ? { cpuProfDir: path.resolve(args['cpu-prof']) } : {}) });
  if (!only || only === 'download') await downloadBench({ cacheDir, runDir, pages, keep: args.keep! });
  if (!only || only === 'exportpdf') printExportPdf(await exportPdfRuns({ cacheDir, pages }));
  if (!only || only === 'web') await webBench();
  if (!only || only === 'upload') {
    const r = await rawUploadRun();
    const bare = await bareTusRun({ runDir }, r.file);
    console.log('| 1 GiB random bytes | seconds | MB/s | server peak RSS MB |');
    console.log('|---|---|---|---|');
    console.log(`| tus upload, one PATCH | ${fmt(r.uploadS, 2)} | ${fmt(mb(r.size) / r.uploadS, 0)} | ${fmt(mb(r.rss ?? 0), 0)} |`);
    console.log(`| bare @tus/server + @tus/file-store, one PATCH | ${fmt(bare, 2)} | ${fmt(mb(r.size) / bare, 0)} | |`);
    console.log(`| gateway ÷ bare tus | ${fmt(r.uploadS / bare, 2)} | | |`);
    console.log(`| tus upload, 64 MiB chunks | ${fmt(r.chunkedS, 2)} | ${fmt(mb(r.size) / r.chunkedS, 0)} | |`);
    console.log(`| cp | ${fmt(r.base.cp, 2)} | ${fmt(mb(r.size) / r.base.cp, 0)} | |`);
    console.log(`| cp + sync | ${fmt(r.base.cpSync, 2)} | ${fmt(mb(r.size) / r.base.cpSync, 0)} | |`);
    console.log(`| sha256sum | ${fmt(r.base.sha, 2)} | ${fmt(mb(r.size) / r.base.sha, 0)} | |`);
  }
}

await main();
