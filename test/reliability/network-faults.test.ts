/**
 * Network faults between a client and the gateway, through a loopback TCP proxy started here:
 * an upload whose connection is closed, reset or stalled part-way through its PATCH body; HEAD
 * then tells exactly the bytes the gateway kept (the staged file's size, a prefix of what was
 * sent), the resume through tus-js-client completes, and the dossier's SHA-256 is the file's.
 * Downloads (the export, a page) cut part-way and fetched again verify. Slow clients are cut off
 * by the gateway's own deadlines (HTTP_HEADERS_TIMEOUT, HTTP_IDLE_TIMEOUT), set short here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { JSONWebKeySet } from 'jose';
import { verifyExport } from '../../dossier/evidence/verify-export.js';
import { openExport } from '../../scripts/support/export-source.js';
import { rawZip } from '../pages/document-fixtures.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startTcpProxy, type TcpFault, type TcpProxy } from '../support/tcp-proxy.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { seedJpeg } from './fuzz/seed-dossiers.js';
import { recordCase } from './results.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const IDLE = '3s';

describe('network faults on uploads and downloads @faults', function () {
  this.timeout(600_000);
  let dir: string;
  let gw: TestGateway;
  let proxy: TcpProxy;
  let clerk: string;
  let caseId: string;
  let payload: Buffer;

  before(async () => {
    dir = await tempDir('dossier-netfault-');
    gw = await startGateway({ HTTP_IDLE_TIMEOUT: IDLE, HTTP_HEADERS_TIMEOUT: '2s', OCR_WORKERS: '1' });
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(gw.url).port));
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'NET-1', title: 'network faults' })).json.id;
    // Twelve pages of scanner-like texture, about 1.5 MB stored: a PATCH long enough to cut inside.
    const pages = await Promise.all(Array.from({ length: 12 }, (_, i) => seedJpeg(100 + i, 400, 500)));
    payload = rawZip(pages.map((data, i) => ({ name: `${i + 1}.jpg`, data })));
  });
  after(async () => {
    await proxy?.close();
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const viaProxy = () => `http://127.0.0.1:${proxy.port}`;
  /** HEAD straight to the gateway, on a connection of its own (no pooled socket the fault left behind). */
  const head = (url: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(new URL(new URL(url).pathname, gw.url), { method: 'HEAD', agent: false, headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0' } }, (res) => {
        res.resume();
        if (res.statusCode !== 200) reject(new Error(`HEAD answered ${res.statusCode}`));
        else resolve(Number(res.headers['upload-offset']));
      });
      req.on('error', reject);
      req.end();
    });

  async function sealed(id: string) {
    return eventually(async () => {
      const d = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      if (d.status === 'rejected') throw new Error(JSON.stringify(d.error));
      return d.status === 'sealed' ? d : undefined;
    }, 180_000, `dossier ${id} sealed`);
  }

  for (const fault of [
    { kind: 'close', share: 0.6 },
    { kind: 'reset', share: 0.75 },
    { kind: 'stall', share: 0.4 },
  ] as const) {
    it(`an upload whose connection ${fault.kind === 'stall' ? 'stalls' : `is ${fault.kind === 'close' ? 'closed' : 'reset'}`} after ${fault.share * 100} % of its bytes: HEAD tells the bytes kept, the resume completes, the SHA-256 is right`, async () => {
      const started = performance.now();
      let url = '';
      const afterBytes = Math.floor(payload.length * fault.share);
      proxy.failNext({ kind: fault.kind, afterBytes, direction: 'up' } satisfies TcpFault);
      // Let the client's connection pool hear that its idle connections were closed.
      await new Promise((r) => setTimeout(r, 200));
      const first = tusUpload(viaProxy(), payload, { token: clerk, metadata: { filename: `net-${fault.kind}.zip`, caseId }, chunkSize: payload.length, onUrl: (u) => (url = u) });
      const err = await first.done.then(() => null, (e: unknown) => e);
      expect(err, 'the first attempt failed').to.not.equal(null);
      expect(proxy.struck).to.be.greaterThan(0);
      url ||= ((first.upload as unknown as { url: string | null }).url ?? '');
      expect(url, 'the upload was created before the fault').to.not.equal('');
      const id = idFromUrl(url);
      // The gateway may still be writing what reached it: HEAD settles once the request has ended.
      const kept = await eventually(async () => {
        const a = await head(url);
        await new Promise((r) => setTimeout(r, 300));
        return (await head(url)) === a ? a : undefined;
      }, 60_000, 'a settled offset');
      const staged = await fs.readFile(path.join(gw.dataDir, 'uploads', id));
      expect(kept, 'HEAD tells what is on disk').to.equal(staged.length);
      expect(kept, 'no more than reached the gateway').to.be.lessThan(payload.length).and.at.most(afterBytes);
      expect(sha(staged), 'what was kept is the start of the file').to.equal(sha(payload.subarray(0, kept)));
      const resumed = tusUpload(viaProxy(), payload, { token: clerk, metadata: { filename: `net-${fault.kind}.zip`, caseId }, uploadUrl: url, chunkSize: payload.length });
      await resumed.done;
      const d = await sealed(id);
      expect(d.sha256).to.equal(sha(payload));
      expect(d.pageCount).to.equal(12);
      recordCase('network', `upload ${fault.kind} after ${afterBytes} of ${payload.length} B`, `HEAD ${kept} = staged; resumed; sealed, SHA-256 right`, performance.now() - started);
    });
  }

  describe('downloads', () => {
    let id: string;
    let jwks: JSONWebKeySet;
    before(async () => {
      id = idFromUrl(await tusUpload(gw.url, payload, { token: clerk, metadata: { filename: 'net-download.zip', caseId } }).done);
      await sealed(id);
      jwks = (await gw.api('GET', '/.well-known/jwks.json', null)).json;
    });

    /** A GET through the proxy on a connection of its own: the bytes that arrived, and whether it broke. */
    const get = (route: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: Buffer; broken: boolean }>((resolve) => {
        const chunks: Buffer[] = [];
        let status = 0;
        const done = (broken: boolean) => resolve({ status, body: Buffer.concat(chunks), broken });
        const req = http.request(`${viaProxy()}${route}`, { agent: false, headers: { authorization: `Bearer ${clerk}`, ...headers } }, (res) => {
          status = res.statusCode ?? 0;
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(!res.complete));
          res.on('error', () => done(true));
        });
        req.on('error', () => done(true));
        req.end();
      });

    for (const kind of ['close', 'reset'] as const) {
      it(`an export cut (${kind}) after 400,000 bytes: the client sees the break, fetching it again gives an export that verifies`, async () => {
        proxy.failNext({ kind, afterBytes: 400_000, direction: 'down' });
        const cut = await get(`/api/dossiers/${id}/export`);
        expect(cut.broken, 'the client sees the break').to.equal(true);
        const whole = await get(`/api/dossiers/${id}/export`);
        expect([whole.status, whole.broken]).to.deep.equal([200, false]);
        const file = path.join(dir, `export-${kind}.zip`);
        await fs.writeFile(file, whole.body);
        expect(cut.body.length, 'the cut download is not the whole export').to.be.lessThan(whole.body.length);
        const src = await openExport(file);
        const r = await verifyExport(src, { jwks, requireOriginal: true });
        await src.close();
        expect(r.problems).to.deep.equal([]);
        recordCase('network', `export download ${kind} after 400000 B`, 'cut seen; refetched export verifies', 0);
      });
    }

    it('a page cut part-way is completed with a Range request, and its SHA-256 is the listed one', async () => {
      const listed = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json[0] as { sha256: string; size: number };
      // The response headers are well under 2 KB: the cut falls inside the page's bytes.
      proxy.failNext({ kind: 'close', afterBytes: 2048 + Math.floor(listed.size / 2), direction: 'down' });
      const cut = await get(`/api/dossiers/${id}/pages/1`);
      const got = cut.body;
      expect(cut.broken, 'the client sees the break').to.equal(true);
      expect(got.length, 'the first read was cut').to.be.lessThan(listed.size);
      const rest = await get(`/api/dossiers/${id}/pages/1`, { range: `bytes=${got.length}-`, 'if-range': `"${listed.sha256}"` });
      expect(rest.status).to.equal(206);
      const page = Buffer.concat([got, rest.body]);
      expect(sha(page)).to.equal(listed.sha256);
      recordCase('network', 'page download closed half-way', `resumed with Range from ${got.length}; SHA-256 right`, 0);
    });
  });

  describe('slow clients are cut off by the gateway', () => {
    const port = () => Number(new URL(gw.url).port);
    /** Resolves when the gateway closes the socket; the writer stops then. */
    const closedBy = (socket: net.Socket) => new Promise<void>((resolve) => socket.on('close', () => resolve()));

    it('headers dribbled a byte at a time (slowloris) are cut at HTTP_HEADERS_TIMEOUT', async () => {
      const socket = net.connect(port(), '127.0.0.1');
      socket.on('error', () => {});
      const closed = closedBy(socket);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      let sent = 0;
      const timer = setInterval(() => !socket.destroyed && socket.write(`X-${sent++}: y\r\n`), 300);
      await closed;
      clearInterval(timer);
      expect((await fetch(`${gw.url}/healthz`)).status, 'the gateway serves others').to.equal(200);
      recordCase('network', 'slowloris headers', `closed after ${sent} header lines`, 0);
    });

    it('a PATCH whose body stops arriving is cut at HTTP_IDLE_TIMEOUT, and HEAD tells the bytes that arrived', async () => {
      const created = await fetch(`${gw.url}/files/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-length': String(payload.length), 'upload-metadata': `filename ${Buffer.from('slow.zip').toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}` },
      });
      expect(created.status).to.equal(201);
      const location = new URL(created.headers.get('location')!, gw.url);
      const socket = net.connect(port(), '127.0.0.1');
      socket.on('error', () => {});
      const closed = closedBy(socket);
      const part = payload.subarray(0, 1000);
      socket.write(`PATCH ${location.pathname} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${clerk}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${payload.length}\r\n\r\n`);
      socket.write(part);
      await closed; // nothing more is sent: only the gateway's idle deadline ends this
      const kept = await eventually(async () => {
        const n = await head(location.href);
        return n === part.length ? n : undefined;
      }, 30_000, 'HEAD to tell the 1000 bytes sent');
      expect(kept).to.equal(1000);
      recordCase('network', `PATCH body stalled after 1000 B (idle ${IDLE})`, 'connection closed by the gateway; HEAD 1000', 0);
    });
  });
});
