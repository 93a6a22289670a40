/**
 * A page scanned upside down, through the gateway: OCR reads it the right way up and records the
 * turn; the listing says it, the thumbnail and the view image show the page upright, the
 * searchable PDF sets /Rotate, and the stored (signed) bytes stay exactly as uploaded. A PDF page
 * in an encoding OCR could not take before (CCITT G4) gets a thumbnail and a view image too.
 */
import { expect } from 'chai';
import sharp from 'sharp';
import { sha256Hex } from '../dossier/hash.js';
import { englishPage, turned } from '../scripts/bench/fixtures/ocr-pages.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { ocrFinished, uploadSealed } from './support/ocr-fixtures.js';

/** Mean absolute difference of two images brought to the same small gray size. */
async function difference(a: Buffer, b: Buffer): Promise<number> {
  const small = (x: Buffer) => sharp(x).grayscale().resize(120, 80, { fit: 'fill' }).raw().toBuffer();
  const [p, q] = await Promise.all([small(a), small(b)]);
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.abs(p[i]! - q[i]!);
  return sum / p.length;
}

describe('a page scanned upside down, shown upright', function () {
  this.timeout(240_000);
  let gw: TestGateway;
  let clerk: string;
  let id: string;
  let upright: Buffer;
  let stored: Buffer;
  const get = (path: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${clerk}` } });

  before(async () => {
    gw = await startGateway({ OCR_WORKERS: '1', OCR_LANGS: 'eng' });
    clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'UPRIGHT-1' })).json.id;
    const page = await englishPage();
    upright = await turned(page, 0);
    stored = await turned(page, 180);
    id = await uploadSealed(gw, clerk, caseId, 'upside-down.jpg', stored);
    await ocrFinished(gw, clerk, id);
  });
  after(() => gw?.stop());

  it('lists the turn, and keeps the stored bytes as uploaded', async () => {
    const [p] = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json;
    expect(p.rotation).to.equal(180);
    expect(p.ocr.status).to.equal('done');
    const bytes = Buffer.from(await (await get(`/api/dossiers/${id}/pages/1`)).arrayBuffer());
    expect(sha256Hex(bytes)).to.equal(sha256Hex(stored)).and.to.equal(p.sha256);
  });

  it('shows the thumbnail and the view image upright', async () => {
    const thumb = Buffer.from(await (await get(`/api/dossiers/${id}/pages/1/thumbnail`)).arrayBuffer());
    const view = await get(`/api/dossiers/${id}/pages/1/image?width=600`);
    expect(view.status).to.equal(200);
    const image = Buffer.from(await view.arrayBuffer());
    expect((await sharp(image).metadata()).width).to.equal(600);
    for (const shown of [thumb, image]) {
      const toUpright = await difference(shown, upright), toStored = await difference(shown, stored);
      expect(toUpright, `upright ${toUpright.toFixed(1)} vs as stored ${toStored.toFixed(1)}`).to.be.below(toStored / 2);
    }
    const again = await fetch(`${gw.url}/api/dossiers/${id}/pages/1/image?width=600`, { headers: { authorization: `Bearer ${clerk}`, 'if-none-match': view.headers.get('etag')! } });
    expect(again.status).to.equal(304);
  });

  it('sets /Rotate 180 on the page of the searchable PDF', async () => {
    const pdf = Buffer.from(await (await get(`/api/dossiers/${id}/export.pdf`)).arrayBuffer());
    expect(pdf.toString('latin1')).to.match(/\/Type \/Page \/Parent \d+ 0 R \/MediaBox \[[^\]]+\] \/Rotate 180/);
  });

  it('refuses view widths out of range', async () => {
    expect((await get(`/api/dossiers/${id}/pages/1/image?width=10`)).status).to.equal(400);
    expect((await get(`/api/dossiers/${id}/pages/1/image?width=99999`)).status).to.equal(400);
  });
});
