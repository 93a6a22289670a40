/**
 * The S3 server stopped in the middle of an ingest and started again: the ingest job fails, is
 * retried by the queue, and the dossier is sealed once, with every page stored and listed once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startFaultProxy, type FaultProxy } from './support/http-fault-proxy.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3 server stopped mid-ingest and restarted', function () {
  this.timeout(120_000);
  let pg: EngineHandle;
  let s3: TestS3;
  let proxy: FaultProxy;
  let gw: TestGateway;
  let dir: string;
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    s3 = await startS3();
    if (s3.kind === 'external') {
      console.warn('    ⚠ skipped against an external S3: the test stops and restarts its server');
      this.skip();
    }
    proxy = await startFaultProxy(s3.endpoint);
    gw = await startGateway({ DATABASE_URL: pg.url!, ...s3.env(), S3_ENDPOINT: proxy.url, S3_MAX_ATTEMPTS: '2' });
    dir = await tempDir('s3-fault-');
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await s3?.stop();
    await pg?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('resumes when the store is back; nothing lost, nothing doubled', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'S3-FAULT' })).json.id;
    const jpegs = await Promise.all(Array.from({ length: 24 }, (_, i) => jpegPage(i + 300)));
    // Deflated entries: each page is a PUT of its own (a stored entry would be kept as a range of the upload).
    const zip = await zipOf(path.join(dir, 'f.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data, compress: true })));

    // After five page puts the server goes away: every later request finds no one.
    let puts = 0;
    let down = false;
    proxy.rule = {
      drop: (req) => {
        if (!down && req.method === 'PUT' && ++puts > 5) {
          down = true;
          void s3.kill();
        }
        return down;
      },
    };
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'f.zip', caseId } }).done);
    const job = () => gw.gateway.db.query<{ attempts: number; status: string; last_error: string | null }>(`SELECT attempts, status, last_error FROM jobs WHERE kind = 'ingest' AND key = $1`, [id]);
    const failed = await eventually(async () => {
      const [j] = await job();
      return j && j.attempts >= 1 && j.status === 'queued' && j.last_error ? j : undefined;
    }, 60_000, 'the ingest attempt to fail while the store is down');
    expect(failed.last_error).to.be.a('string');
    expect((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status).to.equal('processing');

    await s3.restart();
    proxy.rule = {};
    const d = await eventually(async () => {
      const r = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
    }, 90_000, 'sealed after the store came back');
    expect(d).to.include({ status: 'sealed', pageCount: 24 });
    const pages = await gw.gateway.dossiers.listPages(id, { offset: 0, limit: 100 });
    expect(pages.map((p) => p.index)).to.deep.equal(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(pages.map((p) => p.sha256)).to.deep.equal(jpegs.map(sha));
    for (const j of jpegs) expect(await gw.gateway.blobs.size(sha(j))).to.equal(j.length);
    const auditor = await gw.token('police-1', 'auditor');
    const events = (await gw.api('GET', `/api/audit?caseId=${caseId}&limit=100`, auditor)).json.events as { action: string }[];
    expect(events.filter((e) => e.action === 'dossier.sealed')).to.have.length(1);
  });
});
