import { expect } from 'chai';
import sharp from 'sharp';
import { readTiffDirectories } from '../../dossier/pages/tiff-ifd.js';
import { zip } from './document-fixtures.js';
import { useTempDir, bilevelRaw, faxTiff, limits, mixedTiffPages, multiPageTiff, pixels, rawTiff, readAll, rejection, sha256, write, type RawTiffPage } from './fixtures.js';

/** The IFDs of a TIFF in memory, via the reader's own parser. */
const directories = async (tiff: Buffer) => (await readTiffDirectories(async (at, n) => tiff.subarray(at, at + n), 100)).directories;

/** Decoded pixels of one page, in the page's own colour space and depth, so nothing is converted. */
async function decoded(tiff: Buffer, page = 0): Promise<Buffer> {
  const meta = await sharp(tiff, { page }).metadata();
  const depth = meta.depth === 'ushort' ? 'ushort' : 'uchar';
  return sharp(tiff, { page }).pipelineColourspace(meta.space).toColourspace(meta.space).raw({ depth }).toBuffer();
}

describe('TIFF', () => {
  const tmp = useTempDir();

  it('a single-page TIFF is one page, byte-identical', async () => {
    const tiff = await sharp(pixels(64, 48, 3, 1), { raw: { width: 64, height: 48, channels: 3 } }).tiff({ compression: 'jpeg' }).toBuffer();
    const pages = await readAll(await write(tmp.dir, 'one.tif', tiff));
    expect(pages).to.have.length(1);
    expect(sha256(pages[0]!.bytes)).to.equal(sha256(tiff));
    expect(pages[0]).to.include({ mediaType: 'image/tiff', width: 64, height: 48, sourceName: '#1' });
  });

  it('each page of a multi-page TIFF becomes a single-page LZW TIFF with the same pixels', async () => {
    const tiff = await multiPageTiff(3);
    const pages = await readAll(await write(tmp.dir, 'three.tif', tiff));
    expect(pages.map((p) => p.sourceName)).to.deep.equal(['#1', '#2', '#3']);
    for (const [i, page] of pages.entries()) {
      expect(page).to.include({ mediaType: 'image/tiff', width: 80, height: 100 });
      const [ifd, ...more] = await directories(page.bytes);
      expect(more).to.deep.equal([]);
      expect(ifd!.compression).to.equal(5); // LZW
      expect((await decoded(page.bytes)).equals(await decoded(tiff, i)), `page ${i + 1}`).to.equal(true);
    }
  });

  it('a CCITT G4 fax stays bilevel G4, pixel-identical, with its 204 x 98 dpi', async () => {
    const fax = await faxTiff(2);
    const pages = await readAll(await write(tmp.dir, 'fax.tif', fax));
    expect(pages).to.have.length(2);
    for (const [i, page] of pages.entries()) {
      const [ifd] = await directories(page.bytes);
      expect(ifd).to.include({ compression: 4, bitsPerSample: 1, samplesPerPixel: 1, width: 400, height: 300 });
      expect(ifd!.xres).to.be.closeTo(204, 0.01);
      expect(ifd!.yres).to.be.closeTo(98, 0.01);
      expect((await decoded(page.bytes)).equals(await decoded(fax, i))).to.equal(true);
      expect(page.bytes.length).to.be.below(8000); // G4, not 8-bit: 120 000 pixels
    }
  });

  it('pages of mixed kinds and sizes keep their colour space, bit depth and resolution', async () => {
    const kinds = mixedTiffPages();
    const tiff = rawTiff(kinds);
    const pages = await readAll(await write(tmp.dir, 'mixed.tif', tiff));
    expect(pages.map((p) => [p.width, p.height])).to.deep.equal(kinds.map((k) => [k.width, k.height]));
    for (const [i, page] of pages.entries()) {
      const [source, out] = [await sharp(tiff, { page: i }).metadata(), await sharp(page.bytes).metadata()];
      expect([out.space, out.channels, out.depth], `page ${i + 1}`).to.deep.equal([source.space, source.channels, source.depth]);
      expect((await decoded(page.bytes)).equals(await decoded(tiff, i)), `page ${i + 1} pixels`).to.equal(true);
      const [ifd] = await directories(page.bytes);
      expect(ifd!.compression, `page ${i + 1} compression`).to.equal(kinds[i]!.bits === 1 ? 4 : 5);
      expect(ifd!.xres, `page ${i + 1} x dpi`).to.be.closeTo(kinds[i]!.dpi![0], 0.01);
      expect(ifd!.yres, `page ${i + 1} y dpi`).to.be.closeTo(kinds[i]!.dpi![1], 0.01);
    }
  });

  it('thumbnail directories (reduced-resolution copies) are not pages', async () => {
    const page = (seed: number, thumbnail = false): RawTiffPage => ({ width: 20, height: 20, bits: 8, samples: 1, photometric: 1, data: pixels(20, 20, 1, seed), thumbnail });
    const oneWithThumb = rawTiff([page(1), page(2, true)]);
    const [only] = await readAll(await write(tmp.dir, 'thumb1.tif', oneWithThumb));
    expect(only!.bytes.equals(oneWithThumb)).to.equal(true);
    expect(await readAll(await write(tmp.dir, 'thumb2.tif', rawTiff([page(1), page(2, true), page(3)])))).to.have.length(2);
  });

  it('the same TIFF always gives the same page bytes (a re-run ingest gets the same hashes)', async () => {
    const file = await write(tmp.dir, 'again.tif', await faxTiff(2));
    const first = (await readAll(file)).map((p) => sha256(p.bytes));
    const second = (await readAll(file)).map((p) => sha256(p.bytes));
    expect(second).to.deep.equal(first);
  });

  it('works from a Buffer: a multi-page TIFF inside a ZIP', async () => {
    const archive = await zip([{ name: 'fax/scan.tif', data: await faxTiff(3), compress: true }]);
    const pages = await readAll(await write(tmp.dir, 'tiffs.zip', archive));
    expect(pages.map((p) => p.sourceName)).to.deep.equal(['fax/scan.tif#1', 'fax/scan.tif#2', 'fax/scan.tif#3']);
  });

  it('checks every page against the pixel limit before decoding any: image_too_large', async () => {
    const tiff = rawTiff([
      { width: 10, height: 10, bits: 8, samples: 1, photometric: 1, data: pixels(10, 10, 1, 1) },
      { width: 100, height: 100, bits: 8, samples: 1, photometric: 1, data: pixels(100, 100, 1, 2) },
    ]);
    const e = await rejection(await write(tmp.dir, 'flood.tif', tiff), 'image_too_large', limits({ maxPixels: 5000 }));
    expect(e.message).to.include('Page 2');
  });

  it('more TIFF pages than allowed: too_many_pages before any page is decoded', async () => {
    await rejection(await write(tmp.dir, 'long.tif', await multiPageTiff(4, 8, 8)), 'too_many_pages', limits({ maxPages: 3 }));
  });

  it('a damaged TIFF is corrupt_image: truncated directory, looping directories, truncated strips', async () => {
    const good = await multiPageTiff(2);
    await rejection(await write(tmp.dir, 'cut.tif', good.subarray(0, 30)), 'corrupt_image');
    const looped = rawTiff([{ width: 4, height: 4, bits: 8, samples: 1, photometric: 1, data: pixels(4, 4, 1, 1) }]);
    const ifd = looped.readUInt32LE(4);
    looped.writeUInt32LE(ifd, ifd + 2 + looped.readUInt16LE(ifd) * 12); // next IFD: itself
    await rejection(await write(tmp.dir, 'loop.tif', looped), 'corrupt_image');
    const pages = Array.from({ length: 2 }, (_, i): RawTiffPage => ({ width: 40, height: 40, bits: 8, samples: 1, photometric: 1, data: pixels(40, 40, 1, i) }));
    const stripless = rawTiff(pages);
    const first = stripless.readUInt32LE(4);
    stripless.writeUInt32LE(10_000_000, first + 2 + 6 * 12 + 8); // StripOffsets far past the end
    await rejection(await write(tmp.dir, 'strip.tif', stripless), 'corrupt_image');
  });
});
