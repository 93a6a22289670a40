/**
 * In-stream ingest against the after-upload ingest, on the same files: the same pages, page
 * statements (same evidence key), Merkle root and original; the same rejections; pages stored while
 * the upload still runs; and a lost stream (restart, dead tail thread) falls back to the same result.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import yazl from 'yazl';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { jpegPage, pdfDossier, pngPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import type { UploadTails, StreamedUpload } from '../dossier/ingest/stream/upload-tails.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('in-stream ingest', function () {
  this.timeout(180_000);
  let dir: string;
  let streaming: TestGateway;
  let later: TestGateway;
  const taken: Map<string, StreamedUpload | null> = new Map();

  before(async () => {
    dir = await tempDir('stream-ingest-');
    streaming = await startGateway({ UPLOAD_STREAM_INGEST: 'true', LOG_LEVEL: process.env.STREAM_TEST_LOG ?? 'silent' }, { limits: { maxPages: 500 } });
    // The after-upload gateway signs with the same evidence key, so statements compare byte for byte.
    const afterDir = path.join(dir, 'after-data');
    await fs.cp(path.join(streaming.dataDir, 'keys'), path.join(afterDir, 'keys'), { recursive: true });
    later = await startGateway({ DATA_DIR: afterDir, UPLOAD_STREAM_INGEST: 'false' }, { limits: { maxPages: 500 } });
    expect(later.gateway.ingestDeps).not.to.have.property('streamed');
    // Record what the stream handed each ingest, to prove which path ran.
    const deps = streaming.gateway.ingestDeps as { streamed?: UploadTails };
    const tails = deps.streamed!;
    const take = tails.take.bind(tails);
    (deps as { streamed: unknown }).streamed = {
      async take(id: string) {
        const r = await take(id);
        taken.set(id, r);
        return r;
      },
    };
  });
  after(async () => {
    await streaming?.stop();
    await later?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** tus by hand: create, then PATCH the parts given (offsets follow), resolving the dossier id. */
  async function create(gw: TestGateway, bytes: Buffer, filename: string): Promise<{ id: string; token: string; patch: (from: number, to: number) => Promise<number> }> {
    const token = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', token, { number: `STR-${Math.random().toString(36).slice(2)}`, title: 'stream' })).json.id;
    const meta = `filename ${Buffer.from(filename).toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}`;
    const res = await fetch(`${gw.url}/files/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length), 'upload-metadata': meta },
    });
    expect(res.status).to.equal(201);
    const id = res.headers.get('location')!.split('/').pop()!;
    const patch = async (from: number, to: number) => {
      const r = await fetch(`${gw.url}/files/${id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-offset': String(from), 'content-type': 'application/offset+octet-stream' },
        body: bytes.subarray(from, to),
      });
      expect(r.status, await r.clone().text()).to.equal(204);
      return Number(r.headers.get('upload-offset'));
    };
    return { id, token, patch };
  }

  async function settled(gw: TestGateway, id: string) {
    return eventually(async () => {
      const d = await gw.gateway.dossiers.get(id);
      return d && (d.status === 'sealed' || d.status === 'rejected') ? d : undefined;
    }, 60_000, `ingest of ${id}`);
  }

  async function ingest(gw: TestGateway, bytes: Buffer, filename: string) {
    const u = await create(gw, bytes, filename);
    await u.patch(0, bytes.length);
    return evidence(gw, u.id);
  }

  async function evidence(gw: TestGateway, id: string) {
    const d = await settled(gw, id);
    const pages = await gw.gateway.dossiers.listPages(id, { offset: 0, limit: 1000 });
    return {
      id,
      status: d.status,
      error: d.status === 'rejected' ? { code: d.errorCode, message: d.errorMessage } : null,
      sha256: d.sha256,
      merkleRoot: d.merkleRoot,
      pages: pages.map((p) => ({ ...p, dossierId: 'X' })),
      statements: pages.map((p) => ({ ...(decodeJwtPayload(p.signature) as Record<string, unknown>), dossier: 'X', case: 'X' })),
      manifestPages: d.manifestJws ? (decodeJwtPayload(d.manifestJws) as { pages: unknown }).pages : null,
    };
  }

  /** Both paths on the same bytes: equal in everything but the dossier's own id. */
  async function bothPaths(bytes: Buffer, filename: string) {
    const s = await ingest(streaming, bytes, filename);
    const a = await ingest(later, bytes, filename);
    expect(s.status).to.equal(a.status);
    expect(s.error).to.deep.equal(a.error);
    expect(s.sha256).to.equal(a.sha256).and.equal(sha(bytes));
    expect(s.merkleRoot).to.equal(a.merkleRoot);
    expect(s.statements).to.deep.equal(a.statements);
    expect(s.manifestPages).to.deep.equal(a.manifestPages);
    // The thumbnail is made after the seal, by a job of its own: whichever path's job ran first
    // has one by now; it is no part of the evidence.
    const strip = (p: { signature: string }) => ({ ...p, signature: undefined, thumbnailSha256: undefined });
    expect(s.pages.map(strip)).to.deep.equal(a.pages.map(strip));
    return { s, a, streamed: taken.get(s.id) };
  }

  it('a ZIP of scans out of order, junk, a deflated PNG and a text file: the same evidence both ways, read in the stream', async () => {
    const jpegs = await Promise.all(Array.from({ length: 30 }, (_, i) => jpegPage(i + 1)));
    const file = await zipOf(path.join(dir, 'case.zip'), [
      ...[3, 1, 2, ...Array.from({ length: 27 }, (_, i) => i + 4)].map((n) => ({ name: `vol1/${n}.jpg`, data: jpegs[n - 1]! })),
      { name: 'vol2/cover.png', data: await pngPage(7), compress: true },
      { name: 'index.txt', data: Buffer.from('page list\n'.repeat(50)), compress: true },
      { name: '__MACOSX/vol1/._1.jpg', data: Buffer.from('junk') },
    ]);
    const { s, streamed } = await bothPaths(await fs.readFile(file), 'case.zip');
    expect(s.status).to.equal('sealed');
    expect(s.pages).to.have.length(31);
    expect(s.pages[0]!.sourceName).to.equal('vol1/1.jpg');
    expect(s.pages[0]!.sha256).to.equal(sha(jpegs[0]!));
    expect(streamed, 'the stream handed its reading to the ingest').to.not.equal(null);
    expect(streamed!.gaveUp).to.equal(null);
    expect(streamed!.format).to.equal('zip');
    expect([...streamed!.entries.values()].filter((e) => e.page)).to.have.length(31);
  });

  it('reads, hashes and signs pages while the upload runs: a deflated page is stored before the last byte, stored entries become ranges of the upload', async () => {
    const jpegs = await Promise.all(Array.from({ length: 12 }, (_, i) => jpegPage(100 + i, 400, 500)));
    // The last page deflated: it is a blob of its own; the eleven stored ones are kept as ranges.
    const bytes = await fs.readFile(await zipOf(path.join(dir, 'early.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data, compress: i === 11 }))));
    const u = await create(streaming, bytes, 'early.zip');
    await u.patch(0, bytes.length - 100); // everything but the central directory's tail
    const tails = tailsOfReal();
    await eventually(async () => ((tails.progress(u.id)?.pages ?? 0) === 12 ? true : undefined), 30_000, 'pages read in the stream');
    const whole = (streaming.gateway.blobs as unknown as { whole: typeof streaming.gateway.blobs }).whole;
    await eventually(async () => ((await whole.size(sha(jpegs[11]!))) === jpegs[11]!.length ? true : undefined), 30_000, 'the deflated page stored mid-upload');
    for (const j of jpegs.slice(0, 11)) expect(await whole.size(sha(j)), 'a stored entry: no copy').to.equal(null);
    expect((await streaming.gateway.dossiers.get(u.id))!.status).to.equal('receiving');
    await u.patch(bytes.length - 100, bytes.length);
    const e = await evidence(streaming, u.id);
    expect(e.status).to.equal('sealed');
    expect(e.pages.map((p) => p.sha256)).to.deep.equal(jpegs.map(sha));
    expect(taken.get(u.id)?.gaveUp).to.equal(null);
    const ranges = await streaming.gateway.db.query<{ sha256: string; start_at: string }>('SELECT sha256, start_at FROM blob_ranges WHERE container = $1', [sha(bytes)]);
    expect(new Set(ranges.map((r) => r.sha256))).to.deep.equal(new Set(jpegs.slice(0, 11).map(sha)));
    for (const r of ranges) expect(sha(bytes.subarray(Number(r.start_at), Number(r.start_at) + (jpegs.find((j) => sha(j) === r.sha256)!.length)))).to.equal(r.sha256);
    for (const j of jpegs) expect(await streaming.gateway.blobs.size(sha(j)), 'every page readable').to.equal(j.length);
  });

  it('a single JPEG: the same evidence, its hash taken in the stream', async () => {
    const { s, streamed } = await bothPaths(await jpegPage(9, 800, 1000), 'scan.jpg');
    expect(s.status).to.equal('sealed');
    expect(streamed?.format).to.equal('image');
  });

  it('a PDF keeps the after-upload ingest, with the same evidence', async () => {
    const { s, streamed } = await bothPaths(await pdfDossier(3), 'case.pdf');
    expect(s.status).to.equal('sealed');
    expect(streamed?.format).to.equal('other');
  });

  it('a ZIP with data descriptors (not delimited in the stream) falls back to the same evidence', async () => {
    const jpegs = await Promise.all(Array.from({ length: 4 }, (_, i) => jpegPage(200 + i)));
    const zip = new yazl.ZipFile();
    for (const [i, data] of jpegs.entries()) zip.addReadStream((await import('node:stream')).Readable.from([data]), `${i + 1}.jpg`, { compress: true });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const c of zip.outputStream) chunks.push(c as Buffer);
    const { s, streamed } = await bothPaths(Buffer.concat(chunks), 'described.zip');
    expect(s.status).to.equal('sealed');
    expect(streamed?.gaveUp).to.match(/data descriptor/);
  });

  describe('hostile and broken ZIPs: the same rejection both ways', () => {
    let good: Buffer;
    before(async () => {
      const jpegs = await Promise.all(Array.from({ length: 3 }, (_, i) => jpegPage(300 + i)));
      good = await fs.readFile(await zipOf(path.join(dir, 'base.zip'), jpegs.map((data, i) => ({ name: `p${i + 1}.jpg`, data }))));
    });
    const centralAt = (b: Buffer, n: number) => {
      let at = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
      at = b.readUInt32LE(at + 16);
      for (let i = 0; i < n; i++) at += 46 + b.readUInt16LE(at + 28) + b.readUInt16LE(at + 30) + b.readUInt16LE(at + 32);
      return at;
    };

    it('an entry whose data does not match its CRC: given up in the stream at that entry, corrupt_archive', async () => {
      const bad = Buffer.from(good);
      const second = bad.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4);
      bad[second + 30 + bad.readUInt16LE(second + 26) + 100]! ^= 0xff;
      const { s, streamed } = await bothPaths(bad, 'bad-crc.zip');
      expect(s.status).to.equal('rejected');
      expect(s.error!.code).to.equal('corrupt_archive');
      expect(streamed?.gaveUp).to.match(/CRC/);
    });

    it('a central directory that disagrees with the local headers (CRC): falls back, corrupt_archive', async () => {
      const bad = Buffer.from(good);
      bad.writeUInt32LE(bad.readUInt32LE(centralAt(bad, 1) + 16) ^ 1, centralAt(bad, 1) + 16);
      const { s, streamed } = await bothPaths(bad, 'cd-mismatch.zip');
      expect(s.status).to.equal('rejected');
      expect(s.error!.code).to.equal('corrupt_archive');
      expect(streamed?.gaveUp, 'the stream itself saw nothing wrong').to.equal(null);
    });

    it('a zip-slip name in the central directory: unsafe_path', async () => {
      const bad = Buffer.from(good);
      const at = centralAt(bad, 2);
      bad.write('../', at + 46, 'latin1'); // p3.jpg → ../.jpg... same length
      const { s } = await bothPaths(bad, 'slip.zip');
      expect(s.status).to.equal('rejected');
      expect(s.error!.code).to.equal('unsafe_path');
    });

    it('a truncated archive (no central directory): corrupt_archive', async () => {
      const { s, streamed } = await bothPaths(good.subarray(0, centralAt(good, 0) - 50), 'cut.zip');
      expect(s.status).to.equal('rejected');
      expect(s.error!.code).to.equal('corrupt_archive');
      expect(streamed?.gaveUp).to.match(/ended before/);
    });
  });

  describe('a lost stream falls back to the same evidence', () => {
    let bytes: Buffer;
    let reference: Awaited<ReturnType<typeof ingest>>;
    before(async () => {
      const jpegs = await Promise.all(Array.from({ length: 10 }, (_, i) => jpegPage(400 + i, 300, 400)));
      bytes = await fs.readFile(await zipOf(path.join(dir, 'lost.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data }))));
      reference = await ingest(later, bytes, 'lost.zip');
    });
    const same = (e: typeof reference) => {
      expect(e.status).to.equal('sealed');
      expect(e.merkleRoot).to.equal(reference.merkleRoot);
      expect(e.statements).to.deep.equal(reference.statements);
    };

    it('the tail thread dies mid-upload (fault injection)', async () => {
      const u = await create(streaming, bytes, 'lost.zip');
      await u.patch(0, Math.floor(bytes.length / 2));
      const tails = tailsOfReal();
      await eventually(async () => ((tails.progress(u.id)?.pages ?? 0) > 0 ? true : undefined), 30_000, 'stream under way');
      await (tails as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      expect(tails.has(u.id)).to.equal(false);
      await u.patch(Math.floor(bytes.length / 2), bytes.length);
      same(await evidence(streaming, u.id));
      expect(taken.get(u.id) ?? null).to.equal(null);
    });

    it('the gateway restarts mid-upload; the upload resumes there', async () => {
      const gw = await startGateway({ UPLOAD_STREAM_INGEST: 'true' });
      try {
        const u = await create(gw, bytes, 'lost.zip');
        await u.patch(0, Math.floor(bytes.length / 3));
        const dataDir = gw.dataDir;
        await gw.gateway.stop();
        const again = await startGateway({ DATA_DIR: dataDir, UPLOAD_STREAM_INGEST: 'true' });
        try {
          const r = await fetch(`${again.url}/files/${u.id}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${u.token}`, 'tus-resumable': '1.0.0', 'upload-offset': String(Math.floor(bytes.length / 3)), 'content-type': 'application/offset+octet-stream' },
            body: bytes.subarray(Math.floor(bytes.length / 3)),
          });
          expect(r.status).to.equal(204);
          const e = await evidence(again, u.id);
          // Another evidence key (another data directory): the pages and the root are the same.
          expect(e.status).to.equal('sealed');
          expect(e.merkleRoot).to.equal(reference.merkleRoot);
          expect(e.pages.map((p) => p.sha256)).to.deep.equal(reference.pages.map((p) => p.sha256));
        } finally {
          await again.stop();
        }
      } finally {
        await fs.rm(gw.dataDir, { recursive: true, force: true });
      }
    });
  });

  function tailsOfReal(): UploadTails {
    // The wrapper installed above keeps the real one in its closure; the store holds it too.
    return (streaming.gateway.store as unknown as { tails: UploadTails }).tails;
  }
});

function decodeJwtPayload(jws: string): unknown {
  return decodeJwt(jws);
}
