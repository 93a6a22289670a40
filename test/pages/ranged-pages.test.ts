/**
 * Pages read by byte ranges (an original kept in object storage) are the pages read from the file
 * on disk, byte for byte, in every format; the block cache keeps the request count near the
 * number of blocks the file spans. The ranged file here reads the fixture on disk with positioned
 * reads, counting them: the same calls the S3 store answers in test/ranged-original.test.ts.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { withBlockCache } from '../../dossier/pages/block-cache.js';
import { inThreadPageSource } from '../../dossier/pages/page-source.js';
import { workerPageSource } from '../../dossier/pages/pages-in-worker.js';
import type { RangedFile } from '../../dossier/pages/ranged-file.js';
import { readPages } from '../../dossier/pages/read-pages.js';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';
import { faxTiff, jpeg, mixedTiffPages, multiPageTiff, pixels, rawTiff, useTempDir, write, type RawTiffPage } from './fixtures.js';
import { pdf, zip } from './document-fixtures.js';
import { testEnv } from '../support/env.js';

/** Positioned reads of a file on disk, counted: requests and bytes, as a blob store would serve them. */
async function countedFile(path: string): Promise<RangedFile & { requests: number; bytes: number; reads: [number, number][] }> {
  const handle = await fs.open(path, 'r');
  const { size } = await handle.stat();
  const file = {
    size,
    requests: 0,
    bytes: 0,
    reads: [] as [number, number][],
    async readAt(position: number, length: number) {
      file.requests++;
      file.reads.push([position, length]);
      const out = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      if (out.length) await handle.read(out, 0, out.length, position);
      file.bytes += out.length;
      return out;
    },
  };
  after(() => handle.close());
  return file;
}

async function pagesOf(input: string | RangedFile) {
  const out = [];
  for await (const page of readPages(input, DEFAULT_LIMITS)) out.push({ ...page, bytes: page.bytes.toString('base64') });
  return out;
}

async function same(name: string, bytes: Buffer, blockBytes?: number) {
  const path = await write(tmp.dir, name, bytes);
  const ranged = await countedFile(path);
  const fromDisk = await pagesOf(path);
  const fromRanges = await pagesOf(withBlockCache(ranged, blockBytes ? { blockBytes } : {}));
  expect(fromRanges.length).to.equal(fromDisk.length);
  for (let i = 0; i < fromDisk.length; i++) expect(fromRanges[i], `${name} page ${i + 1}`).to.deep.equal(fromDisk[i]);
  return { pages: fromDisk.length, ranged };
}

const tmp = useTempDir();

describe('pages read by byte ranges', function () {
  this.timeout(120_000);

  it('a ZIP of stored and deflated scans: the same pages; requests about one per block', async () => {
    const entries = await Promise.all(Array.from({ length: 60 }, async (_, i) => ({ name: `vol${1 + (i >> 5)}/${i + 1}.jpg`, data: await jpeg(i, 300, 400), compress: i % 3 === 0 })));
    const bytes = await zip(entries);
    const blockBytes = 256 * 1024;
    const { pages, ranged } = await same('scans.zip', bytes, blockBytes);
    expect(pages).to.equal(60);
    const blocks = Math.ceil(bytes.length / blockBytes);
    // The head, the directory at the end, then the entries block by block: each block once or twice.
    expect(ranged.requests, `${ranged.requests} requests for ${blocks} blocks`).to.be.at.most(blocks + 4);
    expect(ranged.bytes).to.be.at.most(2 * bytes.length);
  });

  it('multi-page TIFFs (mixed kinds with a thumbnail, LZW, G4 fax, tiled deflate, BigTIFF): every page copied out by range re-encodes to the same bytes', async () => {
    const thumbnail: RawTiffPage = { width: 20, height: 20, bits: 8, samples: 1, photometric: 1, data: pixels(20, 20, 1, 9), thumbnail: true };
    const kinds = [...mixedTiffPages().slice(0, 4), thumbnail, ...mixedTiffPages().slice(4)];
    expect((await same('mixed.tif', rawTiff(kinds))).pages).to.equal(6);
    expect((await same('lzw.tif', await multiPageTiff(7, 300, 200))).pages).to.equal(7);
    const fax = await same('fax.tif', await faxTiff(5), 64 * 1024);
    expect(fax.pages).to.equal(5);
    // Tiles instead of strips (TileOffsets / TileByteCounts).
    const frames = await Promise.all([1, 2, 3].map((s) => sharp(pixels(200, 150, 3, s), { raw: { width: 200, height: 150, channels: 3 } }).png().toBuffer()));
    const tiled = await sharp(frames, { join: { animated: true } }).tiff({ compression: 'deflate', tile: true, tileWidth: 64, tileHeight: 64 }).toBuffer();
    expect((await same('tiled.tif', tiled)).pages).to.equal(3);
    // BigTIFF: 8-byte counts and offsets, 20-byte entries.
    const big = await sharp(frames, { join: { animated: true } }).tiff({ compression: 'lzw', bigtiff: true }).toBuffer();
    expect(big.readUInt16LE(2), 'a BigTIFF').to.equal(43);
    expect((await same('big.tif', big)).pages).to.equal(3);
  });

  it('a PDF, single images and a ZIP holding a PDF and a TIFF: the same pages', async () => {
    expect((await same('d.pdf', await pdf(6, { images: true }))).pages).to.equal(6);
    expect((await same('one.jpg', await jpeg(7, 500, 600))).pages).to.equal(1);
    const nested = await zip([
      { name: 'a.pdf', data: await pdf(3, { images: true }) },
      { name: 'b.tif', data: await multiPageTiff(2), compress: true },
      { name: 'c.jpg', data: await jpeg(3) },
    ]);
    expect((await same('nested.zip', nested)).pages).to.equal(6);
  });

  it('damaged archives are refused the same way by range as on disk', async () => {
    const good = await zip([{ name: '1.jpg', data: await jpeg(1) }, { name: '2.jpg', data: await jpeg(2) }]);
    for (const [name, bytes] of [['truncated.zip', good.subarray(0, good.length - 30)], ['flipped.zip', flipAt(good, 200)]] as const) {
      const path = await write(tmp.dir, name, bytes);
      const onDisk = await pagesOf(path).catch((e: { code: string }) => e.code);
      const byRange = await pagesOf(withBlockCache(await countedFile(path))).catch((e: { code: string }) => e.code);
      expect(byRange, name).to.equal(onDisk);
      expect(onDisk, name).to.equal('corrupt_archive');
    }
  });

  it('through the page worker thread: ranges cross the port, the pages and hashes are the same', async () => {
    const entries = await Promise.all(Array.from({ length: 12 }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await jpeg(i + 40, 200, 300) })));
    const path = await write(tmp.dir, 'worker.zip', await zip(entries));
    const source = workerPageSource({ keep: 0 });
    try {
      const hashes = async (input: string | RangedFile) => {
        const out: string[] = [];
        for await (const page of source(input, DEFAULT_LIMITS)) out.push(page.sha256);
        return out;
      };
      const ranged = await countedFile(path);
      expect(await hashes(ranged)).to.deep.equal(await hashes(path));
      expect(ranged.requests).to.be.greaterThan(0);
      const inThread: string[] = [];
      for await (const page of inThreadPageSource(readPages)(await countedFile(path), DEFAULT_LIMITS)) inThread.push(page.sha256);
      expect(inThread).to.deep.equal(await hashes(path));
    } finally {
      await source.close();
    }
  });
});

