/**
 * `npm run bench`: the 5,253-page dossier (ZIP of JPEG, then the same pages as one PDF) uploaded
 * over loopback with tus-js-client to a gateway process (the compiled build, embedded default),
 * timed from upload start to sealed and to every thumbnail, beside `cp` and `sha256sum` of the
 * same bytes; then a 1 GB upload of random bytes against `cp`. Prints markdown tables.
 *
 *   npm run bench -- [--pages N] [--only zip|pdf|migrate|upload|search] [--ocr-pages N] [--keep]
 *
 * `--only ocr [--ocr-synthetic N] [--corpus DIR]`: OCR pages/minute and CER, tesseract.js 1 and 2 workers beside the
 * native tesseract CLI, on N synthetic pages (default 20), the corpus images and a Chinese page.
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
 * `--only stream`: in-stream ingest, the ZIP read while it arrives against after its last byte, and
 * the upload against a bare @tus/server (scripts/bench/stream-ingest.ts).
 *
 * `--only gateways [--uploads N]`: N concurrent uploads through two gateways and a worker on
 * PostgreSQL and s3rver, PATCHes alternating between the gateways (scripts/bench/two-gateways.ts).
 *
 * `--only workers [--worker-pages N] [--max-workers M]`: OCR pages per minute with 1…M `dossier worker`
 * processes on PostgreSQL, and the blob and database bytes a page costs (scripts/bench/workers-scale.ts).
 * `--only suites [--pages N]`: SM3 vs SHA-256, SM2 vs Ed25519, and the ingest of the benchmark
 * dossier (its first N pages) under each SIGNATURE_SUITE, alternating (scripts/bench/suites.ts).
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
import { execFile } from 'node:child_process';
import { searchBench } from './search.js';
import { ocrBench } from './ocr.js';
import { renderBench } from './render.js';
import { supervisionBench } from './supervision.js';
import { objectStoreBench } from './object-store.js';
import { twoGatewaysBench } from './two-gateways.js';
import { workersScaleBench } from './workers-scale.js';
import { suitesBench } from './suites.js';
import { bareTusRun, streamIngestBench } from './stream-ingest.js';
import { pdfMemoryBench } from './pdf-memory.js';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '5253' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'ocr-pages': { type: 'string', default: '100' },
    'ocr-synthetic': { type: 'string', default: '20' },
    corpus: { type: 'string' },
    transfers: { type: 'string', default: '100000' },
    deliveries: { type: 'string', default: '2000' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    's3-pages': { type: 'string', default: '300' },
    uploads: { type: 'string', default: '50' },
    'worker-pages': { type: 'string', default: '24' },
    'max-workers': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    'pdf-pages': { type: 'string', default: '1000,5253,20000' },
    'pdf-gateway-max': { type: 'string', default: '5253' },
  },
});
const pages = Number(args.pages);
const cacheDir = path.resolve('.cache/bench');
const runDir = path.resolve('.cache/bench-run');

interface DossierJson {
  id: string;
  status: string;
  pageCount: number | null;
  progress: { pages: number; thumbnails: number };
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
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, undefined, { compiled: true });
  await first.kill('SIGTERM');
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }, undefined, { compiled: true });
  const token = await tokenFor(dataDir, 'police-bench', 'clerk');
  return { server, token, dataDir };
}

async function dossierRun(label: string, file: string, env: Record<string, string> = {}) {
  const size = (await fs.stat(file)).size;
  const base = await baseline(file);
  const fresh = await freshServer(env);
  let server = fresh.server;
  const { token, dataDir } = fresh;
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
    const thumbs = await pollUntil(get, (d) => d.progress.thumbnails >= (d.pageCount ?? 0), 250);
    const thumbsS = (performance.now() - t0) / 1000;
    // The receiver's side: the export ZIP with a bearer token, then through a signed link, while
    // this gateway OCRs the dossier it just sealed (both cores busy)…
    const exportZip = await timeDownload(`${server.url}/api/dossiers/${id}/export`, token);
    const link = await api<{ url: string }>(server.url, token, 'POST', `/api/dossiers/${id}/links`, {});
    const viaLink = await timeDownload(link.url, null);
    const sealedLine = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    const phases = sealedLine ? (JSON.parse(sealedLine).phases as Record<string, number>) : {};
    const rss = await server.peakRss();
    // …then on a gateway with no background work (the OCR left to `dossier worker` processes),
    // beside the ceiling: the fixture's bytes as one file over plain HTTP, with the same client.
    await server.kill('SIGTERM');
    server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', WORKERS: 'none' }, undefined, { compiled: true });
    // Three rounds, alternated, the median of each: single downloads on two cores swing ±30 %.
    const idleRuns: Download[] = [];
    const plainRuns: Download[] = [];
    for (let round = 0; round < 3; round++) {
      idleRuns.push(await timeDownload(`${server.url}/api/dossiers/${id}/export`, token));
      plainRuns.push(await timeFileOverHttp(file));
    }
    const [idleExport, plainHttp] = [median(idleRuns), median(plainRuns)];
    return {
      phases,
      label, size, pageCount: sealed.value.pageCount ?? 0, uploadS, sealS: totalS - uploadS, totalS, thumbsS,
      thumbsAfterSealS: thumbs.seconds, rss, rssAtSeal, base, exportZip, viaLink, idleExport, plainHttp,
    };
  } finally {
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
    const fixture = await ensureSyntheticDossier({ dir: cacheDir, pages });
    const { atRestBench } = await import('./at-rest.js');
    await atRestBench({ runDir, zipPath: fixture.zipPath, size: (await fs.stat(fixture.zipPath)).size });
  }
  if (!only || only === 'zip' || only === 'pdf') {
    const t = performance.now();
    const fixture = await ensureSyntheticDossier({ dir: cacheDir, pages });
    console.log(`fixture: ${pages} pages, ${fmt(mb(fixture.totalBytes), 0)} MB of JPEG (ready in ${fmt((performance.now() - t) / 1000)} s)\n`);
    const runs = [];
    if (!only || only === 'zip') runs.push(await dossierRun('ZIP, read while it arrives', fixture.zipPath, { UPLOAD_STREAM_INGEST: 'true' }));
    // The same ZIP read after its last byte (in-stream ingest off): the upload without the reading.
    if (!only || only === 'zip') runs.push(await dossierRun('ZIP, read after upload', fixture.zipPath, { UPLOAD_STREAM_INGEST: 'false' }));
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
    const streamed = runs.find((r) => r.label === 'ZIP');
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
    await ocrBench({ syntheticPages: Number(args['ocr-synthetic']), corpusDir: args.corpus, runDir });
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
  if (!only || only === 'stream') await streamIngestBench({ cacheDir, runDir, pages });
  if (!only || only === 'exportpdf') printExportPdf(await exportPdfRuns({ cacheDir, pages }));
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
