/**
 * Page rendering and reading benchmark (`npm run bench -- --only render [--corpus DIR]`):
 *   1. the corpus, page by page: what OCR could read before the page renderer (the old rule: the
 *      largest image as a JPEG or plain 8-bit Flate, else failed) and what it reads now, with the
 *      path taken, drawing and reading times and CER where the text is known (linn.txt);
 *   2. drawing time per scan encoding and size (median of 3), and poppler on the corpus's
 *      oversized pages;
 *   3. orientation: time and CER of a page at 0/90/180/270 degrees, and what the upright path
 *      costs (the layout measure; no OSD, no second reading);
 *   4. language per page under chi_sim+eng against each language alone and against reading every
 *      page with both (the old way), on English, Chinese and mixed pages, both engines.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';
import { readPages } from '../../dossier/pages/read-pages.js';
import { OCR_RENDER, PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { scanPageImages } from '../../dossier/pages/render/pdf-page-images.js';
import { cer } from '../../ocr/cer.js';
import type { OcrEngine } from '../../ocr/engine.js';
import { NATIVE_TESSERACT, NativeTesseractEngine } from '../../ocr/native-tesseract-engine.js';
import { measureLayout } from '../../ocr/page-layout.js';
import { MIN_TEXT_LAYER_CHARS, pageContent } from '../../ocr/page-content.js';
import { pdfTextLayer } from '../../ocr/pdf-text-layer.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { CHINESE_LINES, chinesePage, englishPage, renderTextLines, turned } from './fixtures/ocr-pages.js';
import { renderPage } from './fixtures/synthetic-pages.js';
import {
  bilevelPdf, ccittG4Pdf, grayOf, jpeg2000Pdf, jpegPdf, missingScanTools, palettePdf, predictorPdf, type Gray,
} from './fixtures/scan-encodings.js';
import { fmt } from './measure.js';

const LINN = new Set(['linn.png', 'linn.pdf', 'jbig2.pdf', 'skew.pdf', 'rotated_skew.pdf']);

/** What the OCR did with a page before the renderer: the largest image as a JPEG or plain Flate. */
async function oldRule(bytes: Buffer, mediaType: string): Promise<'read' | 'failed'> {
  if (mediaType === 'image/jp2') return 'failed';
  if (mediaType !== 'application/pdf') return 'read';
  const layer = await pdfTextLayer(bytes);
  if (layer.text.replace(/\s+/g, '').length >= MIN_TEXT_LAYER_CHARS) return 'read';
  const images = await scanPageImages(bytes);
  const largest = images.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (!largest) return 'read';
  const f = largest.filters.join('+');
  if (f === 'DCTDecode') return 'read';
  return f === 'FlateDecode' && largest.components !== null && largest.bitsPerComponent === 8 && largest.predictor === 1 ? 'read' : 'failed';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t0: number) => performance.now() - t0;

async function corpusTable(corpusDir: string, renderer: PageRenderer, engine: OcrEngine): Promise<void> {
  const truth = fs.readFileSync(path.join(corpusDir, 'linn.txt'), 'utf8');
  console.log('| corpus file | pages | OCR before: read / failed | now: path | drawing ms | reading s | now: read / failed | CER |');
  console.log('|---|---|---|---|---|---|---|---|');
  let beforeRead = 0, beforeFailed = 0, nowRead = 0, nowFailed = 0;
  for (const name of fs.readdirSync(corpusDir).filter((f) => !/\.(md|txt)$/.test(f) && f !== 'invalid.pdf').sort()) {
    const pages = [];
    for await (const p of readPages(path.join(corpusDir, name), DEFAULT_LIMITS)) pages.push(p);
    let before = 0, failed = 0, draw = 0, read = 0, c: number | null = null;
    const paths = new Set<string>();
    for (const p of pages) {
      if ((await oldRule(p.bytes, p.mediaType)) === 'read') before += 1;
      try {
        let t = performance.now();
        const content = await pageContent(p.bytes, p.mediaType, renderer);
        draw += content.kind === 'image' && content.rendered ? ms(t) : 0;
        paths.add(content.kind === 'text' ? 'text layer' : content.rendered ? `drawn ${content.rendered.dpi} dpi` : 'as stored');
        t = performance.now();
        const text = content.kind === 'text' ? content.text : (await engine.recognize(content.image)).text;
        read += ms(t);
        if (LINN.has(name)) c = cer(text, truth);
      } catch (err) {
        failed += 1;
        paths.add(`failed: ${(err as Error).message.slice(0, 40)}`);
      }
    }
    beforeRead += before; beforeFailed += pages.length - before; nowRead += pages.length - failed; nowFailed += failed;
    console.log(`| ${name} | ${pages.length} | ${before} / ${pages.length - before} | ${[...paths].join(', ')} | ${fmt(draw, 0)} | ${fmt(read / 1000, 1)} | ${pages.length - failed} / ${failed} | ${c === null ? '' : `${fmt(c * 100, 2)} %`} |`);
  }
  console.log(`| **all** | ${beforeRead + beforeFailed} | ${beforeRead} / ${beforeFailed} | | | | ${nowRead} / ${nowFailed} | |\n`);
}

