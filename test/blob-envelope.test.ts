/**
 * Envelope encryption at rest: the blob-store contract with encryption on (both stores, both
 * ciphers), the segment layout's tamper checks, and the master key's checks at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { isDossierError } from '../dossier/errors.js';
import { EncryptedBlobStore } from '../storage/blobs/encrypted-blob-store.js';
import { HEADER_V1_BYTES, HEADER_V2_BYTES, headerV1, headerV2, storedSize, SEGMENT_BYTES } from '../storage/blobs/envelope/layout.js';
import { sealBuffer } from '../storage/blobs/envelope/seal-streams.js';
import { inlineSealer, RUN_SEGMENTS, SealPool, type Sealer } from '../storage/blobs/envelope/seal-pool.js';
import { segmentCipher } from '../storage/blobs/envelope/segment-cipher.js';
import { Readable } from 'node:stream';
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
import { openMasterKeys } from '../storage/keys/open-master-keys.js';
import { blobStoreContract } from './blob-store.contract.js';
import { tempDir } from './support/fixtures.js';
import { masterKeyFile } from './support/master-key.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let s3: Promise<TestS3> | null = null;
// One database for every store here (PGlite's initdb costs seconds): blob keys are unique by hash.
// One master key with it: every data key in that database is wrapped by the same key.
let shared: Promise<{ db: Database; dir: string; keyFile: string }> | null = null;
const database = () =>
  (shared ??= (async () => {
    const dir = await tempDir('sealed-db-');
    const db = await openPglite(path.join(dir, 'db'));
    await migrate(db);
    return { db, dir, keyFile: await masterKeyFile(dir) };
  })());
after(async () => {
  if (s3) await (await s3).stop();
  if (shared) {
    const { db, dir } = await shared;
    await db.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** A fresh database, blob directory and master key behind an encrypting store over `inner`. */
