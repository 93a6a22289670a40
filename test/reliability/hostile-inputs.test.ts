/**
 * Hostile uploads end to end: each case of the catalogue goes through tus into a live gateway and
 * must end in its expected stable code (or a seal of exactly what its content is), with the
 * process alive, nothing written outside the data directory, nothing half-visible, and the
 * original kept byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { eventually } from '../support/eventually.js';
import { tusErrorOf, tusUpload, idFromUrl } from '../support/tus.js';
import { jpeg } from '../pages/fixtures.js';
import { HOSTILE_CASES, SUITE_MAX_PAGES, type HostileCase } from './hostile-catalogue.js';
import { recordCase } from './results.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, relative to it. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('hostile inputs, end to end @hostile', function () {
  this.timeout(180_000);
  let sandbox: string;
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;

  before(async () => {
    // The data directory inside a sandbox of its own: anything written beside it is a breach.
    sandbox = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-hostile-'));
    gw = await startGateway({ DATA_DIR: path.join(sandbox, 'data'), OCR_WORKERS: '1' }, { limits: { maxPages: SUITE_MAX_PAGES }, allDecoders: false });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'HOSTILE-1', title: 'hostile inputs' })).json.id;
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(sandbox, { recursive: true, force: true });
  });

  async function upload(bytes: Buffer, metadata: Record<string, string>) {
    return tusUpload(gw.url, bytes, { token: clerk, metadata: { caseId, ...metadata }, chunkSize: 8 * 1024 * 1024 }).done;
  }

  async function outcomeOf(id: string) {
    return eventually(async () => {
      const r = await gw.api('GET', `/api/dossiers/${id}`, clerk);
      return r.json?.status === 'sealed' || r.json?.status === 'rejected' ? r.json : undefined;
    }, 120_000, `the outcome of ${id}`);
  }

  async function expectAlive() {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status, 'the gateway answers its health check').to.equal(200);
  }

  /** Sends one case and waits for its end: sealed or rejected. */
  async function attempt(c: HostileCase) {
    const started = performance.now();
    const bytes = await c.build();
    const id = idFromUrl(await upload(bytes, { filename: c.filename }));
    return { bytes, id, d: await outcomeOf(id), ms: performance.now() - started };
  }
  // The cases run four at a time (a clerk's office uploads in parallel too); each test checks its own.
  const attempts = new Map<HostileCase, Promise<Awaited<ReturnType<typeof attempt>>>>();
  before(() => {
    const limit = pLimit(4);
    for (const c of HOSTILE_CASES) {
      const p = limit(() => attempt(c));
      p.catch(() => undefined); // reported by the case's own test
      attempts.set(c, p);
    }
  });

  const run = (c: HostileCase) =>
    it(`${c.name}: ${'code' in c.outcome ? c.outcome.code : `sealed, ${c.outcome.sealedPages} page(s)`}`, async () => {
      const { bytes, id, d, ms } = await attempts.get(c)!;
      const pages = (await gw.api('GET', `/api/dossiers/${id}/pages?limit=1000`, clerk)).json as any[];
      // The original is kept as sent, whatever became of it.
      expect(d.sha256, 'hash of the original').to.equal(sha(bytes));
      expect(d.bytes).to.equal(bytes.length);
      if ('code' in c.outcome) {
        expect(d.status, JSON.stringify(d.error)).to.equal('rejected');
        expect(d.error?.code, d.error?.message).to.equal(c.outcome.code);
        expect(d.error?.message).to.be.a('string').and.not.empty;
        // Nothing half-visible: a rejected dossier shows no page, no manifest, no root.
        expect(pages, 'pages of a rejected dossier').to.deep.equal([]);
        expect(d.merkleRoot ?? null).to.equal(null);
        expect((await gw.api('GET', `/api/dossiers/${id}/manifest`, clerk)).status).to.be.oneOf([404, 409]);
      } else {
        expect(d.status, JSON.stringify(d.error)).to.equal('sealed');
        expect(d.pageCount).to.equal(c.outcome.sealedPages);
        expect(pages).to.have.length(c.outcome.sealedPages);
      }
      const kept = await gw.gateway.blobs.size(d.sha256).catch(() => null);
      if (kept !== null) expect(kept, 'the stored original is the upload, unrewritten').to.equal(bytes.length);
      if (d.status === 'sealed') expect(kept, 'a sealed dossier keeps its original').to.equal(bytes.length);
      await expectAlive();
      recordCase('hostile', c.name, 'code' in c.outcome ? c.outcome.code : `sealed:${c.outcome.sealedPages}`, ms);
    });

  for (const c of HOSTILE_CASES) run(c);

  describe('metadata', () => {
    const refused = async (metadata: Record<string, string>) => {
      const err = await upload(await jpeg(1), metadata).then(() => null, (e: unknown) => e);
      expect(err, 'the upload was accepted').to.not.equal(null);
      return tusErrorOf(err);
    };

    it('a file name with control characters is invalid_metadata', async () => {
      for (const filename of ['a\u0000.jpg', 'line\nbreak.jpg', 'bell\u0007.jpg', 'esc\u001b[31m.jpg']) {
        const { status, body } = await refused({ filename });
        expect([status, body.error.code], JSON.stringify(filename)).to.deep.equal([400, 'invalid_metadata']);
      }
      recordCase('hostile', 'file name with control characters', 'invalid_metadata', 0);
    });

    it('a 10 KB file name is invalid_metadata; a 10 KB title is cut to 500 characters', async () => {
      const { status, body } = await refused({ filename: `${'a'.repeat(10_240)}.jpg` });
      expect([status, body.error.code]).to.deep.equal([400, 'invalid_metadata']);
      const id = idFromUrl(await upload(await jpeg(2), { filename: 'long-title.jpg', title: 't'.repeat(10_240) }));
      const d = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      expect(d.title).to.have.length(500);
      recordCase('hostile', '10 KB metadata values', 'invalid_metadata / cut to 500', 0);
    });

    it('a title with control characters is invalid_metadata', async () => {
      const { status, body } = await refused({ filename: 'ok.jpg', title: 'case\u0000\u001b[2J' });
      expect([status, body.error.code]).to.deep.equal([400, 'invalid_metadata']);
      recordCase('hostile', 'title with control characters', 'invalid_metadata', 0);
    });

    it('names with <script>, U+202E, Chinese and emoji are kept verbatim and served as JSON only', async () => {
      // A name with a slash is no plain file name: refused as such, not cleaned.
      const slashed = await refused({ filename: '<script>alert(1)</script>.jpg' });
      expect([slashed.status, slashed.body.error.code]).to.deep.equal([400, 'invalid_metadata']);
      for (const filename of ['<img src=x onerror=alert(1)>.jpg', '<script>alert(1)<script>.jpg', '\u202Egpj.exe.jpg', '起诉意见书 第1卷.jpg', '\u{1F4C4} scan \u{1F525}.jpg']) {
        const id = idFromUrl(await upload(await jpeg(3), { filename }));
        const res = await fetch(`${gw.url}/api/dossiers/${id}`, { headers: { authorization: `Bearer ${clerk}` } });
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
        expect(((await res.json()) as any).filename).to.equal(filename);
      }
      recordCase('hostile', 'names with <script>, U+202E, Chinese, emoji', 'kept verbatim as JSON', 0);
    });

    it('a case id that is SQL or another agency\'s case is refused', async () => {
      for (const [value, code] of [["' OR 1=1 --", 'not_found'], ['../../etc/passwd', 'not_found']] as const) {
        const { status, body } = await refused({ filename: 'a.jpg', caseId: value });
        expect([status, body.error.code], value).to.deep.equal([404, code]);
      }
      const other = await gw.token('police-2', 'clerk');
      const theirs = (await gw.api('POST', '/api/cases', other, { number: 'OTHER-1' })).json.id;
      const { status } = await refused({ filename: 'a.jpg', caseId: theirs });
      expect(status).to.equal(404);
      recordCase('hostile', 'case id as SQL / traversal / foreign case', 'not_found', 0);
    });
  });

  it('decoders pages do not need are blocked in the gateway process (SVG, GIF)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    const gif = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
    for (const input of [svg, gif]) {
      const err = await sharp(input).metadata().then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/unsupported image format/);
    }
    expect((await sharp(await jpeg(4)).metadata()).format).to.equal('jpeg');
    recordCase('hostile', 'sharp loaders other than JPEG/PNG/TIFF/WebP/JP2 blocked', 'unsupported image format', 0);
  });

  it('wrote nothing outside its data directory, and no page escaped into a file of its own name', async () => {
    expect(await fs.readdir(sandbox)).to.deep.equal(['data']);
    const files = await listTree(path.join(sandbox, 'data'));
    expect(files.filter((f) => /evil|passwd|hidden/.test(f))).to.deep.equal([]);
    for (const outside of ['/etc/evil.jpg', path.join(os.tmpdir(), 'evil.jpg'), path.join(sandbox, '..', 'evil.jpg')]) expect(existsSync(outside), outside).to.equal(false);
    await expectAlive();
  });
});

