/**
 * GET /api/dossiers?ids=…: many dossiers' status in one request, each as GET /api/dossiers/:id
 * answers it, none the caller may not see; and the migration's seal watcher that polls it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { eventually } from './support/eventually.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { SealWatcher } from '../scripts/support/seal-watcher.js';

/** A dossier's JSON without its OCR and thumbnail progress, which move while the in-process jobs run. */
// The batch answers the status, not the viewer's outline (GET /api/dossiers/:id alone carries it).
const settled = (d: Record<string, unknown>) => ({ ...d, outline: undefined, progress: { ...(d.progress as object), ocr: undefined, thumbnails: undefined } });

describe('GET /api/dossiers?ids= (status of many)', function () {
  this.timeout(240_000);
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  const ids: string[] = [];

  before(async () => {
    gw = await startGateway();
    dir = await tempDir('status-batch-');
    clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'SB-1', title: 'status batch' })).json.id;
    for (let i = 0; i < 6; i++) {
      const file = path.join(dir, `p${i}.jpg`);
      await fs.writeFile(file, await jpegPage(i + 1, 200, 280));
      ids.push(idFromUrl(await tusUpload(gw.url, file, { token: clerk, metadata: { filename: `p${i}.jpg`, caseId } }).done));
    }
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the seal watcher learns of every sealed dossier in one request, each answer as GET /api/dossiers/:id', async () => {
    await eventually(async () => {
      const res = await gw.api('GET', `/api/dossiers?ids=${ids.join(',')}`, clerk);
      return res.json.dossiers.every((d: { status: string }) => d.status === 'sealed') ? true : undefined;
    }, 120_000, 'every dossier sealed');
    const watcher = new SealWatcher({ server: gw.url, token: clerk });
    const outcomes = await Promise.all(ids.map((id) => watcher.wait(id)));
    expect(outcomes.map((d) => [d.id, d.status])).to.deep.equal(ids.map((id) => [id, 'sealed']));
    // One request a dossier would be six.
    expect(watcher.requests).to.equal(1);
    for (const d of outcomes) {
      const one = await gw.api('GET', `/api/dossiers/${d.id}`, clerk);
      expect(settled(d as unknown as Record<string, unknown>)).to.deep.equal(settled(one.json));
    }
  });

  it('answers in the order asked; a missing dossier and another agency\'s are both left out, the same for an outsider as for a missing id', async () => {
    const missing = randomUUID();
    const asked = [ids[3]!, missing, ids[0]!, ids[3]!];
    const res = await gw.api('GET', `/api/dossiers?ids=${asked.join(',')}`, clerk);
    expect(res.status).to.equal(200);
    expect(res.json.dossiers.map((d: { id: string }) => d.id)).to.deep.equal([ids[3], ids[0]]);
    const outsider = await gw.token('police-2', 'clerk');
    const theirs = await gw.api('GET', `/api/dossiers?ids=${ids.join(',')}`, outsider);
    const none = await gw.api('GET', `/api/dossiers?ids=${randomUUID()}`, outsider);
    expect([theirs.status, theirs.json]).to.deep.equal([200, { dossiers: [] }]);
    expect([none.status, none.json]).to.deep.equal([200, { dossiers: [] }]);
  });

  it('refuses no ids, ids that are not dossier ids, more than 100, and a role without dossier:read', async () => {
    for (const q of ['', '?ids=', '?ids=../etc', `?ids=${Array.from({ length: 101 }, () => randomUUID()).join(',')}`]) {
      const res = await gw.api('GET', `/api/dossiers${q}`, clerk);
      expect(res.status, q.slice(0, 40)).to.equal(400);
      expect(res.json.error.code).to.be.a('string');
    }
    const auditor = await gw.token('police-1', 'auditor');
    expect((await gw.api('GET', `/api/dossiers?ids=${ids[0]}`, auditor)).status).to.equal(403);
  });
});
