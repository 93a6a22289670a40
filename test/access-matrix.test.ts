/**
 * The access matrix of issue 6. For every route about a case, a dossier or a transfer: an agency
 * that may not see it gets 404 with the very body a missing id gets (never a hint it exists), and
 * a role that may not act gets 403. Add a row per new route; the checks run for every row.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { expect } from 'chai';
import type { Role } from '../dossier/model.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { agenciesFile, sealedDossier, send } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tusErrorOf, tusUpload } from './support/tus.js';

interface Ids {
  readonly case: string;
  readonly dossier: string;
  readonly transfer: string;
}

interface Row {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: (ids: Ids) => string;
  readonly body?: unknown;
  /** A role that may use the route, and the agency (of the scenario) that sees the resource. */
  readonly role: Role;
  readonly insider: 'police-1' | 'procuratorate-1';
  /** A role of the insider agency that may not use the route: 403. */
  readonly denied: Role;
  /** For reads: the insider's status, which proves the row reaches a real route. */
  readonly insiderStatus?: number;
}

const POLICE = 'police-1';
const PROCURATORATE = 'procuratorate-1';

/** Routes over one case, one dossier (sealed, sent) and one pending transfer. */
const RESOURCE_ROUTES: Row[] = [
  { method: 'GET', path: (i) => `/api/cases/${i.case}`, role: 'clerk', insider: POLICE, denied: 'supervisor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages`, role: 'judge', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages/1`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages/1/thumbnail`, role: 'clerk', insider: POLICE, denied: 'auditor' },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages/1/image?width=300`, role: 'judge', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages/1/text`, role: 'clerk', insider: POLICE, denied: 'auditor' },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/pages/1/proof`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/manifest`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/export`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/export.pdf`, role: 'judge', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/audit?caseId=${i.case}`, role: 'auditor', insider: POLICE, denied: 'clerk', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/transfers`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'POST', path: (i) => `/api/dossiers/${i.dossier}/transfers`, body: { toAgency: 'court-1', stage: 'first-instance' }, role: 'clerk', insider: POLICE, denied: 'judge' },
  { method: 'POST', path: (i) => `/api/dossiers/${i.dossier}/links`, body: {}, role: 'clerk', insider: POLICE, denied: 'auditor' },
  { method: 'GET', path: (i) => `/api/dossiers/${i.dossier}/links`, role: 'clerk', insider: POLICE, denied: 'auditor', insiderStatus: 200 },
  { method: 'GET', path: (i) => `/api/transfers/${i.transfer}`, role: 'prosecutor', insider: PROCURATORATE, denied: 'auditor', insiderStatus: 200 },
  { method: 'POST', path: (i) => `/api/transfers/${i.transfer}/accept`, body: {}, role: 'prosecutor', insider: PROCURATORATE, denied: 'clerk' },
  { method: 'POST', path: (i) => `/api/transfers/${i.transfer}/return`, body: { reason: 'incomplete' }, role: 'judge', insider: PROCURATORATE, denied: 'clerk' },
];

/** Routes about no particular case: only the role matters. */
/** `denied: null`: any authenticated caller may use it (no role to refuse). */
const ROLE_ROUTES: { method: Row['method']; path: string; body?: unknown; denied: Role | null; allowed: Role; allowedStatus: number }[] = [
  { method: 'GET', path: '/api/transfers?direction=in', denied: 'auditor', allowed: 'judge', allowedStatus: 200 },
  { method: 'POST', path: '/api/agencies', body: { id: 'court-2', name: 'District Court', kind: 'court' }, denied: 'clerk', allowed: 'admin', allowedStatus: 201 },
  { method: 'PUT', path: '/api/stages/retrial', body: { label: { en: 'Retrial', 'zh-CN': '再审' }, deadline: 'P3M' }, denied: 'judge', allowed: 'admin', allowedStatus: 201 },
  { method: 'GET', path: '/api/accounts', denied: 'clerk', allowed: 'admin', allowedStatus: 200 },
  { method: 'POST', path: '/api/accounts', body: { user: 'matrix-user', roles: ['judge'], password: 'correct horse battery staple' }, denied: 'judge', allowed: 'admin', allowedStatus: 201 },
  { method: 'GET', path: '/api/agencies', denied: null, allowed: 'auditor', allowedStatus: 200 },
  { method: 'GET', path: '/api/stages', denied: null, allowed: 'supervisor', allowedStatus: 200 },
  // A status batch leaves out what the caller cannot see (test/dossier-status-batch.test.ts): no 404 to compare.
  { method: 'GET', path: `/api/dossiers?ids=${randomUUID()}`, denied: 'auditor', allowed: 'judge', allowedStatus: 200 },
];

describe('access matrix', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;
  let ids: Ids;
  let returned: { case: string; dossier: string; transfer: string };

  before(async () => {
    dir = await tempDir('access-matrix-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir) });
    const police = await gw.token(POLICE, 'clerk');
    const prosecutor = await gw.token(PROCURATORATE, 'prosecutor');
    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'M-1' })).json.id;
    const d = await sealedDossier(gw, police, caseId, 7, 2);
    ids = { case: caseId, dossier: d.id, transfer: await send(gw, police, d.id, PROCURATORATE, 'arrest-review') };

    const case2 = (await gw.api('POST', '/api/cases', police, { number: 'M-2' })).json.id;
    const d2 = await sealedDossier(gw, police, case2, 8, 2);
    const t2 = await send(gw, police, d2.id, PROCURATORATE, 'arrest-review');
    expect((await gw.api('POST', `/api/transfers/${t2}/return`, prosecutor, { reason: 'unsigned statement' })).status).to.equal(200);
    returned = { case: case2, dossier: d2.id, transfer: t2 };
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const call = async (row: { method: string; body?: unknown }, path: string, agency: string, role: Role) =>
    gw.api(row.method, path, await gw.token(agency, role), row.body);
  const missing = (): Ids => ({ case: randomUUID(), dossier: randomUUID(), transfer: randomUUID() });

  describe('an agency that may not see the case gets 404, the same as a missing id', () => {
    for (const row of RESOURCE_ROUTES) {
      it(`${row.method} ${row.path({ case: ':case', dossier: ':dossier', transfer: ':transfer' })}`, async () => {
        for (const outsider of ['court-1', 'unregistered-9']) {
          const hidden = await call(row, row.path(ids), outsider, row.role);
          const absent = await call(row, row.path(missing()), outsider, row.role);
          expect(hidden.status, `${outsider}: ${JSON.stringify(hidden.json)}`).to.equal(404);
          expect(hidden.json).to.deep.equal(absent.json);
          expect(hidden.json.error.message).to.not.equal('no such route');
        }
        if (row.insiderStatus) {
          const seen = await call(row, row.path(ids), row.insider, row.role);
          expect(seen.status, JSON.stringify(seen.json)).to.equal(row.insiderStatus);
        }
      });
    }
  });

  describe('a role that may not act gets 403', () => {
    for (const row of RESOURCE_ROUTES) {
      it(`${row.denied} on ${row.method} ${row.path({ case: ':case', dossier: ':dossier', transfer: ':transfer' })}`, async () => {
        const res = await call(row, row.path(ids), row.insider, row.denied);
        // A supervisor is refused content as if it did not exist (test/supervision-sweep.test.ts).
        const expected = row.denied === 'supervisor' ? [404, 'not_found'] : [403, 'forbidden'];
        expect([res.status, res.json.error.code], JSON.stringify(res.json)).to.deep.equal(expected);
      });
    }
    for (const row of ROLE_ROUTES) {
      it(`${row.denied ?? 'no role'} refused on ${row.method} ${row.path}, ${row.allowed} allowed`, async () => {
        if (row.denied) {
          const denied = await call(row, row.path, POLICE, row.denied);
          expect([denied.status, denied.json.error.code]).to.deep.equal([403, 'forbidden']);
        }
        const allowed = await call(row, row.path, POLICE, row.allowed);
        expect(allowed.status, JSON.stringify(allowed.json)).to.equal(row.allowedStatus);
      });
    }
  });

  describe('search answers an outsider as if the case did not exist', () => {
    it('GET /api/search with the case id of a hidden case: the same empty answer as a missing one', async () => {
      for (const outsider of ['court-1', 'unregistered-9']) {
        const hidden = await call({ method: 'GET' }, `/api/search?q=page&caseId=${ids.case}`, outsider, 'judge');
        const absent = await call({ method: 'GET' }, `/api/search?q=page&caseId=${randomUUID()}`, outsider, 'judge');
        expect([hidden.status, hidden.json]).to.deep.equal([200, { hits: [] }]);
        expect(hidden.json).to.deep.equal(absent.json);
      }
      expect((await call({ method: 'GET' }, `/api/search?q=page`, POLICE, 'auditor')).status).to.equal(403);
    });
  });

  describe('visibility follows transfers', () => {
    it('a pending transfer shows the case to its receiver, and to nobody else', async () => {
      expect((await call({ method: 'GET' }, `/api/cases/${ids.case}`, PROCURATORATE, 'prosecutor')).status).to.equal(200);
      const lists = await call({ method: 'GET' }, '/api/cases', 'court-1', 'judge');
      expect(lists.json.cases).to.deep.equal([]);
    });

    it('a returned transfer leaves its receiver a reader: it may read but not send, link, answer or add', async () => {
      for (const path of [`/api/cases/${returned.case}`, `/api/dossiers/${returned.dossier}`, `/api/dossiers/${returned.dossier}/pages/1`, `/api/dossiers/${returned.dossier}/export`]) {
        expect((await call({ method: 'GET' }, path, PROCURATORATE, 'prosecutor')).status, path).to.equal(200);
      }
      const sendOn = await call({ method: 'POST', body: { toAgency: 'court-1', stage: 'first-instance' } }, `/api/dossiers/${returned.dossier}/transfers`, PROCURATORATE, 'clerk');
      expect([sendOn.status, sendOn.json.error.code]).to.deep.equal([403, 'forbidden']);
      const link = await call({ method: 'POST', body: {} }, `/api/dossiers/${returned.dossier}/links`, PROCURATORATE, 'clerk');
      expect(link.status).to.equal(403);
      for (const answer of ['accept', 'return']) {
        const res = await call({ method: 'POST', body: { reason: 'again' } }, `/api/transfers/${returned.transfer}/${answer}`, PROCURATORATE, 'prosecutor');
        expect(res.status, answer).to.equal(409);
      }
      const upload = tusUpload(gw.url, await jpegPage(3), { token: await gw.token(PROCURATORATE, 'clerk'), metadata: { filename: 'x.jpg', caseId: returned.case } });
      const err = await upload.done.then(() => null, (e: unknown) => tusErrorOf(e));
      expect(err?.status).to.equal(403);
      // The owner still holds it and may send it again.
      expect((await call({ method: 'POST', body: { toAgency: PROCURATORATE, stage: 'arrest-review' } }, `/api/dossiers/${returned.dossier}/transfers`, POLICE, 'clerk')).status).to.equal(201);
    });
  });
});
