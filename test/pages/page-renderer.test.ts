/**
 * The page renderer on its own: resolution chosen from the page's scan, the pixel budgets that
 * bound time and memory whatever a file claims, poppler for images over the budget, JPEG 2000
 * pages, refusals, and the thread pool ending when idle.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import { isDossierError } from '../../dossier/errors.js';
import { OCR_RENDER, PageRenderer } from '../../dossier/pages/render/page-renderer.js';
import { chooseDpi } from '../../dossier/pages/render/render-pdf.js';
import { PDFTOPPM, parsePgm } from '../../dossier/pages/render/poppler.js';
import { testEnv } from '../support/env.js';

/** A page of `w` x `h` points drawing a `pw` x `ph` 1-bit Flate image (black top half) over it. */
async function bilevelPage(w: number, h: number, pw: number, ph: number): Promise<Uint8Array> {
  const stride = Math.ceil(pw / 8);
  const bits = Buffer.alloc(stride * ph, 0xff);
  bits.fill(0, 0, stride * Math.floor(ph / 2));
  const doc = await PDFDocument.create();
  const image = doc.context.register(doc.context.flateStream(bits, { Type: 'XObject', Subtype: 'Image', Width: pw, Height: ph, ColorSpace: 'DeviceGray', BitsPerComponent: 1 }));
  const page = doc.addPage([w, h]);
  page.node.setXObject(PDFName.of('Im0'), image);
  page.node.set(PDFName.of('Contents'), doc.context.register(doc.context.stream(`q ${w} 0 0 ${h} 0 0 cm /Im0 Do Q`)));
  return doc.save();
}

const at = (p: { pixels: Uint8Array; width: number; channels: number }, x: number, y: number) => p.pixels[(y * p.width + x) * p.channels]!;

describe('page renderer', function () {
  this.timeout(120_000);
  const renderer = new PageRenderer({ threads: 2, idleMs: 300 });
  after(() => renderer.close());

  it('draws a scan at its own resolution, never enlarged, capped at maxDpi and maxPixels', () => {
    expect(chooseDpi(612, 792, [{ width: 2550, height: 3300 }], OCR_RENDER)).to.be.closeTo(300, 0.01);
    expect(chooseDpi(612, 792, [{ width: 850, height: 1100 }], OCR_RENDER)).to.be.closeTo(100, 0.01);
    expect(chooseDpi(612, 792, [{ width: 10200, height: 13200 }], OCR_RENDER)).to.equal(400);
    expect(chooseDpi(612, 792, [], OCR_RENDER)).to.equal(300);
    // A page box of 200 x 200 inches: the budget, not the box, decides.
    const dpi = chooseDpi(14400, 14400, [], OCR_RENDER);
    expect((200 * dpi) ** 2).to.be.at.most(OCR_RENDER.maxPixels * 1.0001);
  });

  it('draws vector text on white at 300 dpi', async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([144, 72]).drawText('IIII', { x: 10, y: 20, size: 40, font });
    const p = await renderer.render(await doc.save(), 'application/pdf', OCR_RENDER);
    expect([p.width, p.height, p.dpi, p.by, p.channels]).to.deep.equal([600, 300, 300, 'pdf.js', 4]);
    expect(at(p, 5, 5)).to.equal(255);
    let ink = 0;
    for (let i = 0; i < p.pixels.length; i += 4) if (p.pixels[i]! < 128) ink += 1;
    expect(ink).to.be.above(1000);
  });

  it('keeps an enormous page box within the pixel budget', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([14400, 14400]);
    const p = await renderer.render(await doc.save(), 'application/pdf', OCR_RENDER);
    expect(p.width * p.height).to.be.at.most(OCR_RENDER.maxPixels);
  });

  it('leaves an image over the image budget out instead of decoding it, and says so', async () => {
    const pdf = await bilevelPage(612, 792, 2550, 3300);
    const p = await renderer.render(pdf, 'application/pdf', { ...OCR_RENDER, maxImagePixels: 1_000_000, oversized: 'leave-out' });
    expect(p.omittedImages).to.equal(1);
    expect(at(p, 10, 10)).to.equal(255); // the black half is not there
  });

  it('draws such a page with poppler where installed, within the budget, streaming the image', async function () {
    if (!fs.existsSync(PDFTOPPM)) {
      if (testEnv.ci) throw new Error(`${PDFTOPPM} is absent: mandatory in CI (apt-get install poppler-utils)`);
      console.warn(`    ! ${PDFTOPPM} is absent (Debian poppler-utils): SKIPPED`);
      return this.skip();
    }
    const pdf = await bilevelPage(612, 792, 2550, 3300);
    const p = await renderer.render(pdf, 'application/pdf', { ...OCR_RENDER, maxImagePixels: 1_000_000 });
    expect([p.by, p.channels, p.omittedImages]).to.deep.equal(['poppler', 1, 0]);
    expect(p.dpi).to.be.closeTo(300, 0.1);
    expect(at(p, 100, 100)).to.be.below(64);
    expect(at(p, 100, p.height - 100)).to.be.above(192);
  });

  it('reads a binary PGM, and refuses one that is short', () => {
    const pgm = Buffer.concat([Buffer.from('P5\n3 2\n255\n'), Buffer.from([0, 1, 2, 3, 4, 5])]);
    expect(Array.from(parsePgm(pgm).pixels)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(() => parsePgm(pgm.subarray(0, pgm.length - 1))).to.throw(/bytes for 3x2/);
  });

  it('refuses what is no PDF page with corrupt_pdf, and pages it does not draw with unsupported_format', async () => {
    const bad = await renderer.render(Buffer.from('%PDF-1.7\n%%EOF\n'), 'application/pdf', OCR_RENDER).catch((e: unknown) => e);
    expect(isDossierError(bad) && bad.code).to.equal('corrupt_pdf');
    const png = await renderer.render(Buffer.alloc(10), 'image/png', OCR_RENDER).catch((e: unknown) => e);
    expect(isDossierError(png) && png.code).to.equal('unsupported_format');
  });

  it('ends its threads when idle and starts them again for the next page', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([72, 72]);
    const pdf = await doc.save();
    await renderer.render(pdf, 'application/pdf', OCR_RENDER);
    expect(renderer.threads).to.be.at.least(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(renderer.threads).to.equal(0);
    expect((await renderer.render(pdf, 'application/pdf', OCR_RENDER)).width).to.equal(300);
  });

  it('draws what it can of an image whose data is short of its declared size, and lives', async () => {
    const doc = await PDFDocument.create();
    const image = doc.context.register(doc.context.flateStream(zlib.deflateSync(Buffer.alloc(10)), { Type: 'XObject', Subtype: 'Image', Width: 4000, Height: 4000, ColorSpace: 'DeviceGray', BitsPerComponent: 1 }));
    const page = doc.addPage([72, 72]);
    page.node.setXObject(PDFName.of('Im0'), image);
    page.node.set(PDFName.of('Contents'), doc.context.register(doc.context.stream('q 72 0 0 72 0 0 cm /Im0 Do Q')));
    const p = await renderer.render(await doc.save(), 'application/pdf', OCR_RENDER);
    expect(p.width).to.be.above(0); // pdf.js draws what it can (stopAtErrors off); the process lives
  });
});
