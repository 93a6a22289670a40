/** Ingest end to end: upload with tus-js-client, wait for the seal, verify every piece of evidence. */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir, randomFile } from './support/fixtures.js';
import { jpegPage, multiPageTiff, pdfDossier, pngPage, write, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { checkInclusion, referenceRoot } from './support/independent-merkle.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { encryptedPdf } from './pages/document-fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('ingest', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let caseId: string;

  before(async () => {
    gw = await startGateway({}, { limits: { maxPixels: 50_000_000, maxPages: 500 } });
    dir = await tempDir('ingest-');
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'ING-1', title: 'ingest' })).json.id;
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Uploads a file and waits until its dossier is sealed or rejected. */
  async function ingest(file: string, filename = path.basename(file)) {
    const url = await tusUpload(gw.url, file, { token: clerk, metadata: { filename, caseId } }).done;
    const id = idFromUrl(url);
    const d = await eventually(async () => {
      const r = await gw.api('GET', `/api/dossiers/${id}`, clerk);
      return r.json.status === 'sealed' || r.json.status === 'rejected' ? r.json : undefined;
    }, 60_000, `ingest of ${filename}`);
    return d;
  }
  const pagesOf = async (id: string) => (await gw.api('GET', `/api/dossiers/${id}/pages?limit=1000`, clerk)).json as any[];
  const bytesOf = async (route: string) => Buffer.from(await (await fetch(`${gw.url}${route}`, { headers: { authorization: `Bearer ${clerk}` } })).arrayBuffer());

  describe('a ZIP of scans in folders', () => {
    let d: any;
    let jpegs: Buffer[];
    before(async () => {
      jpegs = await Promise.all(Array.from({ length: 12 }, (_, i) => jpegPage(i + 1)));
      const zip = await zipOf(path.join(dir, 'case.zip'), [
        // Written out of order on purpose: the dossier order is natural order per folder.
        { name: 'vol2/1.jpg', data: jpegs[10]! },
        { name: 'vol10/1.jpg', data: jpegs[11]! },
        ...[10, 2, 1, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ name: `vol1/${n}.jpg`, data: jpegs[n - 1]! })),
        { name: '__MACOSX/vol1/._1.jpg', data: Buffer.from('junk') },
        { name: 'vol1/Thumbs.db', data: Buffer.from('junk') },
        { name: '.DS_Store', data: Buffer.from('junk') },
      ]);
      d = await ingest(zip);
    });

    it('is sealed with every page, in natural order, byte-identical', async () => {
      expect(d.status).to.equal('sealed');
      expect(d.pageCount).to.equal(12);
      expect(d.progress.pages).to.equal(12);
      const pages = await pagesOf(d.id);
      expect(pages.map((p) => p.source)).to.deep.equal([...Array.from({ length: 10 }, (_, i) => `vol1/${i + 1}.jpg`), 'vol2/1.jpg', 'vol10/1.jpg']);
      for (const p of pages) {
        expect(p.sha256).to.equal(sha(jpegs[p.index - 1]!));
        expect(p.mediaType).to.equal('image/jpeg');
        expect([p.width, p.height]).to.deep.equal([160, 220]);
      }
      const served = await bytesOf(`/api/dossiers/${d.id}/pages/3`);
      expect(served.equals(jpegs[2]!)).to.equal(true);
    });

    it('keeps the original upload, hashed', async () => {
      const zip = await fs.readFile(path.join(dir, 'case.zip'));
      expect(d.sha256).to.equal(sha(zip));
      expect(d.bytes).to.equal(zip.length);
      expect(await gw.gateway.blobs.size(d.sha256)).to.equal(zip.length);
    });

    it('signs every page statement and the manifest, verifiable with jose against the served JWKS', async () => {
      const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      const keys = createLocalJWKSet(jwks);
      const pages = await pagesOf(d.id);
      for (const p of pages) {
        const { payload, protectedHeader } = await compactVerify(p.signature, keys, { algorithms: ['EdDSA'] });
        expect(protectedHeader.kid).to.equal(d.kid);
        expect(JSON.parse(Buffer.from(payload).toString())).to.deep.equal({
          v: 1, dossier: d.id, case: caseId, index: p.index, sha256: p.sha256, size: p.size, mediaType: 'image/jpeg',
        });
      }
      const jws = (await bytesOf(`/api/dossiers/${d.id}/manifest`)).toString();
      const manifest = JSON.parse(Buffer.from((await compactVerify(jws, keys, { algorithms: ['EdDSA'] })).payload).toString());
      expect(manifest).to.include({ v: 1, suite: 'ed25519-sha256', dossier: d.id, case: caseId, pageCount: 12, kid: d.kid, merkleRoot: d.merkleRoot });
      expect(manifest.original).to.deep.equal({ filename: 'case.zip', size: d.bytes, sha256: d.sha256 });
      expect(manifest.pages.map((p: any) => p.sha256)).to.deep.equal(pages.map((p) => p.sha256));
    });

    it('seals an RFC 6962 root that an independent implementation agrees with, and proves each page', async () => {
      const pages = await pagesOf(d.id);
      const root = referenceRoot(pages.map((p) => Buffer.from(p.sha256, 'hex')));
      expect(root.toString('hex')).to.equal(d.merkleRoot);
      for (const n of [1, 5, 12]) {
        const proof = (await gw.api('GET', `/api/dossiers/${d.id}/pages/${n}/proof`, clerk)).json;
        expect(proof).to.include({ index: n - 1, treeSize: 12, root: d.merkleRoot });
        const leaf = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(pages[n - 1].sha256, 'hex')])).digest();
        expect(proof.leafHash).to.equal(leaf.toString('hex'));
        const pathBufs = proof.path.map((x: string) => Buffer.from(x, 'hex'));
        expect(checkInclusion(n - 1, 12, leaf, pathBufs, root)).to.equal(true);
        expect(checkInclusion(n - 1, 12, leaf, pathBufs, Buffer.alloc(32))).to.equal(false);
      }
    });

    it('makes thumbnails after the seal', async () => {
      await eventually(async () => ((await gw.api('GET', `/api/dossiers/${d.id}`, clerk)).json.progress.thumbnails === 12 ? true : undefined), 30_000, 'thumbnails');
      const thumb = await bytesOf(`/api/dossiers/${d.id}/pages/1/thumbnail`);
      expect(thumb.subarray(0, 3).toString('hex')).to.equal('ffd8ff');
    });

    it('serves byte ranges of a page', async () => {
      const res = await fetch(`${gw.url}/api/dossiers/${d.id}/pages/2`, { headers: { authorization: `Bearer ${clerk}`, range: 'bytes=0-9' } });
      expect(res.status).to.equal(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(jpegs[1]!.subarray(0, 10))).to.equal(true);
    });

    it('stores a page that occurs twice once (content-addressed)', async () => {
      const zip = await zipOf(path.join(dir, 'twice.zip'), [
        { name: 'a.jpg', data: jpegs[0]! },
        { name: 'b.jpg', data: jpegs[0]! },
      ]);
      const twice = await ingest(zip);
      const pages = await pagesOf(twice.id);
      expect(pages.map((p) => p.sha256)).to.deep.equal([sha(jpegs[0]!), sha(jpegs[0]!)]);
    });

    it("is invisible to another agency, page by page", async () => {
      const other = await gw.token('police-2', 'clerk');
      for (const route of ['', '/pages', '/pages/1', '/pages/1/proof', '/manifest', '/pages/1/thumbnail']) {
        expect((await gw.api('GET', `/api/dossiers/${d.id}${route}`, other)).status, route).to.equal(404);
      }
    });
  });

  it('a single JPEG is one byte-identical page', async () => {
    const jpeg = await jpegPage(77);
    const d = await ingest(write(dir, 'one.jpg', jpeg), 'scan.pdf' /* the name lies; content decides */);
    expect(d).to.include({ status: 'sealed', pageCount: 1 });
    expect((await pagesOf(d.id))[0]).to.include({ sha256: sha(jpeg), mediaType: 'image/jpeg' });
  });

  it('a PNG page is kept as is', async () => {
    const png = await pngPage(3);
    const d = await ingest(write(dir, 'p.png', png));
    expect((await pagesOf(d.id))[0]).to.include({ sha256: sha(png), mediaType: 'image/png' });
  });

  it('a multi-page TIFF gives a page per directory; a G4 fax scan too', async () => {
    for (const bilevel of [false, true]) {
      const d = await ingest(write(dir, `m${bilevel}.tif`, await multiPageTiff(4, { bilevel })));
      expect(d).to.include({ status: 'sealed', pageCount: 4 });
      const pages = await pagesOf(d.id);
      expect(new Set(pages.map((p) => p.sha256)).size).to.equal(4);
      expect(pages.every((p) => p.mediaType === 'image/tiff')).to.equal(true);
    }
  });

  it('a PDF gives a single-page PDF per page', async () => {
    const d = await ingest(write(dir, 'statement.pdf', await pdfDossier(3)));
    expect(d).to.include({ status: 'sealed', pageCount: 3 });
    const pages = await pagesOf(d.id);
    expect(pages.map((p) => p.mediaType)).to.deep.equal(['application/pdf', 'application/pdf', 'application/pdf']);
    const first = await bytesOf(`/api/dossiers/${d.id}/pages/1`);
    expect(first.subarray(0, 5).toString()).to.equal('%PDF-');
    expect(sha(first)).to.equal(pages[0].sha256);
  });

  it('a ZIP holding a PDF and a TIFF flattens them into pages', async () => {
    const zip = await zipOf(path.join(dir, 'mixed.zip'), [
      { name: '1-cover.jpg', data: await jpegPage(1) },
      { name: '2-statement.pdf', data: await pdfDossier(2), compress: true },
      { name: '3-fax.tif', data: await multiPageTiff(2, { bilevel: true }) },
    ]);
    const d = await ingest(zip);
    expect(d).to.include({ status: 'sealed', pageCount: 5 });
    expect((await pagesOf(d.id)).map((p) => p.mediaType)).to.deep.equal(['image/jpeg', 'application/pdf', 'application/pdf', 'image/tiff', 'image/tiff']);
  });

  describe('rejections: a stable code, nothing visible, bytes quarantined, the server alive', () => {
    const cases: [string, () => Promise<string>, string][] = [
      ['random bytes', async () => (await randomFile(dir, 'noise.bin', 100_000)).path, 'unsupported_format'],
      ['a truncated ZIP', async () => {
        const zip = await fs.readFile(await zipOf(path.join(dir, 'full.zip'), [{ name: 'a.jpg', data: await jpegPage(1) }, { name: 'b.jpg', data: await jpegPage(2) }]));
        return write(dir, 'trunc.zip', zip.subarray(0, zip.length - 40));
      }, 'corrupt_archive'],
      ['an encrypted PDF', async () => write(dir, 'enc.pdf', encryptedPdf()), 'encrypted_pdf'],
      ['a zip bomb', async () => zipOf(path.join(dir, 'bomb.zip'), [{ name: 'a.jpg', data: await jpegPage(1) }, { name: 'zeros.jpg', data: Buffer.alloc(300 * 1024 * 1024), compress: true }]), 'zip_bomb'],
      ['a ZIP with only junk', async () => zipOf(path.join(dir, 'junk.zip'), [{ name: '__MACOSX/x', data: Buffer.from('x') }, { name: 'notes.txt', data: Buffer.from('hello') }]), 'empty_dossier'],
      ['an image over the pixel limit', async () =>
        write(dir, 'flood.png', await (await import('sharp')).default({ create: { width: 10_000, height: 6_000, channels: 3, background: 'white' } }).png().toBuffer()), 'image_too_large'],
      ['more pages than allowed', async () => write(dir, 'long.pdf', await pdfDossier(501, false)), 'too_many_pages'],
    ];
    for (const [label, make, code] of cases) {
      it(`${label}: ${code}`, async () => {
        const d = await ingest(await make());
        expect(d.status).to.equal('rejected');
        expect(d.error.code).to.equal(code);
        expect(d.error.message).to.be.a('string').and.not.empty;
        expect(d.pageCount).to.equal(null);
        expect(await pagesOf(d.id)).to.deep.equal([]);
        expect((await gw.api('GET', `/api/dossiers/${d.id}/manifest`, clerk)).status).to.equal(409);
        await fs.access(path.join(gw.gateway.config.dataDir, 'quarantine', d.id));
        await fs.access(path.join(gw.gateway.config.uploads.dir, d.id)).then(() => expect.fail('still staged'), () => {});
        expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
      });
    }
  });
});
