import fs from 'node:fs';
import { expect } from 'chai';
import { cer } from '../../ocr/cer.js';
import { NATIVE_ENV, NATIVE_TESSERACT, NativeTesseractEngine, childNice } from '../../ocr/native-tesseract-engine.js';
import { NativeReader, runCli, type NativeOutput, type NativeRequest } from '../../ocr/native-reader.js';
import { scalePage, turnPage } from '../../ocr/prepare-image.js';
import { splitTsvPages, wordsFromTsv } from '../../ocr/tsv.js';
import { chinesePage, englishPage, renderTextLines } from '../../scripts/bench/fixtures/ocr-pages.js';

const present = fs.existsSync(NATIVE_TESSERACT);
const outputs = ['--psm', '3', '-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_tsv=1'];
const ARGS = ['-l', 'eng', ...outputs];

describe('OCR: the native CLI reads waiting pages in one process (native-reader.ts)', function () {
  this.timeout(180_000);

  it('cuts a list\'s TSV into its pages by page number', () => {
    const row = (page: number, word: number, text: string) => ['5', page, 1, 1, 1, word, 0, 0, 1, 1, 90, text].join('\t');
    const tsv = [
      'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext',
      '1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t', row(1, 1, 'Witness'), row(1, 2, 'statement'),
      '1\t3\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t', row(3, 1, 'Signed'),
    ].join('\n');
    const [first, second, third] = splitTsvPages(tsv, 3);
    expect(first!.split('\n')).to.have.length(3); // the page row and its two words, not the header
    expect(second).to.equal('');
    expect(third!.split('\n').map((r) => r.split('\t')[11])).to.deep.equal(['', 'Signed']);
  });

  describe('with the CLI', function () {
    let pages: { png: Buffer; width: number; height: number; text: string }[];
    before(async function () {
      if (!present) {
        console.warn(`    ! ${NATIVE_TESSERACT} is absent (Debian's tesseract-ocr): native reader suite SKIPPED`);
        this.skip();
      }
      const english = await englishPage();
      const other = ['Evidence log of the second sheet', 'Received by the procuratorate', 'Seal number 4417 intact'];
      const images = [english.image, await renderTextLines(other, 'DejaVu Sans'), english.image];
      const texts = [english.text, other.join('\n'), english.text];
      pages = await Promise.all(images.map(async (image, i) => {
        const p = await turnPage(await scalePage(image, ['eng'], false), 0);
        return { png: p.png, width: p.width, height: p.height, text: texts[i]! };
      }));
    });

    const request = (p: { png: Buffer; width: number; height: number }, signal?: AbortSignal): NativeRequest =>
      ({ png: p.png, width: p.width, height: p.height, args: ARGS, reading: true, batchKey: 'eng', signal });
    const reader = (workers: number, maxBatch = 4) => new NativeReader({ workers, maxBatch, run: runCli(NATIVE_TESSERACT, NATIVE_ENV, childNice) });

    it('reads pages that wait for the process slot in one process, each exactly as when read alone', async () => {
      const alone = reader(1, 1);
      const single: NativeOutput[] = [];
      for (const p of pages) single.push(await alone.read(request(p)));
      expect(alone.stats).to.deep.equal({ processes: 3, pages: 3 });
      const batched = reader(1);
      // The first starts at once; the two others wait for it and then share one process.
      const together = await Promise.all(pages.map((p) => batched.read(request(p))));
      expect(batched.stats).to.deep.equal({ processes: 2, pages: 3 });
      together.forEach((out, i) => {
        expect(out.text).to.equal(single[i]!.text);
        expect(wordsFromTsv(out.tsv)).to.deep.equal(wordsFromTsv(single[i]!.tsv));
        expect(cer(out.text, pages[i]!.text)).to.be.at.most(0.02);
      });
    });

    it('reads again alone the pages of a batch that failed: one unreadable image fails only itself', async () => {
      const r = reader(1);
      const bad: NativeRequest = { png: Buffer.from('no image at all'), width: 10, height: 10, args: ARGS, reading: true, batchKey: 'eng' };
      const outcomes = await Promise.allSettled([r.read(request(pages[0]!)), r.read(bad), r.read(request(pages[1]!))]);
      expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
      expect(cer((outcomes[2] as PromiseFulfilledResult<NativeOutput>).value.text, pages[1]!.text)).to.be.at.most(0.02);
      // The first alone, the failed pair, then each of the pair alone.
      expect(r.stats.processes).to.equal(4);
    });

    it('a page aborted while it waits or while its batch runs fails with its reason; the others are read', async () => {
      const r = reader(1);
      const c = new AbortController();
      const reason = new Error('page timed out');
      const reads = [r.read(request(pages[0]!)), r.read(request(pages[1]!, c.signal)), r.read(request(pages[2]!))];
      setTimeout(() => c.abort(reason), 300);
      const outcomes = await Promise.allSettled(reads);
      expect(outcomes[1]).to.deep.equal({ status: 'rejected', reason });
      expect(outcomes[0]!.status).to.equal('fulfilled');
      expect(cer((outcomes[2] as PromiseFulfilledResult<NativeOutput>).value.text, pages[2]!.text)).to.be.at.most(0.02);
    });

    it('keeps the text renderer\'s own spacing in a shared process: none between Han characters (chi_sim)', async () => {
      const zh = await chinesePage();
      const p = await turnPage(await scalePage(zh.image, ['chi_sim'], false), 0);
      const req: NativeRequest = { png: p.png, width: p.width, height: p.height, args: ['-l', 'chi_sim', ...outputs], reading: true, batchKey: 'chi_sim' };
      const alone = await reader(1, 1).read(req);
      const r = reader(1);
      const [first, second, third] = await Promise.all([r.read(req), r.read(req), r.read(req)]);
      expect(r.stats.processes).to.equal(2);
      for (const out of [first, second, third]) expect(out!.text).to.equal(alone.text);
      expect(alone.text).to.include(zh.text.split('\n')[0]!.slice(0, 4));
      expect(cer(alone.text, zh.text)).to.be.at.most(0.05);
    });

    it('the engine reads pages given at once with fewer processes than pages, at the same text', async () => {
      const engine = new NativeTesseractEngine({ languages: ['eng'], workers: 1 });
      const page = await englishPage();
      try {
        const results = await Promise.all([1, 2, 3, 4].map(() => engine.recognize(page.image)));
        for (const r of results) expect(cer(r.text, page.text)).to.be.at.most(0.02);
        expect(engine.reader.stats.pages).to.equal(4);
        // Preparation takes the one slot page after page, so reading ones wait and share: never 4.
        expect(engine.reader.stats.processes).to.be.below(4);
      } finally {
        await engine.close();
      }
    });
  });
});
