/**
 * The behaviour every BlobStore must show. Each implementation's test file calls this with a
 * factory (fs now; S3 when it arrives), like tus-node-server's shared store suite.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import type { BlobStore } from '../dossier/ports/blob-store.js';
import { isDossierError } from '../dossier/errors.js';
import { tempDir } from './support/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function blobStoreContract(name: string, open: () => Promise<{ store: BlobStore; dispose(): Promise<void> }>): void {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;
    let dispose: () => Promise<void>;
    let scratch: string;
    before(async () => {
      ({ store, dispose } = await open());
      scratch = await tempDir('blob-scratch-');
    });
    after(async () => {
      await dispose();
      await fs.rm(scratch, { recursive: true, force: true });
    });

    it('stores bytes under their hash and reads them back, whole and by range', async () => {
      const bytes = randomBytes(100_000);
      const key = sha(bytes);
      expect(await store.size(key)).to.equal(null);
      await store.putBytes(key, bytes);
      expect(await store.size(key)).to.equal(bytes.length);
      expect((await buffer(await store.read(key))).equals(bytes)).to.equal(true);
      expect((await buffer(await store.read(key, { start: 10, end: 19 }))).equals(bytes.subarray(10, 20))).to.equal(true);
    });

    it('is idempotent: the same bytes twice, concurrently, store once', async () => {
      const bytes = randomBytes(5000);
      const key = sha(bytes);
      await Promise.all([store.putBytes(key, bytes), store.putBytes(key, bytes), store.putBytes(key, bytes)]);
      expect((await buffer(await store.read(key))).equals(bytes)).to.equal(true);
    });

    it('moves a finished file in', async () => {
      const bytes = randomBytes(300_000);
      const file = path.join(scratch, 'upload.bin');
      await fs.writeFile(file, bytes);
      await store.putFile(sha(bytes), file, { move: true });
      await fs.access(file).then(() => expect.fail('file still there'), () => {});
      expect((await buffer(await store.read(sha(bytes)))).equals(bytes)).to.equal(true);
    });

    it('copies a file in when asked to keep it', async () => {
      const bytes = randomBytes(1000);
      const file = path.join(scratch, 'keep.bin');
      await fs.writeFile(file, bytes);
      await store.putFile(sha(bytes), file, { move: false });
      await fs.access(file);
      expect(await store.size(sha(bytes))).to.equal(1000);
    });

    it('answers not_found for an absent blob and refuses a key that is not a hash', async () => {
      const err = await store.read('0'.repeat(64)).catch((e: unknown) => e);
      expect(isDossierError(err) && err.code).to.equal('not_found');
      for (const bad of ['../../etc/passwd', 'ABC', `${'a'.repeat(63)}/`]) {
        const e = await store.size(bad).catch((x: unknown) => x);
        expect(isDossierError(e) && e.code, bad).to.equal('bad_request');
      }
    });
  });
}
