/**
 * PostgreSQL unreachable for a while as an upload runs (a loopback TCP proxy in front of the
 * machine's server, cut and restored; the server keeps running): requests are answered 503 with
 * Retry-After instead of hanging or crashing the process, the client's retries carry the upload
 * through, and after the outage the dossier seals once, whole, with the audit chain intact.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import * as tus from 'tus-js-client';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { idFromUrl } from './support/tus.js';

const PAGES = 12;
// Small chunks, so that the upload is many PATCH requests and the cut falls between two.
const CHUNK = 2 * 1024;

describe('PostgreSQL unreachable for a while during an upload', function () {
  this.timeout(240_000);
  let db: EngineHandle;
  let proxy: TcpProxy;
  let gw: TestGateway;
  let dir: string;

  before(async function () {
    db = await openOrSkip(this, postgresEngine());
    const target = new URL(db.url!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${proxy.port}`;
    dir = await tempDir('pg-outage-');
    gw = await startGateway({ DATABASE_URL: target.toString(), OCR_WORKERS: '1', LOG_LEVEL: process.env.OUTAGE_LOG ?? 'silent' });
  });
  after(async () => {
    proxy?.restore();
    await gw?.stop();
    await proxy?.close();
    await db?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it is cut, then the upload completes and seals once', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'PG-OUT' })).json.id as string;
    const pages = await Promise.all(Array.from({ length: PAGES }, (_, i) => jpegPage(500 + i)));
    const zip = await zipOf(path.join(dir, 'outage.zip'), pages.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
    const bytes = await fs.readFile(zip);

    // The cut falls inside the upload, whatever the machine's speed: the client's own hook cuts
    // the database after the third PATCH answer, before the fourth is sent.
    let patches = 0;
    let retries = 0;
    let cutAt = -1;
    let upload!: tus.Upload;
    const done = new Promise<string>((resolve, reject) => {
      upload = new tus.Upload(bytes, {
        endpoint: `${gw.url}/files/`,
        chunkSize: CHUNK,
        metadata: { filename: 'outage.zip', caseId },
        headers: { Authorization: `Bearer ${clerk}` },
        // A clerk's client keeps trying through a short outage.
        retryDelays: Array.from({ length: 40 }, () => 500),
        onShouldRetry: () => {
          retries++;
          return true;
        },
        onAfterResponse: (req) => {
          if (req.getMethod() === 'PATCH' && ++patches === 3) {
            proxy.cut();
            cutAt = patches;
          }
        },
        storeFingerprintForResuming: false,
        onError: reject,
        onSuccess: () => resolve(upload.url!),
      });
      upload.start();
    });
    expect(bytes.length, 'the upload spans more than three chunks').to.be.greaterThan(4 * CHUNK);
    await eventually(async () => (cutAt > 0 ? true : undefined), 60_000, 'the cut inside the upload');

    try {
      const during = await gw.api('GET', '/api/cases', clerk);
      expect(during.status, JSON.stringify(during.json)).to.equal(503);
      expect(during.json.error.code).to.equal('unavailable');
      expect(during.headers.get('retry-after')).to.equal('5');
      expect(JSON.stringify(during.json), 'no connection detail leaks').to.not.match(/ECONN|127\.0\.0\.1|5432/);
      expect((await gw.api('GET', '/readyz', null)).status).to.equal(503);
      expect((await gw.api('GET', '/healthz', null)).status, 'alive all the same').to.equal(200);
      // The outage lasts until the upload has felt it: at the latest its last PATCH, which hands
      // the file to ingest, needs the database.
      await eventually(async () => (retries > 0 ? true : undefined), 60_000, 'a retry during the outage');
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      proxy.restore();
    }

    const id = idFromUrl(await done);
    expect(retries, 'the outage was felt by the upload').to.be.greaterThan(0);
    const sealed = await eventually(async () => {
      const d = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      if (d.status === 'rejected') throw new Error(`rejected: ${JSON.stringify(d.error)}`);
      return d.status === 'sealed' ? d : undefined;
    }, 120_000, 'sealed after the outage');
    expect(sealed.pageCount).to.equal(PAGES);
    expect(sealed.bytes).to.equal(bytes.length);

    // Once: one dossier on the case, each page once, one seal in the audit chain, the chain whole.
    const listed = (await gw.api('GET', `/api/cases/${caseId}`, clerk)).json;
    const dossiers = (listed.dossiers ?? []) as { id: string }[];
    expect(dossiers.map((d) => d.id)).to.deep.equal([id]);
    const rows = await db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pages WHERE dossier_id = $1`, [id]);
    expect(rows[0]!.n).to.equal(PAGES);
    const seals = await db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'dossier.sealed' AND target_id = $1`, [id]);
    expect(seals[0]!.n).to.equal(1);
    expect((await gw.gateway.audit.verify()).ok).to.equal(true);
  });
});
