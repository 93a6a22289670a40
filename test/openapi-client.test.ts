/**
 * A client generated from /openapi.json runs the three-agency journey (issue 15): the types of
 * test/generated/api.d.ts (openapi-typescript, regenerated before every type check from the
 * document) type an openapi-fetch client, which creates the case, sends, accepts and reads the
 * event feeds of police, procuratorate and court. The upload itself is tus (tus-js-client): a
 * protocol of its own, which the document names but a JSON client does not speak.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import createClient from 'openapi-fetch';
import { apiTypesOf, GENERATED } from '../scripts/generate-api-client.js';
import type { paths } from './generated/api.js';
import { agenciesFile, sealedDossier } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('generated OpenAPI client: police → procuratorate → court', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  /** One typed client per caller, as each agency's system would hold its own. */
  const clientFor = (token: string) => createClient<paths>({ baseUrl: gw.url, headers: { authorization: `Bearer ${token}` } });
  let police: ReturnType<typeof clientFor>;
  let procClerk: ReturnType<typeof clientFor>;
  let prosecutor: ReturnType<typeof clientFor>;
  let judge: ReturnType<typeof clientFor>;
  let policeToken: string;

  before(async () => {
    dir = await tempDir('openapi-client-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir) });
    policeToken = await gw.token('police-1', 'clerk', { user: 'officer-li' });
    police = clientFor(policeToken);
    procClerk = clientFor(await gw.token('procuratorate-1', 'clerk', { user: 'clerk-wang' }));
    prosecutor = clientFor(await gw.token('procuratorate-1', 'prosecutor', { user: 'prosecutor-zhao' }));
    judge = clientFor(await gw.token('court-1', 'judge', { user: 'judge-chen' }));
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is typed by the document the gateway serves', async () => {
    const served = await (await fetch(`${gw.url}/openapi.json`)).json();
    const generated = await fs.readFile(GENERATED, 'utf8').catch(() => null);
    // Absent when mocha runs without the type check before it (npm run test:fast): nothing to compare.
    if (generated !== null) expect(generated.endsWith(await apiTypesOf(served as object)), 'test/generated/api.d.ts is stale: npm run generate:api').to.equal(true);
  });

  it('runs the journey: case, upload, send, accept, send on, accept, every agency’s events', async () => {
    const created = await police.POST('/api/cases', { body: { number: 'GA-2026-0907', title: 'Fraud' }, params: { header: { 'Idempotency-Key': 'case-0907' } } });
    expect(created.response.status, JSON.stringify(created.error)).to.equal(201);
    const caseId = created.data!.id!;
    const again = await police.POST('/api/cases', { body: { number: 'GA-2026-0907', title: 'Fraud' }, params: { header: { 'Idempotency-Key': 'case-0907' } } });
    expect(again.data?.id).to.equal(caseId);

    const uploaded = await sealedDossier(gw, policeToken, caseId, 907, 3);
    const dossier = await police.GET('/api/dossiers/{id}', { params: { path: { id: uploaded.id } } });
    expect(dossier.data).to.include({ status: 'sealed', pageCount: 3, merkleRoot: uploaded.merkleRoot });

    const sent = await police.POST('/api/dossiers/{id}/transfers', { params: { path: { id: uploaded.id } }, body: { toAgency: 'procuratorate-1', stage: 'prosecution', note: 'for review' } });
    expect(sent.response.status, JSON.stringify(sent.error)).to.equal(201);
    const first = sent.data!;
    expect(first.status).to.equal('pending');
    const pending = await police.GET('/api/transfers/{id}', { params: { path: { id: first.id } } });
    expect(pending.data).to.include({ status: 'pending', fromAgency: 'police-1', toAgency: 'procuratorate-1', stage: 'prosecution', note: 'for review' });
    const refused = await police.POST('/api/dossiers/{id}/transfers', { params: { path: { id: uploaded.id } }, body: { toAgency: 'court-9', stage: 'prosecution' } });
    expect([refused.response.status, refused.error?.error.code]).to.deep.equal([422, 'unknown_agency']);

    const inbox = await prosecutor.GET('/api/transfers', { params: { query: { direction: 'in', status: 'pending' } } });
    expect(inbox.data?.transfers?.map((t) => t.id)).to.deep.equal([first.id]);
    const accepted = await prosecutor.POST('/api/transfers/{id}/accept', { params: { path: { id: first.id } }, body: { caseNumber: 'JC-2026-31' } });
    expect(accepted.response.status, JSON.stringify(accepted.error)).to.equal(200);
    expect(accepted.data).to.include({ status: 'accepted', answeredBy: 'prosecutor-zhao' });
    expect(accepted.data!.receipt).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const onward = await procClerk.POST('/api/dossiers/{id}/transfers', { params: { path: { id: uploaded.id } }, body: { toAgency: 'court-1', stage: 'first-instance' } });
    expect(onward.response.status, JSON.stringify(onward.error)).to.equal(201);
    const second = onward.data!;
    const atCourt = await judge.POST('/api/transfers/{id}/accept', { params: { path: { id: second.id } }, body: {} });
    expect(atCourt.data?.status).to.equal('accepted');
    const history = await judge.GET('/api/dossiers/{id}/transfers', { params: { path: { id: uploaded.id } } });
    expect(history.data?.transfers?.map((t) => [t.fromAgency, t.toAgency, t.status])).to.deep.equal([
      ['police-1', 'procuratorate-1', 'accepted'],
      ['procuratorate-1', 'court-1', 'accepted'],
    ]);

    /** An agency's whole feed, read from cursor 0 through the typed client, two events a page. */
    const feedOf = async (client: ReturnType<typeof clientFor>) => {
      const events: { type: string; transferId: unknown }[] = [];
      let after = '0';
      for (;;) {
        const page = await client.GET('/api/events', { params: { query: { after, limit: 2 } } });
        expect(page.response.status, JSON.stringify(page.error)).to.equal(200);
        const got = page.data!.events ?? [];
        events.push(...got.map((e) => ({ type: e.type, transferId: (e.data as Record<string, unknown>).transferId })));
        if (got.length === 0) return events;
        after = page.data!.next!;
      }
    };
    // dossier.searchable comes when the pages' OCR ends, at its own time: once, and apart from the custody order.
    const policeFeed = await eventually(async () => {
      const feed = await feedOf(police);
      return feed.some((e) => e.type === 'dossier.searchable') ? feed : undefined;
    }, 60_000, 'dossier.searchable in the police feed');
    expect(policeFeed.filter((e) => e.type === 'dossier.searchable')).to.have.length(1);
    expect(policeFeed.filter((e) => e.type !== 'dossier.searchable')).to.deep.equal([
      { type: 'dossier.sealed', transferId: undefined },
      { type: 'transfer.accepted', transferId: first.id },
    ]);
    expect(await feedOf(prosecutor)).to.deep.equal([
      { type: 'transfer.received', transferId: first.id },
      { type: 'transfer.accepted', transferId: first.id },
      { type: 'transfer.accepted', transferId: second.id },
    ]);
    expect(await feedOf(judge)).to.deep.equal([
      { type: 'transfer.received', transferId: second.id },
      { type: 'transfer.accepted', transferId: second.id },
    ]);
  });
});
