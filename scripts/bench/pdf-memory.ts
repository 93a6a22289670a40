/**
 * Peak memory of PDF ingest at several sizes (issue 13, "Memory"): img2pdf-shaped PDFs of N
 * pages (the benchmark dossier's JPEGs, repeated past its page count), written once into the
 * bench cache. For each size: the page reader alone (the worker-thread page source the gateway
 * uses, every page hashed and dropped) in a fresh process, its peak RSS (VmHWM) and seconds; and,
 * for sizes up to --pdf-gateway-max pages, the PDF uploaded to a fresh gateway (the compiled build)
 * with the gateway's peak RSS read the moment the dossier is sealed (before OCR fills it).
 *
 *   npm run bench -- --only pdf-memory [--pdf-pages 1000,5253,20000] [--pdf-gateway-max 5253] [--pages N]
 *
 * 20,000 pages of the benchmark's JPEGs are a 4.6 GB PDF: more than the 4 GiB that the
 * whole-file parse could take.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeJpegPdf } from './fixtures/archives.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { spawnServer, tokenFor } from '../support/server-process.js';

const run = promisify(execFile);

export interface PdfMemoryOptions {
  readonly cacheDir: string;
  readonly runDir: string;
  /** The benchmark dossier's page count (its cached JPEGs are the pages). */
  readonly fixturePages: number;
  readonly sizes: readonly number[];
  readonly gatewayMax: number;
}

/** The reader in a process of its own: the compiled page source, as the gateway runs it. */
const READER = `
const { workerPageSource } = await import(process.argv[2]);
const { DEFAULT_LIMITS } = await import(process.argv[3]);
const source = workerPageSource();
const t0 = performance.now();
let pages = 0, bytes = 0;
for await (const page of source(process.argv[4], DEFAULT_LIMITS)) { pages++; bytes += page.bytes.length; }
const seconds = (performance.now() - t0) / 1000;
await source.close();
const status = await (await import('node:fs/promises')).readFile('/proc/self/status', 'utf8');
console.log(JSON.stringify({ pages, bytes, seconds, peak: Number(/VmHWM:\\s+(\\d+) kB/.exec(status)[1]) * 1024 }));
`;

async function readerAlone(file: string, runDir: string) {
  const dist = path.resolve('dist/dossier/pages');
  // A script file, not --eval: the reader's worker thread would inherit --input-type.
  const script = path.join(runDir, 'pdf-reader-peak.mjs');
  await fs.writeFile(script, READER);
  const { stdout } = await run(process.execPath, [script, path.join(dist, 'pages-in-worker.js'), path.join(dist, 'types.js'), file], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { pages: number; bytes: number; seconds: number; peak: number };
}

async function gatewayAtSeal(file: string, runDir: string) {
  const dataDir = path.join(runDir, `pdf-memory-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  // As in run.ts: PGlite's first start (initdb) leaves a large heap behind; measure a restarted gateway.
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  await first.kill('SIGTERM');
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-PDFMEM-${Date.now()}` });
    const t0 = performance.now();
    const id = (await upload(server.url, token, file, { filename: path.basename(file), caseId: c.id })).split('/').pop()!;
    const uploaded = performance.now();
    const sealed = await pollUntil(
      () => api<{ status: string; error?: unknown }>(server.url, token, 'GET', `/api/dossiers/${id}`),
      (d) => d.status === 'sealed' || d.status === 'rejected',
      100,
    );
    const peak = await server.peakRss();
    if (sealed.value.status !== 'sealed') throw new Error(`pdf-memory: ${JSON.stringify(sealed.value.error)}`);
    return { peak: peak ?? 0, uploadS: (uploaded - t0) / 1000, sealS: (performance.now() - uploaded) / 1000 };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function pdfMemoryBench(opts: PdfMemoryOptions): Promise<void> {
  const fixture = await ensureSyntheticDossier({ dir: opts.cacheDir, pages: opts.fixturePages });
  console.log('| PDF pages | PDF MB | reader alone: seconds | reader peak RSS MB | gateway: upload s | upload → sealed s | gateway peak RSS at seal MB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const pages of opts.sizes) {
    const file = path.join(opts.cacheDir, `pdf-memory-${pages}.pdf`);
    if (!(await fs.stat(file).catch(() => null))) {
      const jpegs = Array.from({ length: pages }, (_, i) => fixture.pageFiles[i % fixture.pageFiles.length]!);
      await writeJpegPdf(jpegs, file);
    }
    const size = (await fs.stat(file)).size;
    const reader = await readerAlone(file, opts.runDir);
    if (reader.pages !== pages) throw new Error(`pdf-memory: ${reader.pages} pages read of ${pages}`);
    const gw = pages <= opts.gatewayMax ? await gatewayAtSeal(file, opts.runDir) : null;
    console.log(
      `| ${pages} | ${fmt(mb(size), 0)} | ${fmt(reader.seconds)} | ${fmt(mb(reader.peak), 0)} | ${gw ? fmt(gw.uploadS) : '–'} | ${gw ? fmt(gw.sealS) : '–'} | ${gw ? fmt(mb(gw.peak), 0) : '–'} |`,
    );
  }
  console.log('');
}
