/**
 * OCR and search end to end: the real gateway over HTTP, the real tesseract.js engine, PGlite.
 * Pages are small crops of the synthetic scans (their known header lines) so that OCR is quick.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { startGateway, type TestGateway } from './support/gateway.js';
import { blankFixtures } from '../scripts/bench/fixtures/blank-pages.js';
import { tempDir } from './support/fixtures.js';
import { eventually } from './support/eventually.js';
import {
  chineseScan, headerScan, ocrFinished, textPdf, uniqueToken, uploadSealed, zipDossier,
} from './support/ocr-fixtures.js';

interface Hit { dossierId: string; caseId: string; page: number; snippet: string; score: number }
const hitsOf = (r: { json: any }): Hit[] => r.json.hits as Hit[];

describe('OCR and search (tesseract.js, PGlite)', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let caseId: string;
  let scans: string;

  before(async () => {
    dir = await tempDir('ocr-search-');
    gw = await startGateway({ OCR_WORKERS: '2', OCR_LANGS: 'eng' });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OCR-1', title: 'search' })).json.id;
    const pages = await Promise.all([1, 2, 3].map(async (n) => ({ name: `${n}.jpg`, data: await headerScan(n, 3) })));
    scans = await uploadSealed(gw, clerk, caseId, 'scans.zip', await zipDossier(dir, 'scans.zip', pages));
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('OCRs every page, counts progress and lists each page’s status and confidence', async () => {
    const d = await ocrFinished(gw, clerk, scans);
    expect(d.progress.ocr).to.deep.equal({ done: 3, failed: 0, total: 3 });
    // The case, alone and in the listing, counts the same.
    const one = await gw.api('GET', `/api/cases/${caseId}`, clerk);
    expect(one.status, JSON.stringify(one.json)).to.equal(200);
    const inCase = one.json.dossiers.find((x: { id: string }) => x.id === scans);
    expect(inCase.progress.ocr).to.deep.equal({ done: 3, failed: 0, total: 3 });
    const listed = (await gw.api('GET', '/api/cases', clerk)).json.cases.find((c: { id: string }) => c.id === caseId);
    expect(listed.dossiers.find((x: { id: string }) => x.id === scans).progress.ocr).to.deep.equal({ done: 3, failed: 0, total: 3 });
    const pages = (await gw.api('GET', `/api/dossiers/${scans}/pages`, clerk)).json as { index: number; ocr: { status: string; confidence: number; source: string } }[];
    expect(pages.map((p) => p.ocr.status)).to.deep.equal(['done', 'done', 'done']);
    for (const p of pages) {
      expect(p.ocr.source).to.equal('ocr');
      expect(p.ocr.confidence).to.be.within(50, 100);
    }
  });

  it('finds a word that occurs on exactly one page and returns that page', async () => {
    await ocrFinished(gw, clerk, scans);
    const token = uniqueToken(2);
    const r = await gw.api('GET', `/api/search?q=${encodeURIComponent(token)}`, clerk);
    expect(r.status).to.equal(200);
    const hits = hitsOf(r);
    expect(hits).to.have.length(1);
    expect(hits[0]).to.include({ dossierId: scans, caseId, page: 2 });
    expect(hits[0]!.snippet).to.include(`<mark>${token}</mark>`);
    expect(hits[0]!.score).to.be.greaterThan(0);
    // Lower case and within one dossier: the same page.
    const within = hitsOf(await gw.api('GET', `/api/search?q=${encodeURIComponent(token.toLowerCase())}&dossierId=${scans}`, clerk));
    expect(within.map((h) => h.page)).to.deep.equal([2]);
    // A word on every page: all three, each once.
    const all = hitsOf(await gw.api('GET', `/api/search?q=exhibit&caseId=${caseId}&limit=10`, clerk));
    expect(all.map((h) => h.page).sort()).to.deep.equal([1, 2, 3]);
  });

  it('serves the page text as UTF-8 plain text', async () => {
    await ocrFinished(gw, clerk, scans);
    const res = await fetch(`${gw.url}/api/dossiers/${scans}/pages/3/text`, { headers: { authorization: `Bearer ${clerk}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    const text = await res.text();
    expect(text).to.include(uniqueToken(3));
    expect(text).not.to.include(uniqueToken(2));
    expect((await gw.api('GET', `/api/dossiers/${scans}/pages/4/text`, clerk)).status).to.equal(404);
  });

  it('audits text reads and searches, without the query’s words', async () => {
    await ocrFinished(gw, clerk, scans);
    const token = uniqueToken(1);
    expect((await gw.api('GET', `/api/dossiers/${scans}/pages/1/text`, clerk)).status).to.equal(200);
    expect((await gw.api('GET', `/api/search?q=${encodeURIComponent(token)}&caseId=${caseId}`, clerk)).status).to.equal(200);
    const auditor = await gw.token('police-1', 'auditor');
    const events = await eventually(async () => {
      const list = (await gw.api('GET', `/api/audit?caseId=${caseId}&limit=1000`, auditor)).json.events as { action: string; target: { type: string; id: string }; details: Record<string, unknown> | null }[];
      const read = list.find((e) => e.action === 'page.text.read' && e.target.id === `${scans}/1`);
      const search = list.find((e) => e.action === 'search' && e.details?.queryLength === token.length);
      return read && search ? { read, search } : undefined;
    }, 10_000, 'audit events');
    expect(events.read.target).to.deep.equal({ type: 'page', id: `${scans}/1` });
    expect(JSON.stringify(events.search)).not.to.include(token);
  });

  it('shows another agency nothing: no hits, 404 for the text', async () => {
    await ocrFinished(gw, clerk, scans);
    const other = await gw.token('police-2', 'prosecutor');
    const r = await gw.api('GET', `/api/search?q=${encodeURIComponent(uniqueToken(2))}`, other);
    expect(r.status).to.equal(200);
    expect(hitsOf(r)).to.deep.equal([]);
    // Naming the case or the dossier changes nothing.
    expect(hitsOf(await gw.api('GET', `/api/search?q=exhibit&caseId=${caseId}`, other))).to.deep.equal([]);
    expect(hitsOf(await gw.api('GET', `/api/search?q=exhibit&dossierId=${scans}`, other))).to.deep.equal([]);
    const text = await gw.api('GET', `/api/dossiers/${scans}/pages/2/text`, other);
    expect(text.status).to.equal(404);
    expect(text.json.error.code).to.equal('not_found');
  });

  it('lets roles that read dossiers search, refuses others, validates the query', async () => {
    const auditor = await gw.token('police-1', 'auditor');
    expect((await gw.api('GET', '/api/search?q=exhibit', auditor)).status).to.equal(403);
    expect((await gw.api('GET', `/api/dossiers/${scans}/pages/1/text`, auditor)).status).to.equal(403);
    for (const bad of ['', 'q=', `q=${'x'.repeat(201)}`, 'q=exhibit&limit=101', 'q=exhibit&limit=0', 'q=exhibit&caseId=nope', 'q=%21%3F']) {
      const r = await gw.api('GET', `/api/search?${bad}`, clerk);
      expect(r.status, bad).to.equal(400);
      expect(r.json.error.code, bad).to.equal('bad_request');
    }
  });

  it('indexes a born-digital PDF from its text layer, without OCR', async () => {
    const pdf = await textPdf(['Inventory of seized items, folio one, kept in the evidence room', 'Quartermaster Zylinski signed receipt 80417']);
    const id = await uploadSealed(gw, clerk, caseId, 'digital.pdf', pdf);
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.deep.equal({ done: 2, failed: 0, total: 2 });
    const pages = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { ocr: { status: string; source: string; confidence: number } }[];
    expect(pages.map((p) => p.ocr)).to.deep.equal([
      { status: 'done', source: 'text-layer', confidence: 100 },
      { status: 'done', source: 'text-layer', confidence: 100 },
    ]);
    const hits = hitsOf(await gw.api('GET', '/api/search?q=zylinski%2080417', clerk));
    expect(hits.map((h) => [h.dossierId, h.page])).to.deep.equal([[id, 2]]);
    const record = await gw.gateway.pageTexts.get(id, 2);
    expect(record?.engine).to.equal('text-layer');
  });

  it('marks an empty duplex back `blank` (done, no text, not recognised) and reads the near-empty page beside it', async () => {
    const fixtures = await blankFixtures();
    const back = fixtures.find((f) => f.name === 'back: bleed-through, shadows, dust')!;
    const faint = fixtures.find((f) => f.name === 'near-empty: faint words over bleed-through')!;
    const files = [
      { name: '1.jpg', data: await headerScan(1, 3) },
      { name: '2.jpg', data: back.jpeg },
      { name: '3.jpg', data: faint.jpeg },
    ];
    const id = await uploadSealed(gw, clerk, caseId, 'duplex.zip', await zipDossier(dir, 'duplex.zip', files));
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.deep.equal({ done: 3, failed: 0, total: 3 });
    const pages = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { ocr: { status: string; source: string } }[];
    expect(pages.map((p) => p.ocr.source)).to.deep.equal(['ocr', 'blank', 'ocr']);
    const blank = await gw.api('GET', `/api/dossiers/${id}/pages/2/text`, clerk);
    expect(blank.status).to.equal(200);
    expect(blank.json, 'an empty text').to.equal(null);
    const written = await gw.api('GET', `/api/dossiers/${id}/pages/3/text`, clerk);
    expect(written.json).to.be.a('string').that.matches(/intentionally left blank/i);
  });

  it('ends a page the engine cannot read `failed` with a reason while the others finish', async () => {
    const good = await headerScan(1, 3);
    // A JPEG cut after its header: ingest reads only the header and keeps it; decoding fails.
    const truncated = good.subarray(0, 700);
    const files = [
      { name: '1.jpg', data: await headerScan(2, 3) },
      { name: '2.jpg', data: truncated },
      { name: '3.jpg', data: good },
    ];
    const id = await uploadSealed(gw, clerk, caseId, 'poisoned.zip', await zipDossier(dir, 'poisoned.zip', files));
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.deep.equal({ done: 2, failed: 1, total: 3 });
    const pages = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { ocr: { status: string; reason?: string } }[];
    expect(pages.map((p) => p.ocr.status)).to.deep.equal(['done', 'failed', 'done']);
    expect(pages[1]!.ocr.reason).to.match(/cannot read the page image/);
    const text = await gw.api('GET', `/api/dossiers/${id}/pages/2/text`, clerk);
    expect(text.status).to.equal(409);
    expect(text.json.error.code).to.equal('ocr_failed');
    expect(text.json.error.message).to.match(/failed: .*cannot read the page image/);
    expect((await gw.api('GET', `/api/dossiers/${id}/pages/3/text`, clerk)).status).to.equal(200);
  });
});

describe('OCR page timeout (tesseract.js, PGlite)', function () {
  this.timeout(300_000);
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway({ OCR_WORKERS: '1', OCR_PAGE_TIMEOUT: '1s', OCR_ENGINE: 'tesseract.js' });
  });
  after(async () => gw?.stop());

  it('retries a page that exceeds the timeout with backoff, then ends it `failed`', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OCR-T' })).json.id;
    // Nine megapixels of blotches (24 px blocks of random grey): no text lines to measure, seconds
    // of recognition, never 1 s. (Fine-grained noise would average out to a blank sheet.)
    const W = 3000;
    const pixels = Buffer.alloc(W * W);
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) pixels[y * W + x] = (Math.imul(((y / 24) | 0) * 7919 + ((x / 24) | 0), 2654435761) >>> 24) & 255;
    const noise = await sharp(pixels, { raw: { width: W, height: W, channels: 1 } }).png().toBuffer();
    const id = await uploadSealed(gw, clerk, caseId, 'noise.png', noise);
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.deep.equal({ done: 0, failed: 1, total: 1 });
    const record = await gw.gateway.pageTexts.get(id, 1);
    expect(record).to.include({ status: 'failed', attempts: 3 });
    expect(record!.reason).to.match(/longer than 1000 ms/);
  });
});

describe('OCR of Simplified Chinese (tesseract.js chi_sim+eng, PGlite)', function () {
  this.timeout(300_000);
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway({ OCR_WORKERS: '1', OCR_LANGS: 'chi_sim+eng' });
  });
  after(async () => gw?.stop());

  it('finds a page by a 2–4 character Chinese query', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OCR-ZH' })).json.id;
    const pages = [
      { name: '1.png', data: await chineseScan('被告人在北京市朝阳区盗窃财物') },
      { name: '2.png', data: await chineseScan('证人称车辆停在上海火车站') },
    ];
    const dir = await tempDir('ocr-zh-');
    try {
      const id = await uploadSealed(gw, clerk, caseId, 'zh.zip', await zipDossier(dir, 'zh.zip', pages));
      const d = await ocrFinished(gw, clerk, id);
      expect(d.progress.ocr).to.deep.equal({ done: 2, failed: 0, total: 2 });
      for (const [q, page] of [['财物', 1], ['朝阳区', 1], ['北京市朝阳', 1], ['火车站', 2], ['上海火车', 2]] as const) {
        const hits = hitsOf(await gw.api('GET', `/api/search?q=${encodeURIComponent(q)}`, clerk));
        expect(hits.map((h) => h.page), q).to.deep.equal([page]);
        // Marked in the page's text as OCR wrote it (tesseract spaces Han characters apart).
        expect(hits[0]!.snippet.replace(/ /g, ''), q).to.include(`<mark>${q}</mark>`);
      }
      expect(hitsOf(await gw.api('GET', `/api/search?q=${encodeURIComponent('朝阳火车')}`, clerk))).to.deep.equal([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
