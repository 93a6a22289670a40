/**
 * Background work yields to a person waiting, in the gateway: while a download is in the
 * foreground and the one background turn it leaves is taken, neither a thumbnail nor an OCR page
 * starts; both wait at the gate, and go on when the turn comes back.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { tempDir } from '../support/fixtures.js';
import { eventually } from '../support/eventually.js';
import { headerScan, ocrFinished, uploadSealed, zipDossier, type DossierJson } from '../support/ocr-fixtures.js';

describe('Background work (thumbnails, OCR) waits for its turn while a download streams', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;

  before(async () => {
    dir = await tempDir('background-yields-');
    gw = await startGateway({ OCR_WORKERS: '2', OCR_LANGS: 'eng' });
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('holds thumbnails and OCR at the gate while the turn is taken, then does both', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'YIELD-1' })).json.id;
    const gate = gw.gateway.gate;
    // A download in the foreground, and the one turn it leaves to background work taken.
    const endDownload = gate.foreground();
    const turn = await gate.turn();
    try {
      const pages = await Promise.all([1, 2].map(async (n) => ({ name: `${n}.jpg`, data: await headerScan(n, 2) })));
      const id = await uploadSealed(gw, clerk, caseId, 'yield.zip', await zipDossier(dir, 'yield.zip', pages));
      // Both kinds of job reach the gate and wait there: the thumbnail job's two lanes and the two
      // one-page OCR jobs (a two-page dossier is cut into jobs of one page).
      await eventually(async () => (gate.queued >= 4 ? true : undefined), 120_000, 'thumbnails and OCR waiting at the gate');
      expect(gate.inFlight).to.equal(1); // ours alone
      const d = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json as DossierJson;
      expect(d.progress.thumbnails).to.equal(0);
      expect(d.progress.ocr?.done).to.equal(0);
      turn();
      const done = await ocrFinished(gw, clerk, id);
      expect(done.progress.ocr).to.deep.equal({ done: 2, failed: 0, total: 2 });
      await eventually(async () => {
        const t = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json as DossierJson;
        return t.progress.thumbnails === 2 ? true : undefined;
      }, 120_000, 'thumbnails');
    } finally {
      turn();
      endDownload();
    }
  });
});
