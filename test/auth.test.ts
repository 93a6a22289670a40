/** Bearer authentication: every way a token can be wrong answers 401 with the JSON error shape. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SignJWT, exportJWK, generateKeyPair, base64url } from 'jose';
import { DEFAULT_AUDIENCE, LOCAL_ISSUER } from '../runtime/config.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('auth', () => {
  let gw: TestGateway;
  before(async () => (gw = await startGateway({ WORKERS: 'none' })));
  after(() => gw.stop());

  const expect401 = async (token: string | null, why: RegExp) => {
    const res = await gw.api('GET', '/api/cases', token);
    expect(res.status).to.equal(401);
    expect(res.json.error.code).to.equal('unauthenticated');
    expect(res.json.error.message).to.match(why);
    expect(res.headers.get('www-authenticate')).to.equal('Bearer');
  };
  const local = (o: { aud?: string; iss?: string; exp?: number; agency?: unknown; roles?: unknown } = {}) => {
    const pair = gw.gateway.issuerKeys.currentPair();
    return new SignJWT({ agency: o.agency ?? 'police-1', roles: o.roles ?? ['clerk'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: pair.kid })
      .setIssuer(o.iss ?? LOCAL_ISSUER)
      .setAudience(o.aud ?? DEFAULT_AUDIENCE)
      .setSubject('u1')
      .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(pair.privateKey);
  };

  it('accepts a good token', async () => {
    expect((await gw.api('GET', '/api/cases', await local())).status).to.equal(200);
  });
  it('no token', () => expect401(null, /missing/));
  it('not a bearer scheme', async () => {
    const res = await fetch(`${gw.url}/api/cases`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(res.status).to.equal(401);
  });
  it('expired', async () => expect401(await local({ exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/));
  it('wrong audience', async () => expect401(await local({ aud: 'someone-else' }), /aud/));
  it('wrong issuer', async () => expect401(await local({ iss: 'https://evil.example' }), /iss/));
  it('signed by another key', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ agency: 'police-1', roles: ['admin'] })
      .setProtectedHeader({ alg: 'EdDSA', kid: gw.gateway.issuerKeys.currentPair().kid })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(DEFAULT_AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign(privateKey);
    await expect401(forged, /signature/);
  });
  it('alg none', async () => {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: LOCAL_ISSUER, aud: DEFAULT_AUDIENCE, sub: 'm', agency: 'police-1', roles: ['admin'], exp: now + 600 })}.`;
    await expect401(unsigned, /./);
  });
  it('HMAC with the public key as secret (algorithm confusion)', async () => {
    const x = gw.gateway.issuerKeys.publicJwks().keys[0]!.x!;
    const token = await new SignJWT({ agency: 'police-1', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(DEFAULT_AUDIENCE)
      .setSubject('m')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(x));
    await expect401(token, /./);
  });
  it('garbage', () => expect401('not.a.jwt', /malformed|not accepted/));
  it('missing agency or an unknown role', async () => {
    await expect401(await local({ agency: '' }), /claims/);
    await expect401(await local({ roles: ['emperor'] }), /claims/);
  });
  it('a role that may not act: 403', async () => {
    const res = await gw.api('POST', '/api/cases', await gw.token('court-1', 'judge'), { number: 'X', title: '' });
    expect(res.status).to.equal(403);
    expect(res.json.error.code).to.equal('forbidden');
  });
  it("another agency's case: 404, the same as a case that does not exist", async () => {
    const created = await gw.api('POST', '/api/cases', await gw.token('police-1', 'clerk'), { number: 'SECRET-1', title: 'sealed' });
    const other = await gw.token('police-2', 'clerk');
    const theirs = await gw.api('GET', `/api/cases/${created.json.id}`, other);
    const none = await gw.api('GET', '/api/cases/00000000-0000-4000-8000-000000000000', other);
    expect(theirs.status).to.equal(404);
    expect(theirs.json).to.deep.equal(none.json);
    expect((await gw.api('GET', '/api/cases', other)).json.cases).to.deep.equal([]);
  });
  it('validates request bodies with a clear error', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const res = await gw.api('POST', '/api/cases', clerk, { title: 'no number' });
    expect(res.status).to.equal(400);
    expect(res.json.error).to.include({ code: 'bad_request' });
    expect(res.json.error.message).to.contain('number');
    const dup = await gw.api('POST', '/api/cases', clerk, { number: 'SECRET-1' });
    expect(dup.status).to.equal(409);
  });

  describe("an agency's identity provider (external JWKS)", () => {
    let idp: http.Server;
    let ext: TestGateway;
    let sign: (aud: string) => Promise<string>;
    before(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
      idp = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
      await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
      const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`;
      ext = await startGateway({ WORKERS: 'none', AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: 'https://idp.police.example', AUTH_AUDIENCE: 'dossier' });
      sign = (aud) =>
        new SignJWT({ agency: 'police-9', roles: ['clerk'] })
          .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
          .setIssuer('https://idp.police.example')
          .setAudience(aud)
          .setSubject('officer-7')
          .setExpirationTime('5m')
          .sign(privateKey);
    });
    after(async () => {
      await ext.stop();
      idp.close();
    });
    it("accepts the provider's tokens and refuses the local issuer's", async () => {
      expect((await ext.api('POST', '/api/cases', await sign('dossier'), { number: 'IDP-1' })).status).to.equal(201);
      expect((await ext.api('GET', '/api/cases', await sign('other'))).status).to.equal(401);
      expect((await ext.api('GET', '/api/cases', await ext.token('police-9', 'clerk'))).status).to.equal(401);
    });
  });
});
