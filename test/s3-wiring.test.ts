/**
 * The gateway on PostgreSQL with BLOB_STORE=s3: pages and the original go to the bucket, none
 * stays on local disk, pages and the export read back from it, and a large download is
 * redirected to a presigned URL of the store, audited like any other read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('gateway on PostgreSQL and S3', function () {
  this.timeout(120_000);
  let pg: EngineHandle;
  let s3: TestS3;
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let id: string;
  let zipBytes: Buffer;
  let jpegs: Buffer[];
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    s3 = await startS3();
    // Redirect anything of 1 KiB or more, so that a small test dossier shows it.
    gw = await startGateway({ DATABASE_URL: pg.url!, ...s3.env(), S3_REDIRECT_MIN_BYTES: '1KiB', S3_REDIRECT_TTL: '2m' });
    dir = await tempDir('s3-wiring-');
    clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'S3-1' })).json.id;
    jpegs = await Promise.all([1, 2, 3].map((n) => jpegPage(n)));
    const zip = await zipOf(path.join(dir, 's3.zip'), jpegs.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
    zipBytes = await fs.readFile(zip);
    id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 's3.zip', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed on S3');
  });
  after(async () => {
    await gw?.stop();
    await s3?.stop();
    await pg?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps pages and the original in the bucket, no copy on local disk', async () => {
    for (const j of jpegs) expect(await gw.gateway.blobs.size(sha(j))).to.equal(j.length);
    expect(await gw.gateway.blobs.size(sha(zipBytes))).to.equal(zipBytes.length);
    expect(await fs.readdir(path.join(gw.dataDir, 'uploads'))).to.deep.equal([]);
    await fs.access(path.join(gw.dataDir, 'blobs')).then(() => expect.fail('a local blob directory was made'), () => {});
  });

  it('redirects a large page to a presigned URL of the store, audited as read', async () => {
    const judge = await gw.token('police-1', 'prosecutor');
    const res = await fetch(`${gw.url}/api/dossiers/${id}/pages/2`, { headers: { authorization: `Bearer ${judge}` }, redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const location = res.headers.get('location')!;
    expect(location.startsWith(s3.endpoint)).to.equal(true);
    expect(new URL(location).searchParams.get('X-Amz-Expires')).to.equal('120');
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(sha(bytes)).to.equal(sha(jpegs[1]!));

    const auditor = await gw.token('police-1', 'auditor');
    const events = (await gw.api('GET', `/api/audit?limit=100`, auditor)).json.events as { action: string; target: { id: string }; details: Record<string, unknown> }[];
    const read = events.filter((e) => e.action === 'page.read' && e.target.id === `${id}/2`);
    expect(read).to.have.length(1);
    expect(read[0]!.details).to.include({ presigned: true, ttlSeconds: 120 });
  });

  it('serves the original through a presigned URL too, named as it was uploaded', async () => {
    const judge = await gw.token('police-1', 'prosecutor');
    const res = await fetch(`${gw.url}/api/dossiers/${id}/original`, { headers: { authorization: `Bearer ${judge}` } });
    expect(res.status).to.equal(200);
    expect(res.url.startsWith(s3.endpoint)).to.equal(true);
    expect(res.headers.get('content-disposition')).to.contain('s3.zip');
    expect(sha(Buffer.from(await res.arrayBuffer()))).to.equal(sha(zipBytes));
  });

  it('streams the export from the bucket', async () => {
    const judge = await gw.token('police-1', 'prosecutor');
    const res = await fetch(`${gw.url}/api/dossiers/${id}/export?original=1`, { headers: { authorization: `Bearer ${judge}` } });
    expect(res.status).to.equal(200);
    const zip = Buffer.from(await res.arrayBuffer());
    // Stored entries: each page's bytes and the original appear verbatim in the archive.
    for (const j of jpegs) expect(zip.includes(j)).to.equal(true);
    expect(zip.includes(zipBytes)).to.equal(true);
  });
});
