/**
 * Language per page: with chi_sim+eng configured, an English page is read with eng alone and a
 * Chinese page (Latin case numbers in it or not, upright or sideways) with chi_sim alone, each at
 * the CER the page gets under its own language only; on both engines.
 */
import fs from 'node:fs';
import { expect } from 'chai';
import sharp from 'sharp';
import { cer } from '../../ocr/cer.js';
import type { OcrEngine } from '../../ocr/engine.js';
import { NATIVE_TESSERACT, NativeTesseractEngine } from '../../ocr/native-tesseract-engine.js';
import { measureLayout } from '../../ocr/page-layout.js';
import { languagesFor, pageScript } from '../../ocr/script.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { CHINESE_LINES, chinesePage, englishPage, renderTextLines, turned, type KnownPage } from '../../scripts/bench/fixtures/ocr-pages.js';
import { testEnv } from '../support/env.js';

async function layoutOf(image: Buffer) {
  const { data, info } = await sharp(image).grayscale().raw().toBuffer({ resolveWithObject: true });
  return measureLayout(data, info.width, info.height);
}

const MIXED_LINES = CHINESE_LINES.map((l, i) => `${l} 2026-0417-${i}`);

describe('OCR: the script of a page, from its pixels', () => {
  it('tells Han from Latin lines, with Latin case numbers among the Han ones, and upside down', async () => {
    const en = await englishPage(), zh = await chinesePage();
    expect(pageScript(await layoutOf(en.image))).to.equal('Latin');
    expect(pageScript(await layoutOf(zh.image))).to.equal('Han');
    expect(pageScript(await layoutOf(await renderTextLines(MIXED_LINES, 'WenQuanYi Zen Hei')))).to.equal('Han');
    expect(pageScript(await layoutOf(await turned(zh, 180)))).to.equal('Han');
    expect(pageScript(await layoutOf(await turned(en, 90)))).to.equal('Latin');
  });

  it('picks the configured languages of that script, and all of them when unsure', () => {
    expect(languagesFor('Latin', ['chi_sim', 'eng'])).to.deep.equal(['eng']);
    expect(languagesFor('Han', ['chi_sim', 'eng'])).to.deep.equal(['chi_sim']);
    expect(languagesFor(null, ['chi_sim', 'eng'])).to.deep.equal(['chi_sim', 'eng']);
    expect(languagesFor('Han', ['eng', 'fra'])).to.deep.equal(['eng', 'fra']);
    expect(languagesFor('Latin', ['eng'])).to.deep.equal(['eng']);
  });
});

const engines: { name: string; available: () => boolean; make: (languages: string[]) => OcrEngine }[] = [
  { name: 'tesseract.js', available: () => true, make: (languages) => new TesseractJsEngine({ languages, workers: 1 }) },
  { name: 'native tesseract', available: () => fs.existsSync(NATIVE_TESSERACT), make: (languages) => new NativeTesseractEngine({ languages, workers: 1 }) },
];

for (const e of engines) {
  describe(`OCR: language per page under chi_sim+eng (${e.name})`, function () {
    this.timeout(300_000);
    let en: KnownPage, zh: KnownPage, mixed: { image: Buffer; text: string };
    const own = new Map<string, number>();
    let both: OcrEngine;

    before(async function () {
      if (!e.available()) {
        if (testEnv.ci) throw new Error(`${e.name} is absent: mandatory in CI`);
        console.warn(`    ! ${e.name} is absent: SKIPPED`);
        return this.skip();
      }
      en = await englishPage();
      zh = await chinesePage();
      mixed = { image: await renderTextLines(MIXED_LINES, 'WenQuanYi Zen Hei'), text: MIXED_LINES.join('\n') };
      for (const [lang, page] of [['eng', en], ['chi_sim', zh]] as const) {
        const single = e.make([lang]);
        try {
          own.set(lang, cer((await single.recognize(page.image)).text, page.text));
        } finally {
          await single.close();
        }
      }
      both = e.make(['chi_sim', 'eng']);
    });
    after(() => both?.close());

    it('reads an English page with eng alone, as well as eng alone does', async () => {
      const r = await both.recognize(en.image);
      expect(r.languages).to.deep.equal(['eng']);
      expect(cer(r.text, en.text)).to.be.at.most(own.get('eng')! + 0.005);
    });

    it('reads a Chinese page with chi_sim alone, as well as chi_sim alone does, upright and sideways', async () => {
      for (const image of [zh.image, await turned(zh, 90)]) {
        const r = await both.recognize(image);
        expect(r.languages).to.deep.equal(['chi_sim']);
        expect(cer(r.text, zh.text)).to.be.at.most(own.get('chi_sim')! + 0.01);
      }
    });

    it('reads Chinese lines carrying Latin case numbers with chi_sim, numbers included', async () => {
      const r = await both.recognize(mixed.image);
      expect(r.languages).to.deep.equal(['chi_sim']);
      expect(cer(r.text, mixed.text)).to.be.at.most(0.05);
      expect(r.text.replace(/\s+/g, '')).to.contain('2026-0417-3');
    });
  });
}
