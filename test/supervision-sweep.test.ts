/**
 * The supervisor never reaches content: a sweep over every bearer route of the app's own route
 * table (not a hand-picked list), with the ids of real resources the supervisor's agency could
 * otherwise see. Only the supervision metadata routes answer; every other route is 404. A route
 * added later is swept too, and fails here until it is given ids (PARAMS) or is allowed.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { isSupervisorRoute } from '../server/supervisor-guard.js';
import { COMMITTEE, agenciesWithCommittee, sealedDossier, send } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { routeTable, type RouteEntry } from './support/route-table.js';

/**
 * Routes without a bearer token: public documents, signed links that carry their own credential,
 * the web application's page, and signing in and out (the session itself holds no content).
 */
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/openapi\.json$/, /^\/\.well-known\//, /^\/d\//, /^\/$/, /^\/index\.html$/, /^\/api\/session(\/|$)/, /^\/oauth\/token$/];

describe('supervisor sweep over the route table', function () {
  this.timeout(120_000);
  let dir: string;
  let gw: TestGateway;
  let ids: Record<string, string>;
  let routes: RouteEntry[];

  before(async () => {
    dir = await tempDir('supervision-sweep-');
    // A checkpoint with every event: GET /api/audit/checkpoint has one to answer.
    gw = await startGateway({ AGENCIES_FILE: await agenciesWithCommittee(dir), AUDIT_CHECKPOINT_EVERY: '1', WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'SW-1' })).json.id;
    const d = await sealedDossier(gw, clerk, caseId, 61, 2);
    const link = await gw.api('POST', `/api/dossiers/${d.id}/links`, clerk, {});
    expect(link.status).to.equal(201);
    const hook = await gw.api('POST', '/api/webhooks', await gw.token('police-1', 'admin'), { url: 'http://127.0.0.1:9/hook', events: ['dossier.sealed'] });
    expect(hook.status).to.equal(201);
    ids = { cases: caseId, dossiers: d.id, transfers: await send(gw, clerk, d.id, 'procuratorate-1', 'arrest-review'), links: link.json.id, stages: 'prosecution', files: d.id, pages: '1', webhooks: hook.json.id, accounts: 'sweep-user' };
    routes = routeTable(gw.gateway.app).filter((r) => !PUBLIC.some((p) => p.test(r.path)));
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The route's path with the ids of the scenario: `:id` after /dossiers/ is the dossier's, and so on. */
  const concrete = (path: string): string =>
    path.replace(/\/([a-z]+)\/(:\w+|\*\w+)/g, (_m, collection: string, _param: string) => {
      const id = ids[collection];
      if (!id) throw new Error(`no id for ${collection} in ${path}: add one to the sweep's scenario`);
      return `/${collection}/${id}`;
    });

  const methodsOf = (r: RouteEntry) => (r.method === 'ALL' ? ['HEAD', 'POST', 'PATCH', 'DELETE'] : [r.method]);

  it('the table holds every kind of content route', () => {
    const paths = routes.map((r) => r.path);
    for (const p of ['/api/dossiers/:id/pages/:n', '/api/dossiers/:id/pages/:n/text', '/api/dossiers/:id/pages/:n/thumbnail', '/api/dossiers/:id/export', '/api/dossiers/:id/links', '/api/search', '/api/links/:id']) {
      expect(paths).to.include(p);
    }
    expect(routes.length).to.be.greaterThan(25);
  });

  for (const who of [
    { agency: 'police-1', roles: ['supervisor'] as const, what: 'a supervisor of the agency that owns everything' },
    { agency: 'police-1', roles: ['clerk', 'supervisor'] as const, what: 'a clerk who is also a supervisor' },
    { agency: COMMITTEE.id, roles: ['supervisor'] as const, what: 'the committee’s supervisor' },
  ]) {
    it(`${who.what}: 404 on every route but the supervision metadata`, async () => {
      const token = await gw.token(who.agency, [...who.roles]);
      const clerk = await gw.token('police-1', 'clerk');
      const answered: string[] = [];
      for (const route of routes) {
        const path = concrete(route.path);
        for (const method of methodsOf(route)) {
          const body = method === 'GET' || method === 'HEAD' ? undefined : {};
          const res = await gw.api(method, path, token, body);
          const where = `${method} ${path}`;
          if (isSupervisorRoute(method, route.path.replace(/^\/api/, ''))) {
            expect(res.status, `${where}: ${JSON.stringify(res.json)}`).to.equal(200);
            answered.push(route.path);
            continue;
          }
          expect(res.status, `${where}: ${JSON.stringify(res.json)}`).to.equal(404);
          if (method !== 'HEAD') expect(res.json.error.code).to.equal('not_found');
          // The ids are real: the owning agency's clerk reaches the same GET route.
          if (method === 'GET') {
            const control = await gw.api(method, path, clerk);
            expect(control.json?.error?.message, `${where} as the clerk`).to.not.equal('no such route');
            if (!path.startsWith('/api/supervision') && !path.startsWith('/api/audit')) expect(control.status, `${where} as the clerk`).to.not.equal(404);
          }
        }
      }
      expect(answered).to.include.members(['/api/supervision/overdue', '/api/stats', '/api/events']);
    });
  }
});
