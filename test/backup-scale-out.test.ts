/**
 * The scale-out wiring's backup procedure (README, "Backup and restore"), step by step with the
 * tools an operator has: `pg_dump` first, then a copy of the bucket, then the signing keys; restored
 * into a new database and a new bucket, `dossier check` verifies every dossier the dump holds. The
 * order matters and the test shows why: a bucket copied before the dump misses the objects of a
 * dossier sealed in between, and `dossier check` names it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import pg from 'pg';
import { spawnServer, tokenFor, type ServerProcess } from '../scripts/support/server-process.js';
import { makeS3Client } from '../storage/blobs/s3-client.js';
import { dossierCli } from './support/cli.js';
import { agenciesFile, sealedDossier } from './support/custody.js';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { testEnv } from './support/env.js';
import { tempDir } from './support/fixtures.js';
import { jsonApi } from './support/gateway.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const run = promisify(execFile);

describe('backup and restore of the scale-out wiring (pg_dump, then the bucket, then the keys)', function () {
  this.timeout(300_000);
  let db: EngineHandle;
  let s3: TestS3;
  let client: S3Client;
  let root: string;
  let server: ServerProcess | null = null;
  const databases: string[] = [];
  const targets: TestS3[] = [];

  before(async function () {
    db = await openOrSkip(this, postgresEngine());
    s3 = await startS3();
    client = listable(makeS3Client(s3.settings()));
    root = await tempDir('backup-scale-');
  });
  after(async () => {
    await server?.kill();
    client?.destroy();
    await s3?.stop();
    for (const t of targets) await t.stop();
    await db?.dispose();
    const admin = new pg.Client({ connectionString: testEnv.postgresUrl });
    await admin.connect();
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  /** The gateway's environment on a database URL and a bucket; keys and uploads under `dataDir`. */
  const wiring = async (url: string, bucket: TestS3, dataDir: string) => ({
    ...bucket.env(),
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    AGENCIES_FILE: await agenciesFile(root),
    OCR_WORKERS: '1',
  });

  /** A new S3 server and bucket to restore into. */
  const target = async () => {
    const t = await startS3();
    targets.push(t);
    return t;
  };

  it('restores what the dump holds, whole, when the bucket is copied after the dump', async () => {
    const source = await wiring(db.url!, s3, path.join(root, 'source'));
    server = await spawnServer(source);
    const gw = { url: server.url, api: jsonApi(server.url) };
    const clerk = await tokenFor(source.DATA_DIR, 'police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'BK-S3' })).json.id as string;
    const before = [await sealedDossier(gw, clerk, caseId, 81, 3), await sealedDossier(gw, clerk, caseId, 82, 2)];

    // 1. The database: one consistent snapshot.
    const dump = path.join(root, 'db.dump');
    await pgDump(db.url!, dump);
    // Work goes on between the steps: a dossier sealed after the dump is not in it.
    const after = await sealedDossier(gw, clerk, caseId, 83, 2);
    // 2. The bucket, after the dump: every object a dumped row names was written before the row.
    const bucket = await copyBucket(client, s3.bucket, await target());
    // 3. The signing keys.
    const restoredDir = path.join(root, 'restored-after');
    await fs.cp(path.join(source.DATA_DIR, 'keys'), path.join(restoredDir, 'keys'), { recursive: true });
    await server.kill('SIGTERM');
    server = null;

    const url = await restoreDump(dump, databases);
    const check = await dossierCli(['check', '--json'], await wiring(url, bucket, restoredDir)).done;
    expect(check.code, check.err).to.equal(0);
    const report = JSON.parse(check.out);
    expect(report).to.deep.include({ ok: true, dossiers: 2, dossiersVerified: 2, pagesVerified: 5 });
    expect(report.audit.ok).to.equal(true);

    // The restored wiring serves what it held; the later dossier is simply not there.
    server = await spawnServer(await wiring(url, bucket, restoredDir));
    const restored = { url: server.url, api: jsonApi(server.url) };
    const token = await tokenFor(restoredDir, 'police-1', 'clerk');
    for (const d of before) expect((await restored.api('GET', `/api/dossiers/${d.id}`, token)).json.merkleRoot).to.equal(d.merkleRoot);
    expect((await restored.api('GET', `/api/dossiers/${after.id}`, token)).status).to.equal(404);
    await server.kill('SIGTERM');
    server = null;
  });

  it('names the dossier whose objects are missing when the bucket was copied before the dump', async () => {
    const source = await wiring(db.url!, s3, path.join(root, 'source'));
    server = await spawnServer(source);
    const gw = { url: server.url, api: jsonApi(server.url) };
    const clerk = await tokenFor(source.DATA_DIR, 'police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'BK-S3-WRONG' })).json.id as string;
    const bucket = await copyBucket(client, s3.bucket, await target());
    const between = await sealedDossier(gw, clerk, caseId, 84, 2);
    const dump = path.join(root, 'db-wrong.dump');
    await pgDump(db.url!, dump);
    await server.kill('SIGTERM');
    server = null;
    const restoredDir = path.join(root, 'restored-wrong');
    await fs.cp(path.join(source.DATA_DIR, 'keys'), path.join(restoredDir, 'keys'), { recursive: true });

    const check = await dossierCli(['check', '--json'], await wiring(await restoreDump(dump, databases), bucket, restoredDir)).done;
    expect(check.code, check.err).to.equal(3);
    const report = JSON.parse(check.out);
    expect(report.failures.map((f: { dossier: string }) => f.dossier)).to.deep.equal([between.id]);
    expect(report.failures[0].problems.map((p: { code: string }) => p.code)).to.include('page_missing');
  });
});

/** `pg_dump` of the test schema (the URL's search_path), custom format. */
async function pgDump(url: string, file: string): Promise<void> {
  const schema = /search_path%3D(\w+)/.exec(url)?.[1] ?? /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1];
  if (!schema) throw new Error(`no schema in ${url}`);
  await run('pg_dump', ['--format=custom', `--schema=${schema}`, '--no-owner', `--file=${file}`, testEnv.postgresUrl]);
}

/** A new database with the dump restored in it; its URL keeps the dumped schema on the search path. */
async function restoreDump(file: string, created: string[]): Promise<string> {
  const name = `bk_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: testEnv.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  const base = new URL(testEnv.postgresUrl);
  base.pathname = `/${name}`;
  await run('pg_restore', ['--no-owner', `--dbname=${base.toString()}`, file]);
  const { stdout } = await run('pg_restore', ['--list', file]);
  const schema = /SCHEMA - (\w+)/.exec(stdout)?.[1];
  return `${base.toString()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Every object of `from` copied into another server's bucket, as `aws s3 sync` or `mc mirror` would. */
async function copyBucket(client: S3Client, from: string, to: TestS3): Promise<TestS3> {
  const dest = makeS3Client(to.settings());
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectsCommand({ Bucket: from, Marker: marker }));
    for (const o of page.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: from, Key: o.Key! }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      await dest.send(new PutObjectCommand({ Bucket: to.bucket, Key: o.Key!, Body: body }));
    }
    if (!page.IsTruncated) break;
    marker = page.Contents!.at(-1)!.Key;
  }
  dest.destroy();
  return to;
}

/**
 * s3rver signs a bucket's own path without its trailing slash and refuses the SDK's `/bucket/`
 * listing requests; the slash is dropped before signing (a real server takes either).
 */
function listable(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { path?: string };
      if (request.path && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
      return next(args);
    },
    { step: 'build', name: 's3rverBucketPath' },
  );
  return client;
}
