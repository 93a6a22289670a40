/**
 * OCR memory over a long run (issue 17): tesseract.js's WASM heaps grow to the largest page a slot
 * has read and never shrink, so a slot is replaced after OCR_PAGES_PER_SLOT pages; each slot is a
 * child process (ocr/tesseract-js-process.ts), killed when it is replaced, so all it held goes
 * back. Over a run of pages that mixes small pages with large ones, sampled every 100 ms:
 *  - the OCR workers' memory: each slot process's peak RSS (VmHWM). Every slot reads the same mix
 *    (two large pages in its twenty), so a later slot peaks no higher than the first plus a margin;
 *  - this process's RSS (image preparation with sharp, the queue, the IPC): after the first
 *    recycling no higher than its peak before it plus the same margin.
 * Neither may grow with the number of pages read.
 *
 * OCR_MEMORY_PAGES sets the run's length (default 120: about a minute and a half on a quiet
 * machine; 1,000 or 5,000 for the long runs of RELIABILITY.md). The default engine where Debian's
 * tesseract is installed (the native CLI) holds no heap in the gateway at all: each batch of pages
 * is a process that ends.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import sharp from 'sharp';
import { configFromEnv } from '../../runtime/config.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { renderTextLines } from '../../scripts/bench/fixtures/ocr-pages.js';
import { recordCase, recordFigures } from './results.js';

const PAGES = Number(process.env.OCR_MEMORY_PAGES ?? 120);
const PER_SLOT = 20;
/** Room above the first slot's (or the first period's) peak for the allocator's slack. */
const MARGIN_MB = 96;
const MB = 2 ** 20;

const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / MB;
};
const max = (xs: number[]) => Math.max(...xs);

describe('OCR memory: recycled tesseract.js slot processes keep a long run bounded @load', function () {
  this.timeout(Math.max(600_000, PAGES * 5_000));

  it(`reads ${PAGES} pages (small and large mixed) with each slot process's peak and this process's RSS flat after the first recycling`, async () => {
    const small = await renderTextLines(['Witness statement, page of record', 'signed and dated'], 'DejaVu Sans');
    // A large page every tenth: an A4 scan at 300 dpi grows a slot's heaps to its size.
    const large = await sharp({ create: { width: 2480, height: 3508, channels: 3, background: '#fff' } })
      .composite([{ input: small, top: 400, left: 200 }, { input: small, top: 1800, left: 300 }])
      .jpeg({ quality: 80 })
      .toBuffer();
    // The slot processes' environment as the gateway gives it (MALLOC_ARENA_MAX=2).
    const env = configFromEnv({ OCR_ENGINE: 'tesseract.js' }).ocr.processEnv;
    const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1, pagesPerSlot: PER_SLOT, env });
    const parent: { page: number; mb: number }[] = [];
    /** Each slot process's peak RSS, in the order they started. */
    const slotPeaks = new Map<number, number>();
    let page = 0;
    const sample = () => {
      parent.push({ page, mb: rssMb() });
      for (const m of engine.workerMemory()) slotPeaks.set(m.pid, Math.max(slotPeaks.get(m.pid) ?? 0, m.peakBytes / MB));
    };
    const sampler = setInterval(sample, 100);
    const t0 = performance.now();
    try {
      for (page = 1; page <= PAGES; page++) {
        const r = await engine.recognize(page % 10 === 0 ? large : small);
        expect(r.text, `page ${page}`).to.match(/statement/i);
        sample();
      }
    } finally {
      clearInterval(sampler);
      await engine.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const afterClose = rssMb();
    // A slot is replaced as soon as it has read its share, the last one too.
    expect(engine.recycled).to.equal(Math.floor(PAGES / PER_SLOT));
    const [firstSlot = NaN, ...laterSlots] = [...slotPeaks.values()];
    expect(slotPeaks.size, 'slot processes seen').to.equal(Math.ceil(PAGES / PER_SLOT));
    const laterSlotPeak = max(laterSlots);
    const parentBefore = max(parent.filter((s) => s.page <= PER_SLOT).map((s) => s.mb));
    const parentAfter = max(parent.filter((s) => s.page > PER_SLOT).map((s) => s.mb));
    const parentLast = max(parent.filter((s) => s.page > PAGES - PER_SLOT).map((s) => s.mb));
    const mb = (x: number) => x.toFixed(0);
    console.log(`      OCR worker memory: first slot's peak ${mb(firstSlot)} MB, later slots' ${mb(Math.min(...laterSlots))}–${mb(laterSlotPeak)} MB, last slot ${mb(laterSlots.at(-1) ?? NaN)} MB (${slotPeaks.size} slots)`);
    // The parent's peak in each tenth of the run: a plateau, or a creep, shows here.
    const tenths = Array.from({ length: 10 }, (_, i) => max(parent.filter((p) => p.page > (i * PAGES) / 10 && p.page <= ((i + 1) * PAGES) / 10).map((p) => p.mb)));
    console.log(`      this process's peak in each tenth of the pages: ${tenths.map(mb).join(', ')} MB`);
    console.log(`      this process: peak ${mb(parentBefore)} MB before the first recycling, ${mb(parentAfter)} MB after it, ${mb(parentLast)} MB in the last slot's pages, ${mb(afterClose)} MB after close; ${seconds.toFixed(0)} s`);
    expect(engine.workerMemory(), 'slot processes left after close').to.deep.equal([]);
    expect(laterSlotPeak, `later slots' peak ${mb(laterSlotPeak)} MB, the first slot's ${mb(firstSlot)} MB`).to.be.at.most(firstSlot + MARGIN_MB);
    expect(parentAfter, `this process's peak after the first recycling ${mb(parentAfter)} MB, before it ${mb(parentBefore)} MB`).to.be.at.most(parentBefore + MARGIN_MB);
    const figures = {
      ocrMemoryPages: PAGES, ocrMemoryPagesPerSlot: PER_SLOT, ocrMemoryRecycled: engine.recycled,
      ocrMemoryFirstSlotPeakMb: Math.round(firstSlot), ocrMemoryLaterSlotsPeakMb: Math.round(laterSlotPeak), ocrMemoryLastSlotPeakMb: Math.round(laterSlots.at(-1) ?? NaN),
      ocrMemoryParentPeakBeforeMb: Math.round(parentBefore), ocrMemoryParentPeakAfterMb: Math.round(parentAfter), ocrMemoryParentAfterCloseMb: Math.round(afterClose),
      ocrMemorySeconds: Math.round(seconds),
    };
    recordFigures('load', figures);
    recordCase('load', `OCR memory: ${PAGES} pages through tesseract.js, a slot process recycled every ${PER_SLOT}`, `${engine.recycled} recycled; slot peak RSS ${mb(firstSlot)} MB first, ≤ ${mb(laterSlotPeak)} MB later; this process ${mb(parentBefore)} MB before the first recycling, ${mb(parentAfter)} MB after`, seconds * 1000);
  });
});
