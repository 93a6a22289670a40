import { expect } from 'chai';
import sharp from 'sharp';
import { headerSize } from '../../dossier/pages/image-header.js';
import { useTempDir, jpeg, limits, noisy, png, readAll, rejection, sha256, write } from './fixtures.js';

/** A JP2 file's header boxes and a codestream stub: enough for everything short of decoding. */
function jp2(width: number, height: number): Buffer {
  const box = (type: string, content: Buffer) => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + content.length);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, content]);
  };
  const ihdr = Buffer.alloc(14);
  ihdr.writeUInt32BE(height, 0);
  ihdr.writeUInt32BE(width, 4);
  ihdr.writeUInt16BE(3, 8); // components
  ihdr.writeUInt8(7, 10); // 8 bits
  ihdr.writeUInt8(7, 11); // wavelet compression
  const colr = Buffer.from([1, 0, 0, 0, 0, 0, 16]); // enumerated sRGB
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
    box('ftyp', Buffer.from('jp2 \0\0\0\0jp2 ', 'latin1')),
    box('jp2h', Buffer.concat([box('ihdr', ihdr), box('colr', colr)])),
    box('jp2c', codestream(width, height)),
  ]);
}

function codestream(width: number, height: number, xOffset = 0, yOffset = 0): Buffer {
  const siz = Buffer.alloc(2 + 2 + 2 + 32 + 2 + 3);
  siz.writeUInt16BE(0xff51, 0);
  siz.writeUInt16BE(41, 2); // Lsiz for one component
  siz.writeUInt32BE(width + xOffset, 6);
  siz.writeUInt32BE(height + yOffset, 10);
  siz.writeUInt32BE(xOffset, 14);
  siz.writeUInt32BE(yOffset, 18);
  siz.writeUInt32BE(width + xOffset, 22); // one tile
  siz.writeUInt32BE(height + yOffset, 26);
  siz.writeUInt16BE(1, 38);
  siz.writeUInt8(7, 40);
  siz.writeUInt8(1, 41);
  siz.writeUInt8(1, 42);
  return Buffer.concat([Buffer.from([0xff, 0x4f]), siz, Buffer.from([0xff, 0xd9])]);
}

describe('single images', () => {
  const tmp = useTempDir();

  it('a JPEG is one page, byte-identical (same SHA-256 as the file)', async () => {
    const bytes = await jpeg(1, 300, 400);
    const pages = await readAll(await write(tmp.dir, 'scan.jpg', bytes));
    expect(pages).to.have.length(1);
    expect(sha256(pages[0]!.bytes)).to.equal(sha256(bytes));
    expect(pages[0]).to.include({ mediaType: 'image/jpeg', width: 300, height: 400, sourceName: '#1' });
  });

  it('PNG and WebP (lossy, lossless, with alpha) are single pages with their size', async () => {
    const cases: [string, Buffer, string][] = [
      ['p.png', await png(2, 90, 70), 'image/png'],
      ['lossy.webp', await noisy(91, 71, 3).webp({ quality: 70 }).toBuffer(), 'image/webp'],
      ['lossless.webp', await noisy(93, 73, 4).webp({ lossless: true }).toBuffer(), 'image/webp'],
      ['alpha.webp', await noisy(95, 75, 5).ensureAlpha(0.5).webp().toBuffer(), 'image/webp'],
    ];
    for (const [name, bytes, mediaType] of cases) {
      const [page] = await readAll(await write(tmp.dir, name, bytes));
      const meta = await sharp(bytes).metadata();
      expect(page, name).to.deep.include({ mediaType, width: meta.width, height: meta.height });
      expect(page!.bytes.equals(bytes), name).to.equal(true);
    }
  });

  it('reads the size from the header as sharp does (baseline, progressive, EXIF-rotated, grey JPEG)', async () => {
    const images = [
      await noisy(301, 203, 1).jpeg().toBuffer(),
      await noisy(302, 204, 2).jpeg({ progressive: true }).toBuffer(),
      await noisy(303, 205, 3).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
      await noisy(304, 206, 4, 1).jpeg().toBuffer(),
      await noisy(305, 207, 5).png({ palette: true }).toBuffer(),
    ];
    for (const bytes of images) {
      const meta = await sharp(bytes).metadata();
      expect(headerSize(meta.format === 'png' ? 'png' : 'jpeg', bytes)).to.deep.equal({ width: meta.width, height: meta.height });
    }
  });

  it('JPEG 2000: the size comes from the ihdr box or the SIZ marker; bytes are kept as they are', async () => {
    const file = jp2(2480, 3508);
    const [page] = await readAll(await write(tmp.dir, 'scan.jp2', file));
    expect(page).to.deep.include({ mediaType: 'image/jp2', width: 2480, height: 3508 });
    expect(page!.bytes.equals(file)).to.equal(true);
    const raw = codestream(1000, 700, 10, 20);
    const [fromCodestream] = await readAll(await write(tmp.dir, 'scan.j2k', raw));
    expect(fromCodestream).to.deep.include({ mediaType: 'image/jp2', width: 1000, height: 700 });
  });

  it('a pixel flood is image_too_large, from the header alone (JPEG, PNG, JP2)', async () => {
    const small = limits({ maxPixels: 100 * 100 });
    const e = await rejection(await write(tmp.dir, 'big.jpg', await jpeg(1, 101, 100)), 'image_too_large', small);
    expect(e.details).to.include({ width: 101, height: 100 });
    await rejection(await write(tmp.dir, 'big.png', await png(1, 200, 60)), 'image_too_large', small);
    await rejection(await write(tmp.dir, 'flood.jp2', jp2(35000, 35000)), 'image_too_large');
    expect(await readAll(await write(tmp.dir, 'ok.jpg', await jpeg(1, 100, 100)), small)).to.have.length(1);
  });

  it('an image neither our header parser nor libvips can read is corrupt_image', async () => {
    await rejection(await write(tmp.dir, 'bad.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 2, 0x12, 0x34, 0x56])), 'corrupt_image');
    const badPng = Buffer.concat([(await png(1)).subarray(0, 8), Buffer.from('garbage, not an IHDR chunk')]);
    await rejection(await write(tmp.dir, 'bad.png', badPng), 'corrupt_image');
    await rejection(await write(tmp.dir, 'bad.webp', Buffer.from('RIFF\x10\0\0\0WEBPVP8 junkjunkjunkjunkjunk', 'latin1')), 'corrupt_image');
    await rejection(await write(tmp.dir, 'bad.jp2', jp2(10, 10).subarray(0, 40)), 'corrupt_image');
  });
});
