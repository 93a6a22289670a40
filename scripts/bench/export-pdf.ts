/**
 * Searchable PDF export throughput: the synthetic dossier's JPEG pages, each with a words
 * document of its known text (~250 words), read from disk one by one as the route does and
 * written by the streaming writer to /dev/null. Uses the 5,253-page fixture when it is already
 * cached; otherwise 500 pages are rendered and, for the full-size run, read over and over
 * (the writer's work per page does not depend on which page it is).
 *
 *   node --import tsx scripts/bench/export-pdf.ts [--pages 5253]   (or npm run bench -- --only exportpdf)
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { searchablePdf, type PdfPageInput } from '../../dossier/evidence/searchable-pdf.js';
import type { WordsDocument } from '../../dossier/ports/page-text.js';
import { ensureSyntheticDossier, type SyntheticDossier } from './fixtures/generate.js';
import { PAGE_HEIGHT, PAGE_WIDTH } from './fixtures/synthetic-pages.js';

export interface ExportPdfResult {
  label: string;
  pages: number;
  outBytes: number;
  seconds: number;
  firstByteMs: number;
  rssBefore: number;
  rssPeak: number;
  /** CPU time of this process (user + system) during the run: less sensitive to a busy machine. */
  cpuSeconds: number;
}

/** Word boxes laid out like the rendered text: one line per entry, words left to right. */
function wordsFor(lines: readonly string[]): WordsDocument {
  const words: { text: string; confidence: number; box: [number, number, number, number] }[] = [];
  lines.forEach((line, row) => {
    let x = 120;
    for (const text of line.split(/\s+/).filter(Boolean)) {
      const width = text.length * 13;
      words.push({ text, confidence: 93, box: [x, 110 + row * 30, width, 24] });
      x += width + 10;
    }
  });
  return { v: 1, unit: 'px', width: PAGE_WIDTH, height: PAGE_HEIGHT, words };
}

async function run(label: string, fixture: SyntheticDossier, count: number): Promise<ExportPdfResult> {
  const distinct = fixture.pageFiles.length;
  const layers = fixture.manifest.pages.map((p) => wordsFor(p.lines));
  async function* pages(): AsyncGenerator<PdfPageInput> {
    for (let i = 0; i < count; i++) yield { bytes: await readFile(fixture.pageFiles[i % distinct]!), mediaType: 'image/jpeg', words: layers[i % distinct]! };
  }
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  let outBytes = 0;
  let firstByteMs = -1;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const counted = async function* () {
    for await (const chunk of searchablePdf(pages(), { id: Buffer.alloc(32, 1), title: 'bench' })) {
      if (firstByteMs < 0) firstByteMs = performance.now() - t0;
      outBytes += chunk.length;
      yield chunk;
    }
  };
  await pipeline(Readable.from(counted(), { objectMode: false }), fs.createWriteStream('/dev/null'));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  return { label, pages: count, outBytes, seconds, firstByteMs, rssBefore, rssPeak, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

export async function exportPdfRuns(options: { cacheDir: string; pages: number }): Promise<ExportPdfResult[]> {
  const silent = () => {};
  const full = fs.existsSync(path.join(options.cacheDir, 'complete.json'))
    ? await ensureSyntheticDossier({ dir: options.cacheDir, pages: options.pages, log: silent }).catch(() => null)
    : null;
  if (full) return [await run(`${options.pages} cached pages`, full, options.pages)];
  const small = await ensureSyntheticDossier({ dir: path.join(path.dirname(options.cacheDir), 'bench-exportpdf'), pages: 500 });
  return [await run('500 pages', small, 500), await run(`${options.pages} pages (the 500, read in turn)`, small, options.pages)];
}

export function printExportPdf(results: readonly ExportPdfResult[]): void {
  const mb = (b: number) => b / 1e6;
  console.log('| searchable PDF export (writer → /dev/null) | pages | output MB | seconds | MB/s | pages/s | CPU ms/page | first byte ms | RSS before MB | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.label} | ${r.pages} | ${mb(r.outBytes).toFixed(0)} | ${r.seconds.toFixed(2)} | ${(mb(r.outBytes) / r.seconds).toFixed(0)} | ${(r.pages / r.seconds).toFixed(0)} | ${((r.cpuSeconds * 1000) / r.pages).toFixed(2)} | ${r.firstByteMs.toFixed(1)} | ${(r.rssBefore / 2 ** 20).toFixed(0)} | ${(r.rssPeak / 2 ** 20).toFixed(0)} |`,
    );
  }
  console.log('');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { pages: { type: 'string', default: '5253' } } });
  printExportPdf(await exportPdfRuns({ cacheDir: path.resolve('.cache/bench'), pages: Number(values.pages) }));
}