describe('the corpus read by byte ranges (CORPUS_DIR)', function () {
  this.timeout(300_000);
  it('every corpus file, and a ZIP of all of them: the same pages or the same rejection as on disk', async function () {
    const dir = testEnv.corpusDir;
    if (!dir) {
      console.log('      (CORPUS_DIR is not set: skipped)');
      this.skip();
    }
    const names = (await fs.readdir(dir)).filter((n) => n !== 'README.md' && !n.endsWith('.txt')).sort();
    const outcome = (input: string | RangedFile) => pagesOf(input).then((pages) => pages, (e: { code?: string }) => e.code ?? String(e));
    for (const name of names) {
      const file = `${dir}/${name}`;
      expect(await outcome(withBlockCache(await countedFile(file))), name).to.deep.equal(await outcome(file));
    }
    const all = await zip(await Promise.all(names.filter((n) => n !== 'invalid.pdf').map(async (n) => ({ name: n, data: await fs.readFile(`${dir}/${n}`) }))));
    const { pages, ranged } = await same('corpus.zip', all);
    console.log(`      corpus.zip: ${pages} pages, ${all.length} bytes, ${ranged.requests} ranged reads, ${ranged.bytes} bytes read`);
  });
});

describe('block cache', () => {
  const fileOf = (size: number) => {
    const data = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    const f = {
      size,
      requests: [] as [number, number][],
      failNext: false,
      async readAt(position: number, length: number) {
        f.requests.push([position, length]);
        if (f.failNext) {
          f.failNext = false;
          throw new Error('connection reset');
        }
        return Buffer.from(data.subarray(position, position + length));
      },
    };
    return { data, f };
  };

  it('answers any read exactly, across blocks and at the end of the file', async () => {
    const { data, f } = fileOf(100_000);
    const cached = withBlockCache(f, { blockBytes: 4096, blocks: 6 });
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 300; i++) {
      const position = Math.floor(random() * 101_000);
      const length = Math.floor(random() * 20_000);
      expect((await cached.readAt(position, length)).equals(data.subarray(position, position + length)), `${position}+${length}`).to.equal(true);
    }
  });

  it('a forward scan fetches each block once, with blocks ahead; only the last blocks are kept', async () => {
    const { f } = fileOf(64 * 1024);
    const cached = withBlockCache(f, { blockBytes: 4096, blocks: 4, ahead: 2 });
    for (let at = 0; at < f.size; at += 1000) await cached.readAt(at, 1000);
    const fetched = f.requests.reduce((sum, [, n]) => sum + n, 0);
    expect(fetched).to.equal(f.size);
    expect(f.requests.length).to.be.at.most(16);
    // Only the last blocks are kept: the first one is asked for again.
    const scanned = f.requests.length;
    await cached.readAt(0, 10);
    expect(f.requests.length).to.equal(scanned + 1);
    await cached.readAt(f.size - 10, 10);
    expect(f.requests.length, 'the last block is still held').to.equal(scanned + 1);
    // A read larger than half the cache goes straight through, in one request.
    const before = f.requests.length;
    await cached.readAt(0, 3 * 4096);
    expect(f.requests.length).to.equal(before + 1);
  });

  it('a failed fetch is not kept: the next read asks again', async () => {
    const { data, f } = fileOf(20_000);
    const cached = withBlockCache(f, { blockBytes: 4096, ahead: 0 });
    f.failNext = true;
    const err = await cached.readAt(100, 10).catch((e: Error) => e);
    expect(String(err)).to.contain('connection reset');
    expect((await cached.readAt(100, 10)).equals(data.subarray(100, 110))).to.equal(true);
  });
});

function flipAt(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}
