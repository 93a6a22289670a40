/** Custody storage on PGlite and PostgreSQL: visibility through transfers, case numbers, the one-pending rule. */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { isDossierError } from '../dossier/errors.js';
import type { NewTransfer } from '../dossier/ports/custody.js';
import { migrate } from '../storage/db/migrate.js';
import { SqlAgencyRepository } from '../storage/db/agency-repository.js';
import { SqlCaseNumberRepository } from '../storage/db/case-number-repository.js';
import { SqlCaseRepository } from '../storage/db/case-repository.js';
import { SqlDossierRepository } from '../storage/db/dossier-repository.js';
import { SqlStageRepository } from '../storage/db/stage-repository.js';
import { SqlTransferRepository } from '../storage/db/transfer-repository.js';
import { forEachEngine } from './support/databases.js';

const codeOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (isDossierError(e) ? e.code : e));

forEachEngine('custody storage', (get) => {
  let repos: {
    cases: SqlCaseRepository; dossiers: SqlDossierRepository; transfers: SqlTransferRepository;
    agencies: SqlAgencyRepository; stages: SqlStageRepository; numbers: SqlCaseNumberRepository;
  };
  before(async () => {
    const db = get().db;
    await migrate(db);
    repos = {
      cases: new SqlCaseRepository(db), dossiers: new SqlDossierRepository(db), transfers: new SqlTransferRepository(db),
      agencies: new SqlAgencyRepository(db), stages: new SqlStageRepository(db), numbers: new SqlCaseNumberRepository(db),
    };
    for (const [id, kind] of [['pol', 'police'], ['proc', 'procuratorate'], ['court', 'court']] as const) {
      await repos.agencies.upsert({ id, name: id.toUpperCase(), kind });
    }
  });

  async function sealedDossierOnNewCase(number: string) {
    const c = await repos.cases.create({ id: randomUUID(), number, title: '', agency: 'pol', createdBy: 'u' });
    const id = randomUUID();
    await repos.dossiers.create({ id, caseId: c.id, agency: 'pol', uploadedBy: 'u', filename: 'f.pdf', title: null, declaredBytes: 1 });
    await repos.dossiers.markReceived(id, 1, 'ab'.repeat(32));
    await repos.dossiers.seal(id, { merkleRoot: 'cd'.repeat(32), manifestJws: 'x.y.z', kid: 'k', sealedAt: new Date(), pageCount: 1 });
    return { caseId: c.id, dossierId: id };
  }
  const transfer = (x: { caseId: string; dossierId: string }, o: Partial<NewTransfer> = {}): NewTransfer => ({
    id: randomUUID(), dossierId: x.dossierId, caseId: x.caseId, from: 'pol', to: 'proc', stage: 'arrest-review', note: null, sentBy: 'u', idempotencyKey: null, ...o,
  });
  const answer = (status: 'accepted' | 'returned', extra: { caseNumber?: string } = {}) => ({
    status, by: 'p', at: new Date(), reason: status === 'returned' ? 'missing' : null, receipt: 'r.e.c', ...extra,
  });
  const sees = async (agency: string, x: { caseId: string; dossierId: string }) => ({
    case: (await repos.cases.findVisible(x.caseId, agency)) !== null,
    dossier: (await repos.dossiers.findVisible(x.dossierId, agency)) !== null,
    listed: (await repos.cases.listVisible(agency, { limit: 500, offset: 0 })).some((c) => c.id === x.caseId),
  });

  it('seeds the four default stages with Chinese labels and ISO 8601 deadlines', async () => {
    const stages = await repos.stages.list();
    expect(stages.map((s) => [s.name, s.label['zh-CN'], s.deadline])).to.deep.equal([
      ['arrest-review', '审查逮捕', 'P7D'], ['prosecution', '审查起诉', 'P1M'], ['first-instance', '一审', 'P2M'], ['appeal', '二审', 'P2M'],
    ]);
    expect(await repos.stages.put('appeal', { label: { en: 'Appeal', 'zh-CN': '二审' }, deadline: 'P3M' })).to.deep.include({ created: false });
    const added = await repos.stages.put('retrial', { label: { en: 'Retrial', 'zh-CN': '再审' }, deadline: 'P6M' });
    expect(added).to.deep.equal({ created: true, stage: { name: 'retrial', label: { en: 'Retrial', 'zh-CN': '再审' }, deadline: 'P6M', order: 50 } });
  });

  it('shows a case to the receiver of a pending, accepted or returned transfer, and to nobody else', async () => {
    const x = await sealedDossierOnNewCase('V-1');
    expect(await sees('proc', x)).to.deep.equal({ case: false, dossier: false, listed: false });
    const t = await repos.transfers.create(transfer(x));
    expect(await sees('proc', x)).to.deep.equal({ case: true, dossier: true, listed: true });
    expect(await sees('court', x)).to.deep.equal({ case: false, dossier: false, listed: false });
    await repos.transfers.answer(t.transfer.id, answer('returned'));
    expect(await sees('proc', x)).to.deep.equal({ case: true, dossier: true, listed: true });
    expect(await repos.transfers.findVisible(t.transfer.id, 'court')).to.equal(null);
    expect((await repos.transfers.findVisible(t.transfer.id, 'pol'))?.status).to.equal('returned');
  });

  it('keeps one pending transfer per dossier; an idempotency key replays the first', async () => {
    const x = await sealedDossierOnNewCase('P-1');
    const first = await repos.transfers.create(transfer(x, { idempotencyKey: 'k-1' }));
    expect(first.created).to.equal(true);
    const replay = await repos.transfers.create(transfer(x, { idempotencyKey: 'k-1' }));
    expect(replay).to.deep.equal({ created: false, transfer: first.transfer });
    expect(await codeOf(repos.transfers.create(transfer(x)))).to.equal('transfer_pending');
    expect(await codeOf(repos.transfers.create(transfer(x, { idempotencyKey: 'k-1', to: 'court' })))).to.equal('idempotency_key_reused');
    await repos.transfers.answer(first.transfer.id, answer('accepted'));
    expect(await codeOf(repos.transfers.answer(first.transfer.id, answer('returned')))).to.equal('conflict');
    expect((await repos.transfers.create(transfer(x, { from: 'proc', to: 'court' }))).created).to.equal(true);
    expect((await repos.transfers.receipts(x.dossierId)).map((r) => r.transferId)).to.deep.equal([first.transfer.id]);
  });

  it('records the receiver’s own case number with its answer; numbers are unique per agency', async () => {
    const x = await sealedDossierOnNewCase('N-1');
    const y = await sealedDossierOnNewCase('N-2');
    const tx = await repos.transfers.create(transfer(x));
    const ty = await repos.transfers.create(transfer(y));
    await repos.transfers.answer(tx.transfer.id, answer('accepted', { caseNumber: 'JC-1' }));
    // Taken by another case of the same agency: the whole answer rolls back.
    expect(await codeOf(repos.transfers.answer(ty.transfer.id, answer('accepted', { caseNumber: 'JC-1' })))).to.equal('conflict');
    expect((await repos.transfers.get(ty.transfer.id))?.status).to.equal('pending');
    expect((await repos.numbers.numbersOf([x.caseId])).get(x.caseId)).to.deep.equal([{ agency: 'pol', number: 'N-1' }, { agency: 'proc', number: 'JC-1' }]);
    expect((await repos.cases.listVisible('proc', { limit: 10, offset: 0, number: 'JC-1' })).map((c) => c.id)).to.deep.equal([x.caseId]);
    expect((await repos.cases.listVisible('proc', { limit: 10, offset: 0, number: 'N-1' })).map((c) => c.id)).to.deep.equal([x.caseId]);
    expect(await repos.cases.listVisible('court', { limit: 10, offset: 0, number: 'JC-1' })).to.deep.equal([]);
    // The procuratorate's own new case cannot reuse a number it gave a received case.
    expect(await codeOf(repos.cases.create({ id: randomUUID(), number: 'JC-1', title: '', agency: 'proc', createdBy: 'u' }))).to.equal('conflict');
  });
});