async function sealedStore(cipher: CipherName, kind: 'fs' | 's3', sealer?: Sealer) {
  const dir = await tempDir('sealed-');
  const { db, keyFile } = await database();
  const master = new MasterKeys(await readMasterKeyFile(keyFile));
  const inner = kind === 'fs' ? await FsBlobStore.open(path.join(dir, 'blobs')) : await S3BlobStore.open((await (s3 ??= startS3())).settings());
  const keys = new SqlBlobKeyRepository(db);
  const keks = new SqlBlobKekRepository(db);
  const store = await EncryptedBlobStore.open(inner, { db, master, cipher, scratchDir: inner instanceof FsBlobStore ? inner.scratchDir : path.join(dir, 'sealing'), ...(sealer ? { sealer } : {}) });
  return {
    store, inner, db, dir, keys, keks, master,
    dispose: async () => {
      store.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

for (const [cipher, kind] of [['aes-256-gcm', 'fs'], ['sm4-ctr-hmac-sm3', 'fs'], ['aes-256-gcm', 's3'], ['sm4-ctr-hmac-sm3', 's3']] as const) {
  blobStoreContract(`${kind} sealed with ${cipher}`, () => sealedStore(cipher, kind));
}
// The gateway's wiring: sealing in the pool's threads.
blobStoreContract('fs sealed with sm4-ctr-hmac-sm3 in the seal pool', () => sealedStore('sm4-ctr-hmac-sm3', 'fs', new SealPool({ threads: 2 })));

describe('the seal pool', function () {
  this.timeout(60_000);
  const pool = new SealPool({ threads: 2 });
  let dir: string;
  before(async () => (dir = await tempDir('seal-pool-')));
  after(async () => {
    await pool.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const run = RUN_SEGMENTS * SEGMENT_BYTES;

  for (const cipher of ['aes-256-gcm', 'sm4-ctr-hmac-sm3'] as const) {
    it(`seals exactly as this thread does, buffers and files across run edges (${cipher})`, async () => {
      for (const size of [0, 1, SEGMENT_BYTES + 1, run - 1, run, run + 1, 3 * run + 17]) {
        const plain = randomBytes(size);
        const k = { cipher: segmentCipher(cipher), dataKey: randomBytes(32), sha256: sha(plain), header: headerV2(cipher, 'ab'.repeat(16), size) };
        const here = await inlineSealer.sealBuffer(k, plain);
        expect((await pool.sealBuffer(k, plain)).equals(here), `buffer of ${size}`).to.equal(true);
        // A file: its runs read, sealed and written in place by the threads; and streamed in this one.
        const src = path.join(dir, `plain-${cipher}-${size}`);
        await fs.writeFile(src, plain);
        for (const [name, sealer] of [['pool', pool], ['inline', inlineSealer]] as const) {
          const dst = `${src}.${name}.sealed`;
          await sealer.sealFile(k, src, dst);
          expect((await fs.readFile(dst)).equals(here), `file of ${size}, ${name}`).to.equal(true);
        }
        expect(here.equals(await inlineSealer.sealBuffer({ ...k, dataKey: randomBytes(32) }, plain)), 'another key seals otherwise').to.equal(false);
      }
    });
  }
});

describe('blobs sealed at rest', function () {
  this.timeout(60_000);
  for (const [cipher, pooled] of [['aes-256-gcm', false], ['sm4-ctr-hmac-sm3', false], ['sm4-ctr-hmac-sm3', true]] as const) {
    describe(`${cipher}${pooled ? ', in the seal pool' : ''}`, () => {
      let s: Awaited<ReturnType<typeof sealedStore>>;
      before(async () => (s = await sealedStore(cipher, 'fs', pooled ? new SealPool({ threads: 2 }) : undefined)));
      after(() => s.dispose());
      const stored = (key: string) => path.join(s.dir, 'blobs', 'sha256', key.slice(0, 2), key.slice(2, 4), key);

      it('stores no plaintext, reads any range across segment edges, for sizes around the segment', async () => {
        for (const size of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 17]) {
          const bytes = randomBytes(size);
          const key = sha(bytes);
          await s.store.putBytes(key, bytes);
          const onDisk = await fs.readFile(stored(key));
          expect(onDisk.length, `stored size of ${size}`).to.equal(storedSize(size));
          if (size >= 64) expect(onDisk.includes(bytes.subarray(size >> 1, (size >> 1) + 32)), `plaintext of ${size} on disk`).to.equal(false);
          expect(await s.store.size(key)).to.equal(size);
          expect((await buffer(await s.store.read(key))).equals(bytes), `whole ${size}`).to.equal(true);
          for (const [a, b] of [[0, 0], [size - 1, size - 1], [SEGMENT_BYTES - 3, SEGMENT_BYTES + 2], [1, size - 2], [SEGMENT_BYTES, 2 * SEGMENT_BYTES + 5]] as [number, number][]) {
            if (a < 0 || b < a || b >= size) continue;
            const got = await buffer(await s.store.read(key, { start: a, end: b }));
            expect(got.equals(bytes.subarray(a, b + 1)), `range ${a}-${b} of ${size}`).to.equal(true);
          }
        }
      });

      it('refuses a flipped byte, swapped segments and a cut-off end (blob_integrity)', async () => {
        const bytes = randomBytes(3 * SEGMENT_BYTES);
        const key = sha(bytes);
        await s.store.putBytes(key, bytes);
        const file = stored(key);
        const good = await fs.readFile(file);
        const seg = SEGMENT_BYTES + 16;
        const h = HEADER_V2_BYTES;
        const flipped = Buffer.from(good);
        flipped[h + seg + 100]! ^= 1;
        const swapped = Buffer.concat([good.subarray(0, h), good.subarray(h + seg, h + 2 * seg), good.subarray(h, h + seg), good.subarray(h + 2 * seg)]);
        const cut = good.subarray(0, h + 2 * seg);
        // The header's size made smaller: the segment it makes the last one fails its tag.
        const shrunk = Buffer.from(good);
        shrunk.writeBigUInt64BE(BigInt(2 * SEGMENT_BYTES), h - 8);
        // The header naming another key-encryption key: none the database holds.
        const renamed = Buffer.from(good);
        renamed[10]! ^= 1;
        for (const [name, bad] of [['flipped', flipped], ['swapped', swapped], ['cut', cut], ['shrunk', shrunk], ['renamed', renamed]] as const) {
          await fs.writeFile(file, bad);
          // A store opened now: the running one keeps the header it read (a blob's never changes).
          const fresh = await EncryptedBlobStore.open(s.inner, { db: s.db, master: s.master, cipher, scratchDir: s.dir });
          const err = await fresh.read(key).then((r) => buffer(r)).then(() => null, (e: unknown) => e);
          expect(isDossierError(err) && err.code, name).to.equal('blob_integrity');
        }
        await fs.writeFile(file, good);
        expect((await buffer(await s.store.read(key))).equals(bytes)).to.equal(true);
      });

      it('seals a file of several segments on its way in (the original upload)', async () => {
        const bytes = randomBytes(5 * SEGMENT_BYTES + 999);
        const src = path.join(s.dir, 'upload.bin');
        await fs.writeFile(src, bytes);
        await s.store.putFile(sha(bytes), src, { move: true });
        await fs.access(src).then(() => expect.fail('plaintext left behind'), () => {});
        expect((await fs.readFile(stored(sha(bytes)))).includes(bytes.subarray(70_000, 70_064))).to.equal(false);
        expect((await buffer(await s.store.read(sha(bytes), { start: 65_530, end: 200_000 }))).equals(bytes.subarray(65_530, 200_001))).to.equal(true);
      });
    });
  }

  describe('the key hierarchy: master key, key-encryption key, data keys derived', () => {
    let s: Awaited<ReturnType<typeof sealedStore>>;
    before(async () => (s = await sealedStore('aes-256-gcm', 'fs')));
    after(() => s.dispose());
    const stored = (dir: string, key: string) => path.join(dir, 'blobs', 'sha256', key.slice(0, 2), key.slice(2, 4), key);
    const count = async (table: string) => Number((await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);

    it('a put writes no database row; two stores of one database seal a page to the same bytes', async () => {
      const rows = [await count('blob_keys'), await count('blob_keks')];
      const other = await sealedStore('aes-256-gcm', 'fs');
      try {
        const pages = [randomBytes(3 * SEGMENT_BYTES + 5), randomBytes(100)];
        await Promise.all(pages.flatMap((p) => [s.store.putBytes(sha(p), p), other.store.putBytes(sha(p), p)]));
        for (const p of pages) {
          const [a, b] = await Promise.all([fs.readFile(stored(s.dir, sha(p))), fs.readFile(stored(other.dir, sha(p)))]);
          expect(a.equals(b), 'convergent: one hash, one KEK, the same sealed bytes').to.equal(true);
          expect(a.subarray(0, 4).toString('latin1')).to.equal('DSE\x02');
          expect((await buffer(await other.store.read(sha(p)))).equals(p)).to.equal(true);
        }
        expect([await count('blob_keys'), await count('blob_keks')], 'no row per blob; one current KEK a cipher').to.deep.equal(rows);
        const wrongHash = randomBytes(10);
        expect(await s.store.putBytes(sha(randomBytes(10)), wrongHash).then(() => 'stored', (e: unknown) => (isDossierError(e) ? e.code : e)), 'a key that is not the bytes\' hash').to.equal('internal');
      } finally {
        await other.dispose();
      }
    });

    it('a blob sealed before key-encryption keys (version 1 header, blob_keys row) still reads; rotation re-wraps its row and the KEK', async () => {
      const bytes = randomBytes(2 * SEGMENT_BYTES + 77);
      const key = sha(bytes);
      const dataKey = randomBytes(32);
      await s.keys.ensure({ sha256: key, size: bytes.byteLength, ...s.master.wrap(key, 'aes-256-gcm', dataKey) });
      const v1 = sealBuffer({ cipher: segmentCipher('aes-256-gcm'), dataKey, sha256: key, header: headerV1('aes-256-gcm') }, bytes);
      expect(v1.byteLength).to.equal(storedSize(bytes.byteLength, HEADER_V1_BYTES));
      await fs.mkdir(path.dirname(stored(s.dir, key)), { recursive: true });
      await fs.writeFile(stored(s.dir, key), v1);
      const fresh = new Uint8Array(randomBytes(5000));
      await s.store.putBytes(sha(fresh), fresh);
      expect(await s.store.size(key)).to.equal(bytes.byteLength);
      expect((await buffer(await s.store.read(key))).equals(bytes)).to.equal(true);
      expect((await buffer(await s.store.read(key, { start: SEGMENT_BYTES - 1, end: 2 * SEGMENT_BYTES + 3 }))).equals(bytes.subarray(SEGMENT_BYTES - 1, 2 * SEGMENT_BYTES + 4))).to.equal(true);

      const next = new MasterKeys(await readMasterKeyFile(await masterKeyFile(s.dir, 'next.key')), [s.master.current]);
      const { rewrapped } = await rotateMasterKey({ keys: s.keys, keks: s.keks }, next);
      expect(rewrapped, 'the KEK and the version 1 rows of this database').to.be.greaterThanOrEqual(2);
      expect((await rotateMasterKey({ keys: s.keys, keks: s.keks }, next)).rewrapped, 'nothing left').to.equal(0);
      const after = await EncryptedBlobStore.open(await FsBlobStore.open(path.join(s.dir, 'blobs')), { db: s.db, master: new MasterKeys(next.current), cipher: 'aes-256-gcm', scratchDir: s.dir });
      expect((await buffer(await after.read(key))).equals(bytes), 'version 1 after rotation').to.equal(true);
      expect((await buffer(await after.read(sha(fresh)))).equals(Buffer.from(fresh)), 'version 2 after rotation').to.equal(true);
      // Back under the database's own master key, for the tests after this one.
      await rotateMasterKey({ keys: s.keys, keks: s.keks }, new MasterKeys(s.master.current, [next.current]));
    });

    it('a blob kept in the clear that begins like a header is read as it is', async () => {
      const clear = await EncryptedBlobStore.open(await FsBlobStore.open(path.join(s.dir, 'clear')), { db: s.db, master: s.master, cipher: null, scratchDir: s.dir });
      for (const head of [headerV1('aes-256-gcm'), headerV2('aes-256-gcm', 'cd'.repeat(16), 10)]) {
        const bytes = Buffer.concat([head, randomBytes(50)]);
        await clear.putBytes(sha(bytes), bytes);
        expect((await buffer(await clear.read(sha(bytes)))).equals(bytes)).to.equal(true);
        expect(await clear.size(sha(bytes))).to.equal(bytes.byteLength);
      }
    });
  });

  describe('the master key at start', () => {
    let s: Awaited<ReturnType<typeof sealedStore>>;
    const files = (masterKeyFile: string, oldMasterKeyFiles: string[] = []) => ({ masterKeyFile, oldMasterKeyFiles });
    before(async () => {
      s = await sealedStore('aes-256-gcm', 'fs');
      const bytes = randomBytes(1000);
      await s.store.putBytes(sha(bytes), bytes);
    });
    after(() => s.dispose());

    it('a wrong key stops the start, naming both key ids and never the key', async () => {
      const wrong = await masterKeyFile(s.dir, 'wrong.key');
      const err = (await openMasterKeys(files(wrong), s.keys, s.keks).then(() => expect.fail('opened'), (e: Error) => e)) as Error;
      expect(err.message).to.include(s.master.current.kid).and.include((await readMasterKeyFile(wrong)).kid).and.match(/wrong key file/);
      expect(err.message).to.not.include((await fs.readFile(wrong, 'utf8')).trim());
    });

    it('a lost key stops the start: unset, or the file gone', async () => {
      expect(await openMasterKeys(null, s.keys, s.keks).then(() => 'opened', (e: Error) => e.message)).to.match(/encrypted at rest under master key .* MASTER_KEY_FILE is not set/);
      expect(await openMasterKeys(files(path.join(s.dir, 'gone.key')), s.keys, s.keks).then(() => 'opened', (e: Error) => e.message)).to.match(/no such file/);
    });

    it('a key file others may read is refused; the right key opens', async () => {
      const loose = await masterKeyFile(s.dir, 'loose.key');
      await fs.chmod(loose, 0o644);
      expect(await readMasterKeyFile(loose).then(() => 'read', (e: Error) => e.message)).to.match(/mode 0644.*chmod 600/);
      await fs.writeFile(path.join(s.dir, 'short.key'), 'c2hvcnQ=\n', { mode: 0o600 });
      expect(await readMasterKeyFile(path.join(s.dir, 'short.key')).then(() => 'read', (e: Error) => e.message)).to.match(/32 random bytes in base64/);
      expect((await openMasterKeys(files((await database()).keyFile), s.keys, s.keks))!.current.kid).to.equal(s.master.current.kid);
    });
  });
});

export type { Database };
