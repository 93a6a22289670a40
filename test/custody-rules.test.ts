/** The pure custody rules, and the AGENCIES_FILE reader. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Transfer } from '../dossier/custody/model.js';
import { checkAnswer, checkSend, custodianOf, type SendRequest } from '../dossier/custody/rules.js';
import { isDossierError } from '../dossier/errors.js';
import { readAgenciesFile } from '../runtime/agencies-file.js';
import { tempDir } from './support/fixtures.js';

let n = 0;
const t = (o: Partial<Transfer>): Transfer => ({
  id: `t${++n}`, dossierId: 'd', caseId: 'c', from: 'pol', to: 'proc', stage: 'prosecution', note: null, status: 'pending',
  sentBy: 'u', sentAt: new Date(n * 1000), answeredBy: null, answeredAt: null, reason: null, receipt: null, dueAt: null, overdueAt: null, ...o,
});
const codeOf = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return isDossierError(e) ? e.code : String(e);
  }
};
const send = (o: Partial<SendRequest>): SendRequest => ({
  agency: 'pol', dossier: { agency: 'pol', status: 'sealed' }, transfers: [], toAgency: 'proc', receiverRegistered: true, stageKnown: true, ...o,
});

describe('custody rules', () => {
  it('custody stays with the owner until a transfer is accepted, then follows the last acceptance', () => {
    const owner = { agency: 'pol' };
    expect(custodianOf(owner, [])).to.equal('pol');
    expect(custodianOf(owner, [t({ status: 'pending' }), t({ status: 'returned', answeredAt: new Date(5000), reason: 'x' })])).to.equal('pol');
    const accepted = t({ status: 'accepted', answeredAt: new Date(10_000) });
    const onward = t({ from: 'proc', to: 'court', status: 'accepted', answeredAt: new Date(20_000) });
    expect(custodianOf(owner, [onward, accepted])).to.equal('court');
    expect(custodianOf(owner, [accepted, t({ from: 'proc', to: 'court', status: 'returned', answeredAt: new Date(30_000), reason: 'x' })])).to.equal('proc');
  });

  it('send: only the custodian, only sealed, not to itself, only to a registered agency and stage, not while pending', () => {
    expect(codeOf(() => checkSend(send({})))).to.equal(null);
    expect(codeOf(() => checkSend(send({ agency: 'proc' })))).to.equal('forbidden');
    expect(codeOf(() => checkSend(send({ dossier: { agency: 'pol', status: 'processing' } })))).to.equal('conflict');
    expect(codeOf(() => checkSend(send({ toAgency: 'pol' })))).to.equal('bad_request');
    expect(codeOf(() => checkSend(send({ receiverRegistered: false })))).to.equal('unknown_agency');
    expect(codeOf(() => checkSend(send({ stageKnown: false })))).to.equal('bad_request');
    expect(codeOf(() => checkSend(send({ transfers: [t({ to: 'court' })] })))).to.equal('transfer_pending');
    // A returned receiver reads, but does not hold: it may not send.
    const returned = [t({ status: 'returned', answeredAt: new Date(), reason: 'x' })];
    expect(codeOf(() => checkSend(send({ agency: 'proc', toAgency: 'court', transfers: returned })))).to.equal('forbidden');
    expect(codeOf(() => checkSend(send({ transfers: returned })))).to.equal(null);
  });

  it('answer: only the receiver, only while pending, a return only with a reason', () => {
    expect(codeOf(() => checkAnswer('proc', t({}), 'accepted'))).to.equal(null);
    expect(codeOf(() => checkAnswer('pol', t({}), 'accepted'))).to.equal('forbidden');
    expect(codeOf(() => checkAnswer('proc', t({ status: 'accepted' }), 'returned', 'late'))).to.equal('conflict');
    expect(codeOf(() => checkAnswer('proc', t({}), 'returned', '  '))).to.equal('bad_request');
    expect(codeOf(() => checkAnswer('proc', t({}), 'returned', 'missing statements'))).to.equal(null);
  });

  it('AGENCIES_FILE: a bad list stops the start with the variable named', async () => {
    const dir = await tempDir('agencies-file-');
    try {
      const file = path.join(dir, 'a.json');
      await fs.writeFile(file, JSON.stringify([{ id: 'pol', name: 'Police', kind: 'police' }]));
      expect(await readAgenciesFile(file)).to.deep.equal([{ id: 'pol', name: 'Police', kind: 'police' }]);
      for (const bad of ['[{"id":"pol","name":"P","kind":"army"}]', '[{"id":"a","name":"A","kind":"court"},{"id":"a","name":"B","kind":"court"}]', 'not json']) {
        await fs.writeFile(file, bad);
        const err = await readAgenciesFile(file).catch((e: Error) => e);
        expect(err).to.be.instanceOf(Error);
        expect((err as Error).message).to.contain('AGENCIES_FILE');
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
