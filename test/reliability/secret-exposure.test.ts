/**
 * Protection's own secrets stay inside (issue 16): a gateway with HTTPS and mutual TLS, blobs
 * sealed at rest under a master key, the national suite's SM2 keys, an OpenID client secret, a
 * metrics token and a webhook with its signing secret goes through a journey (upload, seal, link,
 * webhook delivery after a failure, a machine client by certificate, refusals of every kind);
 * then every captured log line, every error body the journey provoked and /metrics are searched
 * for each secret: the master key (base64 and hex), every data key it wraps, the private `d` of
 * every key file, the TLS keys' PEM bodies, tokens, the webhook secret and passwords. Then the
 * key files are asked for through every path the gateway serves files from (web assets, pages,
 * links, uploads), raw, with `..`, encoded and absolute. The login-side secrets (passwords,
 * cookies, CSRF tokens) are log-secrets.test.ts's.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Agent, fetch as undiciFetch } from 'undici';
import { MasterKeys, readMasterKeyFile } from '../../storage/keys/master-keys.js';
import { SqlBlobKekRepository } from '../../storage/db/blob-kek-repository.js';
import { blobDataKey, kekSubject } from '../../storage/keys/blob-keks.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { eventually } from '../support/eventually.js';
import { masterKeyFile } from '../support/master-key.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { tempDir } from '../support/fixtures.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { jpeg } from '../pages/fixtures.js';
import { recordCase } from './results.js';

const OIDC_SECRET = 'oidc-client-secret-not-for-logs';
const METRICS_TOKEN = 'metrics-token-not-for-logs-0123456789';
const HOOK_PASSWORD = 'hook-password-not-for-logs';

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** The private parts of a key file: each JWK's `d` (a JSON file holds one or a list), or a PEM's body lines. */
function privateParts(text: string): string[] {
  const out: string[] = [];
  if (text.includes('-----BEGIN')) {
    const body = text.split('\n').filter((l) => l && !l.startsWith('-----'));
    out.push(body.join(''), ...body.filter((l) => l.length >= 16));
  }
  for (const m of text.matchAll(/"d"\s*:\s*"([A-Za-z0-9_-]{16,})"/g)) out.push(m[1]!, Buffer.from(m[1]!, 'base64url').toString('hex'));
  return out;
}

