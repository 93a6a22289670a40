/**
 * Forged and misused bearer tokens against a live gateway: every variant is refused with 401
 * unauthenticated, and none of the key-locating headers (jku, x5u, jwk, x5c) makes the gateway
 * fetch anything: a loopback server standing in for the attacker counts every request.
 */
import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, SignJWT } from 'jose';
import { DEFAULT_AUDIENCE, LOCAL_ISSUER } from '../../runtime/config.js';
import { LINK_TYP } from '../../dossier/access/links.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { eventually } from '../support/eventually.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { jpeg } from '../pages/fixtures.js';
import { recordCase, recordFigures } from './results.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

interface Claims { [claim: string]: unknown }

describe('token attacks @attacks', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let attacker: http.Server;
  let attackerUrl: string;
  let fetches = 0;
  let realKey: KeyObject;
  let realKid: string;
  let publicPem: string;
  let publicJwk: Record<string, unknown>;
  let linkToken: string;
  let linkUrl: string;
  let goodToken: string;
  const stranger = generateKeyPairSync('ed25519');
  const strangerEc = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const strangerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  before(async () => {
    // The attacker's server: any request to it is a fetch the gateway was tricked into.
    attacker = http.createServer(async (_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...(await exportJWK(stranger.publicKey)), kid: 'attacker', alg: 'EdDSA' }] }));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    gw = await startGateway({ WORKERS: 'in-process', OCR_WORKERS: '1' });
    const pair = gw.gateway.issuerKeys.currentPair();
    realKey = pair.privateKey;
    realKid = pair.kid;
    publicJwk = pair.publicJwk as Record<string, unknown>;
    publicPem = createPublicKey({ key: pair.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    goodToken = await gw.token('police-1', ['clerk', 'judge']);
    const caseId = (await gw.api('POST', '/api/cases', goodToken, { number: 'ATTACK-1' })).json.id;
    const id = idFromUrl(await tusUpload(gw.url, await jpeg(1), { token: goodToken, metadata: { filename: 'a.jpg', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, goodToken)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed');
    const link = await gw.api('POST', `/api/dossiers/${id}/links`, goodToken, {});
    expect(link.status, JSON.stringify(link.json)).to.equal(201);
    linkUrl = link.json.url;
    linkToken = new URL(linkUrl).pathname.split('/')[2]!;
  });
  after(async () => {
    await gw?.stop();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  const claims = (over: Claims = {}): Claims => {
    const base: Claims = { iss: LOCAL_ISSUER, aud: DEFAULT_AUDIENCE, sub: 'mallory', agency: 'police-1', roles: ['clerk'], exp: now() + 600, iat: now() };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  };
  /** Signed by the gateway's own issuer key: only the attack itself is wrong. */
  const real = (over: Claims = {}, header: Record<string, unknown> = {}) =>
    new SignJWT(claims(over)).setProtectedHeader({ alg: 'EdDSA', kid: realKid, ...header }).sign(realKey);
  /** Signed by the real key byte by byte, for headers jose itself refuses to write. */
  const rawReal = (header: Record<string, unknown>, body: Claims = claims()) => {
    const input = `${b64(header)}.${b64(body)}`;
    return `${input}.${sign(null, Buffer.from(input), realKey).toString('base64url')}`;
  };
  const unsigned = (header: Record<string, unknown>, body: Claims = claims()) => `${b64(header)}.${b64(body)}.`;
  const hmac = (alg: 'HS256' | 'HS384' | 'HS512', secret: string | Buffer, header: Record<string, unknown> = {}) => {
    const signingInput = `${b64({ alg, typ: 'JWT', kid: realKid, ...header })}.${b64(claims())}`;
    const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
    return `${signingInput}.${createHmac(digest, secret).update(signingInput).digest('base64url')}`;
  };
  const signedBy = (key: KeyObject, alg: string, header: Record<string, unknown> = {}, over: Claims = {}) =>
    new SignJWT(claims(over)).setProtectedHeader({ alg, ...header }).sign(key);
  const tamper = async (edit: (c: Claims) => void) => {
    const [h, p, s] = (await real()).split('.');
    const body = JSON.parse(Buffer.from(p!, 'base64url').toString());
    edit(body);
    return `${h}.${b64(body)}.${s}`;
  };

  const variants: [string, () => Promise<string> | string][] = [
    ['alg none', () => unsigned({ alg: 'none', typ: 'JWT' })],
    ['alg None (other casing)', () => unsigned({ alg: 'None', typ: 'JWT' })],
    ['alg none with the real signature kept', async () => { const [, p, s] = (await real()).split('.'); return `${b64({ alg: 'none' })}.${p}.${s}`; }],
    ['no alg at all', () => unsigned({ typ: 'JWT', kid: realKid })],
    ['HS256 keyed with the public key (PEM)', () => hmac('HS256', publicPem)],
    ['HS256 keyed with the public key (raw x)', () => hmac('HS256', Buffer.from(String(publicJwk.x), 'base64url'))],
    ['HS256 keyed with the public JWK as JSON', () => hmac('HS256', JSON.stringify(publicJwk))],
    ['HS384 keyed with the public key (PEM)', () => hmac('HS384', publicPem)],
    ['HS512 keyed with the public key (PEM)', () => hmac('HS512', publicPem)],
    ['an unlisted algorithm: ES512 with the real kid', () => signedBy(strangerEc.privateKey, 'ES512', { kid: realKid })],
    ['an unlisted algorithm: RS512 with the real kid', () => signedBy(strangerRsa.privateKey, 'RS512', { kid: realKid })],
    ['a listed algorithm signed by a stranger under the real kid (RS256)', () => signedBy(strangerRsa.privateKey, 'RS256', { kid: realKid })],
    ['EdDSA by a stranger under the real kid', () => signedBy(stranger.privateKey, 'EdDSA', { kid: realKid })],
    ['wrong audience', () => real({ aud: 'another-service' })],
    ['missing audience', () => real({ aud: undefined })],
    ['audience list without ours', () => real({ aud: ['a', 'b'] })],
    ['wrong issuer', () => real({ iss: 'https://evil.example' })],
    ['missing issuer', () => real({ iss: undefined })],
    ['expired an hour ago', () => real({ exp: now() - 3600 })],
    ['expired beyond the 30 s tolerance', () => real({ exp: now() - 90 })],
    ['no expiry', () => real({ exp: undefined })],
    ['expiry not a number', () => real({ exp: 'tomorrow' })],
    ['not valid before an hour from now (nbf)', () => real({ nbf: now() + 3600 })],
    ['wrong typ: the link token type', () => real({}, { typ: LINK_TYP })],
    ['wrong typ: a JWE content type', () => real({}, { typ: 'JOSE+JSON' })],
    ['a link token used as a bearer token', () => linkToken],
    ['kid with ../ traversal', () => signedBy(stranger.privateKey, 'EdDSA', { kid: '../../../../etc/passwd' })],
    ['kid with SQL', () => signedBy(stranger.privateKey, 'EdDSA', { kid: "' OR '1'='1' --" })],
    ['kid of 8 KB', () => signedBy(stranger.privateKey, 'EdDSA', { kid: 'k'.repeat(8192) })],
    ['jku header at the attacker\'s JWKS', () => signedBy(stranger.privateKey, 'EdDSA', { kid: 'attacker', jku: `${attackerUrl}/jwks.json` })],
    ['x5u header at the attacker\'s certificate', () => signedBy(stranger.privateKey, 'EdDSA', { kid: 'attacker', x5u: `${attackerUrl}/cert.pem` })],
    ['embedded jwk header with the attacker\'s key', async () => signedBy(stranger.privateKey, 'EdDSA', { jwk: await exportJWK(stranger.publicKey) })],
    ['x5c header with a made-up chain', () => signedBy(stranger.privateKey, 'EdDSA', { x5c: [Buffer.from('not a certificate').toString('base64')] })],
    ['crit header naming an unknown extension', () => rawReal({ alg: 'EdDSA', kid: realKid, crit: ['exp-ext'], 'exp-ext': true })],
    ['payload edited to another agency, signature kept', () => tamper((c) => { c.agency = 'court-1'; })],
    ['payload edited to the admin role, signature kept', () => tamper((c) => { c.roles = ['admin']; })],
    ['signature stripped', async () => `${(await real()).split('.').slice(0, 2).join('.')}.`],
    ['real key, agency that is a path', () => real({ agency: '../police-2' })],
    ['real key, no subject', () => real({ sub: undefined })],
    ['real key, an unknown role', () => real({ roles: ['root'] })],
    ['five parts (JWE-shaped)', async () => `${await real()}.x.y`],
    ['header that is not JSON', async () => `${b64('{"alg":')}.${(await real()).split('.').slice(1).join('.')}`],
  ];

  for (const [name, make] of variants) {
    it(`refused: ${name}`, async () => {
      const started = performance.now();
      const token = await make();
      const res = await gw.api('GET', '/api/cases', token);
      expect(res.status, JSON.stringify(res.json)).to.equal(401);
      expect(res.json.error.code).to.equal('unauthenticated');
      recordCase('attacks', `token: ${name}`, '401 unauthenticated', performance.now() - started);
    });
  }

  it('the good token is accepted (the refusals above are not a broken gateway)', async () => {
    expect((await gw.api('GET', '/api/cases', goodToken)).status).to.equal(200);
  });

  it('a bearer token used as a download link is refused: 401 invalid_link', async () => {
    const forged = linkUrl.replace(linkToken, goodToken);
    const res = await fetch(forged);
    expect(res.status).to.equal(401);
    expect(((await res.json()) as any).error.code).to.equal('invalid_link');
    recordCase('attacks', 'token: a bearer token used as a download link', '401 invalid_link', 0);
  });

  it('no header made the gateway fetch anything', () => {
    expect(fetches).to.equal(0);
    recordFigures('attacks', { tokenVariants: variants.length + 1, attackerFetches: fetches });
  });
});