async function encodingTable(renderer: PageRenderer, dir: string, corpusDir: string | undefined): Promise<void> {
  const missing = missingScanTools();
  if (missing.length) console.log(`(${missing.join(', ')} missing: CCITT G4 and JPEG 2000 rows left out)\n`);
  const sizes: { label: string; gray: Gray; dpi: number }[] = [
    { label: 'text block 1240x754, 150 dpi', gray: await grayOf((await englishPage()).image), dpi: 150 },
    { label: 'A4 2480x3508, 300 dpi', gray: await grayOf(await sharp(await renderPage(2)).resize(2480, 3508).toBuffer()), dpi: 300 },
  ];
  console.log('| page | encoding | PDF KB | path | drawing ms (median of 3) | output px |');
  console.log('|---|---|---|---|---|---|');
  for (const { label, gray, dpi } of sizes) {
    const encodings: [string, () => Promise<Uint8Array>][] = [
      ['JPEG (DCTDecode)', () => jpegPdf(gray, dpi)],
      ['Flate + PNG predictor', () => predictorPdf(gray, dpi)],
      ['Flate, palette 4 bit', () => palettePdf(gray, dpi)],
      ['Flate, 1 bit', () => bilevelPdf(gray, dpi)],
    ];
    if (!missing.length) encodings.push(['CCITT G4', () => ccittG4Pdf(gray, dir, dpi)], ['JPEG 2000', () => jpeg2000Pdf(gray, dir, dpi)]);
    for (const [encoding, make] of encodings) {
      const pdf = await make();
      const times: number[] = [];
      let how = '', px = '';
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const content = await pageContent(pdf, 'application/pdf', renderer);
        times.push(ms(t));
        if (content.kind === 'image') { how = content.rendered ? 'drawn (pdf.js)' : 'taken as stored'; px = `${content.width}x${content.height}`; }
      }
      console.log(`| ${label} | ${encoding} | ${fmt(pdf.length / 1024, 0)} | ${how} | ${fmt(median(times), 0)} | ${px} |`);
    }
  }
  if (corpusDir) {
    for (const name of ['hugemono.pdf', 'enormous.pdf']) {
      const file = path.join(corpusDir, name);
      if (!fs.existsSync(file)) continue;
      for await (const p of readPages(file, DEFAULT_LIMITS)) {
        const t = performance.now();
        const r = await renderer.render(p.bytes, p.mediaType, OCR_RENDER);
        console.log(`| ${name} (${(await scanPageImages(p.bytes)).map((im) => `${im.width}x${im.height}`).join(', ')}) | ${(await scanPageImages(p.bytes))[0]?.filters.join('+')} | ${fmt(p.bytes.length / 1024, 0)} | drawn (${r.by}${r.omittedImages ? `, ${r.omittedImages} left out` : ''}) | ${fmt(ms(t), 0)} | ${r.width}x${r.height} |`);
        break;
      }
    }
  }
  console.log('');
}

