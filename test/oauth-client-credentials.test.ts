/**
 * Machine clients where the gateway is its own issuer: a client registered by `dossier client add`
 * with its public key only, a client assertion (private_key_jwt, RFC 7523) exchanged at
 * POST /oauth/token for a short-lived bearer token of its agency and role; and every refusal:
 * a replayed jti, another audience, an expired or too long-lived assertion, a foreign key, a
 * shared secret, another grant.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startGateway, type TestGateway } from './support/gateway.js';
import { dossierCli } from './support/cli.js';

describe('OAuth client credentials with private_key_jwt (the gateway as issuer)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let gw: TestGateway;
  let ed: CryptoKey;
  let ec: CryptoKey;
  let stranger: CryptoKey;

  before(async function () {
    this.timeout(300_000);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-clients-'));
    const edPair = await generateKeyPair('EdDSA', { extractable: true });
    const ecPair = await generateKeyPair('ES256', { extractable: true });
    ed = edPair.privateKey;
    ec = ecPair.privateKey;
    stranger = (await generateKeyPair('EdDSA')).privateKey;
    const jwksFile = path.join(dataDir, 'records-system.jwks.json');
    await fs.writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(edPair.publicKey)), alg: 'EdDSA' }] }));
    const pemFile = path.join(dataDir, 'court-system.pem');
    await fs.writeFile(pemFile, await exportSPKI(ecPair.publicKey));
    const privatePem = path.join(dataDir, 'oops.pem');
    await fs.writeFile(privatePem, await exportPKCS8(ecPair.privateKey));

    await (await startGateway({ WORKERS: 'none', DATA_DIR: dataDir })).stop(); // a migrated database
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    // One at a time: the embedded database belongs to one process.
    const a = await dossierCli(['client', 'add', '--id', 'police-records', '--agency', 'police-1', '--role', 'clerk', '--jwks-file', jwksFile, '--json'], env).done;
    const b = await dossierCli(['client', 'add', '--id', 'court-system', '--agency', 'court-1', '--role', 'judge', '--public-key', pemFile], env).done;
    const refused = await dossierCli(['client', 'add', '--id', 'careless', '--agency', 'court-1', '--role', 'judge', '--public-key', privatePem], env).done;
    expect(a.code, a.err).to.equal(0);
    expect(JSON.parse(a.out)).to.include({ clientId: 'police-records', agency: 'police-1' });
    expect(b.code, b.err).to.equal(0);
    expect(refused.code).to.equal(2);
    expect(refused.err).to.contain('private key');
    gw = await startGateway({ WORKERS: 'none', DATA_DIR: dataDir });
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const endpoint = () => `${gw.url}/oauth/token`;
  const assertion = (key: CryptoKey, alg: string, clientId: string, o: { aud?: string; exp?: number; jti?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(o.aud ?? endpoint())
      .setIssuedAt()
      .setJti(o.jti ?? randomUUID())
      .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 60)
      .sign(key);
  const token = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const grant = (client_assertion: string) => ({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion });

  it('issues a short-lived token of the client’s agency and role for a signed assertion', async () => {
    const r = await token(grant(await assertion(ed, 'EdDSA', 'police-records')));
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    expect(r.json).to.include({ token_type: 'Bearer', expires_in: 300 });
    const who = await gw.api('GET', '/api/session', r.json.access_token);
    expect(who.json).to.deep.equal({ user: 'police-records', agency: 'police-1', roles: ['clerk'] });
    expect((await gw.api('POST', '/api/cases', r.json.access_token, { number: 'SYS-7' })).status).to.equal(201);

    const court = await token(grant(await assertion(ec, 'ES256', 'court-system')));
    expect(court.status, JSON.stringify(court.json)).to.equal(200);
    expect((await gw.api('GET', '/api/session', court.json.access_token)).json).to.include({ agency: 'court-1' });
  });

  it('refuses a replayed assertion (the same jti)', async () => {
    const a = await assertion(ed, 'EdDSA', 'police-records');
    expect((await token(grant(a))).status).to.equal(200);
    const again = await token(grant(a));
    expect(again.status).to.equal(401);
    expect(again.json).to.include({ error: 'invalid_client' });
    expect(again.json.error_description).to.contain('jti');
  });

  it('refuses another audience, an expired assertion and one that lives too long', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [o, words] of [[{ aud: 'https://elsewhere.example/token' }, '"aud"'], [{ exp: now - 120 }, 'expired'], [{ exp: now + 3600 }, 'too long']] as const) {
      const r = await token(grant(await assertion(ed, 'EdDSA', 'police-records', o)));
      expect(r.status, words).to.equal(401);
      expect(r.json.error_description).to.contain(words);
    }
  });

  it('refuses a key the client did not register, an unknown client, a shared secret and other grants', async () => {
    const foreign = await token(grant(await assertion(stranger, 'EdDSA', 'police-records')));
    expect([foreign.status, foreign.json.error]).to.deep.equal([401, 'invalid_client']);
    const unknown = await token(grant(await assertion(stranger, 'EdDSA', 'nobody')));
    expect([unknown.status, unknown.json.error]).to.deep.equal([401, 'invalid_client']);
    const secret = await token({ grant_type: 'client_credentials', client_id: 'police-records', client_secret: 'guess' });
    expect([secret.status, secret.json.error]).to.deep.equal([401, 'invalid_client']);
    const basic = await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('police-records:guess').toString('base64')}` });
    expect(basic.status).to.equal(401);
    const password = await token({ ...grant(await assertion(ed, 'EdDSA', 'police-records')), grant_type: 'password' });
    expect([password.status, password.json.error]).to.deep.equal([400, 'unsupported_grant_type']);
    const otherId = await token({ ...grant(await assertion(ed, 'EdDSA', 'police-records')), client_id: 'court-system' });
    expect(otherId.status).to.equal(401);
  });
});
