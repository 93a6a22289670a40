import { expect } from 'chai';
import { PDFContext, PDFDocument } from 'pdf-lib';
import { readIndex } from '../../dossier/pages/pdf/object-index.js';
import { openRandomAccess } from '../../dossier/pages/random-access.js';
import { encryptedPdf, handPdf, linkedPdf, pdf, zip } from './document-fixtures.js';
import { useTempDir, limits, readAll, rejection, sha256, write } from './fixtures.js';
import { wholeFilePages } from './pdf-reference.js';
import { classicPdf, contentsOf, inheritingPdf, OUTLINED_ENTRIES, outlinedPdf, QPDF, qpdf, withUpdate } from './pdf-shapes.js';

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

  it('more PDF pages than allowed: too_many_pages before splitting', async () => {
    await rejection(await write(tmp.dir, 'long.pdf', await pdf(5)), 'too_many_pages', limits({ maxPages: 4 }));
  });

  describe('read by offset: the same bytes the whole-file split wrote', () => {
    /** Splits `bytes` both ways and compares page by page; returns the pages. */
    async function same(name: string, bytes: Buffer) {
      const pages = await readAll(await write(tmp.dir, name, bytes));
      const reference = await wholeFilePages(bytes);
      expect(pages.map((p) => sha256(p.bytes)), name).to.deep.equal(reference.map(sha256));
      return pages;
    }

    it('cross-reference streams and object streams (pdf-lib), and a classic table', async () => {
      await same('objstm.pdf', await pdf(3, { images: true }));
      await same('classic.pdf', await classicPdf(3));
      await same('linked.pdf', await linkedPdf());
    });

    it('pages that inherit /MediaBox, /Resources and /Rotate from the tree; a /Length in another object', async () => {
      const pages = await same('inheriting.pdf', inheritingPdf());
      expect(pages.map((p) => [p.width, p.height])).to.deep.equal([[100, 120], [300, 400]]);
      const first = (await PDFDocument.load(pages[0]!.bytes)).getPage(0);
      expect(first.getRotation().angle).to.equal(90);
      expect(first.node.Resources()!.toString()).to.include('/F1');
    });

    it('an incremental update: each page has the newest version of its objects', async () => {
      const base = await classicPdf(2);
      const stream = await contentsOf(base, 1);
      const text = 'BT /F1 30 Tf 60 60 Td (amended) Tj ET';
      const updated = withUpdate(base, { [stream]: `<< /Length ${text.length} >>\nstream\n${text}\nendstream` });
      const pages = await same('updated.pdf', updated);
      expect(pages[1]!.bytes.toString('latin1')).to.include('(amended)');
      expect(pages[0]!.bytes.toString('latin1')).to.not.include('(amended)');
      // An update over a cross-reference stream (a hybrid of both kinds of section).
      const overStream = await pdf(2);
      await same('updated-stream.pdf', withUpdate(overStream, { [await contentsOf(overStream, 0)]: `<< /Length ${text.length} >>\nstream\n${text}\nendstream` }));
    });

    it('a classic table larger than one read (4,000 objects, 80 KB) is read as a table, not scanned', async () => {
      const filler = Array.from({ length: 4000 }, (_, i) => `<< /Filler ${i} >>`);
      const bytes = handPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Filler 4003 0 R >>', ...filler], '/Root 1 0 R');
      const file = await write(tmp.dir, 'long-table.pdf', bytes);
      const access = await openRandomAccess(file);
      try {
        expect((await readIndex({ access, size: bytes.length }, PDFContext.create())).how).to.equal('xref');
      } finally {
        await access.close();
      }
      await same('long-table.pdf', bytes);
    });

    it('a broken table, and a table the end of the file does not lead to, are recovered by scanning', async () => {
      const broken = (await pdf(2)).toString('latin1').replace(/startxref\n\d+/, 'startxref\n99999999');
      await same('broken-xref.pdf', Buffer.from(broken, 'latin1'));
      const classic = (await classicPdf(2)).toString('latin1').replace(/(\d{10}) 00000 n/g, '0000000100 00000 n');
      await same('wrong-offsets.pdf', Buffer.from(classic, 'latin1'));
      // A ZIP of 200 KB appended: startxref is far from the end.
      const noise = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) & 0xff));
      await same('polyglot.pdf', Buffer.concat([await pdf(2, { images: true }), await zip([{ name: 'x.bin', data: noise }])]));
    });

    it('linearized files, generated object streams with PNG predictors, QDF (qpdf rewrites)', async function () {
      if (!QPDF) {
        if (process.env.CI === 'true') throw new Error('qpdf is required when CI=true');
        console.log('      (skipped: qpdf is not installed)');
        return this.skip();
      }
      const source = await pdf(4, { images: true });
      for (const args of [['--linearize'], ['--object-streams=generate'], ['--object-streams=generate', '--linearize'], ['--qdf']]) {
        await same(`qpdf${args.join('')}.pdf`, await qpdf(tmp.dir, source, args));
      }
      await same('qpdf-outlined.pdf', await qpdf(tmp.dir, await outlinedPdf(), ['--object-streams=generate']));
    });

    it('every PDF of the corpus of real scanner output (CORPUS_DIR)', async function () {
      const corpus = process.env.CORPUS_DIR;
      if (!corpus) {
        console.log('      (skipped: set CORPUS_DIR to the shared corpus)');
        return this.skip();
      }
      const { readdir, readFile } = await import('node:fs/promises');
      const names = (await readdir(corpus)).filter((n) => n.endsWith('.pdf') && n !== 'invalid.pdf');
      expect(names.length).to.be.above(0);
      for (const name of names) await same(name, await readFile(`${corpus}/${name}`));
    });
  });

  describe('outline', () => {
    it('a nested outline, each bookmark with its page, on the first page of the PDF', async () => {
      const pages = await readAll(await write(tmp.dir, 'outlined.pdf', await outlinedPdf()));
      expect(pages).to.have.length(6);
      expect(pages[0]!.outline).to.deep.equal(OUTLINED_ENTRIES);
      expect(pages.slice(1).every((p) => p.outline === undefined)).to.equal(true);
    });

    it('a PDF inside a ZIP keeps its outline; a PDF without one has none', async () => {
      const archive = await zip([{ name: 'a.pdf', data: await pdf(2) }, { name: 'b.pdf', data: await outlinedPdf(), compress: true }]);
      const pages = await readAll(await write(tmp.dir, 'outlined.zip', archive));
      expect(pages.map((p) => p.outline !== undefined)).to.deep.equal([false, false, true, false, false, false, false, false]);
      expect(pages[2]!.outline).to.deep.equal(OUTLINED_ENTRIES);
    });

    it('an outline that loops ends where it loops; the pages are read all the same', async () => {
      const bytes = handPdf(
        [
          '<< /Type /Catalog /Pages 2 0 R /Outlines 4 0 R >>',
          '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
          '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
          '<< /Type /Outlines /First 5 0 R >>',
          '<< /Title (Loop) /Dest [3 0 R /Fit] /Next 5 0 R /First 5 0 R >>',
        ],
        '/Root 1 0 R',
      );
      const pages = await readAll(await write(tmp.dir, 'outline-loop.pdf', bytes));
      expect(pages[0]!.outline).to.deep.equal([{ title: 'Loop', page: 1, children: [] }]);
    });
  });
});
