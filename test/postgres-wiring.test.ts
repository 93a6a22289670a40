/** The scale-out wiring end to end: the gateway on PostgreSQL takes an upload and seals it. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { idFromUrl, tusUpload } from './support/tus.js';

describe('gateway on PostgreSQL', function () {
  this.timeout(120_000);
  let pg: EngineHandle;
  let gw: TestGateway;
  let dir: string;
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    gw = await startGateway({ DATABASE_URL: pg.url! });
    dir = await tempDir('pg-wiring-');
  });
  after(async () => {
    await gw?.stop();
    await pg?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('uploads, ingests, seals and proves a page', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'PG-1' })).json.id;
    const zip = await zipOf(path.join(dir, 'pg.zip'), await Promise.all([1, 2, 3].map(async (n) => ({ name: `${n}.jpg`, data: await jpegPage(n) }))));
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'pg.zip', caseId } }).done);
    const d = await eventually(async () => {
      const r = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      return r.status === 'sealed' ? r : undefined;
    }, 60_000, 'sealed on PostgreSQL');
    expect(d.pageCount).to.equal(3);
    const proof = (await gw.api('GET', `/api/dossiers/${id}/pages/2/proof`, clerk)).json;
    expect(proof).to.include({ index: 1, treeSize: 3, root: d.merkleRoot });
  });
});
