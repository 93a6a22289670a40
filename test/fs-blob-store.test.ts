import fs from 'node:fs/promises';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';
import { tempDir } from './support/fixtures.js';

blobStoreContract('filesystem', async () => {
  const dir = await tempDir('blobs-');
  return { store: await FsBlobStore.open(dir), dispose: () => fs.rm(dir, { recursive: true, force: true }) };
});
