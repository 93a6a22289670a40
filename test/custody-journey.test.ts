/**
 * The three-agency journey of issue 6: police upload and send to the procuratorate, which returns
 * the dossier with a reason; police supplement and resend; the procuratorate accepts under its own
 * case number and sends on to the court; the court accepts, downloads the export and verifies it
 * offline, custody receipts included.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { openExport } from '../scripts/support/export-source.js';
import { dossierCli } from './support/cli.js';
import { agenciesFile, downloadExport, exportNames, sealedDossier, send } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('custody journey: police → procuratorate (returned) → resend → court', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;
  let jwks: JSONWebKeySet;
  const t = { police: '', procClerk: '', prosecutor: '', judge: '' };
  let caseId: string;
  let first: { id: string; merkleRoot: string; pageCount: number };
  let supplement: { id: string; merkleRoot: string; pageCount: number };
  let returnedId: string;
  let acceptedId: string;
  let courtId: string;

  before(async () => {
    dir = await tempDir('custody-journey-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir) });
    t.police = await gw.token('police-1', 'clerk', { user: 'officer-li' });
    t.procClerk = await gw.token('procuratorate-1', 'clerk', { user: 'clerk-wang' });
    t.prosecutor = await gw.token('procuratorate-1', 'prosecutor', { user: 'prosecutor-zhao' });
    t.judge = await gw.token('court-1', 'judge', { user: 'judge-chen' });
    jwks = (await gw.api('GET', '/.well-known/jwks.json', null)).json;
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const payloadOf = async (jws: string) => JSON.parse(Buffer.from((await compactVerify(jws, createLocalJWKSet(jwks))).payload).toString('utf8'));

  it('registers the agencies of AGENCIES_FILE', async () => {
    const list = (await gw.api('GET', '/api/agencies', t.judge)).json.agencies;
    expect(list.map((a: { id: string; kind: string }) => `${a.id}:${a.kind}`)).to.deep.equal(['court-1:court', 'police-1:police', 'procuratorate-1:procuratorate']);
  });

  it('police upload a dossier and send it; the procuratorate finds it in its inbox', async () => {
    caseId = (await gw.api('POST', '/api/cases', t.police, { number: 'GA-2026-0417', title: 'Burglary' })).json.id;
    first = await sealedDossier(gw, t.police, caseId, 1, 3);
    expect((await gw.api('GET', `/api/cases/${caseId}`, t.prosecutor)).status).to.equal(404);
    returnedId = await send(gw, t.police, first.id, 'procuratorate-1', 'arrest-review', 'request for approval of arrest');

    const inbox = (await gw.api('GET', '/api/transfers?direction=in', t.prosecutor)).json.transfers;
    expect(inbox.map((x: any) => [x.id, x.status, x.fromAgency, x.stage, x.note])).to.deep.equal([[returnedId, 'pending', 'police-1', 'arrest-review', 'request for approval of arrest']]);
    expect((await gw.api('GET', '/api/transfers?direction=out', t.police)).json.transfers.map((x: any) => x.id)).to.deep.equal([returnedId]);
    expect((await gw.api('GET', '/api/transfers?direction=in', t.police)).json.transfers).to.deep.equal([]);
    // A pending transfer already shows the case to its receiver.
    expect((await gw.api('GET', `/api/dossiers/${first.id}`, t.prosecutor)).json.merkleRoot).to.equal(first.merkleRoot);
    const again = await gw.api('POST', `/api/dossiers/${first.id}/transfers`, t.police, { toAgency: 'court-1', stage: 'first-instance' });
    expect([again.status, again.json.error.code]).to.deep.equal([409, 'transfer_pending']);
  });

  it('the procuratorate returns it, with a reason, under a signed receipt', async () => {
    const noReason = await gw.api('POST', `/api/transfers/${returnedId}/return`, t.prosecutor, {});
    expect([noReason.status, noReason.json.error.code]).to.deep.equal([400, 'bad_request']);
    const res = await gw.api('POST', `/api/transfers/${returnedId}/return`, t.prosecutor, { reason: 'witness statements missing' });
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ status: 'returned', reason: 'witness statements missing', answeredBy: 'prosecutor-zhao' });
    const receipt = await payloadOf(res.json.receipt);
    expect(receipt).to.deep.include({
      v: 1, type: 'custody-receipt', transfer: returnedId, dossier: first.id, case: caseId, merkleRoot: first.merkleRoot,
      pageCount: 3, from: 'police-1', to: 'procuratorate-1', stage: 'arrest-review', decision: 'returned', reason: 'witness statements missing',
    });
    expect(Date.parse(receipt.time)).to.be.at.least(Date.parse(receipt.sentAt));
    const twice = await gw.api('POST', `/api/transfers/${returnedId}/accept`, t.prosecutor, {});
    expect(twice.status).to.equal(409);
  });

  it('the returned dossier stays readable, read-only, at the procuratorate', async () => {
    expect((await gw.api('GET', `/api/cases/${caseId}`, t.prosecutor)).status).to.equal(200);
    expect((await gw.api('GET', `/api/dossiers/${first.id}/pages/1`, t.prosecutor)).status).to.equal(200);
    const resend = await gw.api('POST', `/api/dossiers/${first.id}/transfers`, t.procClerk, { toAgency: 'court-1', stage: 'first-instance' });
    expect([resend.status, resend.json.error.code]).to.deep.equal([403, 'forbidden']);
  });

  it('police supplement the case with a new dossier and resend; a repeated Idempotency-Key sends once', async () => {
    supplement = await sealedDossier(gw, t.police, caseId, 2, 4);
    const post = () =>
      fetch(`${gw.url}/api/dossiers/${supplement.id}/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.police}`, 'content-type': 'application/json', 'idempotency-key': 'resend-0417' },
        body: JSON.stringify({ toAgency: 'procuratorate-1', stage: 'prosecution', note: 'supplemented: witness statements' }),
      });
    const [a, b] = [await post(), await post()];
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    const [ja, jb] = [(await a.json()) as { id: string }, await b.json()];
    expect(jb).to.deep.equal(ja);
    acceptedId = ja.id;
    expect((await gw.api('GET', `/api/dossiers/${supplement.id}/transfers`, t.police)).json.transfers).to.have.length(1);
  });

  it('the procuratorate accepts under its own case number; the case is found by either number', async () => {
    const res = await gw.api('POST', `/api/transfers/${acceptedId}/accept`, t.prosecutor, { caseNumber: 'JC-2026-88' });
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
    expect(res.json.status).to.equal('accepted');
    expect(await payloadOf(res.json.receipt)).to.deep.include({ decision: 'accepted', dossier: supplement.id, merkleRoot: supplement.merkleRoot, pageCount: 4, stage: 'prosecution' });
    for (const token of [t.prosecutor, t.police]) {
      for (const number of ['JC-2026-88', 'GA-2026-0417']) {
        const found = (await gw.api('GET', `/api/cases?number=${number}`, token)).json.cases;
        expect(found.map((c: { id: string }) => c.id), number).to.deep.equal([caseId]);
      }
    }
    const view = (await gw.api('GET', `/api/cases/${caseId}`, t.prosecutor)).json;
    expect(view.numbers).to.deep.equal([{ agency: 'police-1', number: 'GA-2026-0417' }, { agency: 'procuratorate-1', number: 'JC-2026-88' }]);
    expect((await gw.api('GET', '/api/cases?number=JC-2026-88', t.judge)).json.cases).to.deep.equal([]);
  });

  it('custody moved: the police may no longer send it, the procuratorate sends it to the court', async () => {
    const police = await gw.api('POST', `/api/dossiers/${supplement.id}/transfers`, t.police, { toAgency: 'court-1', stage: 'first-instance' });
    expect(police.status).to.equal(403);
    const self = await gw.api('POST', `/api/dossiers/${supplement.id}/transfers`, t.procClerk, { toAgency: 'procuratorate-1', stage: 'first-instance' });
    expect(self.status).to.equal(400);
    const unknown = await gw.api('POST', `/api/dossiers/${supplement.id}/transfers`, t.procClerk, { toAgency: 'court-9', stage: 'first-instance' });
    expect([unknown.status, unknown.json.error.code]).to.deep.equal([422, 'unknown_agency']);
    courtId = await send(gw, t.procClerk, supplement.id, 'court-1', 'first-instance', 'indictment attached');
    const wrongAgency = await gw.api('POST', `/api/transfers/${courtId}/accept`, t.prosecutor, {});
    expect(wrongAgency.status).to.equal(403); // the sender sees its transfer, but may not answer it
    const res = await gw.api('POST', `/api/transfers/${courtId}/accept`, t.judge, { caseNumber: 'FY-2026-7' });
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
  });

  it('the court downloads the export and verifies it offline, custody receipts included', async () => {
    const zip = path.join(dir, 'court.zip');
    await downloadExport(gw, t.judge, supplement.id, zip);
    expect((await exportNames(zip)).filter((n) => n.startsWith('receipts/'))).to.deep.equal([`receipts/0001-${acceptedId}.jws`, `receipts/0002-${courtId}.jws`]);
    const src = await openExport(zip);
    const report = await verifyExport(src, { jwks }).finally(() => src.close());
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.receipts.map((r) => [r.ok, r.from, r.to, r.stage, r.decision])).to.deep.equal([
      [true, 'police-1', 'procuratorate-1', 'prosecution', 'accepted'],
      [true, 'procuratorate-1', 'court-1', 'first-instance', 'accepted'],
    ]);

    const jwksFile = path.join(dir, 'jwks.json');
    await fs.writeFile(jwksFile, JSON.stringify(jwks));
    const cli = await dossierCli(['verify', zip, '--jwks', jwksFile, '--json']).done;
    expect(cli.code, cli.err).to.equal(0);
    expect(JSON.parse(cli.out).receipts).to.have.length(2);
    const text = await dossierCli(['verify', zip, '--jwks', jwksFile]).done;
    expect(text.out).to.contain('custody receipts 2/2 verified');
  });

  it('the first dossier’s export carries its return receipt', async () => {
    const zip = path.join(dir, 'first.zip');
    await downloadExport(gw, t.police, first.id, zip);
    const src = await openExport(zip);
    const report = await verifyExport(src, { jwks }).finally(() => src.close());
    expect(report.ok).to.equal(true);
    expect(report.receipts.map((r) => [r.decision, r.reason])).to.deep.equal([['returned', 'witness statements missing']]);
  });
});
