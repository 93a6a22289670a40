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
import { ingestHandler } from '../../dossier/ingest/ingest-job.js';
import type { IngestDeps } from '../../dossier/ingest/ingest-dossier.js';
import { DossierError } from '../../dossier/errors.js';

describe('Background work (thumbnails, OCR) waits for its turn while someone waits: a download, an upload, an ingest', function () {
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

  it('counts an upload whose PATCH is streaming as foreground work, and lets go when it ends', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'YIELD-2' })).json.id;
    const gate = gw.gateway.gate;
    expect(gate.busy).to.equal(false);
    const meta = (k: string, v: string) => `${k} ${Buffer.from(v).toString('base64')}`;
    const created = await fetch(`${gw.url}/files/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-length': '1000000', 'upload-metadata': [meta('filename', 'slow.bin'), meta('caseId', caseId)].join(',') },
    });
    expect(created.status).to.equal(201);
    const location = new URL(created.headers.get('location')!, gw.url).href;
    // A PATCH whose body arrives slowly: half now, the rest after the check.
    let release!: () => void;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(500_000));
        await new Promise<void>((r) => (release = r));
        controller.enqueue(new Uint8Array(500_000));
        controller.close();
      },
    });
    const patching = fetch(location, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    await eventually(async () => (gate.busy ? true : undefined), 30_000, 'the gate busy while the PATCH streams');
    release();
    expect((await patching).status).to.equal(204);
    // The ingest of what arrived (an unknown format, rejected) is foreground work too, then nothing is.
    await eventually(async () => (gate.busy ? undefined : true), 60_000, 'the gate free once the upload and its ingest ended');
  });

  it('marks a running ingest as foreground work, and ends the mark when the ingest fails', async () => {
    let marks = 0;
    let ended = 0;
    const deps = { dossiers: { get: async () => null }, log: gw.gateway.log } as unknown as IngestDeps;
    const handler = ingestHandler(deps, 1, () => {
      marks += 1;
      return () => (ended += 1);
    });
    let failure: unknown = null;
    await handler.run({ id: 'j', kind: handler.kind, payload: { dossierId: '00000000-0000-4000-8000-000000000000' }, attempts: 1 } as never, new AbortController().signal).catch((err: unknown) => (failure = err));
    expect(failure).to.be.instanceOf(DossierError).and.include({ code: 'not_found' });
    expect({ marks, ended }).to.deep.equal({ marks: 1, ended: 1 });
  });
});
