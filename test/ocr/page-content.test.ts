import { expect } from 'chai';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { isDossierError } from '../../dossier/errors.js';
import { pageContent } from '../../ocr/page-content.js';

const LINE = 'Witness statement of Anna Kowalski, exhibit EXHIBIT-00017-QX';

async function onePagePdf(draw: (doc: PDFDocument) => Promise<void>): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  await draw(doc);
  return doc.save();
}

async function grayPixels(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 251;
  return raw;
}

const rejection = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe('OCR: page content', () => {
  it('takes a born-digital PDF page from its text layer, word boxes in points from the top-left', async () => {
    const pdf = await onePagePdf(async (doc) => {
      const font = await doc.embedFont(StandardFonts.Helvetica);
      doc.addPage([595, 842]).drawText(LINE, { x: 50, y: 780, size: 14, font });
    });
    const content = await pageContent(pdf, 'application/pdf');
    if (content.kind !== 'text') throw new Error(`expected text, got ${content.kind}`);
    expect(content.text).to.equal(LINE);
    expect(content.words.unit).to.equal('pt');
    expect([content.words.width, content.words.height]).to.deep.equal([595, 842]);
    expect(content.words.words.map((w) => w.text)).to.deep.equal(LINE.split(' '));
    const [x, y, w, h] = content.words.words[0]!.box;
    // "Witness" drawn at x 50, baseline 780 pt from the bottom = 62 pt from the top, 14 pt type.
    expect(x).to.be.closeTo(50, 0.5);
    expect(y + h).to.be.closeTo(842 - 780, 0.5);
    expect(h).to.be.closeTo(14, 0.5);
    const helveticaWidth = (await PDFDocument.create().then((d) => d.embedFont(StandardFonts.Helvetica))).widthOfTextAtSize('Witness', 14);
    expect(w).to.be.closeTo(helveticaWidth, 3);
  });

  it('reads a scanned PDF page (DCTDecode) as its JPEG, byte for byte', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#eeeeee' } }).jpeg().toBuffer();
    const pdf = await onePagePdf(async (doc) => {
      const page = doc.addPage([300, 400]);
      // A small stamp beside the scan: the largest image is the page.
      const stamp = await doc.embedJpg(await sharp({ create: { width: 20, height: 20, channels: 3, background: '#000' } }).jpeg().toBuffer());
      page.drawImage(stamp, { x: 0, y: 0, width: 20, height: 20 });
      page.drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0, width: 300, height: 400 });
    });
    const content = await pageContent(pdf, 'application/pdf');
    if (content.kind !== 'image') throw new Error(`expected an image, got ${content.kind}`);
    expect(Buffer.from(content.image).equals(jpeg)).to.equal(true);
    expect([content.width, content.height]).to.deep.equal([300, 400]);
  });

  it('reads a FlateDecode gray scan as its pixels', async () => {
    const raw = await grayPixels(64, 48);
    const pdf = await onePagePdf(async (doc) => {
      const stream = doc.context.flateStream(raw, { Type: 'XObject', Subtype: 'Image', Width: 64, Height: 48, ColorSpace: 'DeviceGray', BitsPerComponent: 8 });
      const ref = doc.context.register(stream);
      const page = doc.addPage([64, 48]);
      page.node.setXObject(PDFName.of('Im0'), ref);
    });
    const content = await pageContent(pdf, 'application/pdf');
    if (content.kind !== 'image') throw new Error(`expected an image, got ${content.kind}`);
    const meta = await sharp(content.image).metadata();
    expect([meta.width, meta.height, meta.channels]).to.deep.equal([64, 48, 1]);
    const data = await sharp(content.image).extractChannel(0).raw().toBuffer();
    expect(data.equals(raw)).to.equal(true);
  });

  it('refuses a scan in an encoding it cannot hand to OCR, naming it', async () => {
    const pdf = await onePagePdf(async (doc) => {
      const stream = doc.context.stream(Buffer.alloc(16), { Type: 'XObject', Subtype: 'Image', Width: 8, Height: 8, ColorSpace: 'DeviceGray', BitsPerComponent: 1, Filter: 'JBIG2Decode' });
      doc.addPage([8, 8]).node.setXObject(PDFName.of('Im0'), doc.context.register(stream));
    });
    const err = await rejection(pageContent(pdf, 'application/pdf'));
    expect(isDossierError(err) && err.code).to.equal('unsupported_format');
    expect((err as Error).message).to.contain('JBIG2Decode');
  });

  it('passes images through with their size, and refuses what is no image', async () => {
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#fff' } }).png().toBuffer();
    const content = await pageContent(png, 'image/png');
    expect(content.kind === 'image' && [content.image === png, content.width, content.height]).to.deep.equal([true, 30, 20]);
    const err = await rejection(pageContent(Buffer.from('nope'), 'image/jpeg'));
    expect(isDossierError(err) && err.code).to.equal('corrupt_image');
  });

  it('keeps a page without an image and with only a little text as text', async () => {
    const pdf = await onePagePdf(async (doc) => {
      const font = await doc.embedFont(StandardFonts.Helvetica);
      doc.addPage([595, 842]).drawText('Page 3', { x: 50, y: 780, size: 12, font });
    });
    const content = await pageContent(pdf, 'application/pdf');
    expect(content.kind === 'text' && content.text).to.equal('Page 3');
  });
});
