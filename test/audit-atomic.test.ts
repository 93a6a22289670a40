/**
 * A state change and its audit event commit together. While the chain refuses every append (a
 * CHECK constraint the test adds to audit_events), each action fails with 500 and leaves nothing
 * behind: no case, transfer, link, stage, agency or received upload without its mark. Once the
 * chain accepts appends again, the same actions succeed, and an upload whose finish failed is
 * taken up at the next start with its mark.
 */
import { expect } from 'chai';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { agenciesFile, sealedDossier } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { idFromUrl, tusUpload } from './support/tus.js';

describe('audit: a change and its event commit together', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: TestGateway;
  let clerk: string;
  let admin: string;
  let caseId: string;
  let dossier: string;

  const refuseAppends = () => gw.gateway.db.exec(`ALTER TABLE audit_events ADD CONSTRAINT audit_refuses CHECK (false) NOT VALID`);
  const acceptAppends = () => gw.gateway.db.exec(`ALTER TABLE audit_events DROP CONSTRAINT audit_refuses`);
  const count = async (sql: string, params: string[] = []) => Number((await gw.gateway.db.query<{ n: number }>(sql, params))[0]!.n);
  const actions = async () => (await gw.gateway.db.query<{ action: string }>('SELECT action FROM audit_events ORDER BY seq')).map((r) => r.action);

  before(async () => {
    dir = await tempDir('dossier-audit-atomic-');
    gw = await startGateway({ DATA_DIR: `${dir}/data`, AGENCIES_FILE: await agenciesFile(dir) });
    clerk = await gw.token('police-1', 'clerk');
    admin = await gw.token('police-1', 'admin');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'ATOMIC-1' })).json.id;
    dossier = (await sealedDossier(gw, clerk, caseId, 1, 2)).id;
  });
  after(async () => {
    await gw?.stop();
  });

  it('refuses each change whose event cannot be written, and keeps none of it', async () => {
    const before = await actions();
    await refuseAppends();
    try {
      const attempts = [
        await gw.api('POST', '/api/cases', clerk, { number: 'ATOMIC-2' }),
        await gw.api('POST', `/api/dossiers/${dossier}/transfers`, clerk, { toAgency: 'procuratorate-1', stage: 'prosecution' }),
        await gw.api('POST', `/api/dossiers/${dossier}/links`, clerk, {}),
        await gw.api('PUT', '/api/stages/retrial', admin, { label: { en: 'Retrial', 'zh-CN': '再审' }, deadline: 'P3M' }),
        await gw.api('POST', '/api/agencies', admin, { id: 'court-9', name: 'Another court', kind: 'court' }),
      ];
      expect(attempts.map((a) => a.status)).to.deep.equal([500, 500, 500, 500, 500]);
    } finally {
      await acceptAppends();
    }
    expect(await count(`SELECT count(*)::int AS n FROM cases WHERE number = 'ATOMIC-2'`)).to.equal(0);
    expect(await count(`SELECT count(*)::int AS n FROM case_numbers WHERE number = 'ATOMIC-2'`)).to.equal(0);
    expect(await count(`SELECT count(*)::int AS n FROM transfers WHERE dossier_id = $1`, [dossier])).to.equal(0);
    expect(await count(`SELECT count(*)::int AS n FROM links WHERE dossier_id = $1`, [dossier])).to.equal(0);
    expect(await count(`SELECT count(*)::int AS n FROM stages WHERE name = 'retrial'`)).to.equal(0);
    expect(await count(`SELECT count(*)::int AS n FROM agencies WHERE id = 'court-9'`)).to.equal(0);
    expect(await actions()).to.deep.equal(before);

    // The same requests now go through, each with its event.
    expect((await gw.api('POST', '/api/cases', clerk, { number: 'ATOMIC-2' })).status).to.equal(201);
    expect((await gw.api('POST', `/api/dossiers/${dossier}/transfers`, clerk, { toAgency: 'procuratorate-1', stage: 'prosecution' })).status).to.equal(201);
    expect((await gw.api('POST', `/api/dossiers/${dossier}/links`, clerk, {})).status).to.equal(201);
    expect((await gw.api('PUT', '/api/stages/retrial', admin, { label: { en: 'Retrial', 'zh-CN': '再审' }, deadline: 'P3M' })).status).to.equal(201);
    expect((await gw.api('POST', '/api/agencies', admin, { id: 'court-9', name: 'Another court', kind: 'court' })).status).to.equal(201);
    expect((await actions()).slice(before.length)).to.include.members(['case.create', 'transfer.send', 'link.create', 'stage.update', 'agency.create']);
    expect((await gw.api('GET', '/api/audit/verify', admin)).json).to.include({ ok: true });
  });

  it('an upload whose finish could not be recorded stays receiving, and is taken up at the next start with its mark', async () => {
    await refuseAppends();
    const upload = tusUpload(gw.url, await jpegPage(42), { token: clerk, metadata: { filename: 'late.jpg', caseId } });
    const failed = await upload.done.then(() => null, (err: unknown) => err);
    expect(failed, 'the last PATCH is refused').to.be.instanceOf(Error);
    await acceptAppends();
    const id = idFromUrl(upload.upload.url!);
    expect((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status).to.equal('receiving');
    expect(await count(`SELECT count(*)::int AS n FROM jobs WHERE key = $1`, [id])).to.equal(0);

    await gw.gateway.stop();
    gw = await startGateway({ DATA_DIR: `${dir}/data`, AGENCIES_FILE: await agenciesFile(dir) });
    clerk = await gw.token('police-1', 'clerk');
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed after restart');
    const marks = await gw.gateway.db.query<{ action: string; actor: string; details: unknown }>(`SELECT action, actor, details FROM audit_events WHERE target_id = $1 ORDER BY seq`, [id]);
    expect(marks.map((m) => m.action)).to.deep.equal(['dossier.upload', 'dossier.sealed']);
    expect(marks[0]!.actor).to.equal('system');
  });
});
