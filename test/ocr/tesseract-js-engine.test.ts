import { expect } from 'chai';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { cer } from '../../ocr/cer.js';
import type { OcrResult } from '../../ocr/engine.js';
import { pageContent } from '../../ocr/page-content.js';
import type { Rotation } from '../../ocr/prepare-image.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { isDossierError } from '../../dossier/errors.js';
import { pageText, renderPage } from '../../scripts/bench/fixtures/synthetic-pages.js';
import { chinesePage, englishPage, iou, turnBox, turned, type KnownPage } from '../../scripts/bench/fixtures/ocr-pages.js';
import { eventually } from '../support/eventually.js';
import { testEnv } from '../support/env.js';
import { DEBIAN_TESSDATA, folderServes } from '../../ocr/model-source.js';

/** Stated accuracy: measured 0–0.5 % on these pages; 2 % leaves room for engine updates, not for a broken pipeline. */
const MAX_CER_ENGLISH = 0.02;
/** Measured ~1 % with chi_sim+eng on the rendered Chinese page. */
const MAX_CER_CHINESE = 0.05;

/** Whether a process of this id still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function wordBox(result: OcrResult, word: string) {
  const found = result.words.find((w) => w.text === word);
  expect(found, `"${word}" among the recognised words`).to.not.equal(undefined);
  return found!.box;
}

describe('OCR: tesseract.js engine (eng)', function () {
  this.timeout(180_000);
  let engine: TesseractJsEngine;
  let page: KnownPage;

  const renderer = new PageRenderer({ threads: 1 });
  before(async () => {
    engine = new TesseractJsEngine({ languages: ['eng'], workers: 2 });
    page = await englishPage();
  });
  after(() => Promise.all([engine.close(), renderer.close()]));

  for (const r of [0, 90, 180, 270] as const) {
    it(`reads a page scanned at ${r}° upright, CER ≤ ${MAX_CER_ENGLISH * 100} %, word boxes in the input's pixels`, async () => {
      const input = await turned(page, r);
      const result = await engine.recognize(input);
      expect(result.rotated).to.equal(((360 - r) % 360) as Rotation);
      expect(cer(result.text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
      expect(result.confidence).to.be.within(70, 100);
      const expected = turnBox(page.wordBox, r, page.width, page.height);
      expect(iou(wordBox(result, page.word), expected), `box of "${page.word}" vs where it was drawn ${expected}`).to.be.at.least(0.5);
      const { width, height } = await sharp(input).metadata();
      for (const w of result.words) {
        expect(w.box[0] + w.box[2]).to.be.at.most(width!);
        expect(w.box[1] + w.box[3]).to.be.at.most(height!);
      }
    });
  }

  it(`reads a synthetic A4 scan (150 dpi, noisy JPEG), CER ≤ ${MAX_CER_ENGLISH * 100} %`, async () => {
    const result = await engine.recognize(await renderPage(2));
    expect(result.rotated).to.equal(0);
    expect(cer(result.text, pageText(2).join('\n'))).to.be.at.most(MAX_CER_ENGLISH);
  });

  it('reads the scan inside a stored PDF page (pageContent → engine)', async () => {
    const jpeg = await turned(page, 0);
    const doc = await PDFDocument.create();
    const img = await doc.embedJpg(jpeg);
    doc.addPage([595, 362]).drawImage(img, { x: 0, y: 0, width: 595, height: 362 });
    const content = await pageContent(await doc.save(), 'application/pdf', renderer);
    if (content.kind !== 'image') throw new Error(`expected an image page, got ${content.kind}`);
    expect(Buffer.from(content.image as Uint8Array).equals(jpeg)).to.equal(true);
    const result = await engine.recognize(content.image);
    expect(cer(result.text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
  });

  it('queues pages beyond the pool, and a page whose signal aborts frees its worker for the next', async () => {
    const input = await turned(page, 0);
    const hung = new AbortController();
    const reason = new Error('page timed out');
    let before: number[] = [];
    // Aborted 300 ms into its reading (a page takes a second or more): it hangs in its slot.
    const hangs = () => {
      before = engine.workerMemory().map((m) => m.pid);
      setTimeout(() => hung.abort(reason), 300);
    };
    const pages = [engine.recognize(input, hung.signal, hangs), engine.recognize(input), engine.recognize(input)];
    const [first, ...rest] = await Promise.allSettled(pages);
    expect(first?.status === 'rejected' && first.reason).to.equal(reason);
    // The hung page's slot process was killed, not left running.
    expect(before).to.not.be.empty;
    await eventually(async () => (before.some((pid) => !alive(pid)) ? true : undefined), 10_000, `one of the slot processes ${before} ended`);
    for (const r of rest) {
      expect(r.status).to.equal('fulfilled');
      if (r.status === 'fulfilled') expect(cer(r.value.text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
    }
  });

  it('refuses bytes that are no image with corrupt_image, and keeps working', async () => {
    const err = await engine.recognize(Buffer.from('not an image at all')).catch((e: unknown) => e);
    expect(isDossierError(err) && err.code).to.equal('corrupt_image');
    const aborted = AbortSignal.abort(new Error('gone'));
    expect(await engine.recognize(await turned(page, 0), aborted).catch((e: Error) => e.message)).to.equal('gone');
  });
});

describe('OCR: tesseract.js engine, idle slots', function () {
  this.timeout(120_000);

  it('ends a slot left idle, gives its memory back, and starts a fresh one for the next page', async () => {
    const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1, idleMs: 300 });
    try {
      const page = await englishPage();
      const input = await turned(page, 0);
      expect(cer((await engine.recognize(input)).text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
      expect(engine.slots).to.equal(1);
      const [slot] = engine.workerMemory();
      expect(slot?.rssBytes, 'the slot process\'s resident memory').to.be.above(0);
      await eventually(async () => (engine.slots === 0 ? true : undefined), 10_000, 'the idle slot ended');
      await eventually(async () => (engine.workerMemory().length === 0 && !alive(slot!.pid) ? true : undefined), 10_000, 'its process exited');
      expect(cer((await engine.recognize(input)).text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
      expect(engine.slots).to.equal(1);
    } finally {
      await engine.close();
    }
  });
});

describe('OCR: tesseract.js engine, a slot process that dies', function () {
  this.timeout(120_000);

  it('rejects the page it was reading, and a fresh slot reads the next', async () => {
    const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1 });
    try {
      const page = await englishPage();
      const input = await turned(page, 0);
      let pid = 0;
      const killed = engine.recognize(input, undefined, () => {
        pid = engine.workerMemory()[0]!.pid;
        process.kill(pid, 'SIGKILL');
      });
      expect(await killed.then(() => 'read', (e: Error) => e.message)).to.match(/worker process exited \(SIGKILL\)/);
      expect(cer((await engine.recognize(input)).text, page.text)).to.be.at.most(MAX_CER_ENGLISH);
      expect(engine.slots).to.equal(1);
      expect(engine.workerMemory().map((m) => m.pid)).to.have.length(1).and.not.include(pid);
    } finally {
      await engine.close();
    }
  });
});

describe('OCR: tesseract.js engine, recycled slots', function () {
  this.timeout(180_000);

  it('replaces a slot after pagesPerSlot pages (its wasm heap never shrinks) and reads on unchanged', async () => {
    const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1, pagesPerSlot: 2 });
    try {
      const page = await englishPage();
      const input = await turned(page, 0);
      for (let i = 0; i < 3; i++) expect(cer((await engine.recognize(input)).text, page.text), `page ${i + 1}`).to.be.at.most(MAX_CER_ENGLISH);
      expect(engine.recycled).to.equal(1);
      expect(engine.slots).to.equal(1);
    } finally {
      await engine.close();
    }
  });
});

describe('OCR: tesseract.js engine on Debian\'s tessdata_fast models', function () {
  this.timeout(180_000);
  let engine: TesseractJsEngine;

  before(function () {
    if (!folderServes(DEBIAN_TESSDATA, ['chi_sim', 'eng'])) {
      if (testEnv.ci) throw new Error(`CI: Debian's tesseract-ocr-eng, -chi-sim and -osd must be installed in ${DEBIAN_TESSDATA}`);
      console.warn(`    ! ${DEBIAN_TESSDATA} lacks eng, chi_sim or osd: Debian models suite SKIPPED`);
      this.skip();
    }
    engine = new TesseractJsEngine({ languages: ['chi_sim', 'eng'], workers: 1, models: { kind: 'folder', dir: DEBIAN_TESSDATA } });
  });
  after(() => engine?.close());

  it(`reads an English page upright and upside down (osd from the folder), CER ≤ ${MAX_CER_ENGLISH * 100} %`, async () => {
    const page = await englishPage();
    for (const r of [0, 180] as const) {
      const result = await engine.recognize(await turned(page, r));
      expect(result.rotated, `scanned at ${r}°`).to.equal(r);
      expect(cer(result.text, page.text), `scanned at ${r}°`).to.be.at.most(MAX_CER_ENGLISH);
    }
  });

  it(`reads the Simplified Chinese page, CER ≤ ${MAX_CER_CHINESE * 100} %`, async () => {
    const zh = await chinesePage();
    const result = await engine.recognize(zh.image);
    expect(cer(result.text, zh.text)).to.be.at.most(MAX_CER_CHINESE);
  });
});

describe('OCR: tesseract.js engine (chi_sim+eng)', function () {
  this.timeout(180_000);
  let engine: TesseractJsEngine;
  before(() => { engine = new TesseractJsEngine({ languages: ['chi_sim', 'eng'], workers: 1 }); });
  after(() => engine.close());

  it(`reads a Simplified Chinese page, CER ≤ ${MAX_CER_CHINESE * 100} % (whitespace ignored)`, async () => {
    const page = await chinesePage();
    const result = await engine.recognize(page.image);
    expect(result.rotated).to.equal(0);
    expect(cer(result.text, page.text)).to.be.at.most(MAX_CER_CHINESE);
  });

  it('reads the Chinese page scanned upside down', async () => {
    const page = await chinesePage();
    const result = await engine.recognize(await turned(page, 180));
    expect(result.rotated).to.equal(180);
    expect(cer(result.text, page.text)).to.be.at.most(MAX_CER_CHINESE);
  });
});
