/**
 * Supervision and the event feed in the scale-out wiring: two gateway processes' worth of
 * composition on one PostgreSQL. Both run the overdue check's job, and each overdue transfer is
 * still marked and announced once; sends through both at once, read by a system polling the
 * feed from its cursor meanwhile, reach it each exactly once, in seq order.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { agenciesFile } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('supervision and the event feed on PostgreSQL, two processes', function () {
  this.timeout(120_000);
  let pg: EngineHandle;
  let dir: string;
  let a: TestGateway;
  let b: TestGateway;
  let caseId: string;
  let dossiers: string[];

  before(async function () {
    pg = await openOrSkip(this, postgresEngine());
    dir = await tempDir('supervision-pg-');
    const env = { DATABASE_URL: pg.url!, AGENCIES_FILE: await agenciesFile(dir), SUPERVISION_CHECK_INTERVAL: '1s' };
    a = await startGateway({ ...env, DATA_DIR: path.join(dir, 'a') });
    b = await startGateway({ ...env, DATA_DIR: path.join(dir, 'b') });
    caseId = (await a.api('POST', '/api/cases', await a.token('police-1', 'clerk'), { number: 'PG-S-1' })).json.id;
    // Sealed dossiers straight in the table: what is under test is custody and the feed, not ingest.
    dossiers = Array.from({ length: 21 }, (_, i) => `pg-sealed-${i}`);
    await pg.db.query(
      `INSERT INTO dossiers (id, case_id, agency_id, uploaded_by, filename, status, bytes, page_count, merkle_root, sealed_at)
       SELECT id, $2, 'police-1', 'test', 'scan.zip', 'sealed', 1000, 2, repeat('0', 64), now() FROM unnest($1::text[]) AS id`,
      [dossiers, caseId],
    );
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await pg?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('sends through both processes at once: a system reading the feed meanwhile gets each event once, in order', async () => {
    const reader = await b.token('procuratorate-1', 'prosecutor');
    const seen: { id: string; data: { dossierId: string } }[] = [];
    let cursor = '0';
    let sending = true;
    const poll = async () => {
      const r = await b.api('GET', `/api/events?after=${cursor}&limit=3`, reader);
      expect(r.status).to.equal(200);
      seen.push(...r.json.events);
      cursor = r.json.next;
      return r.json.events.length;
    };
    const polling = (async () => {
      while (sending) await poll();
    })();
    const clerks = [await a.token('police-1', 'clerk'), await b.token('police-1', 'clerk')];
    await Promise.all(dossiers.slice(0, 20).map(async (d, i) => {
      const gw = i % 2 === 0 ? a : b;
      const r = await gw.api('POST', `/api/dossiers/${d}/transfers`, clerks[i % 2]!, { toAgency: 'procuratorate-1', stage: 'prosecution' });
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
    }));
    sending = false;
    await polling;
    while ((await poll()) > 0);
    expect(seen.map((e) => e.data.dossierId).sort()).to.deep.equal(dossiers.slice(0, 20).sort());
    const ids = seen.map((e) => Number(e.id));
    expect(ids).to.deep.equal([...ids].sort((x, y) => x - y));
  });

  it('marks an overdue transfer once, though both processes run the check', async () => {
    const admin = await a.token('police-1', 'admin');
    expect((await a.api('PUT', '/api/stages/instant', admin, { label: { en: 'Instant', 'zh-CN': '即时' }, deadline: 'PT1S' })).status).to.equal(201);
    const r = await b.api('POST', `/api/dossiers/${dossiers[20]}/transfers`, await b.token('police-1', 'clerk'), { toAgency: 'procuratorate-1', stage: 'instant' });
    expect(r.status).to.equal(201);
    const overdueEvents = async () => (await pg.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'transfer.overdue' AND target_id = $1`, [r.json.id]))[0]!.n;
    await eventually(async () => ((await overdueEvents()) > 0 ? true : undefined), 30_000, 'transfer.overdue');
    // Both processes claim the check every second: let several rounds pass.
    const runs = async () => (await pg.db.query<{ run_at: Date }>(`SELECT run_at FROM jobs WHERE kind = 'supervision.overdue-check'`))[0]!.run_at.getTime();
    const first = await runs();
    await eventually(async () => ((await runs()) > first + 2500 ? true : undefined), 30_000, 'more checks');
    expect(await overdueEvents()).to.equal(1);
    const feed = (await a.api('GET', '/api/events?limit=1000', await a.token('police-1', 'clerk'))).json.events as { type: string; data: { transferId: string } }[];
    expect(feed.filter((e) => e.type === 'transfer.overdue' && e.data.transferId === r.json.id)).to.have.length(1);
  });
});
