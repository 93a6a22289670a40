import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { DossierError } from '../../dossier/errors.js';
import { readPages } from '../../dossier/pages/read-pages.js';
import { pdf, rawZip, zip } from './document-fixtures.js';
import { overlappingZip, withUnixMode } from '../reliability/hostile-catalogue.js';
import { useTempDir, faxTiff, jpeg, limits, png, readAll, rejection, sha256, write } from './fixtures.js';

describe('ZIP', () => {
  const tmp = useTempDir();

  it('reads pages in natural order, folder by folder, skipping folders, junk and non-pages', async () => {
    const image = (seed: number) => jpeg(seed, 40, 50);
    const entries = [
      { name: 'vol10/1.jpg', data: await image(1) },
      { name: 'vol2/10.jpg', data: await image(2) },
      { name: 'vol2/2.jpg', data: await image(3) },
      { name: 'Vol2/1.jpg', data: await image(4) },
      { name: 'vol1/3.png', data: await png(5) },
      { name: 'cover.jpg', data: await image(6) },
      { name: '__MACOSX/vol1/._3.png', data: Buffer.from('resource fork') },
      { name: 'vol1/.DS_Store', data: Buffer.alloc(600) },
      { name: 'vol1/Thumbs.db', data: Buffer.from('thumbs') },
      { name: 'desktop.ini', data: Buffer.from('[.ShellClassInfo]') },
      { name: '.hidden/secret.jpg', data: await image(7) },
      { name: 'index.xml', data: Buffer.from('<dossier/>') },
      { name: 'README', data: Buffer.alloc(5000, 0x41) },
    ];
    const pages = await readAll(await write(tmp.dir, 'order.zip', await zip(entries)));
    expect(pages.map((p) => p.sourceName)).to.deep.equal(['cover.jpg', 'vol1/3.png', 'Vol2/1.jpg', 'vol2/2.jpg', 'vol2/10.jpg', 'vol10/1.jpg']);
    for (const page of pages) {
      const source = entries.find((e) => e.name === page.sourceName)!;
      expect(sha256(page.bytes), page.sourceName).to.equal(sha256(source.data)); // byte-identical
    }
  });

  it('deflated and ZIP64 entries are read the same, byte-identical', async () => {
    const a = await jpeg(1, 200, 200);
    const b = await jpeg(2, 200, 200);
    const archive = await zip([
      { name: '1.jpg', data: a, compress: true },
      { name: '2.jpg', data: b, zip64: true },
      { name: '3.jpg', data: a, compress: true, zip64: true },
    ]);
    const pages = await readAll(await write(tmp.dir, 'zip64.zip', archive));
    expect(pages.map((p) => sha256(p.bytes))).to.deep.equal([sha256(a), sha256(b), sha256(a)]);
  });

  it('entries over 16 MiB: a page is read whole (stored or deflated), anything else only by its head', async () => {
    const big = Buffer.concat([await jpeg(1, 50, 50), randomBytes(17 * 1024 * 1024)]); // data after EOI
    const archive = await zip([
      { name: 'a-stored.jpg', data: big },
      { name: 'b-deflated.jpg', data: big, compress: true },
      { name: 'c-video.bin', data: randomBytes(17 * 1024 * 1024) },
      { name: 'd-video.bin', data: randomBytes(17 * 1024 * 1024), compress: true },
    ]);
    const pages = await readAll(await write(tmp.dir, 'big.zip', archive));
    expect(pages.map((p) => p.sourceName)).to.deep.equal(['a-stored.jpg', 'b-deflated.jpg']);
    for (const page of pages) expect(sha256(page.bytes)).to.equal(sha256(big));
  });

  it('flattens PDFs, TIFFs and nested ZIPs into pages, in place', async () => {
    const inner = await zip([{ name: 'b.jpg', data: await jpeg(2) }, { name: 'a.jpg', data: await jpeg(3) }]);
    const archive = await zip([
      { name: '1-cover.jpg', data: await jpeg(1) },
      { name: '2-statement.pdf', data: await pdf(2), compress: true },
      { name: '3-fax.tif', data: await faxTiff(2) },
      { name: '4-annex.zip', data: inner },
      { name: '5-last.png', data: await png(4) },
    ]);
    const pages = await readAll(await write(tmp.dir, 'mixed.zip', archive));
    expect(pages.map((p) => [p.sourceName, p.mediaType])).to.deep.equal([
      ['1-cover.jpg', 'image/jpeg'],
      ['2-statement.pdf#1', 'application/pdf'],
      ['2-statement.pdf#2', 'application/pdf'],
      ['3-fax.tif#1', 'image/tiff'],
      ['3-fax.tif#2', 'image/tiff'],
      ['4-annex.zip/a.jpg', 'image/jpeg'],
      ['4-annex.zip/b.jpg', 'image/jpeg'],
      ['5-last.png', 'image/png'],
    ]);
  });

  it('rejects unsafe entry names before reading any data: unsafe_path', async () => {
    const names = ['../evil.jpg', 'a/../../evil.jpg', '/etc/evil.jpg', '..\\evil.jpg', 'a\\..\\..\\evil.jpg', 'C:/evil.jpg', 'C:\\evil.jpg', 'a\0.jpg'];
    for (const name of names) {
      const archive = rawZip([{ name: 'ok.jpg', data: await jpeg(1) }, { name, data: await jpeg(2) }]);
      const file = await write(tmp.dir, 'slip.zip', archive);
      let pagesBeforeError = 0;
      try {
        for await (const _ of readPages(file, limits())) pagesBeforeError++;
        expect.fail(`${JSON.stringify(name)} was accepted`);
      } catch (err) {
        expect(err, JSON.stringify(name)).to.be.instanceOf(DossierError);
        expect((err as DossierError).code, `${JSON.stringify(name)}: ${(err as Error).message}`).to.equal('unsafe_path');
      }
      expect(pagesBeforeError, JSON.stringify(name)).to.equal(0);
    }
  });

  it('zip bombs are refused from the headers: ratio, entry size, total size', async () => {
    const bomb = await write(tmp.dir, 'bomb.zip', await zip([{ name: 'a.jpg', data: await jpeg(1) }, { name: 'zeros.jpg', data: Buffer.alloc(30 * 1024 * 1024), compress: true }]));
    const e = await rejection(bomb, 'zip_bomb');
    expect(e.message).to.include('zeros.jpg');
    const [a, b] = [await jpeg(1), await jpeg(2)];
    const two = await write(tmp.dir, 'two.zip', await zip([{ name: 'a.jpg', data: a }, { name: 'b.jpg', data: b }]));
    await rejection(two, 'zip_bomb', limits({ maxEntryBytes: Math.max(a.length, b.length) - 1 }));
    await rejection(two, 'zip_bomb', limits({ maxTotalUncompressedBytes: a.length + b.length - 1 }));
    expect(await readAll(two, limits({ maxEntryBytes: Math.max(a.length, b.length), maxTotalUncompressedBytes: a.length + b.length }))).to.have.length(2);
    // Below 1 MiB a high ratio is harmless: a small text file of spaces is not a bomb.
    const spaces = await write(tmp.dir, 'spaces.zip', await zip([{ name: 'a.jpg', data: await jpeg(1) }, { name: 'notes.txt', data: Buffer.alloc(500_000, 0x20), compress: true }]));
    expect(await readAll(spaces)).to.have.length(1);
  });

  it('counts the real inflated bytes: an entry that inflates past its declared size is zip_bomb', async () => {
    const lying = rawZip([{ name: 'a.jpg', data: zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024)), method: 8 }]);
    await rejection(await write(tmp.dir, 'lying.zip', lying), 'zip_bomb');
  });

  it('an entry that inflates a little past its declared size, far below the bomb limits, is corrupt_archive', async () => {
    const short = rawZip([{ name: 'a.jpg', data: zlib.deflateRawSync(Buffer.alloc(20_000, 'scan ')), method: 8 }]);
    const e = await rejection(await write(tmp.dir, 'short.zip', short), 'corrupt_archive');
    expect(e.message).to.include('a.jpg').and.include('declares');
  });

  it('a damaged archive is corrupt_archive: truncated, CRC mismatch (stored and deflated), not a zip', async () => {
    const archive = await zip([{ name: 'a.jpg', data: await jpeg(1) }, { name: 'b.jpg', data: await jpeg(2), compress: true }]);
    await rejection(await write(tmp.dir, 'cut.zip', archive.subarray(0, archive.length - 40)), 'corrupt_archive');
    const stored = Buffer.from(archive);
    stored[2000] = stored[2000]! ^ 0xff; // inside a.jpg's stored data
    const e = await rejection(await write(tmp.dir, 'crc.zip', stored), 'corrupt_archive');
    expect(e.message).to.include('a.jpg');
    const deflated = Buffer.from(archive);
    const second = deflated.indexOf(Buffer.from('b.jpg')) + 5;
    for (let i = second + 100; i < second + 400; i += 7) deflated[i] = deflated[i]! ^ 0x55;
    await rejection(await write(tmp.dir, 'inflate.zip', deflated), 'corrupt_archive');
    await rejection(await write(tmp.dir, 'fake.zip', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(500, 1)])), 'corrupt_archive');
  });

  it('encrypted entries and unknown compression methods are unsupported_format', async () => {
    const encrypted = rawZip([{ name: 'secret.jpg', data: Buffer.alloc(100, 7), flags: 1 }]);
    const e = await rejection(await write(tmp.dir, 'encrypted.zip', encrypted), 'unsupported_format');
    expect(e.message).to.include('secret.jpg');
    const bzip2 = rawZip([{ name: 'scan.jpg', data: Buffer.alloc(100, 7), method: 12 }]);
    await rejection(await write(tmp.dir, 'bzip2.zip', bzip2), 'unsupported_format');
  });

  it('an archive without pages is empty_dossier: empty, only junk, only text', async () => {
    await rejection(await write(tmp.dir, 'empty.zip', rawZip([])), 'empty_dossier');
    await rejection(await write(tmp.dir, 'junk.zip', await zip([{ name: '__MACOSX/x', data: Buffer.from('x') }, { name: 'notes.txt', data: Buffer.from('hello') }])), 'empty_dossier');
  });

  it('an entry named like a page whose content is not one is refused, not silently skipped', async () => {
    await rejection(await write(tmp.dir, 'fake-jpg.zip', await zip([{ name: 'a.jpg', data: await jpeg(1) }, { name: 'b.jpg', data: Buffer.from('not an image') }])), 'corrupt_image');
    await rejection(await write(tmp.dir, 'fake-pdf.zip', await zip([{ name: 'a.pdf', data: Buffer.alloc(0) }])), 'corrupt_pdf');
  });

  it('nesting deeper than maxDepth is refused: archives (zip_bomb) and folders (unsafe_path)', async () => {
    let nested = await zip([{ name: 'page.jpg', data: await jpeg(1) }]);
    for (let i = 0; i < 3; i++) nested = await zip([{ name: `level${i}.zip`, data: nested }]);
    const file = await write(tmp.dir, 'deep.zip', nested); // 4 archive levels
    expect(await readAll(file, limits({ maxDepth: 4 }))).to.have.length(1);
    await rejection(file, 'zip_bomb', limits({ maxDepth: 3 }));
    const folders = await write(tmp.dir, 'folders.zip', await zip([{ name: 'a/b/c/page.jpg', data: await jpeg(1) }]));
    expect(await readAll(folders, limits({ maxDepth: 4 }))).to.have.length(1);
    await rejection(folders, 'unsafe_path', limits({ maxDepth: 3 }));
  });

  it('more page files than allowed: too_many_pages before any page is read', async () => {
    const archive = await zip(await Promise.all([1, 2, 3].map(async (i) => ({ name: `${i}.jpg`, data: await jpeg(i) }))));
    const file = await write(tmp.dir, 'three.zip', archive);
    let pages = 0;
    try {
      for await (const _ of readPages(file, limits({ maxPages: 2 }))) pages++;
      expect.fail('accepted');
    } catch (err) {
      expect((err as DossierError).code).to.equal('too_many_pages');
    }
    expect(pages).to.equal(0);
  });

  it('a symbolic link entry is unsafe_path, whatever its name; entries sharing their bytes are zip_bomb', async () => {
    const link = withUnixMode(rawZip([{ name: 'ok.jpg', data: await jpeg(1) }, { name: 'link.jpg', data: Buffer.from('/etc/passwd') }]), 1, 0o120777);
    await rejection(await write(tmp.dir, 'link.zip', link), 'unsafe_path');
    // The same mode bits without the link type are an ordinary file.
    const plain = withUnixMode(rawZip([{ name: 'ok.jpg', data: await jpeg(1) }]), 0, 0o100644);
    expect(await readAll(await write(tmp.dir, 'plain.zip', plain))).to.have.length(1);
    await rejection(await write(tmp.dir, 'overlap.zip', overlappingZip(3, await jpeg(2))), 'zip_bomb');
  });
});
