/**
 * The scale-out wiring end to end: two gateways that run no jobs and one `dossier worker`
 * process, on one PostgreSQL, one S3 bucket and one shared uploads volume. A dossier uploaded
 * through one gateway is ingested by the worker and downloaded through the other; its pages and
 * original end in the bucket, and no copy of the upload is left on local disk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { dossierCli, type CliRun } from './support/cli.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('scale-out: two gateways and a worker on PostgreSQL and S3', function () {
  this.timeout(180_000);
  let pg: EngineHandle;
  let s3: TestS3;
  let shared: string;
  let gwA: TestGateway;
  let gwB: TestGateway;
  let worker: CliRun;
  let workerLog = '';
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    s3 = await startS3();
    shared = await tempDir('scale-out-');
    const env = { DATABASE_URL: pg.url!, DATA_DIR: shared, WORKERS: 'none', ...s3.env() };
    gwA = await startGateway(env);
    gwB = await startGateway(env);
    worker = dossierCli(['worker'], { ...env, LOG_LEVEL: 'info', OCR_WORKERS: '1', WORKER_STOP_GRACE: '2s' });
    worker.child.stdout!.on('data', (c: Buffer) => (workerLog += c.toString()));
  });
  after(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
    await gwA?.stop();
    await gwB?.stop();
    await s3?.stop();
    await pg?.dispose();
    if (shared) await fs.rm(shared, { recursive: true, force: true });
  });

  it('uploads through one gateway, ingests in the worker, serves through the other', async () => {
    const clerk = await gwA.token('police-1', 'clerk');
    const caseId = (await gwA.api('POST', '/api/cases', clerk, { number: 'SCALE-1' })).json.id;
    const jpegs = await Promise.all([11, 12, 13, 14].map((n) => jpegPage(n)));
    const scratch = await tempDir('scale-out-src-');
    try {
      const zip = await zipOf(path.join(scratch, 'd.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
      const zipBytes = await fs.readFile(zip);
      const id = idFromUrl(await tusUpload(gwA.url, zip, { token: clerk, metadata: { filename: 'd.zip', caseId } }).done);

      const reader = await gwB.token('police-1', 'prosecutor');
      const d = await eventually(async () => {
        const r = (await gwB.api('GET', `/api/dossiers/${id}`, reader)).json;
        return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
      }, 120_000, 'sealed by the worker');
      expect(d).to.include({ status: 'sealed', pageCount: 4, sha256: sha(zipBytes) });
      // The worker process sealed it: the gateways run no jobs (WORKERS=none).
      await eventually(async () => (workerLog.includes('dossier sealed') ? true : undefined), 10_000, 'the worker to log the seal');
      expect(workerLog).to.match(new RegExp(`"dossier":"${id}".*"msg":"dossier sealed"`));

      for (const [i, j] of jpegs.entries()) {
        const res = await fetch(`${gwB.url}/api/dossiers/${id}/pages/${i + 1}`, { headers: { authorization: `Bearer ${reader}` } });
        expect(sha(Buffer.from(await res.arrayBuffer()))).to.equal(sha(j));
      }
      // Pages and original in the bucket; nothing of the upload left in the shared volume.
      for (const j of jpegs) expect(await gwB.gateway.blobs.size(sha(j))).to.equal(j.length);
      expect(await gwB.gateway.blobs.size(sha(zipBytes))).to.equal(zipBytes.length);
      expect((await fs.readdir(path.join(shared, 'uploads'))).filter((f) => f.startsWith(id))).to.deep.equal([]);
      await fs.access(path.join(shared, 'blobs')).then(() => expect.fail('a local blob directory was made'), () => {});
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  });
});
