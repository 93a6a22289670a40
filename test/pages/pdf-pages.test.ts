import { expect } from 'chai';
import { PDFDocument } from 'pdf-lib';
import { encryptedPdf, handPdf, linkedPdf, pdf, zip } from './document-fixtures.js';
import { useTempDir, limits, readAll, rejection, sha256, write } from './fixtures.js';

describe('PDF', () => {
  const tmp = useTempDir();

  it('each page becomes a single-page PDF with its size in points', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([595.28, 841.89]);
    doc.addPage([841.89, 595.28]);
    doc.addPage([612, 1008]);
    const pages = await readAll(await write(tmp.dir, 'three.pdf', Buffer.from(await doc.save())));
    expect(pages.map((p) => [p.width, p.height, p.sourceName, p.mediaType])).to.deep.equal([
      [595, 842, '#1', 'application/pdf'],
      [842, 595, '#2', 'application/pdf'],
      [612, 1008, '#3', 'application/pdf'],
    ]);
    for (const page of pages) expect((await PDFDocument.load(page.bytes)).getPageCount()).to.equal(1);
  });

  it('keeps what a page draws: its image and font come along, other pages do not', async () => {
    const pages = await readAll(await write(tmp.dir, 'images.pdf', await pdf(3, { images: true })));
    const sizes = pages.map((p) => p.bytes.length);
    for (const size of sizes) expect(size).to.be.within(5_000, 60_000); // one 200 x 260 JPEG each
    const single = await PDFDocument.load(pages[1]!.bytes);
    expect(single.getPage(0).node.Resources()!.toString()).to.include('/XObject');
  });

  it('writes exactly what pdf-lib itself would write for a page (the faster stream copy changes no byte)', async () => {
    const source = await pdf(3, { images: true });
    const pages = await readAll(await write(tmp.dir, 'same.pdf', source));
    const reference = await PDFDocument.load(source);
    for (const [i, page] of pages.entries()) {
      const single = await PDFDocument.create({ updateMetadata: false });
      const [copy] = await single.copyPages(reference, [i]);
      single.addPage(copy!);
      const expected = Buffer.from(await single.save({ useObjectStreams: false, addDefaultPage: false }));
      expect(page.bytes.equals(expected), `page ${i + 1}`).to.equal(true);
    }
  });

  it('a link to another page does not drag that page (and the whole document) along', async () => {
    const source = await linkedPdf();
    const [first, , last] = await readAll(await write(tmp.dir, 'linked.pdf', source));
    expect(last!.bytes.length).to.be.above(100_000); // the big image is on page 3
    expect(first!.bytes.length).to.be.below(5_000);
    expect((await PDFDocument.load(first!.bytes)).getPage(0).node.Annots()!.size()).to.equal(1); // the link stays
  });

  it('splitting is deterministic: the same PDF gives the same page hashes', async () => {
    const file = await write(tmp.dir, 'again.pdf', await pdf(3, { images: true }));
    const first = (await readAll(file)).map((p) => sha256(p.bytes));
    const second = (await readAll(file)).map((p) => sha256(p.bytes));
    expect(second).to.deep.equal(first);
  });

  it('works from a Buffer: a PDF inside a ZIP', async () => {
    const archive = await zip([{ name: 'vol1/statement.pdf', data: await pdf(2), compress: true }]);
    const pages = await readAll(await write(tmp.dir, 'pdfs.zip', archive));
    expect(pages.map((p) => p.sourceName)).to.deep.equal(['vol1/statement.pdf#1', 'vol1/statement.pdf#2']);
  });

  it('an encrypted PDF is encrypted_pdf', async () => {
    const e = await rejection(await write(tmp.dir, 'locked.pdf', encryptedPdf('rc4')), 'encrypted_pdf');
    expect(e.message).to.match(/password/);
    await rejection(await write(tmp.dir, 'locked-aes.pdf', encryptedPdf('aes')), 'encrypted_pdf');
  });

  it('a damaged PDF is corrupt_pdf: header only, no page tree, garbage', async () => {
    await rejection(await write(tmp.dir, 'header.pdf', Buffer.from('%PDF-1.4\n%%EOF\n')), 'corrupt_pdf');
    await rejection(await write(tmp.dir, 'treeless.pdf', handPdf(['<< /Type /Catalog >>'], '/Root 1 0 R')), 'corrupt_pdf');
    await rejection(await write(tmp.dir, 'garbage.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 0xfe)])), 'corrupt_pdf');
  });

  it('a PDF without pages is empty_dossier', async () => {
    const doc = await PDFDocument.create();
    await rejection(await write(tmp.dir, 'empty.pdf', Buffer.from(await doc.save({ addDefaultPage: false }))), 'empty_dossier');
  });

  it('a PDF over maxPdfBytes is pdf_too_large, from its size alone (also inside a ZIP)', async () => {
    const bytes = await pdf(1);
    await rejection(await write(tmp.dir, 'big.pdf', bytes), 'pdf_too_large', limits({ maxPdfBytes: bytes.length - 1 }));
    await rejection(await write(tmp.dir, 'big-pdf.zip', await zip([{ name: 'big.pdf', data: bytes }])), 'pdf_too_large', limits({ maxPdfBytes: 100 }));
    expect(await readAll(await write(tmp.dir, 'fits.pdf', bytes), limits({ maxPdfBytes: bytes.length }))).to.have.length(1);
  });

  it('more PDF pages than allowed: too_many_pages before splitting', async () => {
    await rejection(await write(tmp.dir, 'long.pdf', await pdf(5)), 'too_many_pages', limits({ maxPages: 4 }));
  });
});
