/**
 * Real scanner and PDF-tool output (shared/corpus, outside the repository), uploaded as a clerk
 * would: each file ends sealed or rejected with a stable code; none hangs or takes the server down.
 * Then every page of every sealed dossier is read: each ends OCR `done` (none `failed`) whatever
 * its scan's encoding (JBIG2, CCITT G4, JPEG 2000, palettes, CMYK, masks, a 35000 x 35000 page),
 * has a thumbnail, and the pages whose text is known (the Linn leaflet, linn.txt) read within a
 * stated CER.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { REJECTION_CODES } from '../dossier/errors.js';
import { cer } from '../ocr/cer.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { testEnv } from './support/env.js';
import { ocrFinished } from './support/ocr-fixtures.js';
import { idFromUrl, tusUpload } from './support/tus.js';

/**
 * Files that are the Linn leaflet (linn.txt), scanned, skewed or rotated, and their CER bounds:
 * measured (tesseract.js, eng) linn.png 0.9 %, linn.pdf 0.9 %, jbig2.pdf 1.0 %, skew 1.8 %,
 * rotated_skew 1.9 %; the bounds leave room for engine updates, not for a broken pipeline.
 */
const LINN_CER: Record<string, number> = { 'linn.png': 0.03, 'linn.pdf': 0.03, 'jbig2.pdf': 0.03, 'skew.pdf': 0.05, 'rotated_skew.pdf': 0.05 };

interface PageJson { index: number; rotation: number; ocr: { status: string; confidence: number | null; note?: string | null } | null }

describe('corpus through the gateway', function () {
  this.timeout(900_000);
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;
  const sealed = new Map<string, string>();
  const outcomes: string[] = [];

  before(async function () {
    if (!testEnv.corpusDir) {
      console.warn('    ⚠ skipped: CORPUS_DIR is not set (point it at shared/corpus)');
      this.skip();
    }
    gw = await startGateway();
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'CORPUS' })).json.id;
  });
  after(async () => {
    if (outcomes.length) console.log(`      ${outcomes.join('\n      ')}`);
    await gw?.stop();
  });

  it('seals or rejects every file with a code', async () => {
    const files = (await fs.readdir(testEnv.corpusDir!)).filter((f) => !/\.(md|txt)$/i.test(f)).sort();
    expect(files.length).to.be.greaterThan(10);
    for (const name of files) {
      const url = await tusUpload(gw.url, path.join(testEnv.corpusDir!, name), { token: clerk, metadata: { filename: name, caseId } }).done;
      const d = await eventually(async () => {
        const r = (await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk)).json;
        return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
      }, 120_000, name);
      outcomes.push(`${name}: ${d.status === 'sealed' ? `sealed, ${d.pageCount} page(s)` : `rejected ${d.error.code}`}`);
      if (d.status === 'rejected') expect(REJECTION_CODES.has(d.error.code), `${name}: ${d.error.code}`).to.equal(true);
      else sealed.set(name, d.id);
      expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
    }
    expect([...sealed.keys()]).to.not.include('invalid.pdf');
  });

  it('reads every page of every sealed file (none failed), with a thumbnail, and the known pages within their CER', async () => {
    const truth = await fs.readFile(path.join(testEnv.corpusDir!, 'linn.txt'), 'utf8');
    const failed: string[] = [];
    for (const [name, id] of sealed) {
      const d = await ocrFinished(gw, clerk, id, 600_000);
      const pages = (await gw.api('GET', `/api/dossiers/${id}/pages?limit=1000`, clerk)).json as PageJson[];
      for (const p of pages) if (p.ocr?.status !== 'done') failed.push(`${name} p${p.index}: ${JSON.stringify(p.ocr)}`);
      await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.progress.thumbnails === d.pageCount ? true : undefined), 120_000, `${name} thumbnails`);
      for (const p of pages) {
        const thumb = await fetch(`${gw.url}/api/dossiers/${id}/pages/${p.index}/thumbnail`, { headers: { authorization: `Bearer ${clerk}` } });
        if (thumb.status !== 200) failed.push(`${name} p${p.index}: thumbnail ${thumb.status}`);
        await thumb.arrayBuffer();
      }
      const notes = pages.map((p) => p.ocr?.note).filter(Boolean);
      const turned = pages.filter((p) => p.rotation).map((p) => `p${p.index} ${p.rotation}°`);
      let line = `${name}: ${pages.length} page(s) read${turned.length ? `, turned ${turned.join(' ')}` : ''}${notes.length ? `, ${notes.join('; ')}` : ''}`;
      const bound = LINN_CER[name];
      if (bound !== undefined) {
        const text = await (await fetch(`${gw.url}/api/dossiers/${id}/pages/1/text`, { headers: { authorization: `Bearer ${clerk}` } })).text();
        const c = cer(text, truth);
        line += `, CER ${(c * 100).toFixed(2)} %`;
        expect(c, `${name} CER`).to.be.at.most(bound);
      }
      outcomes.push(line);
    }
    expect(failed, failed.join('\n')).to.deep.equal([]);
  });
});
