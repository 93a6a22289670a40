/**
 * The streaming ZIP writer of the export (server/zip/): its archives as three independent readers
 * see them, plain and ZIP64, byte for byte; sources that lie about their size; consumers that go away.
 */
import { randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { DossierError } from '../dossier/errors.js';
import { ZipOutputClosedError, ZipStreamWriter, type ZipEntry, type ZipStreamOptions } from '../server/zip/zip-stream-writer.js';
import { zipLength } from '../server/zip/zip-length.js';
import { eventually } from './support/eventually.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { pythonEntries, pythonZipTest, unzipTest, yauzlEntries } from './support/zip-readers.js';

const MTIME = new Date('2024-05-17T13:45:31Z');
/** DOS time keeps even seconds: 13:45:31 is written as 13:45:30. */
const DOS_MTIME = new Date('2024-05-17T13:45:30Z');

/** A Writable that keeps what it is given. */
class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function writeZip(out: Writable, entries: readonly ZipEntry[], options: ZipStreamOptions = {}): Promise<void> {
  const zip = new ZipStreamWriter(out, options);
  for (const e of entries) await zip.add(e);
  await zip.finish();
}

/** A source that yields `chunks` as given (a lying one yields other than it declares). */
const chunked = (...chunks: Buffer[]) => async () => Readable.from(chunks, { objectMode: false });

describe('ZIP stream writer', function () {
  this.timeout(120_000);
  let dir: string;
  let page: { path: string; size: number };
  let expected: Map<string, Buffer>;
  let entries: () => ZipEntry[];

  before(async () => {
    dir = await tempDir('zip-writer-');
    page = await randomFile(dir, 'page.bin', 3 * 1024 * 1024 + 7);
    const odd = [randomBytes(1), randomBytes(65_537), Buffer.alloc(0), randomBytes(100_000)];
    const text = Buffer.from('Grüße aus dem Aktenkeller 案卷\n', 'utf8');
    const manifest = Buffer.from('eyJhbGciOiJFZERTQSJ9.eyJ2IjoxfQ.c2ln', 'ascii');
    expected = new Map([
      ['manifest.jws', manifest],
      ['empty.txt', Buffer.alloc(0)],
      ['pages/0001.jpg', await fs.readFile(page.path)],
      ['text/0001.txt', text],
      ['original/Akte Müller 案卷.pdf', Buffer.concat(odd)],
    ]);
    entries = () => [
      { name: 'manifest.jws', mtime: MTIME, bytes: manifest },
      { name: 'empty.txt', mtime: MTIME, size: 0, open: chunked() },
      { name: 'pages/0001.jpg', mtime: MTIME, size: page.size, open: async () => createReadStream(page.path) },
      { name: 'text/0001.txt', mtime: MTIME, bytes: text },
      { name: 'original/Akte Müller 案卷.pdf', mtime: MTIME, size: expected.get('original/Akte Müller 案卷.pdf')!.length, open: chunked(...odd) },
    ];
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function archive(name: string, options: ZipStreamOptions = {}): Promise<string> {
    const file = path.join(dir, name);
    const out = createWriteStream(file);
    await writeZip(out, entries(), options);
    return file;
  }

  for (const forceZip64 of [false, true]) {
    it(`${forceZip64 ? 'forceZip64: ' : ''}yauzl, Python's zipfile and Info-ZIP unzip read every entry back, byte for byte`, async () => {
      const file = await archive(`read-back-${forceZip64}.zip`, { forceZip64 });
      await pythonZipTest(file);
      await unzipTest(file);

      const py = await pythonEntries(file);
      expect(py.map((e) => e.name)).to.deep.equal([...expected.keys()]);
      for (const e of py) {
        const bytes = expected.get(e.name)!;
        expect(e, e.name).to.deep.include({ size: bytes.length, crc: zlib.crc32(bytes), flags: 0x0808, zip64Extra: forceZip64 });
        expect(e.dateTime, e.name).to.deep.equal([2024, 5, 17, 13, 45, 30]);
      }

      const read = await yauzlEntries(file);
      expect(read.map((e) => e.name)).to.deep.equal([...expected.keys()]);
      for (const e of read) {
        expect(e.bytes!.equals(expected.get(e.name)!), e.name).to.equal(true);
        expect(e.modified.getTime(), e.name).to.equal(DOS_MTIME.getTime());
      }

      // The end: ZIP64 end record (56 bytes) and locator (20) before the end record (22) only when forced.
      const zip = await fs.readFile(file);
      const zip64End = zip.length - 22 - 20 - 56;
      expect(zip.readUInt32LE(zip.length - 22)).to.equal(0x06054b50);
      expect(zip.readUInt32LE(zip64End) === 0x06064b50 && zip.readUInt32LE(zip.length - 42) === 0x07064b50).to.equal(forceZip64);
    });
  }

  it('gives the same bytes for the same entries', async () => {
    for (const forceZip64 of [false, true]) {
      const a = await fs.readFile(await archive(`same-a-${forceZip64}.zip`, { forceZip64 }));
      const b = await fs.readFile(await archive(`same-b-${forceZip64}.zip`, { forceZip64 }));
      expect(a.equals(b)).to.equal(true);
    }
  });

  describe('a byte range of the archive', () => {
    const blobs = [randomBytes(1), randomBytes(300), Buffer.alloc(0), randomBytes(97), Buffer.from('案卷 text\n')];
    let opens: Map<string, number[]>;
    /** Stream entries that honour `from`, in 37-byte chunks; even ones with their CRC known. */
    const rangeEntries = (forceKnown: boolean): ZipEntry[] => [
      { name: 'manifest.jws', mtime: MTIME, bytes: Buffer.from('eyJ2IjoxfQ') },
      ...blobs.map((b, i): ZipEntry => ({
        name: `pages/${String(i + 1).padStart(4, '0')}.bin`,
        mtime: MTIME,
        size: b.length,
        ...(forceKnown || i % 2 === 0 ? { crc: zlib.crc32(b) } : {}),
        open: async (from = 0) => {
          opens.set(`pages/${String(i + 1).padStart(4, '0')}.bin`, [...(opens.get(`pages/${String(i + 1).padStart(4, '0')}.bin`) ?? []), from]);
          const rest = b.subarray(from);
          return Readable.from(Array.from({ length: Math.ceil(rest.length / 37) }, (_, k) => rest.subarray(k * 37, k * 37 + 37)), { objectMode: false });
        },
      })),
    ];
    async function written(options: ZipStreamOptions, known = false): Promise<Buffer> {
      const out = new Collect();
      await writeZip(out, rangeEntries(known), options);
      return out.bytes;
    }

    for (const forceZip64 of [false, true]) {
      it(`${forceZip64 ? 'forceZip64: ' : ''}every start offset and a spread of bounded ranges give the slice of the whole archive; zipLength is its length`, async () => {
        opens = new Map();
        const whole = await written({ forceZip64 });
        expect(zipLength(rangeEntries(false).map((e) => ({ name: e.name, size: 'bytes' in e ? e.bytes.length : e.size })), { forceZip64 })).to.equal(whole.length);
        for (let start = 0; start < whole.length; start++) {
          const slice = await written({ forceZip64, range: { start, end: whole.length - 1 } });
          expect(slice.equals(whole.subarray(start)), `bytes=${start}-`).to.equal(true);
        }
        for (let start = 0; start < whole.length; start += 13) {
          for (let end = start; end < whole.length; end += 29) {
            const slice = await written({ forceZip64, range: { start, end } });
            expect(slice.equals(whole.subarray(start, end + 1)), `bytes=${start}-${end}`).to.equal(true);
          }
        }
      });
    }

    it('with every CRC known, a range that starts past an entry never opens it, and one that starts inside opens it there', async () => {
      const whole = await written({}, true);
      const secondPage = whole.indexOf(Buffer.from('pages/0002.bin')) + 'pages/0002.bin'.length + 50;
      opens = new Map();
      const slice = await written({ range: { start: secondPage, end: whole.length - 1 } }, true);
      expect(slice.equals(whole.subarray(secondPage))).to.equal(true);
      expect(opens.get('pages/0001.bin'), 'before the range').to.equal(undefined);
      expect(opens.get('pages/0002.bin'), 'the range starts inside').to.deep.equal([50]);
      expect(opens.get('pages/0003.bin'), 'empty: nothing to open').to.equal(undefined);
      expect(opens.get('pages/0004.bin')).to.deep.equal([0]);
    });

    it('a range that ends early reads nothing after it, and onCrc hears each entry read whole', async () => {
      const whole = await written({});
      const heard: string[] = [];
      opens = new Map();
      const out = new Collect();
      const end = whole.indexOf(Buffer.from('pages/0003.bin')); // inside the third page's local header
      await writeZip(out, rangeEntries(false), { range: { start: 0, end }, onCrc: (e) => heard.push(e.name) });
      expect(out.bytes.equals(whole.subarray(0, end + 1))).to.equal(true);
      expect([...opens.keys()]).to.deep.equal(['pages/0001.bin', 'pages/0002.bin']);
      expect(heard).to.deep.equal(['pages/0001.bin', 'pages/0002.bin']);
    });

    it('refuses a range beyond the archive', async () => {
      const whole = await written({});
      const out = new Collect();
      const failed = await writeZip(out, rangeEntries(false), { range: { start: 0, end: whole.length } }).then(() => null, (e: unknown) => e);
      expect(failed).to.be.instanceOf(DossierError);
    });
  });

  it('65,536 entries: ZIP64 end records, and all three readers count every entry', async () => {
    const n = 65_536; // past 0xFFFF, the end record's limit
    const file = path.join(dir, 'many.zip');
    const many = Array.from({ length: n }, (_, i): ZipEntry => ({ name: `e/${String(i + 1).padStart(5, '0')}`, mtime: MTIME, bytes: Buffer.from(String(i)) }));
    await writeZip(createWriteStream(file), many);
    const zip = await fs.readFile(file);
    expect(zip.readUInt16LE(zip.length - 22 + 10), 'end record: the count does not fit').to.equal(0xffff);
    await unzipTest(file); // checks every CRC; Python and yauzl list the entries (and Python's check adds seconds)
    const py = await pythonEntries(file);
    expect(py).to.have.length(n);
    expect(py[n - 1]).to.include({ name: 'e/65536', size: '65535'.length });
    const read = await yauzlEntries(file, (name) => name === 'e/65536');
    expect(read).to.have.length(n);
    expect(read[n - 1]!.bytes!.toString()).to.equal('65535');
  });

  it('a source that gives fewer bytes than declared fails the archive', async () => {
    const out = new Collect();
    const zip = new ZipStreamWriter(out);
    const add = zip.add({ name: 'short.bin', mtime: MTIME, size: 1000, open: chunked(randomBytes(600), randomBytes(399)) });
    const err = await add.then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(DossierError);
    expect((err as DossierError).message).to.match(/gave 999 bytes, 1000 were declared/);
    expect(out.destroyed).to.equal(true);
    expect(out.errored).to.equal(err);
    await zip.finish().then(() => expect.fail('finish after a failure'), (e: Error) => expect(e.message).to.match(/ZIP writer is failed/));
  });

  it('a source that gives more bytes than declared fails before the extra bytes reach the output', async () => {
    const out = new Collect();
    const zip = new ZipStreamWriter(out);
    const err = await zip.add({ name: 'long.bin', mtime: MTIME, size: 1000, open: chunked(randomBytes(999), randomBytes(2)) }).then(() => null, (e: unknown) => e);
    expect((err as DossierError).message).to.match(/gave more than 1000 bytes/);
    expect(out.errored).to.equal(err);
    expect(out.bytes.length).to.be.at.most(30 + 'long.bin'.length + 999);
  });

  it('a source that fails destroys the output with its error', async () => {
    const out = new Collect();
    const zip = new ZipStreamWriter(out);
    const broken = new Error('disk gone');
    const source = new Readable({ read() {} });
    source.push(randomBytes(10));
    setImmediate(() => source.destroy(broken));
    const err = await zip.add({ name: 'broken.bin', mtime: MTIME, size: 100, open: async () => source }).then(() => null, (e: unknown) => e);
    expect(err).to.equal(broken);
    expect(out.errored).to.equal(broken);
  });

  it('refuses names that would unpack outside the target directory', async () => {
    for (const name of ['', '/etc/passwd', '../up', 'a/../../up', 'a\\b']) {
      const zip = new ZipStreamWriter(new Collect());
      await zip.add({ name, mtime: MTIME, bytes: Buffer.from('x') }).then(() => expect.fail(`accepted ${JSON.stringify(name)}`), (e: unknown) => {
        expect(e).to.be.instanceOf(DossierError);
      });
    }
  });

  it('a consumer that stops reading and goes away: the source is destroyed and its file closed at once', async () => {
    // A stalled consumer: it takes one chunk and never asks for more.
    const stalled = new Writable({ highWaterMark: 1024, write() {} });
    const fh = await fs.open(page.path);
    const source = fh.createReadStream();
    const zip = new ZipStreamWriter(stalled);
    const adding = zip.add({ name: 'pages/0001.jpg', mtime: MTIME, size: page.size, open: async () => source }).then(() => null, (e: unknown) => e);
    await eventually(async () => (stalled.writableNeedDrain ? true : undefined), 5000, 'backpressure');
    stalled.destroy();
    expect(await adding).to.be.instanceOf(ZipOutputClosedError);
    expect(source.destroyed).to.equal(true);
    await eventually(async () => (fh.fd === -1 ? true : undefined), 5000, 'the file handle closed');
  });

  it('an HTTP client that aborts mid-archive: the entry being read is closed', async () => {
    // 256 MiB of a sparse file: much more than the socket buffers hold, read without touching the disk.
    const big = path.join(dir, 'sparse.bin');
    await fs.writeFile(big, '');
    await fs.truncate(big, 256 * 1024 * 1024);
    const opened: { handle?: FileHandle } = {};
    let outcome: Promise<unknown> = Promise.resolve();
    const server = http.createServer((_req, res) => {
      const zip = new ZipStreamWriter(res);
      outcome = (async () => {
        await zip.add({ name: 'manifest.jws', mtime: MTIME, bytes: Buffer.from('m') });
        await zip.add({
          name: 'original/big.bin', mtime: MTIME, size: 256 * 1024 * 1024,
          open: async () => (opened.handle = await fs.open(big)).createReadStream(),
        });
        await zip.finish();
      })().then(() => null, (e: unknown) => e);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const abort = new AbortController();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: abort.signal });
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 1024 * 1024) got += (await reader.read()).value!.byteLength;
      abort.abort();
      expect(await outcome).to.be.instanceOf(ZipOutputClosedError);
      await eventually(async () => (opened.handle?.fd === -1 ? true : undefined), 5000, 'the page file closed');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an entry over 4 GiB after an offset over 4 GiB: ZIP64 sizes, offsets and end records @slow', async function () {
    this.timeout(600_000);
    const big = 4 * 1024 ** 3 + 3; // ≥ 0xFFFFFFFF, and not a multiple of the chunk size
    const file = path.join(dir, 'over-4gib.zip');
    const out = await sparseFile(file);
    const after = Buffer.from('after the big one\n');
    await writeZip(out, [
      { name: 'before.txt', mtime: MTIME, bytes: Buffer.from('before\n') },
      { name: 'zeros.bin', mtime: MTIME, size: big, open: async () => zeros(big) },
      { name: 'after.txt', mtime: MTIME, bytes: after }, // its local header starts past 4 GiB
    ]);
    expect((await fs.stat(file)).size).to.be.greaterThan(big);

    const read = await yauzlEntries(file, (name) => name !== 'zeros.bin');
    expect(read.map((e) => [e.name, e.size])).to.deep.equal([['before.txt', 7], ['zeros.bin', big], ['after.txt', after.length]]);
    expect(read[2]!.bytes!.equals(after)).to.equal(true);
    const py = await pythonEntries(file);
    expect(py.map((e) => [e.name, e.size, e.zip64Extra])).to.deep.equal([['before.txt', 7, false], ['zeros.bin', big, true], ['after.txt', after.length, true]]);
    // Both read all 4 GiB and check the CRC-32.
    await pythonZipTest(file);
    await unzipTest(file);
  });
});

/** `size` zero bytes in 1 MiB chunks (one buffer, yielded again and again): nothing read from disk. */
function zeros(size: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = size;
  return new Readable({
    read() {
      const n = Math.min(chunk.length, left);
      left -= n;
      this.push(n > 0 ? chunk.subarray(0, n) : null);
    },
  });
}

/**
 * A file written sparsely: all-zero chunks are skipped (holes), the others written at their
 * offsets, and the length set at the end; an archive of 4 GiB of zeros costs a few bytes of disk.
 */
async function sparseFile(file: string): Promise<Writable> {
  const fh = await fs.open(file, 'w');
  const zero = Buffer.alloc(1024 * 1024);
  let position = 0;
  return new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write(chunk: Buffer, _enc, done) {
      const at = position;
      position += chunk.length;
      const allZero = chunk.length <= zero.length && chunk.equals(zero.subarray(0, chunk.length));
      if (allZero) return done();
      fh.write(chunk, 0, chunk.length, at).then(() => done(), done);
    },
    final(done) {
      fh.truncate(position).then(() => fh.close()).then(() => done(), done);
    },
    destroy(err, done) {
      fh.close().then(() => done(err), () => done(err));
    },
  });
}
