/** Ingest killed part-way and run again: the same pages, hashes and root, no duplicates. */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { ingestDossier } from '../dossier/ingest/ingest-dossier.js';
import type { PageSource } from '../dossier/pages/page-source.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { referenceRoot } from './support/independent-merkle.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { startS3, type TestS3 } from './support/s3-server.js';

// Both blob stores: on S3 the stored original has no local path and is read back from the bucket.
for (const wiring of ['fs', 's3'] as const) {
  describe(`ingest idempotency [${wiring} blobs]`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let s3: TestS3 | null = null;
    let dir: string;
    before(async () => {
      if (wiring === 's3') s3 = await startS3();
      // The after-upload reader is what these crashes interrupt: an upload read in the stream
      // hands the ingest its pages and never asks the page source (stream-ingest.test.ts).
      gw = await startGateway({ WORKERS: 'none', UPLOAD_STREAM_INGEST: 'false', ...s3?.env() });
      dir = await tempDir('idem-');
    });
    after(async () => {
      await gw?.stop();
      await s3?.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('resumes after a crash at page 7 of 30 and again after the move of the original', async () => {
      const clerk = await gw.token('police-1', 'clerk');
      const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'IDEM-1' })).json.id;
      const jpegs = await Promise.all(Array.from({ length: 30 }, (_, i) => jpegPage(i + 100)));
      const zip = await zipOf(path.join(dir, 'd.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
      const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'd.zip', caseId } }).done);
      const deps = gw.gateway.ingestDeps;

      // A source that dies like a killed process would: after some pages were stored and recorded.
      const dying: PageSource = (p, limits) => ({
        async *[Symbol.asyncIterator]() {
          let n = 0;
          for await (const page of deps.pages(p, limits)) {
            if (++n === 7) throw new Error('killed');
            yield page;
          }
        },
      });
      const err = await ingestDossier({ ...deps, pages: dying, batchSize: 5, writeConcurrency: 1 }, id).catch((e: unknown) => e);
      expect(String(err)).to.contain('killed');
      const partial = await gw.gateway.dossiers.get(id);
      expect(partial?.status).to.equal('processing');
      expect(partial?.pagesDone).to.equal(5);

      expect(await ingestDossier(deps, id)).to.equal('sealed');
      const sealed = (await gw.gateway.dossiers.get(id))!;
      const pages = await gw.gateway.dossiers.listPages(id, { offset: 0, limit: 100 });
      const expected = jpegs.map((j) => createHash('sha256').update(j).digest('hex'));
      expect(pages.map((p) => p.sha256)).to.deep.equal(expected);
      expect(sealed.merkleRoot).to.equal(referenceRoot(expected.map((h) => Buffer.from(h, 'hex'))).toString('hex'));

      // Run once more, as a retried job would: nothing changes.
      const signatures = pages.map((p) => p.signature);
      expect(await ingestDossier(deps, id)).to.equal('skipped');
      const again = await gw.gateway.dossiers.listPages(id, { offset: 0, limit: 100 });
      expect(again.map((p) => p.signature)).to.deep.equal(signatures);
      expect((await gw.gateway.dossiers.get(id))?.merkleRoot).to.equal(sealed.merkleRoot);
    });

    it('finishes from the stored original when the crash came after the move', async () => {
      const clerk = await gw.token('police-1', 'clerk');
      const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'IDEM-2' })).json.id;
      const jpegs = await Promise.all(Array.from({ length: 4 }, (_, i) => jpegPage(i + 200)));
      const zip = await zipOf(path.join(dir, 'e.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
      const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'e.zip', caseId } }).done);
      const deps = gw.gateway.ingestDeps;
      const d = (await gw.gateway.dossiers.get(id))!;
      // Simulate: the original was moved into the blob store, then the process died before sealing.
      const staged = (await deps.staging.path(id))!;
      await deps.blobs.putFile(d.sha256!, staged, { move: true });
      await deps.staging.forget(id);
      expect(await ingestDossier(deps, id)).to.equal('sealed');
      expect((await gw.gateway.dossiers.get(id))?.pageCount).to.equal(4);
      // The copy read back from the bucket for the page readers is not kept.
      expect((await fs.readdir(path.join(gw.dataDir, 'uploads'))).filter((f) => f.startsWith(id))).to.deep.equal([]);
    });
  });
}
