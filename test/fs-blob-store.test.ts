import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';
import { tempDir } from './support/fixtures.js';

blobStoreContract('filesystem', async () => {
  const dir = await tempDir('blobs-');
  return { store: await FsBlobStore.open(dir), dispose: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('filesystem blob store: leftovers of writes cut by a crash', () => {
  it('removes temp files untouched for an hour at start, and keeps younger ones (a live writer on a shared volume)', async () => {
    const dir = await tempDir('blobs-sweep-');
    try {
      await FsBlobStore.open(dir);
      const stale = path.join(dir, 'tmp', 'cut-by-a-crash');
      const young = path.join(dir, 'tmp', 'being-written');
      await fs.writeFile(stale, 'half a page');
      await fs.writeFile(young, 'a page on its way');
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      await fs.utimes(stale, twoHoursAgo, twoHoursAgo);
      await FsBlobStore.open(dir);
      expect(await fs.readdir(path.join(dir, 'tmp'))).to.deep.equal(['being-written']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
