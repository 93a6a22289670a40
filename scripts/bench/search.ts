/**
 * Search benchmark (`npm run bench -- --only search`):
 *
 * 1. Latency: an index of N pages (default 5,253) on PGlite, filled through the repositories from
 *    the synthetic pages' known text plus one generated line of Simplified Chinese per page: OCR
 *    of 5,253 pages would take hours here, and what is measured is the index, not the OCR. Latin
 *    and CJK queries (rare and common words, phrases, AND), each through the same path as
 *    GET /api/search minus HTTP (query terms → tsquery, visibility join, rank, snippets): p50/p95.
 * 2. Sealed → fully searchable: a dossier of M synthetic A4 scans (default 100) uploaded to a
 *    gateway process (the compiled build) whose workers OCR it with tesseract.js, timed from
 *    `sealed` to every page done; the measured pages/minute extrapolated to 5,253 pages, and per
 *    core (the rate divided by the OCR workers, which are as many as the cores).
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pageText, mulberry32, hash32, uniqueToken } from './fixtures/synthetic-pages.js';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, pollUntil, upload } from './measure.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { openPglite } from '../../storage/db/pglite-database.js';
import { migrate } from '../../storage/db/migrate.js';
import { SqlCaseRepository } from '../../storage/db/case-repository.js';
import { SqlDossierRepository } from '../../storage/db/dossier-repository.js';
import { SqlPageTextRepository } from '../../storage/db/page-text-repository.js';
import { SqlPageSearch } from '../../storage/db/page-search-repository.js';
import { tsvectorLiteral } from '../../ocr/index-terms.js';
import { searchPages } from '../../ocr/search-pages.js';

const ZH_WORDS = ['被告人', '证人', '车辆', '盗窃', '北京市', '朝阳区', '上海', '火车站', '财物', '现场', '笔录', '询问', '公安局', '检察院', '法院', '判决', '起诉书', '证据', '鉴定', '扣押', '手机', '银行卡', '转账', '监控', '录像', '住所', '门锁', '损坏', '报案', '民警'];

/** A deterministic line of Chinese for page `index`: eight words of the list above. */
export function chineseLine(index: number): string {
  const rnd = mulberry32(hash32(`zh:${index}`));
  return Array.from({ length: 8 }, () => ZH_WORDS[Math.floor(rnd() * ZH_WORDS.length)]).join('') + '。';
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export interface LatencyResult {
  pages: number;
  fillSeconds: number;
  rows: { label: string; queries: number; p50: number; p95: number; meanHits: number }[];
}

export async function searchLatency(options: { pages: number; rounds?: number; dir: string }): Promise<LatencyResult> {
  const dir = await fs.mkdtemp(path.join(options.dir, 'search-index-'));
  const db = await openPglite(dir);
  try {
    await migrate(db);
    const agency = 'police-bench';
    const c = await new SqlCaseRepository(db).create({ id: randomUUID(), number: 'BENCH-SEARCH', title: '', agency, createdBy: 'bench' });
    const dossiers = new SqlDossierRepository(db);
    const texts = new SqlPageTextRepository(db);
    const dossierId = `bench-${randomUUID()}`;
    await dossiers.create({ id: dossierId, caseId: c.id, agency, uploadedBy: 'bench', filename: 'bench.zip', title: null, declaredBytes: null });
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    await dossiers.putPages(Array.from({ length: options.pages }, (_, k) => ({
      dossierId, index: k + 1, sha256: sha(`page ${k + 1}`), size: 1, mediaType: 'image/jpeg' as const,
      width: null, height: null, sourceName: `${k + 1}.jpg`, signature: 'bench', thumbnailSha256: null,
    })));
    await db.query(`UPDATE dossiers SET status = 'sealed', page_count = $2 WHERE id = $1`, [dossierId, options.pages]);
    const filled = performance.now();
    for (let i = 1; i <= options.pages; i++) {
      const text = [...pageText(i, options.pages), chineseLine(i)].join('\n');
      await texts.markDone({
        dossierId, index: i, source: 'ocr', confidence: 90, textSha256: sha(text), wordsSha256: sha(`words ${i}`),
        engine: 'bench', text, terms: tsvectorLiteral(text),
      });
    }
    const fillSeconds = (performance.now() - filled) / 1000;
    await db.query('ANALYZE page_search');
    const search = new SqlPageSearch(db);
    const n = options.pages;
    const groups: { label: string; queries: string[] }[] = [
      { label: 'Latin, unique token (1 page)', queries: [1, 2, 3, 4, 5, 6, 7, 8].map((k) => uniqueToken(1 + Math.floor(((k * 977) % 1000) / 1000 * n))) },
      { label: 'Latin, common word', queries: ['Kowalski', 'vehicle', 'Lyon', 'statement', 'payment', 'Officer'] },
      { label: 'Latin, two words (AND)', queries: ['blue vehicle', 'Novak Graz', 'sealed envelope', 'Skoda plate'] },
      { label: 'CJK, 2–3 characters', queries: ['盗窃', '证人', '火车站', '银行卡', '检察院'] },
      { label: 'CJK, 4–6 characters', queries: ['北京市朝阳', '盗窃财物', '监控录像', '被告人证人'] },
    ];
    const rounds = options.rounds ?? 40;
    const rows: LatencyResult['rows'] = [];
    for (const g of groups) {
      const times: number[] = [];
      let hits = 0;
      for (const q of g.queries) await searchPages(search, { agency, q, limit: 20 }); // warm
      for (let r = 0; r < rounds; r++) {
        for (const q of g.queries) {
          const t = performance.now();
          hits += (await searchPages(search, { agency, q, limit: 20 })).length;
          times.push(performance.now() - t);
        }
      }
      times.sort((a, b) => a - b);
      rows.push({ label: g.label, queries: times.length, p50: percentile(times, 50), p95: percentile(times, 95), meanHits: hits / times.length });
    }
    return { pages: options.pages, fillSeconds, rows };
  } finally {
    await db.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface SearchableResult {
  pages: number;
  workers: number;
  sealedS: number;
  searchableS: number;
  failed: number;
  pagesPerMinute: number;
}

interface DossierJson {
  status: string;
  pageCount: number | null;
  sealedAt: string | null;
  progress: { ocr: { done: number; failed: number; total: number } | null };
}

export async function sealedToSearchable(options: { pages: number; cacheDir: string; runDir: string; workers?: number }): Promise<SearchableResult> {
  const fixture = await ensureSyntheticDossier({ dir: path.join(options.cacheDir, `ocr-${options.pages}`), pages: options.pages });
  const dataDir = path.join(options.runDir, `search-data-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const workers = options.workers ?? os.availableParallelism();
  const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', OCR_WORKERS: String(workers) }, undefined, { compiled: true });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-OCR-${Date.now()}` });
    const t0 = performance.now();
    const url = await upload(server.url, token, fixture.zipPath, { filename: 'ocr.zip', caseId: c.id });
    const id = url.split('/').pop()!;
    const get = () => api<DossierJson>(server.url, token, 'GET', `/api/dossiers/${id}`);
    const sealed = await pollUntil(get, (d) => d.status === 'sealed' || d.status === 'rejected', 100);
    if (sealed.value.status !== 'sealed') throw new Error(`OCR dossier ${sealed.value.status}`);
    const sealedAt = performance.now();
    const done = await pollUntil(get, (d) => !!d.progress.ocr && d.progress.ocr.done + d.progress.ocr.failed >= d.progress.ocr.total, 250, 4 * 3600);
    const searchableS = (performance.now() - sealedAt) / 1000;
    return {
      pages: options.pages,
      workers,
      sealedS: (sealedAt - t0) / 1000,
      searchableS,
      failed: done.value.progress.ocr!.failed,
      pagesPerMinute: options.pages / (searchableS / 60),
    };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** Prints the markdown tables of both measurements. */
export async function searchBench(options: { indexPages: number; ocrPages: number; cacheDir: string; runDir: string }): Promise<void> {
  const lat = await searchLatency({ pages: options.indexPages, dir: options.runDir });
  console.log(`search index: ${lat.pages} pages on PGlite (filled through the repository from the synthetic pages' known text + a Chinese line each, in ${fmt(lat.fillSeconds)} s)\n`);
  console.log('| query kind | queries | p50 ms | p95 ms | hits per query (limit 20) |');
  console.log('|---|---|---|---|---|');
  for (const r of lat.rows) console.log(`| ${r.label} | ${r.queries} | ${fmt(r.p50, 2)} | ${fmt(r.p95, 2)} | ${fmt(r.meanHits)} |`);
  console.log('');
  if (options.ocrPages <= 0) return; // `--ocr-pages 0`: the index latency only
  const s = await sealedToSearchable({ pages: options.ocrPages, cacheDir: options.cacheDir, runDir: options.runDir });
  const perCore = s.pagesPerMinute / s.workers;
  console.log('| sealed → fully searchable | pages | OCR workers | seconds | pages/min | failed | 5,253 pages at this rate | 5,253 pages on one core |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| synthetic A4 scans, tesseract.js eng | ${s.pages} | ${s.workers} | ${fmt(s.searchableS)} | ${fmt(s.pagesPerMinute)} | ${s.failed} | ${fmt(5253 / s.pagesPerMinute)} min | ${fmt(5253 / perCore)} min |\n`);
}
