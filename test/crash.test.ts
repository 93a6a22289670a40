/** A server killed with SIGKILL mid-upload: after a restart the upload resumes and the hash holds. */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { eventually } from './support/eventually.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { spawnServer, tokenFor, type ServerProcess } from '../scripts/support/server-process.js';
import { idFromUrl, tusUpload } from './support/tus.js';

describe('crash during upload', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: ServerProcess | null = null;
  before(async () => (dataDir = await tempDir('dossier-crash-')));
  after(async () => {
    await server?.kill();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('resumes from the server offset after SIGKILL and restart; SHA-256 equal', async () => {
    const env = { DATA_DIR: dataDir };
    server = await spawnServer(env);
    const clerk = await tokenFor(dataDir, 'police-1', 'clerk');
    const caseRes = await fetch(`${server.url}/api/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json' },
      body: JSON.stringify({ number: 'CRASH-1', title: 'killed mid-upload' }),
    });
    const caseId = ((await caseRes.json()) as { id: string }).id;
    const file = await randomFile(dataDir, 'source.bin', 48 * 1024 * 1024);

    let sent = 0;
    const first = tusUpload(server.url, file.path, {
      token: clerk,
      metadata: { filename: 'source.bin', caseId },
      chunkSize: 2 * 1024 * 1024,
      onProgress: (s) => (sent = s),
    });
    const failed = first.done.then(() => 'finished', () => 'failed');
    await eventually(async () => (sent >= 16 * 1024 * 1024 ? true : undefined), 30_000, '16 MB sent');
    await server.kill('SIGKILL');
    expect(await failed).to.equal('failed');
    const url = first.upload.url!;
    const port = Number(new URL(server.url).port);

    server = await spawnServer(env, port);
    const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0' } });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).to.be.greaterThan(0).and.lessThan(file.size);

    let resumedAt = -1;
    const second = tusUpload(server.url, file.path, {
      token: clerk,
      metadata: { filename: 'source.bin', caseId },
      uploadUrl: url,
      chunkSize: 2 * 1024 * 1024,
      onProgress: (s) => {
        if (resumedAt < 0) resumedAt = s;
      },
    });
    await second.done;
    expect(resumedAt).to.be.greaterThan(offset - 1);
    // Random bytes are no dossier format: the ingest rejects them, naming the hash of what it got.
    const d = await eventually(async () => {
      const res = await fetch(`${server!.url}/api/dossiers/${idFromUrl(url)}`, { headers: { authorization: `Bearer ${clerk}` } });
      const body = (await res.json()) as { status: string; sha256: string; bytes: number; error?: { code: string } };
      return body.status === 'rejected' ? body : undefined;
    }, 30_000, 'ingest outcome').catch((err: Error) => {
      throw new Error(`${err.message}\n${server!.output()}`);
    });
    expect(d).to.include({ bytes: file.size, sha256: file.sha256 });
    expect(d.error?.code).to.equal('unsupported_format');
  });
});
