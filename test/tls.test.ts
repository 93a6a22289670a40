/**
 * Protection in transit: the gateway's own HTTPS with a certificate made in the test. A tus
 * upload, an export download, the CLI (--cacert) and the web application over HTTPS; plain HTTP
 * and old TLS refused; HSTS on every answer; a certificate reload in the middle of an upload loses
 * nothing; mutual TLS maps a client certificate to its agency and refuses a foreign one.
 */
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, fetch as undiciFetch } from 'undici';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { chromiumAvailable, launchChromium, watchPage } from './support/browser.js';
import { dossierCli } from './support/cli.js';
import { eventually } from './support/eventually.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { makeTestPki, type TestPki } from './support/tls-certs.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { testEnv } from './support/env.js';

/** The serial number of the certificate a fresh handshake gets. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(s.getPeerCertificate().serialNumber.toUpperCase());
      s.end();
    });
    s.once('error', reject);
  });
}

describe('HTTPS built in (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE)', function () {
  this.timeout(180_000);
  let dir: string;
  let pki: TestPki;
  let ca: string;
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;
  let port: number;
  const saved = { dispatcher: getGlobalDispatcher(), agent: https.globalAgent };

  before(async () => {
    dir = await tempDir('tls-');
    pki = await makeTestPki(path.join(dir, 'pki'));
    ca = await fs.readFile(pki.caCert, 'utf8');
    const map = path.join(dir, 'client-map.json');
    await fs.writeFile(map, JSON.stringify([{ subject: { CN: 'intake.police-1.example', O: 'Police 1' }, agency: 'police-1', roles: ['clerk'] }]));
    gw = await startGateway({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, TLS_CLIENT_CA_FILE: pki.caCert, TLS_CLIENT_MAP_FILE: map, MAX_UPLOAD_BYTES: String(100 * 1024 * 1024) });
    port = Number(new URL(gw.url).port);
    // This process's clients (fetch and tus-js-client's node:https) trust the test CA, as `--cacert` makes the CLI do.
    setGlobalDispatcher(new Agent({ connect: { ca: [...tls.rootCertificates, ca] } }));
    https.globalAgent = new https.Agent({ keepAlive: true, ca: [...tls.rootCertificates, ca] });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'TLS-1' })).json.id;
  });
  after(async () => {
    setGlobalDispatcher(saved.dispatcher);
    https.globalAgent = saved.agent;
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers over TLS 1.2+ with HSTS and the security headers on every response', async () => {
    expect(gw.url).to.match(/^https:/);
    for (const route of ['/healthz', '/api/cases', '/no-such-route', '/.well-known/jwks.json']) {
      const res = await fetch(`${gw.url}${route}`);
      expect(res.headers.get('strict-transport-security'), route).to.match(/max-age=\d{7,}/);
      expect(res.headers.get('x-content-type-options'), route).to.equal('nosniff');
      expect(res.headers.get('content-security-policy'), route).to.include("default-src 'self'");
    }
  });

  it('refuses plain HTTP and TLS older than 1.2 on its port', async () => {
    const plain = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => `answered ${r.status}`, (e: Error) => `refused: ${(e.cause as Error)?.message ?? e.message}`);
    expect(plain).to.match(/^refused/);
    const old = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () => resolve(`connected ${s.getProtocol()}`));
      s.once('error', (e) => resolve(`refused: ${e.message}`));
    });
    expect(old).to.match(/^refused/);
  });

  it('takes a tus upload and serves the export ZIP over HTTPS; `dossier verify` checks it', async () => {
    const zip = await zipOf(path.join(dir, 'scan.zip'), await Promise.all([1, 2, 3].map(async (n) => ({ name: `${n}.jpg`, data: await jpegPage(n + 70) }))));
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'scan.zip', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed');
    const res = await fetch(`${gw.url}/api/dossiers/${id}/export`, { headers: { authorization: `Bearer ${clerk}` } });
    expect(res.status).to.equal(200);
    const exportZip = path.join(dir, 'export.zip');
    await fs.writeFile(exportZip, Buffer.from(await res.arrayBuffer()));
    const verified = await dossierCli(['verify', exportZip, '--jwks', `${gw.url}/.well-known/jwks.json`, '--cacert', pki.caCert]).done;
    expect(verified.code, verified.err).to.equal(0);
  });

  it('the CLI uploads over HTTPS with --cacert, and refuses the server without it', async () => {
    const file = path.join(dir, 'cli.jpg');
    await fs.writeFile(file, await jpegPage(91));
    const ok = await dossierCli(['upload', file, '--case', caseId, '--server', gw.url, '--token', clerk, '--cacert', pki.caCert, '--wait', '--json'], { DOSSIER_STATE_DIR: path.join(dir, 'cli-state') }).done;
    expect(ok.code, ok.err).to.equal(0);
    expect(JSON.parse(ok.out)).to.include({ status: 'sealed' });
    // Without it the gateway's certificate is not trusted: nothing turns verification off.
    const refused = await dossierCli(['verify', path.join(dir, 'export.zip'), '--jwks', `${gw.url}/.well-known/jwks.json`]).done;
    expect(refused.code).to.not.equal(0);
    expect(refused.err).to.match(/certificate|self.signed|issuer/i);
  });

  it('a certificate reload in the middle of an upload loses nothing; new connections get the new certificate', async () => {
    const file = await randomFile(dir, 'big.bin', 24 * 1024 * 1024);
    const before = await servedSerial(port, ca);
    let renewed: string | null = null;
    let reloading: Promise<void> | null = null;
    const upload = tusUpload(gw.url, file.path, {
      token: clerk,
      metadata: { filename: 'big.bin', caseId },
      chunkSize: 2 * 1024 * 1024,
      onProgress: (sent) => {
        if (sent > 6 * 1024 * 1024 && !reloading) {
          reloading = pki.renewServer().then((next) => {
            gw.gateway.reloadTls();
            renewed = next.serial.toUpperCase();
          });
        }
      },
    });
    const url = await upload.done;
    await reloading;
    expect(renewed).to.be.a('string').and.not.equal(before);
    expect(await servedSerial(port, ca)).to.equal(renewed);
    const d = (await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk)).json;
    expect(d).to.include({ bytes: file.size, sha256: file.sha256 });
  });

  describe('mutual TLS', () => {
    const withCert = async (c: { cert: string; key: string }, route: string, init: { method?: string; body?: string } = {}) => {
      const agent = new Agent({ connect: { ca, cert: await fs.readFile(c.cert), key: await fs.readFile(c.key) } });
      try {
        const res = await undiciFetch(`${gw.url}${route}`, { ...init, headers: init.body ? { 'content-type': 'application/json' } : {}, dispatcher: agent });
        return { status: res.status, json: (await res.json()) as any };
      } finally {
        await agent.close();
      }
    };

    it('a client certificate of the configured CA acts as the agency and role its subject maps to', async () => {
      const system = await pki.client('/O=Police 1/CN=intake.police-1.example');
      const made = await withCert(system, '/api/cases', { method: 'POST', body: JSON.stringify({ number: 'TLS-MTLS-1' }) });
      expect(made.status).to.equal(201);
      expect(made.json.agency).to.equal('police-1');
      const seen = await withCert(system, '/api/cases');
      expect(seen.json.cases.map((c: { number: string }) => c.number)).to.include('TLS-MTLS-1');
    });

    it('a certificate of the CA that maps to nothing gets 401; a foreign one is cut at the handshake', async () => {
      const unmapped = await withCert(await pki.client('/O=Police 1/CN=someone-else.example'), '/api/cases');
      expect(unmapped.status).to.equal(401);
      const foreign = await pki.client('/O=Police 1/CN=intake.police-1.example', { foreign: true });
      const outcome = await withCert(foreign, '/api/cases').then((r) => `answered ${r.status}`, (e: Error) => `refused: ${(e.cause as Error)?.message ?? e.message}`);
      expect(outcome).to.match(/^refused/);
    });
  });

  it('the web application loads over HTTPS in chromium', async function () {
    if (!chromiumAvailable()) {
      if (testEnv.ci) throw new Error('chromium is mandatory in CI');
      console.log('      (skipped: no /usr/bin/chromium)');
      return this.skip();
    }
    // Chromium trusts exactly the test server's keys by their SPKI pins: verification stays on for everything else.
    const pins = await Promise.all(
      (await fs.readdir(pki.dir)).filter((f) => /^server-\d+\.pem$/.test(f)).map(async (f) => {
        const spki = new X509Certificate(await fs.readFile(path.join(pki.dir, f))).publicKey.export({ type: 'spki', format: 'der' });
        return createHash('sha256').update(spki).digest('base64');
      }),
    );
    const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${pins.join(',')}`]);
    try {
      const page = await browser.newPage();
      const problems = watchPage(page);
      const res = await page.goto(gw.url);
      expect(res?.status()).to.equal(200);
      expect(res?.headers()['strict-transport-security']).to.match(/max-age=/);
      await page.waitForSelector('#app *', { timeout: 30_000 });
      expect(problems).to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
