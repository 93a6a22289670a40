/** Resumable upload through tus-js-client: sizes, resume, validation before a byte, termination. */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { idFromUrl, tusErrorOf, tusUpload } from './support/tus.js';

describe('upload (tus)', function () {
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let caseId: string;

  before(async () => {
    // Ingest is not what this suite tests: no workers, dossiers stay where the upload leaves them.
    gw = await startGateway({ WORKERS: 'none', MAX_UPLOAD_BYTES: String(200 * 1024 * 1024) });
    dir = await tempDir();
    clerk = await gw.token('police-1', 'clerk');
    const res = await gw.api('POST', '/api/cases', clerk, { number: 'P-2026-001', title: 'Burglary' });
    expect(res.status).to.equal(201);
    caseId = res.json.id;
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const [label, size, chunk] of [
    ['1 KB', 1024, 16 * 1024 * 1024],
    ['64 MB in 8 MB chunks', 64 * 1024 * 1024, 8 * 1024 * 1024],
  ] as const) {
    it(`takes ${label}; the dossier is processing with the bytes' SHA-256`, async () => {
      const file = await randomFile(dir, `f-${size}.bin`, size);
      const url = await tusUpload(gw.url, file.path, { token: clerk, metadata: { filename: 'scan.bin', caseId }, chunkSize: chunk }).done;
      const res = await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk);
      expect(res.status).to.equal(200);
      expect(res.json).to.include({ id: idFromUrl(url), caseId, status: 'processing', bytes: size, sha256: file.sha256 });
      const c = await gw.api('GET', `/api/cases/${caseId}`, clerk);
      expect(c.json.dossiers.map((d: { id: string }) => d.id)).to.include(idFromUrl(url));
    });
  }

  it('shows receiving with the offset mid-upload, and resumes after a client abort', async () => {
    const file = await randomFile(dir, 'abort.bin', 24 * 1024 * 1024);
    let seen = 0;
    const first = tusUpload(gw.url, file.path, {
      token: clerk,
      metadata: { filename: 'abort.bin', caseId },
      chunkSize: 4 * 1024 * 1024,
      onProgress: (sent) => (seen = sent),
    });
    first.done.catch(() => {});
    await eventually(async () => (seen >= 8 * 1024 * 1024 ? true : undefined), 20_000, 'some bytes sent');
    await first.upload.abort();
    const url = first.upload.url!;
    const mid = await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk);
    expect(mid.json.status).to.equal('receiving');
    expect(mid.json.received).to.be.greaterThan(0).and.lessThan(file.size);

    let resumedFrom = -1;
    const second = tusUpload(gw.url, file.path, {
      token: clerk,
      metadata: { filename: 'abort.bin', caseId },
      uploadUrl: url,
      chunkSize: 4 * 1024 * 1024,
      onProgress: (sent) => {
        if (resumedFrom < 0) resumedFrom = sent;
      },
    });
    expect(await second.done).to.equal(url);
    expect(resumedFrom).to.be.greaterThan(4 * 1024 * 1024);
    const done = await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk);
    expect(done.json).to.include({ status: 'processing', sha256: file.sha256, bytes: file.size });
  });

  describe('refuses before storing a byte', () => {
    const reject = async (token: string | null, metadata: Record<string, string>, body = Buffer.alloc(1024, 7)) =>
      tusErrorOf(await tusUpload(gw.url, body, { token, metadata }).done.then(() => null, (e: unknown) => e));

    it('no token: 401', async () => {
      const e = await reject(null, { filename: 'a.pdf', caseId });
      expect(e.status).to.equal(401);
      expect(e.body.error.code).to.equal('unauthenticated');
    });
    it('a role that may not upload: 403', async () => {
      const e = await reject(await gw.token('police-1', 'judge'), { filename: 'a.pdf', caseId });
      expect(e.status).to.equal(403);
      expect(e.body.error.code).to.equal('forbidden');
    });
    it('missing filename or caseId: 400 invalid_metadata', async () => {
      for (const metadata of [{ caseId }, { filename: 'a.pdf' }] as Record<string, string>[]) {
        const e = await reject(clerk, metadata);
        expect(e.status).to.equal(400);
        expect(e.body.error.code).to.equal('invalid_metadata');
      }
    });
    it("another agency's case: 404", async () => {
      const e = await reject(await gw.token('police-2', 'clerk'), { filename: 'a.pdf', caseId });
      expect(e.status).to.equal(404);
      expect(e.body.error.code).to.equal('not_found');
    });
    it('an unknown case: 404', async () => {
      const e = await reject(clerk, { filename: 'a.pdf', caseId: '00000000-0000-4000-8000-000000000000' });
      expect(e.status).to.equal(404);
    });
    it('over MAX_UPLOAD_BYTES: 413 payload_too_large', async () => {
      const res = await fetch(`${gw.url}/files/`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${clerk}`,
          'tus-resumable': '1.0.0',
          'upload-length': String(201 * 1024 * 1024),
          'upload-metadata': `filename ${Buffer.from('big.zip').toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}`,
        },
      });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('payload_too_large');
    });
    it('nothing was created by the refusals', async () => {
      const c = await gw.api('GET', `/api/cases/${caseId}`, clerk);
      expect(c.json.dossiers.every((d: { filename: string }) => d.filename !== 'a.pdf' && d.filename !== 'big.zip')).to.equal(true);
      const staged = (await fs.readdir(gw.gateway.config.uploads.dir)).filter((f) => !f.endsWith('.json'));
      expect(staged).to.have.length(c.json.dossiers.length);
    });
  });

  it("another agency cannot resume or see someone's upload", async () => {
    const first = tusUpload(gw.url, Buffer.alloc(3 * 1024 * 1024, 1), { token: clerk, metadata: { filename: 'x.bin', caseId }, chunkSize: 1024 * 1024 });
    first.done.catch(() => {});
    const url = await new Promise<string>((resolve) => {
      const t = setInterval(() => first.upload.url && (clearInterval(t), resolve(first.upload.url)), 5);
    });
    await first.upload.abort();
    const other = await gw.token('police-2', 'clerk');
    const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${other}`, 'tus-resumable': '1.0.0' } });
    expect(head.status).to.equal(404);
    expect((await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, other)).status).to.equal(404);
  });

  it('a HEAD after the upload was handed to ingest answers it whole, so a client that lost the last answer sends nothing again', async () => {
    const bytes = Buffer.alloc(2 * 1024 * 1024, 7);
    const url = await tusUpload(gw.url, bytes, { token: clerk, metadata: { filename: 'whole.bin', caseId }, chunkSize: 1024 * 1024 }).done;
    const id = idFromUrl(url);
    // Ingest takes the staged file: random bytes are rejected, a dossier in any state past receiving will do.
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status !== 'receiving' ? true : undefined), 60_000, 'handed to ingest');
    const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0' } });
    expect([head.status, head.headers.get('upload-offset'), head.headers.get('upload-length')]).to.deep.equal([200, String(bytes.length), String(bytes.length)]);
    expect(head.headers.get('cache-control')).to.equal('no-store');
    // The client resumes the same URL (as after a lost 204): it finds the upload whole and sends nothing.
    let sent = -1;
    const again = tusUpload(gw.url, bytes, { token: clerk, metadata: { filename: 'whole.bin', caseId }, uploadUrl: url, chunkSize: 1024 * 1024, onProgress: (s) => (sent = s) });
    expect(await again.done).to.equal(url);
    expect(sent, 'no PATCH sent').to.be.oneOf([-1, bytes.length]);
    const listed = (await gw.api('GET', `/api/cases/${caseId}`, clerk)).json.dossiers.filter((d: { filename: string }) => d.filename === 'whole.bin');
    expect(listed, 'one dossier, not a second upload').to.have.length(1);
    // Another agency still learns nothing of it.
    const other = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${await gw.token('police-2', 'clerk')}`, 'tus-resumable': '1.0.0' } });
    expect(other.status).to.equal(404);
  });

  it('keeps an upload whole under concurrent PATCHes (the locker)', async () => {
    const size = 4 * 1024 * 1024;
    const headers = { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0' };
    const meta = `filename ${Buffer.from('race.bin').toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}`;
    const created = await fetch(`${gw.url}/files/`, { method: 'POST', headers: { ...headers, 'upload-length': String(size), 'upload-metadata': meta } });
    expect(created.status).to.equal(201);
    const url = new URL(created.headers.get('location')!, gw.url).href;
    const bodies = [Buffer.alloc(size, 0xaa), Buffer.alloc(size, 0x55)];
    const patch = (body: Buffer) =>
      fetch(url, { method: 'PATCH', headers: { ...headers, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body }).then((r) => r.status, () => 0);
    const statuses = await Promise.all(bodies.map(patch));
    expect(statuses.some((s) => s === 204)).to.equal(true);
    const head = await fetch(url, { method: 'HEAD', headers });
    const offset = Number(head.headers.get('upload-offset'));
    const stored = await fs.readFile(`${gw.gateway.config.uploads.dir}/${idFromUrl(url)}`);
    expect(stored.length).to.equal(offset);
    // Whatever won, the bytes are one body's, never an interleaving of both.
    const first = stored[0];
    expect(stored.every((b) => b === first)).to.equal(true);
  });

  it('terminates an unfinished upload: bytes and dossier gone', async () => {
    const first = tusUpload(gw.url, Buffer.alloc(3 * 1024 * 1024, 2), { token: clerk, metadata: { filename: 't.bin', caseId }, chunkSize: 1024 * 1024 });
    first.done.catch(() => {});
    const url = await new Promise<string>((resolve) => {
      const t = setInterval(() => first.upload.url && (clearInterval(t), resolve(first.upload.url)), 5);
    });
    await first.upload.abort(true);
    const id = idFromUrl(url);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).status === 404 ? true : undefined), 5000, 'dossier gone');
    await fs.access(`${gw.gateway.config.uploads.dir}/${id}`).then(
      () => expect.fail('staged bytes still there'),
      () => {},
    );
  });
});
