/** The ZIP read front to back while it grows: entries only once all their bytes are there, checked. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import yauzl from 'yauzl';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';
import { ZipTail, type GrowingFile, type TailStep } from '../../dossier/pages/zip-tail.js';
import { jpegPage, pngPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { tempDir } from '../support/fixtures.js';

const growing = (bytes: Buffer, available: number): GrowingFile => ({
  available,
  read: (position, length) => {
    if (position + length > available) throw new Error(`read past the ${available} bytes available`);
    return bytes.subarray(position, position + length);
  },
});

/** Every step the tail takes while the file grows by `by` bytes at a time. */
async function readGrowing(bytes: Buffer, by: number): Promise<{ steps: TailStep[]; waits: number }> {
  const tail = new ZipTail(DEFAULT_LIMITS);
  const steps: TailStep[] = [];
  let waits = 0;
  for (let available = Math.min(by, bytes.length); ; available = Math.min(bytes.length, available + by)) {
    for (;;) {
      const step = await tail.step(growing(bytes, available));
      if (step.type === 'wait') break;
      steps.push(step);
    }
    if (steps.some((s) => s.type !== 'entry') || available === bytes.length) break;
    waits++;
  }
  return { steps, waits };
}

async function centralDirectory(file: string) {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true });
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}

describe('ZIP tail (in-stream reading)', () => {
  let dir: string;
  before(async () => (dir = await tempDir('zip-tail-')));
  after(() => fs.rm(dir, { recursive: true, force: true }));

  for (const zip64 of [false, true]) {
    it(`reads stored and deflated entries as they complete, equal to the central directory${zip64 ? ' (ZIP64)' : ''}`, async () => {
      const jpegs = await Promise.all([1, 2, 3].map((n) => jpegPage(n)));
      const file = await zipOf(path.join(dir, `t${zip64}.zip`), [
        { name: 'a.jpg', data: jpegs[0]! },
        { name: 'b.png', data: await pngPage(4), compress: true },
        { name: 'notes.txt', data: Buffer.from('x'.repeat(5000)), compress: true },
        { name: 'c.jpg', data: jpegs[1]! },
        { name: 'd.jpg', data: jpegs[2]!, compress: true },
      ], { forceZip64: zip64 });
      const bytes = await fs.readFile(file);
      const { steps, waits } = await readGrowing(bytes, 997);
      expect(waits, 'it waited for bytes').to.be.greaterThan(5);
      const entries = steps.filter((s) => s.type === 'entry').map((s) => (s as Extract<TailStep, { type: 'entry' }>).entry);
      const cd = await centralDirectory(file);
      expect(entries.map((e) => [e.offset, e.method, e.crc32, e.compressedSize, e.uncompressedSize])).to.deep.equal(
        cd.map((e) => [e.relativeOffsetOfLocalHeader, e.compressionMethod, e.crc32, e.compressedSize, e.uncompressedSize]),
      );
      expect(entries.map((e) => e.page?.mediaType ?? null)).to.deep.equal(['image/jpeg', 'image/png', null, 'image/jpeg', 'image/jpeg']);
      expect(entries[0]!.page!.bytes.equals(jpegs[0]!)).to.equal(true);
      expect(entries[4]!.page!.bytes.equals(jpegs[2]!)).to.equal(true);
      expect([entries[0]!.page!.width, entries[0]!.page!.height]).to.deep.equal([160, 220]);
      const last = steps.at(-1)!;
      expect(last.type).to.equal('entries-end');
    });
  }

  it('gives up at the first damaged entry, before the rest of the file has arrived', async () => {
    const file = await zipOf(path.join(dir, 'bad.zip'), [1, 2, 3, 4].map((n) => ({ name: `${n}.jpg`, data: Buffer.alloc(20_000, n) })));
    const bytes = Buffer.from(await fs.readFile(file));
    const second = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4);
    bytes[second + 30 + bytes.readUInt16LE(second + 26) + 10]! ^= 0xff;
    const tail = new ZipTail(DEFAULT_LIMITS);
    const cut = second + 30 + 6 + 20_000; // the damaged entry complete, the next two not yet
    const steps: TailStep[] = [];
    for (let s = await tail.step(growing(bytes, cut)); s.type !== 'wait'; s = await tail.step(growing(bytes, cut))) steps.push(s);
    expect(steps.map((s) => s.type)).to.deep.equal(['entry', 'give-up']);
    expect((steps[1] as { reason: string }).reason).to.match(/CRC/);
  });

  it('leaves entries with data descriptors, encryption or a nested archive to the after-upload reader', async () => {
    const inner = await fs.readFile(await zipOf(path.join(dir, 'inner.zip'), [{ name: 'x.jpg', data: await jpegPage(9) }]));
    const nested = await fs.readFile(await zipOf(path.join(dir, 'nested.zip'), [{ name: 'inner.zip', data: inner }]));
    const step = await new ZipTail(DEFAULT_LIMITS).step(growing(nested, nested.length));
    expect(step).to.deep.include({ type: 'give-up' });
    const flagged = Buffer.from(inner);
    flagged.writeUInt16LE(flagged.readUInt16LE(6) | 0x8, 6);
    expect(await new ZipTail(DEFAULT_LIMITS).step(growing(flagged, flagged.length))).to.deep.equal({ type: 'give-up', reason: 'entry with a data descriptor' });
    flagged.writeUInt16LE(0x1, 6);
    expect(await new ZipTail(DEFAULT_LIMITS).step(growing(flagged, flagged.length))).to.deep.equal({ type: 'give-up', reason: 'encrypted entry' });
  });
});
