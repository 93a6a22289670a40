/**
 * OCR memory over a long run (issue 17): tesseract.js's WASM heaps grow to the largest page a slot
 * has read and never shrink, so a slot is replaced after OCR_PAGES_PER_SLOT pages. Over a run of
 * pages that mixes small pages with large ones, this process's resident memory (sampled every
 * 100 ms; the slots are its worker threads) after the first recycling stays under the peak of the
 * slots before it plus a margin: it does not grow with the number of pages read.
 *
 * OCR_MEMORY_PAGES sets the run's length (default 120: about a minute and a half here; 5,000 for
 * the long run of RELIABILITY.md). The default engine where Debian's tesseract is installed (the
 * native CLI) holds no heap in the gateway at all: each batch of pages is a process that ends.
 *
 * Known failing (RELIABILITY.md, "OCR memory"): the slots are replaced, yet the RSS grew from 424 to
 * 712 MB over 120 pages; kept out of `npm run test:load` until the cause is found and fixed.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import sharp from 'sharp';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { renderTextLines } from '../../scripts/bench/fixtures/ocr-pages.js';
import { recordCase, recordFigures } from './results.js';

const PAGES = Number(process.env.OCR_MEMORY_PAGES ?? 120);
const PER_SLOT = 20;
/** Room above the pre-recycling peak for the allocator's slack and a slot being replaced. */
const MARGIN_MB = 96;

const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
};

describe('OCR memory: recycled tesseract.js slots keep a long run bounded @load', function () {
  this.timeout(Math.max(600_000, PAGES * 5_000));

  it(`reads ${PAGES} pages (small and large mixed) with the resident memory flat after the first recycling`, async () => {
    const small = await renderTextLines(['Witness statement, page of record', 'signed and dated'], 'DejaVu Sans');
    // A large page every tenth: an A4 scan at 300 dpi grows a slot's heaps to its size.
    const large = await sharp({ create: { width: 2480, height: 3508, channels: 3, background: '#fff' } })
      .composite([{ input: small, top: 400, left: 200 }, { input: small, top: 1800, left: 300 }])
      .jpeg({ quality: 80 })
      .toBuffer();
    const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1, pagesPerSlot: PER_SLOT });
    const samples: { page: number; mb: number }[] = [];
    let page = 0;
    const sampler = setInterval(() => samples.push({ page, mb: rssMb() }), 100);
    const t0 = performance.now();
    try {
      for (page = 1; page <= PAGES; page++) {
        const r = await engine.recognize(page % 10 === 0 ? large : small);
        expect(r.text, `page ${page}`).to.match(/statement/i);
      }
    } finally {
      clearInterval(sampler);
      await engine.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const beforeRecycle = Math.max(...samples.filter((s) => s.page <= PER_SLOT).map((s) => s.mb));
    const after = samples.filter((s) => s.page > PER_SLOT);
    const peakAfter = Math.max(...after.map((s) => s.mb));
    const lastSlot = Math.max(...samples.filter((s) => s.page > PAGES - PER_SLOT).map((s) => s.mb));
    // A slot is replaced as soon as it has read its share, the last one too.
    expect(engine.recycled).to.equal(Math.floor(PAGES / PER_SLOT));
    console.log(`      OCR memory: first slot's peak ${beforeRecycle.toFixed(0)} MB, after the first recycling ${peakAfter.toFixed(0)} MB, last slot ${lastSlot.toFixed(0)} MB`);
    expect(peakAfter, `peak after the first recycling ${peakAfter.toFixed(0)} MB, first slot's ${beforeRecycle.toFixed(0)} MB`).to.be.at.most(beforeRecycle + MARGIN_MB);
    const figures = {
      ocrMemoryPages: PAGES, ocrMemoryPagesPerSlot: PER_SLOT, ocrMemoryRecycled: engine.recycled,
      ocrMemoryFirstSlotPeakMb: Math.round(beforeRecycle), ocrMemoryPeakAfterMb: Math.round(peakAfter), ocrMemoryLastSlotPeakMb: Math.round(lastSlot),
      ocrMemorySeconds: Math.round(seconds),
    };
    recordFigures('load', figures);
    recordCase('load', `OCR memory: ${PAGES} pages through tesseract.js, a slot recycled every ${PER_SLOT}`, `${engine.recycled} recycled; RSS peak ${beforeRecycle.toFixed(0)} MB before the first recycling, ${peakAfter.toFixed(0)} MB after it, ${lastSlot.toFixed(0)} MB in the last slot`, seconds * 1000);
  });
});
