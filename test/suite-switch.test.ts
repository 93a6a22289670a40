/**
 * A deployment switches SIGNATURE_SUITE: a dossier sealed under Ed25519 / SHA-256, then the same
 * data directory restarted under SM2 / SM3 and another sealed. Both exports verify under their own
 * suite (receipts included) through `dossier verify`, the audit chain verifies across the switch,
 * and what the SM2 gateway serves (page SM3s, SM2 page statements, SM3 inclusion proofs) checks out.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { sm3Hasher } from '../dossier/digest.js';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { fromProofJson, leafHash, verifyInclusion } from '../dossier/merkle.js';
import { verifyCompactJws } from '../dossier/signing/verify-jws.js';
import { openExport } from '../scripts/support/export-source.js';
import { dossierCli } from './support/cli.js';
import { agenciesFile, downloadExport, sealedDossier, send } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

const cli = (...args: string[]) => dossierCli(args).done;
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));

describe('switching the signature suite of a deployment', function () {
  // Two gateway starts and two sealed dossiers: about a minute on a quiet machine, far more on a loaded one.
  this.timeout(600_000);
  let dir: string;
  let dataDir: string;
  let gw: TestGateway | null = null;
  let jwks: JSONWebKeySet;
  let jwksFile: string;
  const zips = { ed25519: '', sm2: '' };
  let sm2Dossier: string;
  let prosecutor: string;

  /** Seals a dossier on `gw`, sends it to the procuratorate, accepts it (a receipt), downloads the export. */
  async function sealSendAccept(seed: number, zip: string): Promise<string> {
    const police = await gw!.token('police-1', 'clerk');
    prosecutor = await gw!.token('procuratorate-1', 'prosecutor');
    const caseId = (await gw!.api('POST', '/api/cases', police, { number: `SW-${seed}` })).json.id;
    const d = await sealedDossier(gw!, police, caseId, seed, 3);
    const transfer = await send(gw!, police, d.id, 'procuratorate-1', 'prosecution');
    expect((await gw!.api('POST', `/api/transfers/${transfer}/accept`, prosecutor, {})).status).to.equal(200);
    await gw!.gateway.audit.checkpoint();
    await downloadExport(gw!, prosecutor, d.id, zip);
    return d.id;
  }

  before(async () => {
    dir = await tempDir('suite-switch-');
    dataDir = path.join(dir, 'data');
    const agencies = await agenciesFile(dir);
    zips.ed25519 = path.join(dir, 'ed25519.zip');
    zips.sm2 = path.join(dir, 'sm2.zip');
    gw = await startGateway({ DATA_DIR: dataDir, AGENCIES_FILE: agencies });
    await sealSendAccept(31, zips.ed25519);
    await gw.stop();
    gw = await startGateway({ DATA_DIR: dataDir, AGENCIES_FILE: agencies, SIGNATURE_SUITE: 'sm2-sm3' });
    sm2Dossier = await sealSendAccept(32, zips.sm2);
    jwks = (await gw.api('GET', '/.well-known/jwks.json', null)).json;
    jwksFile = path.join(dir, 'jwks.json');
    await fs.writeFile(jwksFile, JSON.stringify(jwks));
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const check = async (where: string) => {
    const src = await openExport(where);
    try {
      return await verifyExport(src, { jwks });
    } finally {
      await src.close();
    }
  };

  it('publishes the retired Ed25519 key and the current SM2 key', () => {
    expect(jwks.keys.map((k) => [k.kty, k.crv, k.alg])).to.deep.equal([['OKP', 'Ed25519', 'EdDSA'], ['EC', 'SM2', 'SM2']]);
  });

  it('verifies each export under its own suite, receipts included', async () => {
    const [a, b] = [await check(zips.ed25519), await check(zips.sm2)];
    expect(a.problems).to.deep.equal([]);
    expect(b.problems).to.deep.equal([]);
    expect([a.suite, b.suite]).to.deep.equal(['ed25519-sha256', 'sm2-sm3']);
    expect([a.kid, b.kid]).to.deep.equal([jwks.keys[0]!.kid, jwks.keys[1]!.kid]);
    expect(a.receipts.map((r) => r.ok)).to.deep.equal([true]);
    expect(b.receipts.map((r) => r.ok)).to.deep.equal([true]);
    const src = await openExport(zips.sm2);
    try {
      expect(decodeProtectedHeader((await src.read(await receiptPath(src)))!.toString()).alg).to.equal('SM2');
    } finally {
      await src.close();
    }
  });

  it('`dossier verify` passes the SM2 export, and fails it the SM2 export after a one-byte change of a page', async () => {
    // The Ed25519 export through the CLI is export-verify.test.ts's; here the SM2 one (each CLI start costs seconds).
    const r = await cli('verify', zips.sm2, '--jwks', jwksFile);
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.out).to.contain('VERIFIED').and.to.contain('suite sm2-sm3');
    const tampered = path.join(dir, 'tampered');
    const src = await openExport(zips.sm2);
    for (const p of await src.list()) {
      if (p.endsWith('/')) continue;
      await fs.mkdir(path.dirname(path.join(tampered, p)), { recursive: true });
      await fs.writeFile(path.join(tampered, p), (await src.read(p))!);
    }
    await src.close();
    const page = path.join(tampered, 'pages', '0002.jpg');
    const bytes = await fs.readFile(page);
    bytes[bytes.length >> 1]! ^= 0x01;
    await fs.writeFile(page, bytes);
    const bad = await cli('verify', tampered, '--jwks', jwksFile, '--json');
    expect(bad.code).to.equal(3);
    expect(JSON.parse(bad.out).problems.map((p: { code: string; page?: number }) => [p.code, p.page])).to.deep.equal([['page_mismatch', 2]]);
  });

  it('serves the SM2 dossier with page SM3s, SM2 page statements and SM3 inclusion proofs', async () => {
    const d = (await gw!.api('GET', `/api/dossiers/${sm2Dossier}`, prosecutor)).json;
    const manifest = payloadOf((await (await fetch(`${gw!.url}/api/dossiers/${sm2Dossier}/manifest`, { headers: { authorization: `Bearer ${prosecutor}` } })).text()).trim());
    expect(manifest.suite).to.equal('sm2-sm3');
    const pages = (await gw!.api('GET', `/api/dossiers/${sm2Dossier}/pages`, prosecutor)).json as { index: number; sha256: string; sm3: string; signature: string }[];
    for (const p of pages) {
      const bytes = Buffer.from(await (await fetch(`${gw!.url}/api/dossiers/${sm2Dossier}/pages/${p.index}`, { headers: { authorization: `Bearer ${prosecutor}` } })).arrayBuffer());
      expect(p.sha256).to.equal(createHash('sha256').update(bytes).digest('hex'));
      expect(p.sm3).to.equal(createHash('sm3').update(bytes).digest('hex'));
      expect(manifest.pages[p.index - 1]).to.include({ sha256: p.sha256, sm3: p.sm3 });
      const statement = await verifyCompactJws(p.signature, jwks, ['SM2']);
      expect(JSON.parse(Buffer.from(statement.payload).toString())).to.include({ index: p.index, sha256: p.sha256, sm3: p.sm3 });
      const proof = fromProofJson((await gw!.api('GET', `/api/dossiers/${sm2Dossier}/pages/${p.index}/proof`, prosecutor)).json);
      expect(Buffer.from(proof.leafHash).equals(leafHash(Buffer.from(p.sm3, 'hex'), { hasher: sm3Hasher }))).to.equal(true);
      expect(Buffer.from(proof.root).toString('hex')).to.equal(d.merkleRoot);
      expect(verifyInclusion(proof, { hasher: sm3Hasher })).to.equal(true);
      expect(verifyInclusion(proof)).to.equal(false); // not a SHA-256 tree
    }
  });

  it('signs download links with SM2 after the switch; a changed token is refused, an expired one is 410', async () => {
    const link = (await gw!.api('POST', `/api/dossiers/${sm2Dossier}/links`, prosecutor, {})).json as { url: string };
    const token = decodeURIComponent(new URL(link.url).pathname.split('/')[2]!);
    expect(decodeProtectedHeader(token)).to.include({ alg: 'SM2', typ: 'dossier-link+jwt' });
    const linkJwks = gw!.gateway.linkKeys.publicJwks();
    await verifyCompactJws(token, linkJwks, ['SM2']);
    expect((await fetch(`${gw!.url}/d/${token}/info`)).status).to.equal(200);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, aud: 'court-1' })).toString('base64url')}.${s}`;
    expect((await fetch(`${gw!.url}/d/${forged}/info`)).status).to.equal(401);
    const short = (await gw!.api('POST', `/api/dossiers/${sm2Dossier}/links`, prosecutor, { ttl: 1 })).json as { url: string };
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(`${short.url}/info`)).status).to.equal(410);
  });

  it('verifies the audit chain across the switch, with checkpoints signed under each suite', async () => {
    const report = await gw!.gateway.audit.verify();
    expect(report.ok, report.reason).to.equal(true);
    const algs = new Set((await gw!.gateway.audit.checkpoints()).map((c) => decodeProtectedHeader(c.jws).alg));
    expect([...algs].sort()).to.deep.equal(['EdDSA', 'SM2']);
  });
});

async function receiptPath(src: Awaited<ReturnType<typeof openExport>>): Promise<string> {
  const found = (await src.list()).find((p) => p.startsWith('receipts/') && p.endsWith('.jws'));
  if (!found) throw new Error('no receipt in the export');
  return found;
}
