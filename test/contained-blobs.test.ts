/**
 * Pages kept as byte ranges of their upload (storage/blobs/contained-blob-store.ts): the store
 * on its own (the blob store contract, ranges, containers that are absent), and the gateway: a
 * ZIP's stored entries are no copies on disk, its deflated entries and the pages of a ZIP inside
 * it are, and every page reads back as sealed, through the export and its verification too.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import sharp from 'sharp';
import { isDossierError } from '../dossier/errors.js';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { ContainedBlobStore } from '../storage/blobs/contained-blob-store.js';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { SqlBlobRangeRepository } from '../storage/db/blob-range-repository.js';
import type { Database } from '../storage/db/database.js';
import { migrate } from '../storage/db/migrate.js';
import { openPglite } from '../storage/db/pglite-database.js';
import { zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { openExport } from '../scripts/support/export-source.js';
import { blobStoreContract } from './blob-store.contract.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { uploadSealed } from './support/ocr-fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function notFound(p: Promise<unknown>): Promise<boolean> {
  return p.then(() => false, (err: unknown) => isDossierError(err) && err.code === 'not_found');
}

describe('blobs kept as ranges of other blobs', function () {
  this.timeout(120_000);
  let dir: string;
  let db: Database;

  before(async () => {
    dir = await tempDir('contained-');
    db = await openPglite(path.join(dir, 'db'));
    await migrate(db);
  });
  after(async () => {
    await db?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  blobStoreContract('ranges over the filesystem store', async () => {
    const at = await fs.mkdtemp(path.join(dir, 'contract-'));
    return { store: new ContainedBlobStore(await FsBlobStore.open(at), new SqlBlobRangeRepository(db)), dispose: () => fs.rm(at, { recursive: true, force: true }) };
  });

  it('reads a range as the blob it holds, whole or in part; sizes it; has no file or presigned URL of it', async () => {
    const whole = await FsBlobStore.open(await fs.mkdtemp(path.join(dir, 'store-')));
    const store = new ContainedBlobStore(whole, new SqlBlobRangeRepository(db));
    const container = randomBytes(10_000);
    await store.putBytes(sha(container), container);
    const page = container.subarray(1234, 5678);
    await store.keepContained([{ sha256: sha(page), container: sha(container), start: 1234, size: page.length }]);
    expect(await whole.size(sha(page)), 'no copy of its own').to.equal(null);
    expect(await store.size(sha(page))).to.equal(page.length);
    expect(sha(await buffer(await store.read(sha(page))))).to.equal(sha(page));
    expect(await buffer(await store.read(sha(page), { start: 10, end: 19 }))).to.deep.equal(page.subarray(10, 20));
    // A range past its end is cut at the end, as for a blob of its own.
    expect(await buffer(await store.read(sha(page), { start: page.length - 5, end: page.length + 100 }))).to.deep.equal(page.subarray(page.length - 5));
    expect(store.localPath(sha(page))).to.equal(null);
    expect(await store.downloadUrl(sha(page), { expiresInSeconds: 60 })).to.equal(null);
    // Recorded twice (a retried ingest): one row, the same bytes.
    await store.keepContained([{ sha256: sha(page), container: sha(container), start: 1234, size: page.length }]);
    expect((await db.query('SELECT 1 FROM blob_ranges WHERE sha256 = $1', [sha(page)])).length).to.equal(1);
    expect(await notFound(store.read(sha(randomBytes(8))))).to.equal(true);
    expect(await store.size(sha(randomBytes(8)))).to.equal(null);
  });

  it('passes over a range whose container is absent (an upload rejected after its pages were read) or too short', async () => {
    const whole = await FsBlobStore.open(await fs.mkdtemp(path.join(dir, 'store-')));
    const store = new ContainedBlobStore(whole, new SqlBlobRangeRepository(db));
    const page = randomBytes(300);
    const kept = Buffer.concat([randomBytes(50), page, randomBytes(50)]);
    const short = page.subarray(0, 100);
    const never = sha(randomBytes(32));
    await store.putBytes(sha(kept), kept);
    await store.putBytes(sha(short), short);
    // Sorted by container name: make sure the absent one and the short one are tried too.
    await store.keepContained([
      { sha256: sha(page), container: never, start: 0, size: page.length },
      { sha256: sha(page), container: sha(short), start: 0, size: page.length },
    ]);
    expect(await notFound(store.read(sha(page))), 'no container holds it yet').to.equal(true);
    expect(await store.size(sha(page))).to.equal(null);
    await store.keepContained([{ sha256: sha(page), container: sha(kept), start: 50, size: page.length }]);
    expect(await buffer(await store.read(sha(page)))).to.deep.equal(page);
    const refused = await store.keepContained([{ sha256: sha(page), container: sha(kept), start: -1, size: 3 }]).then(() => null, (err: Error) => err.message);
    expect(refused).to.match(/not a byte range/);
  });
});

describe('a ZIP upload: stored entries kept as ranges of it, the rest as blobs of their own', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;

  before(async () => {
    dir = await tempDir('contained-gw-');
    gw = await startGateway({ WORKERS: 'in-process' });
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes no copy of a stored page, reads every page as sealed, and the export verifies', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'RANGES-1' })).json.id;
    const scan = (n: number) => sharp({ create: { width: 200 + n, height: 300, channels: 3, background: { r: 250, g: 250 - n, b: 240 } } }).jpeg().toBuffer();
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(scan));
    const inner = await fs.readFile(await zipOf(path.join(dir, 'inner.zip'), [{ name: 'd.jpg', data: d! }]));
    const zip = await fs.readFile(
      await zipOf(path.join(dir, 'ranges.zip'), [
        { name: '01.jpg', data: a! },
        { name: '02.jpg', data: b!, compress: true },
        { name: '03.jpg', data: c! },
        { name: '04.zip', data: inner },
        { name: '05.jpg', data: a! }, // the same page again
      ]),
    );
    const id = await uploadSealed(gw, clerk, caseId, 'ranges.zip', zip);
    const pages = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { index: number; sha256: string; size: number }[];
    expect(pages.map((p) => p.sha256)).to.deep.equal([a, b, c, d, a].map((x) => sha(x!)));
    const onDisk = (h: string) => fs.stat(path.join(gw.dataDir, 'blobs', 'sha256', h.slice(0, 2), h.slice(2, 4), h)).then(() => true, () => false);
    // Stored entries of the upload itself: ranges. Deflated, or inside another archive: blobs.
    expect(await Promise.all(pages.map((p) => onDisk(p.sha256)))).to.deep.equal([false, true, false, true, false]);
    expect(await onDisk(sha(zip)), 'the upload, kept whole').to.equal(true);
    const rows = await gw.gateway.db.query<{ sha256: string; start_at: string }>('SELECT sha256, start_at FROM blob_ranges WHERE container = $1 ORDER BY start_at', [sha(zip)]);
    expect(rows.map((r) => r.sha256)).to.deep.equal([sha(a!), sha(c!)]);
    for (const r of rows) expect(zip.indexOf(r.sha256 === sha(a!) ? a! : c!)).to.equal(Number(r.start_at));
    for (const p of pages) {
      const res = await fetch(`${gw.url}/api/dossiers/${id}/pages/${p.index}`, { headers: { authorization: `Bearer ${clerk}` } });
      expect(res.status).to.equal(200);
      expect(sha(new Uint8Array(await res.arrayBuffer())), `page ${p.index}`).to.equal(p.sha256);
      // And by range, as a viewer asks for it.
      const part = await fetch(`${gw.url}/api/dossiers/${id}/pages/${p.index}`, { headers: { authorization: `Bearer ${clerk}`, range: 'bytes=2-9' } });
      expect(part.status).to.equal(206);
      expect(Buffer.from(await part.arrayBuffer())).to.deep.equal([a, b, c, d, a][p.index - 1]!.subarray(2, 10));
    }
    const exported = path.join(dir, 'export.zip');
    await fs.writeFile(exported, Buffer.from(await (await fetch(`${gw.url}/api/dossiers/${id}/export`, { headers: { authorization: `Bearer ${clerk}` } })).arrayBuffer()));
    const source = await openExport(exported);
    try {
      const report = await verifyExport(source, { jwks: { keys: [...gw.gateway.keys.publicJwks().keys] }, requireOriginal: true });
      expect(report.ok, JSON.stringify(report.problems)).to.equal(true);
    } finally {
      await source.close();
    }
  });
});
