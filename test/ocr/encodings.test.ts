/**
 * The same known page (English text, 150 dpi) stored in every scan encoding a PDF can carry, and
 * as a JPEG 2000 page of its own, read through pageContent and the engine: each reads at the CER
 * of the page as a JPEG, within a point. Fixtures are made here: CCITT G4 by libtiff (tiffcp,
 * tiff2pdf), JPEG 2000 by OpenJPEG (opj_compress), the Flate variants with pdf-lib. JBIG2 has no
 * encoder in Debian: the real JBIG2 scans of the corpus are read in corpus.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { cer } from '../../ocr/cer.js';
import type { OcrEngine } from '../../ocr/engine.js';
import { NATIVE_TESSERACT, NativeTesseractEngine } from '../../ocr/native-tesseract-engine.js';
import { pageContent } from '../../ocr/page-content.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { englishPage, type KnownPage } from '../../scripts/bench/fixtures/ocr-pages.js';
import { testEnv } from '../support/env.js';
import { bilevelPdf, ccittG4Pdf, grayOf, imagePdf as imagePdfAt, jpeg2000, jpeg2000Pdf, palettePdf, predictorPdf, scanToolsOrSkip, type Gray } from '../support/scan-encodings.js';

const DPI = 150;
const imagePdf = (width: number, height: number, dict: Record<string, unknown>, data: Uint8Array) => imagePdfAt(width, height, dict, data, DPI);

const ENGINES: { name: string; available: () => boolean; make: () => OcrEngine }[] = [
  { name: 'tesseract.js', available: () => true, make: () => new TesseractJsEngine({ languages: ['eng'], workers: 2 }) },
  { name: 'native tesseract', available: () => fs.existsSync(NATIVE_TESSERACT), make: () => new NativeTesseractEngine({ languages: ['eng'], workers: 2 }) },
];

for (const kind of ENGINES) describe(`OCR: every scan encoding reads like the same page as a JPEG (${kind.name})`, function () {
  this.timeout(300_000);
  let engine: OcrEngine;
  let renderer: PageRenderer;
  let page: KnownPage;
  let gray: Gray;
  let dir: string;
  let jpegCer: number;

  const read = async (bytes: Uint8Array, mediaType: string) => {
    const content = await pageContent(bytes, mediaType, renderer);
    if (content.kind !== 'image') throw new Error(`expected an image page, got ${content.kind}`);
    return { content, cer: cer((await engine.recognize(content.image)).text, page.text) };
  };

  before(async function () {
    if (!scanToolsOrSkip(this)) return;
    if (!kind.available()) {
      if (testEnv.ci) throw new Error(`${kind.name} is absent: mandatory in CI`);
      console.warn(`    ! ${kind.name} is absent: SKIPPED`);
      return this.skip();
    }
    engine = kind.make();
    renderer = new PageRenderer();
    page = await englishPage();
    gray = await grayOf(page.image);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dossier-encodings-'));
    const jpeg = await sharp(page.image).jpeg({ quality: 85 }).toBuffer();
    const baseline = await read(await imagePdf(gray.width, gray.height, { ColorSpace: 'DeviceGray', BitsPerComponent: 8, Filter: 'DCTDecode' }, jpeg), 'application/pdf');
    expect(baseline.content.rendered, 'a lone JPEG is taken as it stands').to.equal(undefined);
    jpegCer = baseline.cer;
  });
  after(async () => {
    await Promise.all([engine?.close(), renderer?.close()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const within = (c: number, what: string) => expect(c, `${what} CER against the JPEG's ${(jpegCer * 100).toFixed(2)} %`).to.be.at.most(jpegCer + 0.01);

  it('CCITT G4 (bilevel, libtiff tiff2pdf)', async () => {
    const bytes = await ccittG4Pdf(gray, dir, DPI);
    expect(bytes.includes(Buffer.from('CCITTFaxDecode')), 'tiff2pdf kept the G4 data').to.equal(true);
    const r = await read(bytes, 'application/pdf');
    expect(r.content.rendered?.dpi).to.be.closeTo(DPI, 1);
    within(r.cer, 'CCITT G4');
  });

  it('JPEG 2000 inside a PDF (JPXDecode, OpenJPEG), and as a page of its own', async () => {
    within((await read(await jpeg2000Pdf(gray, dir, DPI), 'application/pdf')).cer, 'JPEG 2000 in a PDF');
    const alone = await read(await jpeg2000(gray, dir), 'image/jp2');
    expect([alone.content.width, alone.content.height]).to.deep.equal([gray.width, gray.height]);
    within(alone.cer, 'JPEG 2000 page');
  });

  it('Flate with a PNG predictor', async () => {
    const r = await read(await predictorPdf(gray, DPI), 'application/pdf');
    expect(r.content.rendered, 'drawn by the renderer').to.not.equal(undefined);
    within(r.cer, 'Flate + predictor');
  });

  it('Flate with a palette (Indexed colour space), and 1-bit gray', async () => {
    within((await read(await palettePdf(gray, DPI), 'application/pdf')).cer, 'palette');
    within((await read(await bilevelPdf(gray, DPI), 'application/pdf')).cer, '1-bit Flate');
  });

  it('keeps the JPEG fast path byte for byte (no drawing)', async () => {
    const jpeg = await sharp(page.image).jpeg({ quality: 85 }).toBuffer();
    const content = await pageContent(await imagePdf(gray.width, gray.height, { ColorSpace: 'DeviceGray', BitsPerComponent: 8, Filter: 'DCTDecode' }, jpeg), 'application/pdf', renderer);
    expect(content.kind === 'image' && Buffer.from(content.image as Uint8Array).equals(jpeg)).to.equal(true);
  });
});