describe('the corpus pixel flood, rasterised @hostile', function () {
  this.timeout(180_000);
  const corpus = process.env.CORPUS_DIR;
  let gw: TestGateway;
  before(async function () {
    if (!corpus || !existsSync(path.join(corpus, 'hugemono.pdf'))) {
      if (process.env.CI === 'true') throw new Error('CORPUS_DIR with hugemono.pdf is required when CI=true');
      console.log('      (skipped: set CORPUS_DIR to the shared corpus to rasterise hugemono.pdf)');
      this.skip();
    }
    gw = await startGateway();
  });
  after(async () => gw?.stop());

  it('hugemono.pdf (35000 x 35000 bilevel) is sealed; its thumbnail and OCR end, the process lives', async () => {
    const started = performance.now();
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'HUGE-1' })).json.id;
    const bytes = await fs.readFile(path.join(corpus!, 'hugemono.pdf'));
    const id = idFromUrl(await tusUpload(gw.url, bytes, { token: clerk, metadata: { filename: 'hugemono.pdf', caseId } }).done);
    const d = await eventually(async () => {
      const r = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
    }, 120_000, 'hugemono outcome');
    expect(d.status, JSON.stringify(d.error)).to.equal('sealed');
    // The page is drawn for its thumbnail and its OCR: both come to an end (made or failed), never a crash.
    const done = await eventually(async () => {
      const r = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      const ocr = r.progress?.ocr;
      return r.progress?.thumbnails >= 1 && ocr && ocr.done + ocr.failed >= 1 ? r : undefined;
    }, 150_000, 'hugemono thumbnail and OCR');
    expect(done.progress.ocr.done + done.progress.ocr.failed).to.equal(1);
    const thumb = await fetch(`${gw.url}/api/dossiers/${id}/pages/1/thumbnail`, { headers: { authorization: `Bearer ${clerk}` } });
    expect(thumb.status).to.equal(200);
    expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
    recordCase('hostile', 'corpus hugemono.pdf rasterised', `sealed; thumbnail made; OCR ${done.progress.ocr.done ? 'done' : 'failed'}`, performance.now() - started);
  });
});
