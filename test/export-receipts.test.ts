/** Custody receipts in the export, checked offline: forged, altered, moved from another dossier. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { openExport } from '../scripts/support/export-source.js';
import { dossierCli } from './support/cli.js';
import { agenciesFile, downloadExport, sealedDossier, send } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('custody receipts in the export', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;
  let jwks: JSONWebKeySet;
  let kid: string;
  let zip: string;
  let otherZip: string;
  let transferId: string;
  let otherTransferId: string;

  before(async () => {
    dir = await tempDir('export-receipts-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir) });
    const police = await gw.token('police-1', 'clerk');
    const prosecutor = await gw.token('procuratorate-1', 'prosecutor');
    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'R-1' })).json.id;
    const [a, b] = [await sealedDossier(gw, police, caseId, 11, 2), await sealedDossier(gw, police, caseId, 12, 3)];
    transferId = await send(gw, police, a.id, 'procuratorate-1', 'prosecution');
    otherTransferId = await send(gw, police, b.id, 'procuratorate-1', 'prosecution');
    for (const t of [transferId, otherTransferId]) expect((await gw.api('POST', `/api/transfers/${t}/accept`, prosecutor, {})).status).to.equal(200);
    zip = path.join(dir, 'a.zip');
    otherZip = path.join(dir, 'b.zip');
    await downloadExport(gw, prosecutor, a.id, zip);
    await downloadExport(gw, prosecutor, b.id, otherZip);
    jwks = (await gw.api('GET', '/.well-known/jwks.json', null)).json;
    kid = jwks.keys[0]!.kid!;
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function unpacked(from = zip): Promise<string> {
    const out = await fs.mkdtemp(path.join(dir, 'x-'));
    const src = await openExport(from);
    for (const p of await src.list()) {
      await fs.mkdir(path.dirname(path.join(out, p)), { recursive: true });
      await fs.writeFile(path.join(out, p), (await src.read(p))!);
    }
    await src.close();
    return out;
  }
  const check = async (where: string, trust: Parameters<typeof verifyExport>[1] = { jwks }) => {
    const src = await openExport(where);
    try {
      return await verifyExport(src, trust);
    } finally {
      await src.close();
    }
  };
  const receiptFile = (d: string, id = transferId) => path.join(d, 'receipts', `0001-${id}.jws`);
  const codes = (r: Awaited<ReturnType<typeof check>>) => r.problems.map((p) => p.code);

  it('verifies the receipt with the trusted JWKS and with the pinned export key', async () => {
    for (const trust of [{ jwks }, { pinnedKey: kid }]) {
      const r = await check(zip, trust);
      expect(r.problems).to.deep.equal([]);
      expect(r.receipts.map((x) => [x.path, x.ok, x.transfer, x.decision])).to.deep.equal([[`receipts/0001-${transferId}.jws`, true, transferId, 'accepted']]);
    }
  });

  it('catches an altered receipt', async () => {
    const d = await unpacked();
    const [h, p, s] = (await fs.readFile(receiptFile(d), 'utf8')).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    payload.to = 'court-1';
    await fs.writeFile(receiptFile(d), `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`);
    const r = await check(d);
    expect(codes(r)).to.deep.equal(['receipt_invalid']);
    expect(r.ok).to.equal(false);
  });

  it('catches a receipt forged with another key', async () => {
    const d = await unpacked();
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const evilKid = await calculateJwkThumbprint(await exportJWK(publicKey));
    const payload = Buffer.from((await fs.readFile(receiptFile(d), 'utf8')).split('.')[1]!, 'base64url');
    await fs.writeFile(receiptFile(d), await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: evilKid }).sign(privateKey));
    expect(codes(await check(d))).to.deep.equal(['receipt_invalid']);
    expect(codes(await check(d, { pinnedKey: kid }))).to.deep.equal(['receipt_invalid']);
  });

  it('catches the receipt of another dossier, under its own name or renamed', async () => {
    const d = await unpacked();
    const other = await fs.readFile(path.join(await unpacked(otherZip), 'receipts', `0001-${otherTransferId}.jws`));
    await fs.writeFile(path.join(d, 'receipts', `0002-${otherTransferId}.jws`), other);
    const r = await check(d);
    expect(codes(r)).to.deep.equal(['receipt_mismatch']);
    expect(r.problems[0]!.message).to.match(/is for dossier .*Merkle root.*3 pages/);

    const swapped = await unpacked();
    await fs.writeFile(receiptFile(swapped), other);
    expect(codes(await check(swapped))).to.deep.equal(['receipt_mismatch']);
  });

  it('the CLI reports receipts and exits 3 on a bad one', async () => {
    const jwksFile = path.join(dir, 'jwks.json');
    await fs.writeFile(jwksFile, JSON.stringify(jwks));
    const good = await dossierCli(['verify', zip, '--jwks', jwksFile]).done;
    expect(good.code, good.err).to.equal(0);
    expect(good.out).to.contain('custody receipts 1/1 verified');
    const d = await unpacked();
    await fs.writeFile(receiptFile(d), 'not.a.jws');
    const bad = await dossierCli(['verify', d, '--jwks', jwksFile, '--json']).done;
    expect(bad.code).to.equal(3);
    expect(JSON.parse(bad.out).receipts).to.deep.include({ path: `receipts/0001-${transferId}.jws`, ok: false, transfer: null, decision: null, from: null, to: null, stage: null, time: null });
  });
});
