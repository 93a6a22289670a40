import { expect } from 'chai';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { isDossierError } from '../../dossier/errors.js';
import { pageContent } from '../../ocr/page-content.js';
import { PageRenderer } from '../../dossier/pages/render/page-renderer.js';

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
  const renderer = new PageRenderer({ threads: 1 });
  after(() => renderer.close());

  it('takes a born-digital PDF page from its text layer, word boxes in points from the top-left', async () => {
    const pdf = await onePagePdf(async (doc) => {
      const font = await doc.embedFont(StandardFonts.Helvetica);
      doc.addPage([595, 842]).drawText(LINE, { x: 50, y: 780, size: 14, font });
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
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

  it('reads a scanned PDF page (one DCTDecode image) as its JPEG, byte for byte', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#eeeeee' } }).jpeg().toBuffer();
    const pdf = await onePagePdf(async (doc) => {
      doc.addPage([300, 400]).drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0, width: 300, height: 400 });
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
    if (content.kind !== 'image') throw new Error(`expected an image, got ${content.kind}`);
    expect(Buffer.from(content.image as Uint8Array).equals(jpeg)).to.equal(true);
    expect([content.width, content.height]).to.deep.equal([300, 400]);
    expect(content.rendered).to.equal(undefined);
  });

  it('draws a page whose scan carries a second image (a stamp): the page as it shows, not the largest image', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#eeeeee' } }).jpeg().toBuffer();
    const pdf = await onePagePdf(async (doc) => {
      const page = doc.addPage([72, 96]);
      page.drawImage(await doc.embedJpg(jpeg), { x: 0, y: 0, width: 72, height: 96 });
      const stamp = await doc.embedJpg(await sharp({ create: { width: 20, height: 20, channels: 3, background: '#000' } }).jpeg().toBuffer());
      page.drawImage(stamp, { x: 0, y: 0, width: 18, height: 18 });
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
    if (content.kind !== 'image' || content.image instanceof Uint8Array) throw new Error('expected drawn pixels');
    // The scan's own resolution: 300 px over 72 pt is 300 dpi.
    expect([content.width, content.height]).to.deep.equal([300, 400]);
    const { data, channels } = content.image;
    expect(data[((400 - 10) * 300 + 10) * channels]).to.be.below(40); // the black stamp, bottom left
    expect(data[(100 * 300 + 150) * channels]).to.be.closeTo(0xee, 6);
  });

  it('reads a FlateDecode gray scan as its pixels', async () => {
    const raw = await grayPixels(64, 48);
    const pdf = await onePagePdf(async (doc) => {
      const stream = doc.context.flateStream(raw, { Type: 'XObject', Subtype: 'Image', Width: 64, Height: 48, ColorSpace: 'DeviceGray', BitsPerComponent: 8 });
      const ref = doc.context.register(stream);
      const page = doc.addPage([64, 48]);
      page.node.setXObject(PDFName.of('Im0'), ref);
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
    if (content.kind !== 'image') throw new Error(`expected an image, got ${content.kind}`);
    if (content.image instanceof Uint8Array) throw new Error('expected raw pixels');
    expect([content.image.width, content.image.height, content.image.channels]).to.deep.equal([64, 48, 1]);
    expect(Buffer.from(content.image.data).equals(raw)).to.equal(true);
    expect(content.rendered).to.equal(undefined);
  });

  it('draws a scan it cannot take as it stands (1-bit, uncompressed) with the page renderer, at the scan\'s resolution', async () => {
    // 16 x 8 pixels, 1 bit each: the left half black (0 = black in DeviceGray), on a 16 x 8 pt page.
    const bits = Buffer.alloc(16, 0);
    for (let row = 0; row < 8; row++) bits[row * 2 + 1] = 0xff;
    const pdf = await onePagePdf(async (doc) => {
      const stream = doc.context.stream(bits, { Type: 'XObject', Subtype: 'Image', Width: 16, Height: 8, ColorSpace: 'DeviceGray', BitsPerComponent: 1 });
      const page = doc.addPage([16 * 72 / 300, 8 * 72 / 300]);
      page.node.setXObject(PDFName.of('Im0'), doc.context.register(stream));
      page.node.set(PDFName.of('Contents'), doc.context.register(doc.context.stream(`q ${16 * 72 / 300} 0 0 ${8 * 72 / 300} 0 0 cm /Im0 Do Q`)));
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
    if (content.kind !== 'image' || content.image instanceof Uint8Array) throw new Error('expected drawn pixels');
    expect(content.rendered?.dpi).to.be.closeTo(300, 1);
    expect([content.width, content.height]).to.deep.equal([16, 8]);
    const { data, channels } = content.image;
    const at = (x: number, y: number) => data[(y * 16 + x) * channels]!;
    expect(at(2, 4)).to.be.below(64);
    expect(at(13, 4)).to.be.above(192);
  });

  it('refuses a PDF page that cannot be parsed', async () => {
    const err = await rejection(pageContent(Buffer.from('%PDF-1.4\n%%EOF\n'), 'application/pdf', renderer));
    expect(isDossierError(err) && err.code).to.equal('corrupt_pdf');
  });

  it('passes images through with their size, and refuses what is no image', async () => {
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#fff' } }).png().toBuffer();
    const content = await pageContent(png, 'image/png', renderer);
    expect(content.kind === 'image' && [content.image === png, content.width, content.height]).to.deep.equal([true, 30, 20]);
    const err = await rejection(pageContent(Buffer.from('nope'), 'image/jpeg', renderer));
    expect(isDossierError(err) && err.code).to.equal('corrupt_image');
  });

  it('keeps a page without an image and with only a little text as text', async () => {
    const pdf = await onePagePdf(async (doc) => {
      const font = await doc.embedFont(StandardFonts.Helvetica);
      doc.addPage([595, 842]).drawText('Page 3', { x: 50, y: 780, size: 12, font });
    });
    const content = await pageContent(pdf, 'application/pdf', renderer);
    expect(content.kind === 'text' && content.text).to.equal('Page 3');
  });
});
