/**
 * The ZIP reader of `dossier download --verify` (scripts/support/zip-stream-digest.ts): entries of
 * the export's writer hashed front to back from chunks of any size, data descriptor signatures
 * inside the data included, plain and ZIP64; what it cannot follow it says, and stops.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { expect } from 'chai';
import yazl from 'yazl';
import { ZipStreamWriter, type ZipEntry } from '../server/zip/zip-stream-writer.js';
import { ZipStreamDigest } from '../scripts/support/zip-stream-digest.js';

const SIGNATURE = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

async function archive(entries: { name: string; bytes: Buffer }[], forceZip64: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(Buffer.from(c)), done()) });
  const zip = new ZipStreamWriter(out, { forceZip64 });
  for (const e of entries) {
    const entry: ZipEntry = e.name.startsWith('small') ? { name: e.name, mtime: new Date(), bytes: e.bytes } : { name: e.name, mtime: new Date(), size: e.bytes.length, open: async () => Readable.from([e.bytes]) };
    await zip.add(entry);
  }
  await zip.finish();
  return Buffer.concat(chunks);
}

/** Bytes that hold descriptor signatures, one followed by this very entry's CRC-32 so far. */
function treacherous(): Buffer {
  const head = Buffer.concat([randomBytes(1000), SIGNATURE, randomBytes(20), SIGNATURE]);
  const fake = Buffer.alloc(12);
  fake.writeUInt32LE(zlib.crc32(head.subarray(0, head.length - 4)), 0); // the CRC of what precedes, but the wrong size
  fake.writeUInt32LE(7, 4);
  fake.writeUInt32LE(7, 8);
  return Buffer.concat([head, fake, randomBytes(5000), SIGNATURE.subarray(0, 3)]);
}

describe('ZIP stream digest: entries hashed while the archive arrives', () => {
  const entries = [
    { name: 'small/manifest.jws', bytes: Buffer.from('eyJ2IjoxfQ.e30.c2ln') },
    { name: 'pages/0001.jpg', bytes: treacherous() },
    { name: 'pages/0002.jpg', bytes: Buffer.alloc(0) },
    { name: 'pages/0003.jpg', bytes: Buffer.concat([SIGNATURE, SIGNATURE, SIGNATURE]) },
    { name: 'text/0001.txt', bytes: Buffer.from('案卷 page one\n') },
    { name: 'original/scan.zip', bytes: randomBytes(300_000) },
  ];

  for (const forceZip64 of [false, true]) {
    it(`${forceZip64 ? 'ZIP64: ' : ''}every entry's SHA-256, SM3, size, CRC and offset, whatever the chunk sizes`, async () => {
      const zip = await archive(entries, forceZip64);
      for (const chunkSize of [1, 3, 17, 4096, zip.length]) {
        const seen: string[] = [];
        const d = new ZipStreamDigest({ sm3For: (n) => n.startsWith('pages/'), onEntry: (n) => seen.push(n) });
        for (let at = 0; at < zip.length; at += chunkSize) d.push(zip.subarray(at, at + chunkSize));
        expect(d.stopped, `chunks of ${chunkSize}`).to.equal(null);
        expect(seen).to.deep.equal(entries.map((e) => e.name));
        for (const e of entries) {
          const got = d.digests.get(e.name)!;
          expect(got, `${e.name} in chunks of ${chunkSize}`).to.deep.include({ sha256: createHash('sha256').update(e.bytes).digest('hex'), size: e.bytes.length, crc: zlib.crc32(e.bytes) });
          expect(got.sm3 !== undefined).to.equal(e.name.startsWith('pages/'));
          if (got.sm3) expect(got.sm3).to.equal(createHash('sm3').update(e.bytes).digest('hex'));
          expect(zip.readUInt32LE(got.offset)).to.equal(0x04034b50);
        }
      }
    });
  }

  it('keeps the bytes of the entries asked for (the manifest)', async () => {
    const zip = await archive(entries, false);
    let manifest: Buffer | null = null;
    const d = new ZipStreamDigest({ keep: (n) => n === 'small/manifest.jws', onEntry: (n, _d, bytes) => n === 'small/manifest.jws' && (manifest = bytes) });
    d.push(zip);
    expect(String(manifest)).to.equal('eyJ2IjoxfQ.e30.c2ln');
  });

  it('a compressed entry stops it (what it has is kept; the rest is left to the central directory)', async () => {
    const y = new yazl.ZipFile();
    y.addBuffer(Buffer.from('stored'), 'a.txt', { compress: false });
    y.addBuffer(Buffer.alloc(10_000, 1), 'b.txt', { compress: true });
    y.end();
    const chunks: Buffer[] = [];
    for await (const c of y.outputStream as Readable) chunks.push(c as Buffer);
    const d = new ZipStreamDigest();
    d.push(Buffer.concat(chunks));
    expect(d.stopped).to.match(/compressed/);
    expect([...d.digests.keys()]).to.deep.equal(['a.txt']);
  });
});
