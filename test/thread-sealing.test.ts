/**
 * Pages sealed at rest in their reader's worker thread (storage/blobs/envelope/thread-sealer.ts
 * through BlobStore.preparation / putPrepared): what the gateway's ingest does. Both stores, both
 * ciphers: no plaintext stored, pages byte-identical whole and by range, the same page in two
 * dossiers (one after the other, and at once under two data keys) stored once and readable, and a
 * master-key rotation re-wraps the keys made in the thread.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import type { HashedPage } from '../dossier/pages/page-source.js';
import { workerPageSource } from '../dossier/pages/pages-in-worker.js';
import { DEFAULT_LIMITS } from '../dossier/pages/types.js';
import { zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { EncryptedBlobStore } from '../storage/blobs/encrypted-blob-store.js';
import { parseHeader, storedSize, SEGMENT_BYTES } from '../storage/blobs/envelope/layout.js';
import type { CipherName } from '../storage/blobs/envelope/segment-cipher.js';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { S3BlobStore } from '../storage/blobs/s3-blob-store.js';
import { SqlBlobKekRepository } from '../storage/db/blob-kek-repository.js';
import { SqlBlobKeyRepository } from '../storage/db/blob-key-repository.js';
import type { Database } from '../storage/db/database.js';
import { migrate } from '../storage/db/migrate.js';
import { openPglite } from '../storage/db/pglite-database.js';
import { MasterKeys, readMasterKeyFile } from '../storage/keys/master-keys.js';
import { rotateMasterKey } from '../storage/keys/rotate-master.js';
import { tempDir } from './support/fixtures.js';
import { filesContaining, masterKeyFile, middleRun, noisyJpeg } from './support/master-key.js';
import { startS3, type TestS3 } from './support/s3-server.js';

describe('pages sealed in their reader thread', function () {
  this.timeout(120_000);
  const source = workerPageSource({ keep: 1 });
  let dir: string;
  let db: Database;
  let s3: TestS3 | null = null;
  let jpegs: Buffer[];
  let zip: string;
  before(async () => {
    dir = await tempDir('thread-sealing-');
    db = await openPglite(path.join(dir, 'db'));
    await migrate(db);
    jpegs = await Promise.all([1, 2, 3].map((seed) => noisyJpeg(seed, 500, 600)));
    expect(jpegs.every((j) => j.length > 2 * SEGMENT_BYTES), 'pages of several segments').to.equal(true);
    zip = await zipOf(path.join(dir, 'dossier.zip'), jpegs.map((data, i) => ({ name: `p${i + 1}.jpg`, data })));
  });
  after(async () => {
    await source.close();
    await s3?.stop();
    await db.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The pages of the ZIP as the ingest reads them for `store`: hashed and sealed in the worker thread. */
  async function readFor(store: EncryptedBlobStore): Promise<HashedPage[]> {
    const pages: HashedPage[] = [];
    for await (const p of source(zip, DEFAULT_LIMITS, { blobs: store.preparation()! })) pages.push(p);
    return pages;
  }

  for (const [cipher, kind] of [['aes-256-gcm', 'fs'], ['sm4-ctr-hmac-sm3', 'fs'], ['aes-256-gcm', 's3']] as const) {
    it(`${kind}, ${cipher}: sealed in the thread, no plaintext stored, byte-identical whole and by range; the same page twice and at once; rotation re-wraps`, async () => {
      const sub = await fs.mkdtemp(path.join(dir, `${kind}-`));
      const keyFile = await masterKeyFile(sub);
      const master = new MasterKeys(await readMasterKeyFile(keyFile));
      const repos = { keys: new SqlBlobKeyRepository(db), keks: new SqlBlobKekRepository(db) };
      const open = async (m: MasterKeys, c: CipherName | null) => {
        const inner = kind === 'fs' ? await FsBlobStore.open(path.join(sub, 'blobs')) : await S3BlobStore.open((await (s3 ??= await startS3())).settings());
        return EncryptedBlobStore.open(inner, { db, master: m, cipher: c, scratchDir: path.join(sub, 'scratch') });
      };
      // Pages unlike every other test's: one database holds the keys of all of them.
      const salt = randomBytes(4).readUInt32BE();
      const own = await Promise.all([salt, salt + 1].map((seed) => noisyJpeg(seed, 400, 500)));
      const ownZip = await zipOf(path.join(sub, 'own.zip'), own.map((data, i) => ({ name: `q${i + 1}.jpg`, data })));
      const store = await open(master, cipher);

      const pages: HashedPage[] = [];
      for await (const p of source(ownZip, DEFAULT_LIMITS, { blobs: store.preparation()! })) pages.push(p);
      expect(pages.map((p) => p.sha256)).to.deep.equal(own.map((j) => createHash('sha256').update(j).digest('hex')), 'hashes over the plaintext');
      for (const p of pages) {
        expect(p.prepared, 'sealed in the thread').to.not.equal(undefined);
        expect(p.prepared!.stored.byteLength).to.equal(storedSize(p.bytes.byteLength));
        expect(Buffer.from(p.prepared!.stored).includes(middleRun(p.bytes))).to.equal(false);
        await store.putPrepared(p.sha256, p.bytes, p.prepared!);
      }
      const [kek] = await repos.keks.all();
      expect(pages.map((p) => parseHeader(p.prepared!.stored))).to.deep.equal(pages.map((p) => ({ version: 2, cipher, kekId: kek!.id, size: p.bytes.byteLength })));
      expect(await Promise.all(pages.map((p) => repos.keys.get(p.sha256))), 'no key row a blob').to.deep.equal(pages.map(() => null));

      // The same pages again (another dossier): the same data keys, so the same sealed bytes.
      const again: HashedPage[] = [];
      for await (const p of source(ownZip, DEFAULT_LIMITS, { blobs: store.preparation()! })) again.push(p);
      for (const p of again) await store.putPrepared(p.sha256, p.bytes, p.prepared!);
      expect(again.map((p) => Buffer.from(p.prepared!.stored).equals(pages.find((q) => q.sha256 === p.sha256)!.prepared!.stored))).to.deep.equal(again.map(() => true));

      // The shared ZIP's pages read twice and put at once: two puts race for each hash.
      const [a, b] = await Promise.all([readFor(store), readFor(store)]);
      await Promise.all([...a, ...b].map((p) => store.putPrepared(p.sha256, p.bytes, p.prepared!)));

      for (const [i, j] of [...own.map((j, i) => [i, j] as const)]) {
        const sha = pages[i]!.sha256;
        expect((await buffer(await store.read(sha))).equals(j), `page ${i + 1} whole`).to.equal(true);
        const [start, end] = [SEGMENT_BYTES - 7, 2 * SEGMENT_BYTES + 9];
        expect((await buffer(await store.read(sha, { start, end }))).equals(j.subarray(start, end + 1)), `page ${i + 1} by range`).to.equal(true);
      }
      for (const j of jpegs) {
        const sha = createHash('sha256').update(j).digest('hex');
        expect((await buffer(await store.read(sha))).equals(j), 'a page put twice at once reads back').to.equal(true);
        expect((await buffer(await store.read(sha, { start: 100, end: 70_000 }))).equals(j.subarray(100, 70_001))).to.equal(true);
      }
      if (kind === 'fs') {
        for (const j of [...own, ...jpegs]) expect(await filesContaining(path.join(sub, 'blobs'), middleRun(j))).to.deep.equal([]);
      } else if (s3!.dir) {
        for (const j of [...own, ...jpegs]) expect(await filesContaining(s3!.dir, middleRun(j))).to.deep.equal([]);
      }
      store.close();

      // Rotation: the keys the thread wrapped are re-wrapped; the new key alone opens the pages.
      const next = new MasterKeys(await readMasterKeyFile(await masterKeyFile(sub, 'next.key')), [master.current]);
      const { rewrapped } = await rotateMasterKey(repos, next);
      expect(rewrapped, 'the KEK, not a blob').to.equal(1);
      const rotated = await open(new MasterKeys(next.current), null);
      for (const [i, j] of own.entries()) expect((await buffer(await rotated.read(pages[i]!.sha256))).equals(j), `page ${i + 1} after rotation`).to.equal(true);
      rotated.close();
      // The KEK is under this test's new master key; the next test has a master key of its own.
      await db.query('DELETE FROM blob_keks');
      if (kind === 'fs') await fs.rm(path.join(sub, 'blobs'), { recursive: true, force: true });
    });
  }

  it('a store in the clear prepares nothing; a page prepared under another KEK is sealed again here', async () => {
    const sub = await fs.mkdtemp(path.join(dir, 'other-'));
    const open = async (name: string, cipher: CipherName | null) =>
      EncryptedBlobStore.open(await FsBlobStore.open(path.join(sub, name)), { db, master: new MasterKeys(await readMasterKeyFile(await masterKeyFile(sub, `${name}.key`))), cipher, scratchDir: sub });
    expect((await open('clear', null)).preparation()).to.equal(null);
    await db.query('DELETE FROM blob_keks');
    const one = await open('one', 'aes-256-gcm');
    const oneKek = (await new SqlBlobKekRepository(db).all())[0]!.id;
    await db.query('DELETE FROM blob_keks'); // another deployment's KEK from here on
    const other = await open('two', 'aes-256-gcm');
    const page = await noisyJpeg(randomBytes(4).readUInt32BE(), 300, 300);
    const zipped = await zipOf(path.join(sub, 'one.zip'), [{ name: 'p.jpg', data: page }]);
    for await (const p of source(zipped, DEFAULT_LIMITS, { blobs: one.preparation()! })) await other.putPrepared(p.sha256, p.bytes, p.prepared!);
    const sha = createHash('sha256').update(page).digest('hex');
    const head = parseHeader(await fs.readFile(path.join(sub, 'two', 'sha256', sha.slice(0, 2), sha.slice(2, 4), sha)));
    expect(head).to.include({ version: 2, cipher: 'aes-256-gcm' });
    const kekId = head && head.version === 2 ? head.kekId : null;
    expect(kekId, 'sealed again under this store\'s KEK').to.equal((await new SqlBlobKekRepository(db).all())[0]!.id);
    expect(kekId).to.not.equal(oneKek);
    expect((await buffer(await other.read(sha))).equals(page)).to.equal(true);
    await db.query('DELETE FROM blob_keks');
  });
});
