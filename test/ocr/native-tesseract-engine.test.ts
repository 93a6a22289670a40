import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cer } from '../../ocr/cer.js';
import { DEBIAN_TESSDATA } from '../../ocr/model-source.js';
import { NATIVE_NICE, NATIVE_TESSERACT, NativeTesseractEngine, parseOsd } from '../../ocr/native-tesseract-engine.js';
import { chinesePage, englishPage, iou, turnBox, turned } from '../../scripts/bench/fixtures/ocr-pages.js';

const present = fs.existsSync(NATIVE_TESSERACT);

describe('OCR: native tesseract CLI engine', function () {
  this.timeout(120_000);
  let engine: NativeTesseractEngine;

  before(function () {
    if (!present) {
      console.warn(`    ! ${NATIVE_TESSERACT} is absent (Debian's tesseract-ocr): native engine suite SKIPPED`);
      this.skip();
    }
    engine = new NativeTesseractEngine({ languages: ['eng'], workers: 2 });
  });
  after(() => engine?.close());

  it('parses the CLI orientation report', () => {
    expect(parseOsd('Page number: 0\nOrientation in degrees: 90\nRotate: 270\nOrientation confidence: 9.88\nScript: Latin\n')).to.deep.equal({ rotate: 270, confidence: 9.88 });
    expect(parseOsd('Too few characters. Skipping this page\n')).to.equal(null);
  });

  for (const r of [0, 180] as const) {
    it(`reads a page scanned at ${r}°: CER ≤ 2 %, upright, word boxes in the input's pixels`, async () => {
      const page = await englishPage();
      const result = await engine.recognize(await turned(page, r));
      expect(result.rotated).to.equal(r);
      expect(cer(result.text, page.text)).to.be.at.most(0.02);
      const word = result.words.find((w) => w.text === page.word);
      expect(iou(word!.box, turnBox(page.wordBox, r, page.width, page.height))).to.be.at.least(0.5);
    });
  }

  it('reads Simplified Chinese with chi_sim+eng, CER ≤ 5 %', async () => {
    const zh = new NativeTesseractEngine({ languages: ['chi_sim', 'eng'], workers: 1 });
    const page = await chinesePage();
    expect(cer((await zh.recognize(page.image)).text, page.text)).to.be.at.most(0.05);
  });

  it('reads its models from the configured tessdata folder (--tessdata-dir), and only from there', async () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdata-own-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tessdata-empty-'));
    try {
      for (const l of ['eng', 'osd']) fs.symlinkSync(path.join(DEBIAN_TESSDATA, `${l}.traineddata`), path.join(own, `${l}.traineddata`));
      const page = await englishPage();
      const input = await turned(page, 0);
      const reads = new NativeTesseractEngine({ languages: ['eng'], workers: 1, tessdataDir: own });
      expect(cer((await reads.recognize(input)).text, page.text)).to.be.at.most(0.02);
      const none = new NativeTesseractEngine({ languages: ['eng'], workers: 1, tessdataDir: empty });
      expect(String(await none.recognize(input).catch((e: unknown) => e))).to.match(/eng|traineddata|language/i);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('runs tesseract at a lower priority than the gateway (nice), so a download wins the core', async () => {
    const page = await englishPage();
    const seen = new Set<number>();
    const reading = engine.recognize(await turned(page, 0));
    // The process lives for a second or more: sample /proc for tesseract children of ours.
    for (let i = 0; i < 40 && seen.size === 0; i++) {
      for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (stat.includes('(tesseract)') && Number(fields[1]) === process.pid) seen.add(Number(fields[16]));
        } catch {
          // exited meanwhile
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await reading;
    expect([...seen]).to.deep.equal([Math.min(19, os.getPriority() + NATIVE_NICE)]);
  });

  it('ends the process of a page whose signal aborts, with the signal\'s reason', async () => {
    const page = await englishPage();
    const reason = new Error('page timed out');
    const c = new AbortController();
    setTimeout(() => c.abort(reason), 200);
    expect(await engine.recognize(await turned(page, 0), c.signal).catch((e: unknown) => e)).to.equal(reason);
  });
});
