/**
 * Idempotency-Key on every POST that creates something (issue 15): the same key and request
 * answer the first response again and create nothing more; the same key with another request is
 * 422 idempotency_key_reused; two concurrent requests with one key create one thing. The table
 * is held against the app's route table: a new creating POST must be added here.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { agenciesFile, sealedDossier } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { routeTable } from './support/route-table.js';

/**
 * POST routes that answer or act on something existing rather than create (and tus, which has its
 * own protocol), and signing in: a session is a credential, never replayed.
 */
const NOT_CREATING = ['/api/transfers/:id/accept', '/api/transfers/:id/return', '/api/webhooks/:id/redeliver', '/api/session'];

describe('Idempotency-Key on creating POSTs', function () {
  this.timeout(120_000);
  let dir: string;
  let gw: TestGateway;
  let dossiers: string[];

  interface Creating {
    readonly route: string;
    readonly path: () => string;
    readonly agency: string;
    readonly role: 'clerk' | 'admin';
    readonly body: (n: number) => Record<string, unknown>;
    /** Counts what exists, to prove a replay created nothing. */
    readonly count: () => Promise<number>;
  }
  const sql = (q: string) => async () => (await gw.gateway.db.query<{ n: number }>(q))[0]!.n;
  const CREATING: Creating[] = [
    { route: '/api/cases', path: () => '/api/cases', agency: 'police-1', role: 'clerk', body: (n) => ({ number: `IK-${n}` }), count: sql(`SELECT count(*)::int AS n FROM cases`) },
    { route: '/api/agencies', path: () => '/api/agencies', agency: 'police-1', role: 'admin', body: (n) => ({ id: `court-${n + 10}`, name: 'District court', kind: 'court' }), count: sql(`SELECT count(*)::int AS n FROM agencies`) },
    { route: '/api/dossiers/:id/links', path: () => `/api/dossiers/${dossiers[0]}/links`, agency: 'police-1', role: 'clerk', body: (n) => ({ ttl: `${n + 1}h` }), count: sql(`SELECT count(*)::int AS n FROM links`) },
    { route: '/api/dossiers/:id/transfers', path: () => `/api/dossiers/${dossiers[1]}/transfers`, agency: 'police-1', role: 'clerk', body: (n) => ({ toAgency: 'procuratorate-1', stage: n === 1 ? 'prosecution' : 'arrest-review' }), count: sql(`SELECT count(*)::int AS n FROM transfers`) },
    { route: '/api/accounts', path: () => '/api/accounts', agency: 'police-1', role: 'admin', body: (n) => ({ user: `ik-user-${n}`, roles: ['clerk'], password: 'correct horse battery staple' }), count: sql(`SELECT count(*)::int AS n FROM accounts`) },
    { route: '/api/webhooks', path: () => '/api/webhooks', agency: 'police-1', role: 'admin', body: (n) => ({ url: `http://127.0.0.1:${n}/hook`, events: ['dossier.sealed'] }), count: sql(`SELECT count(*)::int AS n FROM webhooks`) },
  ];

  before(async () => {
    dir = await tempDir('idempotency-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'IK-base' })).json.id;
    dossiers = await Promise.all([101, 102].map(async (seed) => (await sealedDossier(gw, clerk, caseId, seed, 1)).id));
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const post = async (c: Creating, key: string, body: unknown) => {
    const res = await fetch(`${gw.url}${c.path()}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.token(c.agency, c.role)}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  it('covers every POST route that creates something', () => {
    const posts = routeTable(gw.gateway.app).filter((r) => r.method === 'POST' && r.path.startsWith('/api/')).map((r) => r.path);
    expect(posts.filter((p) => !NOT_CREATING.includes(p)).sort()).to.deep.equal(CREATING.map((c) => c.route).sort());
  });

  for (const c of CREATING) {
    it(`POST ${c.route}: a replay answers the first response; another request with the key is 422`, async () => {
      const before = await c.count();
      const first = await post(c, `key-${c.route}`, c.body(1));
      expect(first.status, JSON.stringify(first.json)).to.equal(201);
      const again = await post(c, `key-${c.route}`, c.body(1));
      expect(again).to.deep.equal(first);
      expect(await c.count()).to.equal(before + 1);
      const other = await post(c, `key-${c.route}`, c.body(2));
      expect([other.status, other.json.error?.code], JSON.stringify(other.json)).to.deep.equal([422, 'idempotency_key_reused']);
      expect(await c.count()).to.equal(before + 1);
    });
  }

  it('two concurrent requests with one key create one case and get the same answer', async () => {
    const cases = CREATING[0]!;
    const before = await cases.count();
    const [a, b] = await Promise.all([post(cases, 'race', { number: 'IK-race' }), post(cases, 'race', { number: 'IK-race' })]);
    expect(a).to.deep.equal(b);
    expect(a.status).to.equal(201);
    expect(await cases.count()).to.equal(before + 1);
  });

  it('keys are the caller agency’s own: another agency’s same key creates its own', async () => {
    const cases = CREATING[0]!;
    const mine = await post(cases, 'shared-key', { number: 'IK-own' });
    const theirs = await post({ ...cases, agency: 'court-1' }, 'shared-key', { number: 'IK-own' });
    expect(theirs.status).to.equal(201);
    expect(theirs.json.id).to.not.equal(mine.json.id);
    expect((await post(cases, 'bad key with spaces', { number: 'IK-x' })).status).to.equal(400);
  });
});
