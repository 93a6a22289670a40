/**
 * The tus locker shared through PostgreSQL: first two lockers as two processes would hold them,
 * then two gateways on one database and one uploads directory taking turns at one upload.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { ERRORS } from '@tus/utils';
import { lockKey, PgUploadLocker } from '../storage/uploads/pg-upload-locker.js';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';

const log = pino({ level: 'silent' });

describe('PostgreSQL upload locker', function () {
  this.timeout(60_000);
  let pg: EngineHandle;
  let a: PgUploadLocker;
  let b: PgUploadLocker;
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    a = await PgUploadLocker.open(pg.url!, { log, acquireTimeoutMs: 10_000 });
    b = await PgUploadLocker.open(pg.url!, { log, acquireTimeoutMs: 10_000 });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.dispose();
  });

  it('asks the holder in another process to let go, then takes the lock', async () => {
    const id = randomUUID();
    const first = a.newLock(id);
    let asked = 0;
    await first.lock(new AbortController().signal, async () => {
      asked++;
      await first.unlock();
    });
    await b.newLock(id).lock(new AbortController().signal, () => {});
    expect(asked).to.equal(1);
  });

  it('waits no longer than its time when the holder does not let go, and is free once it does', async () => {
    const id = randomUUID();
    const impatient = await PgUploadLocker.open(pg.url!, { log, acquireTimeoutMs: 300 });
    try {
      const holding = a.newLock(id);
      await holding.lock(new AbortController().signal, () => {});
      const err = await impatient.newLock(id).lock(new AbortController().signal, () => {}).catch((e: unknown) => e);
      expect(err).to.equal(ERRORS.ERR_LOCK_TIMEOUT);
      await holding.unlock();
      const next = impatient.newLock(id);
      await next.lock(new AbortController().signal, () => {});
      await next.unlock();
    } finally {
      await impatient.close();
    }
  });

  it('in one process, a second request for an upload asks the first to let go and waits for it', async () => {
    const id = randomUUID();
    const first = a.newLock(id);
    const order: string[] = [];
    await first.lock(new AbortController().signal, async () => {
      order.push('asked');
      await new Promise((r) => setTimeout(r, 100));
      order.push('unlocked');
      await first.unlock();
    });
    const second = a.newLock(id);
    await second.lock(new AbortController().signal, () => {});
    order.push('second holds');
    expect(order).to.deep.equal(['asked', 'unlocked', 'second holds']);
    await second.unlock();
  });

  it('holds 150 uploads at once on one session (more than the server has connections to spare)', async () => {
    const ids = Array.from({ length: 150 }, () => randomUUID());
    const locks = ids.map((id) => a.newLock(id));
    await Promise.all(locks.map((l) => l.lock(new AbortController().signal, () => {})));
    const [held] = await pg.db.query<{ n: number; sessions: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT pid)::int AS sessions FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = ANY($1::bigint[])`,
      [ids.map(lockKey)],
    );
    expect(held).to.deep.equal({ n: 150, sessions: 1 });
    await Promise.all(locks.map((l) => l.unlock()));
  });

  it('a process that goes away frees its locks with its connections', async () => {
    const id = randomUUID();
    const dying = await PgUploadLocker.open(pg.url!, { log });
    await dying.newLock(id).lock(new AbortController().signal, () => {});
    await dying.close();
    const lock = b.newLock(id);
    await lock.lock(new AbortController().signal, () => {});
    await lock.unlock();
  });
});

describe('two gateways, one upload', function () {
  this.timeout(120_000);
  let pg: EngineHandle;
  let dataDir: string;
  let gwA: TestGateway;
  let gwB: TestGateway;
  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    // One database and one data volume (uploads, keys) shared, as behind a load balancer.
    dataDir = await tempDir('two-gateways-');
    gwA = await startGateway({ DATABASE_URL: pg.url!, DATA_DIR: dataDir });
    gwB = await startGateway({ DATABASE_URL: pg.url!, DATA_DIR: dataDir });
  });
  after(async () => {
    await gwA?.stop();
    await gwB?.stop();
    await pg?.dispose();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  const KIB = 1024;
  const headOffset = async (gw: TestGateway, url: string, token: string) =>
    Number((await fetch(`${gw.url}${url}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } })).headers.get('upload-offset'));
  const patch = (gw: TestGateway, url: string, token: string, offset: number, body: Buffer) =>
    fetch(`${gw.url}${url}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
      body,
    });

  it('alternate PATCHes land in order, a HEAD on the other tells the true offset and ends a stalled PATCH', async () => {
    const clerk = await gwA.token('police-1', 'clerk');
    const caseId = (await gwA.api('POST', '/api/cases', clerk, { number: 'LB-1' })).json.id;
    // A one-page dossier (a JPEG, padded with a comment segment to 64 KiB) whose bytes arrive in turns.
    const jpeg = await jpegPage(7);
    const pad = randomBytes(64 * KIB - 4);
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, (pad.length + 2) >> 8, (pad.length + 2) & 0xff]), pad]);
    const image = Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)]);
    const meta = `filename ${Buffer.from('scan.jpg').toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}`;
    const created = await fetch(`${gwA.url}/files/`, { method: 'POST', headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-length': String(image.length), 'upload-metadata': meta } });
    expect(created.status).to.equal(201);
    const url = new URL(created.headers.get('location')!, gwA.url).pathname;
    const id = url.split('/').pop()!;
    const q = Math.floor(image.length / 4);

    expect((await patch(gwA, url, clerk, 0, image.subarray(0, q))).status).to.equal(204);
    expect(await headOffset(gwB, url, clerk)).to.equal(q);
    expect((await patch(gwB, url, clerk, q, image.subarray(q, 2 * q))).status).to.equal(204);
    expect(await headOffset(gwA, url, clerk)).to.equal(2 * q);

    // A PATCH on A that sends some bytes and then stalls, like a client whose network went away.
    const stalled = http.request(`${gwA.url}${url}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-offset': String(2 * q), 'content-type': 'application/offset+octet-stream', 'content-length': String(image.length - 2 * q) },
    });
    const ended = new Promise<string>((resolve) => {
      stalled.on('response', (res) => (res.resume(), resolve(`answered ${res.statusCode}`)));
      stalled.on('error', () => resolve('closed'));
      stalled.on('close', () => resolve('closed'));
    });
    const sent = Math.floor(q / 2);
    stalled.write(image.subarray(2 * q, 2 * q + sent));
    const staged = path.join(dataDir, 'uploads', id);
    await eventually(async () => ((await fs.stat(staged)).size === 2 * q + sent ? true : undefined), 30_000, 'the stalled PATCH to reach the disk');

    // The HEAD on B must take the lock from A's request: A is told to let go, then B answers.
    const offset = await headOffset(gwB, url, clerk);
    expect(offset).to.equal(2 * q + sent);
    expect(await ended).to.be.a('string');
    stalled.destroy();

    // The client resumes on B from the true offset; the dossier is exactly the bytes sent.
    expect((await patch(gwB, url, clerk, offset, image.subarray(offset))).status).to.equal(204);
    const d = await eventually(async () => {
      const r = (await gwB.api('GET', `/api/dossiers/${id}`, clerk)).json;
      return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
    }, 60_000, 'sealed');
    expect(d.status).to.equal('sealed');
    expect(d.sha256).to.equal(createHash('sha256').update(image).digest('hex'));
  });
});
