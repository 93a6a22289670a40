/** @slow: a 1 GiB upload in 64 MiB chunks through tus-js-client; the stored hash is the source's. */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { testEnv } from './support/env.js';
import { idFromUrl, tusUpload } from './support/tus.js';

describe('1 GiB upload @slow', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  before(async function () {
    if (!testEnv.slow) {
      console.warn('    ⚠ skipped: slow suite (runs under CI=true or SLOW_TESTS=1)');
      this.skip();
    }
    gw = await startGateway({ WORKERS: 'none' });
    dir = await tempDir('upload-1g-');
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('arrives whole, hashed as it arrived', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'BIG-1' })).json.id;
    const file = await randomFile(dir, 'big.bin', 1024 ** 3);
    const url = await tusUpload(gw.url, file.path, { token: clerk, metadata: { filename: 'big.bin', caseId }, chunkSize: 64 * 1024 * 1024 }).done;
    const d = (await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk)).json;
    expect(d).to.include({ status: 'processing', bytes: file.size, sha256: file.sha256 });
  });
});