async function orientationTable(engine: OcrEngine): Promise<void> {
  const page = await englishPage();
  const { data, info } = await sharp(page.image).grayscale().raw().toBuffer({ resolveWithObject: true });
  const layout: number[] = [];
  for (let k = 0; k < 5; k++) { const t = performance.now(); measureLayout(data, info.width, info.height); layout.push(ms(t)); }
  console.log('| page turned | seconds (median of 3) | CER | read as turned |');
  console.log('|---|---|---|---|');
  let upright = 0;
  for (const r of [0, 90, 180, 270] as const) {
    const image = await turned(page, r);
    const times: number[] = [];
    let res;
    for (let k = 0; k < 3; k++) { const t = performance.now(); res = await engine.recognize(image); times.push(ms(t)); }
    if (r === 0) upright = median(times);
    console.log(`| ${r}° | ${fmt(median(times) / 1000, 2)} | ${fmt(cer(res!.text, page.text) * 100, 2)} % | ${res!.rotated}° |`);
  }
  console.log(`\nUpright pages: no OSD call and one reading; the orientation's own cost there is the layout measure, ${fmt(median(layout), 1)} ms (${fmt((median(layout) / upright) * 100, 2)} % of the page's ${fmt(upright / 1000, 2)} s).\n`);
}

async function languageTable(): Promise<void> {
  const en = await englishPage(), zh = await chinesePage();
  const mixedLines = CHINESE_LINES.map((l, i) => `${l} 2026-0417-${i}`);
  const pages = [
    { name: 'English page', image: en.image, text: en.text },
    { name: 'Chinese page', image: zh.image, text: zh.text },
    { name: 'Chinese + Latin case numbers', image: await renderTextLines(mixedLines, 'WenQuanYi Zen Hei'), text: mixedLines.join('\n') },
  ];
  const engines: [string, (langs: string[], perPage: boolean) => OcrEngine][] = [['tesseract.js', (languages, languagePerPage) => new TesseractJsEngine({ languages, workers: 1, languagePerPage })]];
  if (fs.existsSync(NATIVE_TESSERACT)) engines.push(['native CLI', (languages, languagePerPage) => new NativeTesseractEngine({ languages, workers: 1, languagePerPage })]);
  console.log('| engine | page | configured | read with | seconds (median of 3) | CER |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, make] of engines) {
    for (const [langs, perPage, label] of [[['eng'], true, 'eng'], [['chi_sim'], true, 'chi_sim'], [['chi_sim', 'eng'], false, 'chi_sim+eng, every page with both (before)'], [['chi_sim', 'eng'], true, 'chi_sim+eng, language per page (now)']] as const) {
      const engine = make([...langs], perPage);
      try {
        // Warm-up, untimed, on every page: each language set's recogniser started and loaded.
        for (const p of pages) await engine.recognize(p.image);
        for (const p of pages) {
          if (langs.length === 1 && (p.name === 'English page') !== (langs[0] === 'eng')) continue;
          const times: number[] = [];
          let r;
          for (let k = 0; k < 3; k++) { const t = performance.now(); r = await engine.recognize(p.image); times.push(ms(t)); }
          console.log(`| ${name} | ${p.name} | ${label} | ${r!.languages.join('+')} | ${fmt(median(times) / 1000, 2)} | ${fmt(cer(r!.text, p.text) * 100, 2)} % |`);
        }
      } finally {
        await engine.close();
      }
    }
  }
  console.log('');
}

export async function renderBench(options: { corpusDir: string | undefined; runDir: string }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(options.runDir, 'render-'));
  const renderer = new PageRenderer({ threads: 1 });
  const engine = new TesseractJsEngine({ languages: ['eng'], workers: 1 });
  try {
    if (options.corpusDir) await corpusTable(options.corpusDir, renderer, engine);
    await encodingTable(renderer, dir, options.corpusDir);
    await orientationTable(engine);
    await languageTable();
  } finally {
    await Promise.all([renderer.close(), engine.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
