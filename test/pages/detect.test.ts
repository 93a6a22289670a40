import { expect } from 'chai';
import { detectFormat, readHead } from '../../dossier/pages/detect.js';
import { rawZip, zip } from './document-fixtures.js';
import { jpeg, png, tempDir, write } from './fixtures.js';
import fs from 'node:fs/promises';
import sharp from 'sharp';

const bytes = (...b: number[]) => Buffer.from(b);

describe('detectFormat', () => {
  it('recognises every supported format by its magic bytes', async () => {
    expect(detectFormat(await jpeg(1))).to.equal('jpeg');
    expect(detectFormat(await png(1))).to.equal('png');
    expect(detectFormat(await sharp(await png(1)).webp().toBuffer())).to.equal('webp');
    expect(detectFormat(await sharp(await png(1)).tiff().toBuffer())).to.equal('tiff');
    expect(detectFormat(bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8))).to.equal('tiff');
    expect(detectFormat(bytes(0x49, 0x49, 0x2b, 0x00, 8, 0, 0, 0))).to.equal('tiff'); // BigTIFF
    expect(detectFormat(bytes(0x4d, 0x4d, 0x00, 0x2b, 0, 8, 0, 0))).to.equal('tiff');
    expect(detectFormat(bytes(0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a))).to.equal('jp2');
    expect(detectFormat(bytes(0xff, 0x4f, 0xff, 0x51, 0, 0x29))).to.equal('jp2'); // raw codestream
    expect(detectFormat(Buffer.from('%PDF-1.7\n'))).to.equal('pdf');
    expect(detectFormat(await zip([{ name: 'a.txt', data: Buffer.from('a') }]))).to.equal('zip');
    expect(detectFormat(rawZip([]))).to.equal('zip'); // an empty archive is only its end record
  });

  it('finds %PDF- after up to 1 KiB of preamble, not later', () => {
    expect(detectFormat(Buffer.concat([Buffer.alloc(1000, 0x20), Buffer.from('%PDF-1.4')]))).to.equal('pdf');
    expect(detectFormat(Buffer.concat([Buffer.alloc(1020, 0x20), Buffer.from('%PDF-1.4')]))).to.equal(null);
  });

  it('says null for everything else, including near misses and empty input', () => {
    expect(detectFormat(Buffer.alloc(0))).to.equal(null);
    expect(detectFormat(bytes(0xff, 0xd8))).to.equal(null);
    expect(detectFormat(Buffer.from('GIF89a'))).to.equal(null);
    expect(detectFormat(Buffer.from('BM6\0\0\0'))).to.equal(null);
    expect(detectFormat(Buffer.from('RIFF\0\0\0\0WAVE'))).to.equal(null);
    expect(detectFormat(Buffer.from('PK\x07\x08'))).to.equal(null);
    expect(detectFormat(Buffer.from('hello, world'))).to.equal(null);
  });

  it('readHead returns at most the first 1024 bytes, fewer for a short file', async () => {
    const dir = await tempDir();
    try {
      const long = await write(dir, 'long', Buffer.alloc(5000, 7));
      const short = await write(dir, 'short', Buffer.from('%PDF'));
      expect((await readHead(long)).length).to.equal(1024);
      expect((await readHead(short)).toString()).to.equal('%PDF');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