describe('no protection secret in logs, error bodies or /metrics; key files never served @attacks', function () {
  this.timeout(300_000);
  const lines: string[] = [];
  const errorBodies: { route: string; status: number; body: string }[] = [];
  let dir: string;
  let pki: TestPki;
  let ca: string;
  let masterFile: string;
  let idp: TestProvider;
  let gw: TestGateway;
  let hooks: http.Server;
  let hookCalls = 0;
  let dispatcher: Agent;
  let rawAgent: https.Agent;

  before(async function () {
    this.timeout(300_000);
    dir = await tempDir('secret-exposure-');
    pki = await makeTestPki(path.join(dir, 'pki'));
    ca = await fs.readFile(pki.caCert, 'utf8');
    masterFile = await masterKeyFile(dir);
    const map = path.join(dir, 'client-map.json');
    await fs.writeFile(map, JSON.stringify([{ subject: { CN: 'records.police-1.example' }, agency: 'police-1', roles: ['clerk'] }]));
    // The receiver of webhooks: refuses the first delivery (a retry, logged), takes the rest.
    hooks = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(++hookCalls === 1 ? 500 : 204).end());
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    idp = await startOidcProvider();
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
    gw = await startGateway({
      OCR_WORKERS: '1',
      LOG_LEVEL: 'debug',
      TLS_CERT_FILE: pki.serverCert,
      TLS_KEY_FILE: pki.serverKey,
      TLS_CLIENT_CA_FILE: pki.caCert,
      TLS_CLIENT_MAP_FILE: map,
      MASTER_KEY_FILE: masterFile,
      SIGNATURE_SUITE: 'sm2-sm3',
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: 'dossier-gateway',
      OIDC_CLIENT_SECRET: OIDC_SECRET,
      METRICS_TOKEN,
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_BASE: '1s',
    }, { logDestination: sink });
    await idp.configure({ clientId: 'dossier-gateway', clientSecret: OIDC_SECRET, redirectUri: `${gw.url}/api/session/oidc/callback`, accounts: {} });
    dispatcher = new Agent({ connect: { ca: [...tls.rootCertificates, ca] } });
    rawAgent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: [...tls.rootCertificates, ca] });
  });
  after(async () => {
    await gw?.stop();
    await idp?.stop();
    if (hooks) await new Promise((r) => hooks.close(r));
    await dispatcher?.close();
    rawAgent?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** A request over HTTPS trusting the test CA; error bodies are kept for the search. */
  async function call(route: string, init: { method?: string; token?: string | null; body?: unknown; agent?: Agent; redirect?: 'manual' } = {}): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await undiciFetch(`${gw.url}${route}`, {
      method: init.method ?? 'GET', headers, dispatcher: init.agent ?? dispatcher, redirect: init.redirect ?? 'follow',
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 400) errorBodies.push({ route, status: res.status, body: text });
    return { status: res.status, text };
  }

  /** The path sent exactly as written (no dot-segment folding, no re-encoding), as an attacker's client does. */
  function rawGet(rawPath: string): Promise<{ status: number; body: Buffer }> {
    const { port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', agent: rawAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.once('error', reject);
      req.end();
    });
  }

  let secrets: { what: string; value: string }[] = [];
  let dossierId: string;
  let linkPath: string;

  it('goes through the journey: TLS, sealed blobs, SM2 evidence, a link, a webhook retried, a certificate client, refusals', async () => {
    const clerk = await gw.token('police-1', ['clerk', 'judge']);
    const admin = await gw.token('police-1', 'admin');
    secrets.push({ what: 'clerk bearer token', value: clerk }, { what: 'clerk token signature', value: clerk.split('.')[2]! }, { what: 'admin bearer token', value: admin });

    const hook = await call('/api/webhooks', { method: 'POST', token: admin, body: { url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/in`, events: ['dossier.sealed'] } });
    expect(hook.status, hook.text).to.equal(201);
    const hookSecret = String(JSON.parse(hook.text).secret);
    expect(hookSecret).to.match(/^whsec_/);
    secrets.push({ what: 'webhook secret', value: hookSecret }, { what: 'webhook secret key', value: hookSecret.slice('whsec_'.length) });
    // A target with credentials is refused; the refusal must not repeat the password.
    const withPassword = await call('/api/webhooks', { method: 'POST', token: admin, body: { url: `http://agent:${HOOK_PASSWORD}@127.0.0.1:9/in`, events: ['dossier.sealed'] } });
    expect(withPassword.status).to.be.within(400, 499);

    const caseId = JSON.parse((await call('/api/cases', { method: 'POST', token: clerk, body: { number: 'SECRET-1' } })).text).id as string;
    // tus-js-client speaks node:https: it trusts the test CA through the global agent for this upload.
    const saved = https.globalAgent;
    https.globalAgent = new https.Agent({ ca: [...tls.rootCertificates, ca] });
    try {
      dossierId = idFromUrl(await tusUpload(gw.url, await jpeg(3), { token: clerk, metadata: { filename: 'scan.jpg', caseId } }).done);
    } finally {
      https.globalAgent.destroy();
      https.globalAgent = saved;
    }
    await eventually(async () => (JSON.parse((await call(`/api/dossiers/${dossierId}`, { token: clerk })).text).status === 'sealed' ? true : undefined), 120_000, 'sealed');
    expect((await call(`/api/dossiers/${dossierId}/pages/1`, { token: clerk })).status).to.equal(200);

    const link = JSON.parse((await call(`/api/dossiers/${dossierId}/links`, { method: 'POST', token: clerk, body: {} })).text) as { url: string };
    linkPath = new URL(link.url).pathname;
    secrets.push({ what: 'link token', value: linkPath.split('/')[2]! });
    expect((await call(`${linkPath}/pages/1`)).status).to.equal(200);
    expect((await call(`${linkPath}x/pages/1`)).status).to.be.within(400, 499);

    // A machine client by its certificate (mutual TLS), and a foreign certificate refused.
    const machine = await pki.client('/CN=records.police-1.example');
    const foreign = await pki.client('/CN=records.police-1.example', { foreign: true });
    for (const c of [machine, foreign]) secrets.push(...privateParts(await fs.readFile(c.key, 'utf8')).map((value) => ({ what: 'client certificate key', value })));
    const byCert = new Agent({ connect: { ca, cert: await fs.readFile(machine.cert), key: await fs.readFile(machine.key) } });
    const byForeign = new Agent({ connect: { ca, cert: await fs.readFile(foreign.cert), key: await fs.readFile(foreign.key) } });
    try {
      expect((await call('/api/cases', { agent: byCert })).status).to.equal(200);
      const refused = await call('/api/cases', { agent: byForeign }).catch(() => ({ status: 0, text: '' }));
      expect(refused.status).to.not.equal(200);
    } finally {
      await byCert.close();
      await byForeign.close();
    }

    // Refusals: forged and absent tokens, a wrong metrics token, a sign-in that was never started.
    expect((await call('/api/cases', { token: `${clerk.slice(0, -4)}AAAA` })).status).to.equal(401);
    expect((await call(`/api/dossiers/${dossierId}/pages/99`, { token: clerk })).status).to.equal(404);
    expect((await call('/api/cases')).status).to.equal(401);
    expect((await call('/api/cases', { method: 'POST', token: clerk, body: { title: 7 } })).status).to.equal(400);
    expect((await call('/api/dossiers/no-such-dossier', { token: clerk })).status).to.equal(404);
    expect((await call(`/api/dossiers/${dossierId}/links`, { method: 'POST', token: clerk, body: { ttl: 'forever' } })).status).to.be.within(400, 499);
    expect((await call('/api/webhooks', { method: 'POST', token: clerk, body: { url: 'http://127.0.0.1:9/', events: ['dossier.sealed'] } })).status).to.equal(403);
    expect((await call('/api/session/oidc?return=/cases', { redirect: 'manual' })).status).to.equal(302);
    expect((await call('/api/session/oidc/callback?code=forged-code&state=forged-state', { redirect: 'manual' })).status).to.be.within(300, 499);

    // The webhook: the first delivery fails (retried after WEBHOOK_RETRY_BASE), the next one lands.
    await eventually(async () => (hookCalls >= 2 ? true : undefined), 120_000, 'the webhook delivered after its retry');
  });

  it('finds no secret in the log, the error bodies or /metrics (and the search can fail)', async function () {
    if (!dossierId) this.skip();
    const metrics = await call('/metrics', { token: METRICS_TOKEN });
    expect(metrics.status).to.equal(200);
    expect(metrics.text).to.contain('# TYPE');

    const master = await readMasterKeyFile(masterFile);
    secrets.push({ what: 'master key (base64)', value: master.key.toString('base64') }, { what: 'master key (hex)', value: master.key.toString('hex') });
    // The key-encryption keys, and the data key of every sealed blob, derived as the gateway does.
    const masters = new MasterKeys(master);
    const keks = (await new SqlBlobKekRepository(gw.gateway.db).all()).map((r) => ({ id: r.id, cipher: r.cipher, key: masters.unwrap(kekSubject(r.id), r) }));
    expect(keks.length, 'a key-encryption key').to.equal(1);
    const blobs = (await filesUnder(path.join(gw.dataDir, 'blobs', 'sha256'))).map((f) => path.basename(f));
    expect(blobs.length, 'blobs sealed at rest').to.be.greaterThan(1);
    const dataKeys = [...keks.map((k) => k.key), ...blobs.map((sha) => blobDataKey(keks[0]!, sha))];
    for (const key of dataKeys) secrets.push({ what: 'blob key (hex)', value: key.toString('hex') }, { what: 'blob key (base64)', value: key.toString('base64') });
    // Every key file's private part: the SM2 evidence key, the link ring's, the local issuer's, TLS.
    const keyFiles = [...(await filesUnder(path.join(gw.dataDir, 'keys'))), pki.serverKey];
    for (const f of keyFiles) secrets.push(...privateParts(await fs.readFile(f, 'utf8')).map((value) => ({ what: `private part of ${path.basename(f)}`, value })));
    expect(secrets.filter((s) => s.what.startsWith('private part')).length, 'private key parts found in the key files').to.be.greaterThan(3);
    secrets.push({ what: 'OIDC client secret', value: OIDC_SECRET }, { what: 'metrics token', value: METRICS_TOKEN }, { what: 'webhook URL password', value: HOOK_PASSWORD });

    expect(lines.length, 'the logger captured the journey').to.be.greaterThan(30);
    expect(errorBodies.length, 'error bodies provoked').to.be.greaterThan(8);
    const places = [
      { where: 'log', texts: lines },
      { where: 'error body', texts: errorBodies.map((e) => e.body) },
      { where: '/metrics', texts: [metrics.text] },
    ];
    const search = (ps: typeof places) => secrets.flatMap((s) => ps.filter((p) => p.texts.some((t) => t.includes(s.value))).map((p) => `${s.what} in ${p.where}`));
    expect(search(places), 'secrets found').to.deep.equal([]);
    // The search itself can fail: a planted line carrying a data key is found.
    const planted = [{ where: 'planted', texts: [...lines.slice(0, 3), `{"msg":"sealed","key":"${secrets.find((s) => s.what === 'blob key (hex)')!.value}"}`] }];
    expect(search(planted)).to.deep.equal(['blob key (hex) in planted']);
    recordCase('attacks', `no protection secret in ${lines.length} log lines, ${errorBodies.length} error bodies and /metrics (${secrets.length} secrets)`, 'none found', 0);
  });

  it('serves no key file through any path: web assets, pages, links, uploads; raw, dotted, encoded, absolute', async function () {
    if (!dossierId) this.skip();
    const files = [...(await filesUnder(path.join(gw.dataDir, 'keys'))), masterFile, pki.serverKey];
    const needles = (await Promise.all(files.map(async (f) => [(await fs.readFile(f, 'utf8')).trim(), ...privateParts(await fs.readFile(f, 'utf8'))]))).flat().filter((s) => s.length >= 16);
    const prefixes = ['/', '/assets/', `/api/dossiers/${dossierId}/pages/`, `${linkPath}/pages/`, '/files/'];
    const ups = (sep: string, n = 8) => Array.from({ length: n }, () => `..${sep}`).join('');
    const tried: { path: string; status: number }[] = [];
    for (const f of files) {
      const rel = path.relative(gw.dataDir, f);
      const abs = f.slice(1);
      for (const prefix of prefixes) {
        for (const p of [rel, abs, `${ups('/')}${abs}`, `${ups('%2f')}${abs}`, `${ups('%2F')}${abs}`, `${'%2e%2e/'.repeat(8)}${abs}`, `${'%2e%2e%2f'.repeat(8)}${abs}`, `${ups('\\')}${abs}`, `%2f${abs}`, `${rel.replace(/\//g, '%2f')}`]) {
          const res = await rawGet(`${prefix}${p}`);
          tried.push({ path: `${prefix}${p}`, status: res.status });
          const body = res.body.toString('latin1');
          const leaked = needles.filter((n) => body.includes(n));
          expect(leaked, `${prefix}${p} answered ${res.status} with key material`).to.deep.equal([]);
        }
      }
    }
    const served = tried.filter((t) => t.status === 200);
    // Only the web application's own page may answer 200 (its client-side routes); never a file.
    for (const t of served) expect((await rawGet(t.path)).body.toString('utf8'), t.path).to.match(/^<!doctype html>/i);
    recordCase('attacks', `no key file served (${tried.length} paths tried for ${files.length} key files)`, 'none served', 0);
  });
});
