/**
 * Signed download links through the real gateway over HTTP: a court downloads with no bearer
 * token, and every way to abuse a link (forged, foreign, stale, spent) is refused with the right
 * status and the JSON error shape.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { LINK_ISSUER, LINK_TYP } from '../dossier/access/links.js';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { ConfigError, configFromEnv } from '../runtime/config.js';
import { openExport } from '../scripts/support/export-source.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { SqlCaseRepository } from '../storage/db/case-repository.js';
import { SqlDossierRepository } from '../storage/db/dossier-repository.js';
import { SqlLinkRepository } from '../storage/db/link-repository.js';
import { migrate } from '../storage/db/migrate.js';
import { dossierCli } from './support/cli.js';
import { forEachEngine } from './support/databases.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { idFromUrl, tusUpload } from './support/tus.js';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A new case with one dossier uploaded over tus, once it is sealed. */
async function sealedUpload(g: TestGateway, clerk: string, caseNumber: string, filename: string, data: Buffer) {
  const caseId = (await g.api('POST', '/api/cases', clerk, { number: caseNumber })).json.id as string;
  const id = idFromUrl(await tusUpload(g.url, data, { token: clerk, metadata: { filename, caseId } }).done);
  await eventually(async () => ((await g.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, `${filename} sealed`);
  return { caseId, id };
}

describe('signed download links', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let judge: string;
  /** Dossier A: three pages; dossier B: one page, in a case of its own. */
  let dossierA: string;
  let caseA: string;
  let dossierB: string;
  let caseB: string;

  const upload = (caseNumber: string, filename: string, data: Buffer) => sealedUpload(gw, clerk, caseNumber, filename, data);
  const createLink = async (dossier: string, body: Record<string, unknown> = {}, token = judge) => gw.api('POST', `/api/dossiers/${dossier}/links`, token, body);
  const newLink = async (dossier = dossierA, body: Record<string, unknown> = {}) => {
    const res = await createLink(dossier, body);
    expect(res.status, JSON.stringify(res.json)).to.equal(201);
    return res.json as { id: string; url: string; expiresAt: string };
  };
  const tokenOf = (url: string) => new URL(url).pathname.split('/')[2]!;
  /** GET without a bearer token; the body read so that the connection is free again. */
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  /** A refusal: the status, the JSON error shape with the code, and no caching of it. */
  const refused = async (url: string, status: number, code: string) => {
    const res = await get(url);
    expect(res.status, `${url}: ${res.body.toString()}`).to.equal(status);
    expect(JSON.parse(res.body.toString())).to.have.nested.property('error.code', code);
    expect(res.headers.get('cache-control')).to.contain('no-store');
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
  };
  /** A token signed with `key`, claims and header of a real link's token changed as asked. */
  const forge = async (real: string, key: KeyObject, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const c = { ...decodeJwt(real), ...claims };
    return new SignJWT(c).setProtectedHeader({ ...(decodeProtectedHeader(real) as { alg: string }), ...header }).sign(key);
  };
  const linkKey = () => gw.gateway.linkKeys.currentPair();
  const at = (token: string, suffix = '') => `${gw.url}/d/${token}${suffix}`;

  before(async () => {
    gw = await startGateway();
    dir = await tempDir('links-');
    clerk = await gw.token('police-1', 'clerk');
    judge = await gw.token('police-1', 'judge', { user: 'judge-4' });
    const zip = await zipOf(path.join(dir, 'scan.zip'), await Promise.all([1, 2, 3].map(async (n) => ({ name: `${n}.jpg`, data: await jpegPage(n + 70) }))));
    ({ id: dossierA, caseId: caseA } = await upload('LNK-A', 'scan.zip', await fs.readFile(zip)));
    ({ id: dossierB, caseId: caseB } = await upload('LNK-B', 'cover.jpg', await jpegPage(99)));
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('downloads the export ZIP with no bearer token, and it verifies', async () => {
    const link = await newLink(dossierA, { ttl: '2d' });
    expect(link.url.startsWith(`${gw.url}/d/`), link.url).to.equal(true);
    const expires = Date.parse(link.expiresAt) - Date.now();
    expect(expires).to.be.within(2 * 86400_000 - 60_000, 2 * 86400_000 + 1000);
    const res = await get(link.url);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/zip');
    expect(res.headers.get('cache-control')).to.contain('no-store');
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
    const file = path.join(dir, 'via-link.zip');
    await fs.writeFile(file, res.body);
    const jwks = (await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as Parameters<typeof verifyExport>[1]['jwks'];
    const src = await openExport(file);
    try {
      const report = await verifyExport(src, { jwks });
      expect(report.problems).to.deep.equal([]);
      expect(report).to.include({ ok: true, pageCount: 3, pagesVerified: 3, original: 'verified' });
    } finally {
      await src.close();
    }
    // The lean form on request, through the same link: the pages alone still verify.
    const lean = path.join(dir, 'via-link-lean.zip');
    await fs.writeFile(lean, (await get(`${link.url}?original=0`)).body);
    const withOriginal = await openExport(lean);
    try {
      expect(await verifyExport(withOriginal, { jwks })).to.include({ ok: true, original: 'absent' });
    } finally {
      await withOriginal.close();
    }
  });

  it('serves one page, and a Range of it as 206 with exactly those bytes', async () => {
    const link = await newLink();
    const page = Buffer.from(await (await fetch(`${gw.url}/api/dossiers/${dossierA}/pages/2`, { headers: { authorization: `Bearer ${judge}` } })).arrayBuffer());
    const whole = await get(`${link.url}/pages/2`);
    expect(whole.status).to.equal(200);
    expect(whole.headers.get('x-content-sha256')).to.equal(createHash('sha256').update(page).digest('hex'));
    expect(whole.body.equals(page)).to.equal(true);
    expect(whole.headers.get('cache-control')).to.equal('no-store');
    expect(whole.headers.get('referrer-policy')).to.equal('no-referrer');
    const part = await get(`${link.url}/pages/2`, { range: 'bytes=10-99' });
    expect(part.status).to.equal(206);
    expect(part.headers.get('content-range')).to.equal(`bytes 10-99/${page.length}`);
    expect(part.body.equals(page.subarray(10, 100))).to.equal(true);
    await refused(`${link.url}/pages/4`, 404, 'not_found');
    await refused(`${link.url}/pages/x`, 404, 'not_found');
  });

  it('the token: EdDSA with typ, kid of the links ring (not the evidence ring), iss, aud, sub, scope, exp, iat, jti', async () => {
    const link = await newLink(dossierA, { ttl: 3600 });
    const token = tokenOf(link.url);
    expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'EdDSA', typ: LINK_TYP, kid: linkKey().kid });
    expect(linkKey().kid).to.not.equal(gw.gateway.keys.currentPair().kid);
    const c = decodeJwt(token);
    expect(c).to.include({ iss: LINK_ISSUER, aud: 'police-1', sub: dossierA, scope: 'export', jti: link.id });
    expect(c.exp! - c.iat!).to.equal(3600);
    expect(new Date(c.exp! * 1000).toISOString()).to.equal(link.expiresAt);
    const ring = JSON.parse(await fs.readFile(path.join(gw.dataDir, 'keys', 'links', 'index.json'), 'utf8'));
    expect(ring.current).to.equal(linkKey().kid);
  });

  it('a rotation of the links ring signs new links with the new key; links made before still work', async () => {
    const before = await newLink();
    const oldKid = linkKey().kid;
    await gw.gateway.linkKeys.rotate();
    const after = await newLink();
    expect(decodeProtectedHeader(tokenOf(after.url)).kid).to.equal(linkKey().kid).and.not.equal(oldKid);
    expect((await get(`${before.url}/pages/1`)).status).to.equal(200);
    expect((await get(`${after.url}/pages/1`)).status).to.equal(200);
  });

  it('audits the making, every use (with the link id) and the revocation; a refused use is no use', async () => {
    const link = await newLink(dossierA, { ttl: '1h' });
    expect((await get(link.url)).status).to.equal(200);
    expect((await get(`${link.url}/pages/3`, { range: 'bytes=0-9' })).status).to.equal(206);
    expect((await gw.api('DELETE', `/api/links/${link.id}`, judge)).status).to.equal(204);
    expect((await get(link.url)).status).to.equal(410);
    const auditor = await gw.token('police-1', 'auditor');
    const res = await gw.api('GET', `/api/audit?caseId=${caseA}&limit=1000`, auditor);
    expect(res.status).to.equal(200);
    const mine = (res.json.events as any[]).filter((e) => e.details?.linkId === link.id);
    expect(mine.map((e) => [e.action, e.actor, e.agency, e.target.type, e.target.id])).to.deep.equal([
      ['link.create', 'judge-4', 'police-1', 'dossier', dossierA],
      ['link.use', `link:${link.id}`, 'police-1', 'dossier', dossierA],
      ['link.use', `link:${link.id}`, 'police-1', 'page', `${dossierA}/3`],
      ['link.revoke', 'judge-4', 'police-1', 'dossier', dossierA],
    ]);
    expect(mine.every((e) => e.caseId === caseA)).to.equal(true);
    expect((await gw.api('GET', '/api/audit/verify', auditor)).json).to.include({ ok: true });
  });

  describe('refuses', () => {
    it('garbage and malformed tokens: 401 invalid_link', async () => {
      await refused(at('garbage'), 401, 'invalid_link');
      await refused(at('a.b.c'), 401, 'invalid_link');
      await refused(at(`${'x'.repeat(3000)}`), 401, 'invalid_link');
      await refused(at('garbage', '/pages/1'), 401, 'invalid_link');
      // Not a bearer challenge: no bearer token would help.
      expect((await get(at('garbage'))).headers.get('www-authenticate')).to.equal(null);
    });

    it('an unsigned token (alg none): 401', async () => {
      const real = tokenOf((await newLink()).url);
      const unsigned = `${b64url({ alg: 'none', typ: LINK_TYP })}.${b64url(decodeJwt(real))}.`;
      await refused(at(unsigned), 401, 'invalid_link');
      await refused(at(unsigned, '/pages/1'), 401, 'invalid_link');
      // The real link's signature kept, its header claiming none.
      await refused(at(`${b64url({ alg: 'none', typ: LINK_TYP })}.${real.split('.').slice(1).join('.')}`), 401, 'invalid_link');
    });

    it('a token tampered with (sub edited to another dossier, signature kept): 401', async () => {
      const real = tokenOf((await newLink()).url);
      const [h, , s] = real.split('.');
      await refused(at(`${h}.${b64url({ ...decodeJwt(real), sub: dossierB })}.${s}`, '/pages/1'), 401, 'invalid_link');
      expect((await get(at(real, '/pages/1'))).status).to.equal(200);
    });

    it('a token signed by another key: a stranger’s, or the gateway’s evidence key: 401', async () => {
      const real = tokenOf((await newLink()).url);
      const { privateKey } = generateKeyPairSync('ed25519');
      await refused(at(await forge(real, privateKey)), 401, 'invalid_link');
      await refused(at(await forge(real, privateKey, {}, { kid: 'unknown-key' })), 401, 'invalid_link');
      const evidence = gw.gateway.keys.currentPair();
      await refused(at(await forge(real, evidence.privateKey, {}, { kid: evidence.kid })), 401, 'invalid_link');
    });

    it('another issuer, another typ, or another algorithm (real key): 401', async () => {
      const real = tokenOf((await newLink()).url);
      const key = linkKey().privateKey;
      expect((await get(at(await forge(real, key), '/pages/1'))).status, 'the forge helper itself makes good tokens').to.equal(200);
      await refused(at(await forge(real, key, { iss: 'urn:someone-else' })), 401, 'invalid_link');
      await refused(at(await forge(real, key, {}, { typ: 'JWT' })), 401, 'invalid_link');
      await refused(at(await forge(real, key, {}, { alg: 'Ed25519' })), 401, 'invalid_link');
    });

    it('a token for another audience, or a jti with no link behind it (real key): 401', async () => {
      const real = tokenOf((await newLink()).url);
      const key = linkKey().privateKey;
      await refused(at(await forge(real, key, { aud: 'court-9' })), 401, 'invalid_link');
      await refused(at(await forge(real, key, { aud: ['police-1', 'court-9'] })), 401, 'invalid_link');
      await refused(at(await forge(real, key, { jti: randomUUID() })), 401, 'invalid_link');
      await refused(at(await forge(real, key, { exp: decodeJwt(real).exp! + 3600 })), 401, 'invalid_link');
    });

    it('a link for dossier A re-signed with the real key for dossier B: 401, never B’s bytes', async () => {
      const real = tokenOf((await newLink(dossierA)).url);
      const swapped = await forge(real, linkKey().privateKey, { sub: dossierB });
      await refused(at(swapped), 401, 'invalid_link');
      await refused(at(swapped, '/pages/1'), 401, 'invalid_link');
    });

    it('an expired link: one with a 1 s ttl once it runs out, and one re-signed with the real key and a past exp: 410 link_expired', async () => {
      const short = await newLink(dossierA, { ttl: '1s' });
      await eventually(async () => ((await get(`${short.url}/pages/1`)).status === 410 ? true : undefined), 10_000, 'the 1 s link to expire');
      await refused(short.url, 410, 'link_expired');
      const real = tokenOf((await newLink()).url);
      const past = Math.floor(Date.now() / 1000) - 3600;
      await refused(at(await forge(real, linkKey().privateKey, { iat: past - 60, exp: past })), 410, 'link_expired');
      // Expired but not ours: an intruder learns nothing, not even that it is expired.
      const { privateKey } = generateKeyPairSync('ed25519');
      await refused(at(await forge(real, privateKey, { exp: past })), 401, 'invalid_link');
    });

    it('a revoked link: 410 link_revoked, for the ZIP and the pages; revoking again is harmless', async () => {
      const link = await newLink();
      expect((await get(`${link.url}/pages/1`)).status).to.equal(200);
      expect((await gw.api('DELETE', `/api/links/${link.id}`, clerk)).status).to.equal(204);
      await refused(link.url, 410, 'link_revoked');
      await refused(`${link.url}/pages/1`, 410, 'link_revoked');
      expect((await gw.api('DELETE', `/api/links/${link.id}`, judge)).status).to.equal(204);
      expect((await gw.api('DELETE', `/api/links/${randomUUID()}`, judge)).status).to.equal(404);
    });

    it('a single-use link used once: the second use 410 link_used; a missing page does not spend it', async () => {
      const link = await newLink(dossierA, { singleUse: true });
      await refused(`${link.url}/pages/9`, 404, 'not_found');
      expect((await get(link.url)).status).to.equal(200);
      await refused(link.url, 410, 'link_used');
      await refused(`${link.url}/pages/1`, 410, 'link_used');
    });

    it('a single-use link used by several at once: exactly one succeeds', async () => {
      const link = await newLink(dossierA, { singleUse: true });
      const results = await Promise.all(Array.from({ length: 6 }, () => get(`${link.url}/pages/1`)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).to.deep.equal([200, 410, 410, 410, 410, 410]);
      for (const r of results.filter((x) => x.status === 410)) expect(JSON.parse(r.body.toString()).error.code).to.equal('link_used');
    });

    it('a link whose audience agency no longer sees the case: 404, as for any case it does not see', async () => {
      const link = await newLink(dossierB);
      expect((await get(link.url)).status).to.equal(200);
      // The case passes to another agency (no transfer to police-1): police-1 no longer sees it.
      await gw.gateway.db.query(`UPDATE cases SET agency_id = 'police-2' WHERE id = $1`, [caseB]);
      try {
        await refused(link.url, 404, 'not_found');
        await refused(`${link.url}/pages/1`, 404, 'not_found');
      } finally {
        await gw.gateway.db.query(`UPDATE cases SET agency_id = 'police-1' WHERE id = $1`, [caseB]);
      }
      expect((await get(link.url)).status).to.equal(200);
    });
  });

  describe('custody: only the agency that holds the dossier makes links to it', () => {
    it('a pending or returned receiver: 403 (it only reads); once it accepts: its links work, and the sender’s turn is over', async () => {
      const admin = await gw.token('police-1', 'admin');
      expect((await gw.api('POST', '/api/agencies', admin, { id: 'proc-1', name: 'District procuratorate', kind: 'procuratorate' })).status).to.equal(201);
      const { id } = await upload('LNK-D', 'statement.jpg', await jpegPage(55));
      const prosecutor = await gw.token('proc-1', 'prosecutor');
      const send = async () => {
        const res = await gw.api('POST', `/api/dossiers/${id}/transfers`, clerk, { toAgency: 'proc-1', stage: 'prosecution' });
        expect(res.status, JSON.stringify(res.json)).to.equal(201);
        return res.json.id as string;
      };
      const first = await send();
      expect((await createLink(id, {}, prosecutor)).status, 'pending: sees it, does not hold it').to.equal(403);
      expect((await gw.api('POST', `/api/transfers/${first}/return`, prosecutor, { reason: 'page 2 missing' })).status).to.equal(200);
      const returned = await createLink(id, {}, prosecutor);
      expect(returned.status, 'returned: read-only').to.equal(403);
      expect(returned.json.error.code).to.equal('forbidden');
      const policeLink = await newLink(id);
      const second = await send();
      expect((await gw.api('POST', `/api/transfers/${second}/accept`, prosecutor, {})).status).to.equal(200);
      const theirs = await createLink(id, { singleUse: true }, prosecutor);
      expect(theirs.status).to.equal(201);
      expect(decodeJwt(tokenOf(theirs.json.url)).aud).to.equal('proc-1');
      expect((await get(theirs.json.url)).status).to.equal(200);
      expect((await gw.api('DELETE', `/api/links/${theirs.json.id}`, judge)).status, 'police cannot revoke proc-1’s link').to.equal(404);
      expect((await createLink(id)).status, 'police sent it on: no longer its to hand out').to.equal(403);
      expect((await get(`${policeLink.url}/pages/1`)).status, 'a link made while police held it still works: police still sees the case').to.equal(200);
    });
  });

  describe('creating and revoking', () => {
    it('a ttl over LINK_MAX_TTL, or not a duration: 400 with a clear message', async () => {
      const over = await createLink(dossierA, { ttl: '8d' });
      expect(over.status).to.equal(400);
      expect(over.json.error.code).to.equal('bad_request');
      expect(over.json.error.message).to.contain('LINK_MAX_TTL').and.contain('7d').and.contain('8d');
      expect((await createLink(dossierA, { ttl: 7 * 86400 + 1 })).status).to.equal(400);
      for (const ttl of ['soon', 0, -5, 1.5, '']) expect((await createLink(dossierA, { ttl })).status, String(ttl)).to.equal(400);
      expect((await createLink(dossierA, { singleUse: 'yes' })).status).to.equal(400);
      expect((await createLink(dossierA, { audience: 'court-9' })).status).to.equal(400);
      expect((await createLink(dossierA, { ttl: '7d' })).status).to.equal(201);
      expect((await createLink(dossierA, { ttl: '604800' })).status).to.equal(201);
    });

    it('without a ttl a link lives a day', async () => {
      const link = await newLink();
      expect(Date.parse(link.expiresAt) - Date.now()).to.be.within(86400_000 - 60_000, 86400_000 + 1000);
    });

    it('another agency cannot create a link to the dossier, nor revoke one: 404', async () => {
      const court = await gw.token('court-9', 'judge');
      const res = await createLink(dossierA, {}, court);
      expect(res.status).to.equal(404);
      expect(res.json.error.code).to.equal('not_found');
      expect((await createLink(randomUUID(), {}, judge)).status, 'a dossier that does not exist: the same 404').to.equal(404);
      const link = await newLink();
      expect((await gw.api('DELETE', `/api/links/${link.id}`, court)).status).to.equal(404);
      expect((await get(`${link.url}/pages/1`)).status).to.equal(200);
    });

    it('a role without the permission: 403; without a bearer token: 401', async () => {
      const auditor = await gw.token('police-1', 'auditor');
      expect((await createLink(dossierA, {}, auditor)).status).to.equal(403);
      const link = await newLink();
      expect((await gw.api('DELETE', `/api/links/${link.id}`, auditor)).status).to.equal(403);
      expect((await gw.api('POST', `/api/dossiers/${dossierA}/links`, null, {})).status).to.equal(401);
    });

    it('only a sealed dossier: 409 while it is still being received', async () => {
      const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'LNK-C' })).json.id as string;
      const meta = `filename ${Buffer.from('late.jpg').toString('base64')},caseId ${Buffer.from(caseId).toString('base64')}`;
      const res = await fetch(`${gw.url}/files/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clerk}`, 'tus-resumable': '1.0.0', 'upload-length': '1000', 'upload-metadata': meta },
      });
      expect(res.status).to.equal(201);
      const id = idFromUrl(res.headers.get('location')!);
      const created = await createLink(id);
      expect(created.status).to.equal(409);
      expect(created.json.error.code).to.equal('conflict');
    });
  });
});

