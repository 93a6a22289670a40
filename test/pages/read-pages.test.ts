import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { DossierError } from '../../dossier/errors.js';
import { readPages } from '../../dossier/pages/read-pages.js';
import { pdf, zip } from './document-fixtures.js';
import { useTempDir, faxTiff, jpeg, limits, multiPageTiff, openFds, readAll, rejection, write } from './fixtures.js';

describe('readPages', () => {
  const tmp = useTempDir();

  it('anything but PDF, TIFF, JPEG, PNG, JPEG 2000, WebP or ZIP is unsupported_format', async () => {
    await rejection(await write(tmp.dir, 'empty.pdf', Buffer.alloc(0)), 'unsupported_format');
    await rejection(await write(tmp.dir, 'anim.gif', Buffer.from('GIF89a\x01\0\x01\0\0\0\0;', 'latin1')), 'unsupported_format');
    await rejection(await write(tmp.dir, 'letter.docx.txt', Buffer.from('Dear court,')), 'unsupported_format');
  });

  it('the page limit counts pages across all files of a dossier and stops early', async () => {
    const archive = await zip([
      { name: '1.pdf', data: await pdf(2) },
      { name: '2.pdf', data: await pdf(2) },
      { name: '3.jpg', data: await jpeg(3) },
    ]);
    const file = await write(tmp.dir, 'pdfs.zip', archive);
    let seen = 0;
    try {
      for await (const _ of readPages(file, limits({ maxPages: 3, maxDepth: 8 }))) seen++;
      expect.fail('accepted');
    } catch (err) {
      expect((err as DossierError).code).to.equal('too_many_pages');
    }
    expect(seen).to.equal(2); // 2.pdf announces 2 more pages: refused before it is split
    expect(await readAll(file, limits({ maxPages: 5 }))).to.have.length(5);
  });

  it('a file that is not there is an internal error, not a rejection of the clerk\'s upload', async () => {
    try {
      await readAll(path.join(tmp.dir, 'missing.pdf'));
      expect.fail('read a missing file');
    } catch (err) {
      expect(err).to.be.instanceOf(DossierError);
      expect((err as DossierError).code).to.equal('internal');
    }
  });

  describe('closes every file when the consumer stops early or reading fails', () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    before(() => process.on('unhandledRejection', onUnhandled));
    after(() => process.off('unhandledRejection', onUnhandled));

    async function takeOne(file: string): Promise<void> {
      const pages = readPages(file, limits())[Symbol.asyncIterator]();
      const first = await pages.next();
      expect(first.done).to.equal(false);
      await pages.return!(undefined);
    }

    it('leaves no file descriptor open after return() (ZIP, nested ZIP, TIFF, PDF)', async () => {
      const inner = await zip([{ name: 'x.jpg', data: await jpeg(9) }, { name: 'y.jpg', data: await jpeg(10) }]);
      const files = [
        await write(tmp.dir, 'early.zip', await zip([
          { name: '1.jpg', data: await jpeg(1) },
          { name: '2.jpg', data: await jpeg(2), compress: true },
          { name: '3.tif', data: await faxTiff(2) },
          { name: '4.jpg', data: await jpeg(4) },
        ])),
        // The second entry (8 MB, deflated) is still streaming when the consumer stops.
        await write(tmp.dir, 'early-deflated.zip', await zip([
          { name: '1.jpg', data: await jpeg(1), compress: true },
          { name: '2.jpg', data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(8_000_000)]), compress: true },
        ])),
        await write(tmp.dir, 'early-nested.zip', await zip([{ name: 'inner.zip', data: inner }, { name: 'z.jpg', data: await jpeg(5) }])),
        await write(tmp.dir, 'early.tif', await multiPageTiff(4)),
        await write(tmp.dir, 'early.pdf', await pdf(4)),
      ];
      for (const file of files) {
        const before = await openFds();
        await takeOne(file);
        expect(await openFds(), path.basename(file)).to.equal(before);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).to.deep.equal([]);
    });

    it('leaves no file descriptor open after a rejection in the middle of an archive', async () => {
      const archive = await zip([
        { name: '1.jpg', data: await jpeg(1) },
        { name: '2.jpg', data: await jpeg(2) },
        { name: '3.jpg', data: Buffer.from('not really a JPEG') },
        { name: '4.jpg', data: await jpeg(4) },
      ]);
      const file = await write(tmp.dir, 'broken.zip', archive);
      const before = await openFds();
      await rejection(file, 'corrupt_image');
      expect(await openFds()).to.equal(before);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).to.deep.equal([]);
    });
  });
});