describe('signed download links: PUBLIC_URL, LINK_MAX_TTL, the key ring', function () {
  this.timeout(120_000);

  it('a link points at PUBLIC_URL, whatever host was asked; the ttl is bounded by LINK_MAX_TTL', async () => {
    const gw = await startGateway({ PUBLIC_URL: 'https://dossiers.example.org/gw/', LINK_MAX_TTL: '2h' });
    try {
      const clerk = await gw.token('police-1', 'clerk');
      const { id } = await sealedUpload(gw, clerk, 'PUB-1', 'p.jpg', await jpegPage(12));
      const res = await gw.api('POST', `/api/dossiers/${id}/links`, clerk, {});
      expect(res.status).to.equal(201);
      expect(res.json.url).to.match(/^https:\/\/dossiers\.example\.org\/gw\/d\/[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(Date.parse(res.json.expiresAt) - Date.now(), 'the default day, cut to LINK_MAX_TTL').to.be.within(7200_000 - 60_000, 7200_000 + 1000);
      const token = new URL(res.json.url).pathname.split('/').pop();
      expect((await fetch(`${gw.url}/d/${token}/pages/1`)).status).to.equal(200);
      const over = await gw.api('POST', `/api/dossiers/${id}/links`, clerk, { ttl: '3h' });
      expect(over.status).to.equal(400);
      expect(over.json.error.message).to.contain('LINK_MAX_TTL = 2h');
    } finally {
      await gw.stop();
    }
  });

  it('PUBLIC_URL must be an http(s) URL', () => {
    expect(configFromEnv({ PUBLIC_URL: 'https://a.example/x/' }).links.publicUrl).to.equal('https://a.example/x');
    expect(configFromEnv({}).links.publicUrl).to.equal(null);
    expect(() => configFromEnv({ PUBLIC_URL: 'ftp://a.example' })).to.throw(ConfigError, 'PUBLIC_URL');
    expect(() => configFromEnv({ PUBLIC_URL: 'not a url' })).to.throw(ConfigError, 'PUBLIC_URL');
  });

  it('`dossier keys rotate --ring links` rotates the links ring and leaves the evidence keys alone', async () => {
    const dataDir = await tempDir('link-keys-');
    try {
      const env = { DATA_DIR: dataDir };
      // On an empty ring, rotate makes the first key and then its successor.
      const rotated = await dossierCli(['keys', 'rotate', '--ring', 'links', '--json'], env).done;
      expect(rotated.code, rotated.err).to.equal(0);
      const keys = JSON.parse(rotated.out) as { current: boolean; retiredAt: string | null }[];
      expect(keys.map((k) => [k.current, k.retiredAt === null])).to.deep.equal([[false, false], [true, true]]);
      expect(await fs.readdir(path.join(dataDir, 'keys'))).to.deep.equal(['links']);
      expect((await dossierCli(['keys', 'list', '--ring', 'bogus'], env).done).code).to.equal(2);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

forEachEngine('link repository: concurrent uses of a single-use link', (get) => {
  it('exactly one of eight concurrent consumes wins; a plain link counts every use', async () => {
    const { db } = get();
    await migrate(db);
    const c = await new SqlCaseRepository(db).create({ id: randomUUID(), number: 'R-1', title: '', agency: 'a-1', createdBy: 'u' });
    const d = await new SqlDossierRepository(db).create({ id: randomUUID().replace(/-/g, ''), caseId: c.id, agency: 'a-1', uploadedBy: 'u', filename: 'f', title: null, declaredBytes: 1 });
    const links = new SqlLinkRepository(db);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const base = { dossierId: d.id, caseId: c.id, audience: 'a-1', scope: 'export' as const, createdBy: 'u', createdAgency: 'a-1', createdAt: now, expiresAt: new Date(now.getTime() + 3600_000) };
    const once = await links.create({ ...base, id: randomUUID(), singleUse: true });
    const wins = (await Promise.all(Array.from({ length: 8 }, () => links.consume(once.id, new Date())))).filter((r) => r !== null);
    expect(wins).to.have.length(1);
    expect(await links.get(once.id)).to.include({ uses: 1 });
    const plain = await links.create({ ...base, id: randomUUID(), singleUse: false });
    await Promise.all(Array.from({ length: 8 }, () => links.consume(plain.id, new Date())));
    expect(await links.get(plain.id)).to.include({ uses: 8 });
    expect(await links.consume(plain.id, base.expiresAt), 'at its expiry').to.equal(null);
    expect(await links.revoke(plain.id, 'a-2', 'v', new Date()), 'another agency').to.equal(null);
    expect((await links.revoke(plain.id, 'a-1', 'v', new Date()))?.revokedBy).to.equal('v');
    expect(await links.consume(plain.id, new Date()), 'revoked').to.equal(null);
  });
});
