/**
 * Supervision and integration benchmark (`npm run bench -- --only supervision [--transfers N]
 * [--database-url URL]`), on PostgreSQL in a schema of its own (dropped afterwards):
 *
 * 1. N transfers (default 100,000) generated with SQL — their cases, sealed dossiers, agencies,
 *    stages, a year of sending times, accepted / returned / pending, return reasons; the rollups
 *    of migration 020 kept by their triggers meanwhile — then GET /api/stats through a gateway
 *    composed in this process (HTTP over loopback, a committee supervisor: every agency),
 *    unfiltered and filtered by agency, stage and window: p50/p95; then in-process, the rollups
 *    against the scan of every transfer (the exact path), whose figures they must equal.
 * 2. The overdue check over the same transfers: the first run marks every overdue pending
 *    transfer (each with its audit event and feed rows), the next one finds nothing new.
 * 3. Webhook deliveries per second to a receiver on 127.0.0.1: one subscription (strictly in
 *    order, one request at a time) and four subscriptions pumped at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { configFromEnv } from '../../runtime/config.js';
import { compose } from '../../runtime/compose.js';
import { issueToken } from '../../dossier/access/tokens.js';
import { checkOverdue } from '../../dossier/supervision/overdue-check.js';
import { pump } from '../../dossier/integration/webhook-delivery.js';
import { SqlTransactions } from '../../storage/db/database.js';
import { SqlSubscriptionRepository } from '../../storage/db/webhook-repository.js';
import { HttpWebhookSender } from '../../storage/webhooks/http-webhook-sender.js';
import { fmt } from './measure.js';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Cases, sealed dossiers and transfers, all in SQL: one transfer per dossier, five dossiers a case. */
export const GENERATE = (n: number) => `
INSERT INTO agencies (id, name, kind) SELECT 'police-' || i, 'Police ' || i, 'police' FROM generate_series(1, 6) i;
INSERT INTO agencies (id, name, kind) SELECT 'procuratorate-' || i, 'Procuratorate ' || i, 'procuratorate' FROM generate_series(1, 3) i;
INSERT INTO agencies (id, name, kind) SELECT 'court-' || i, 'Court ' || i, 'court' FROM generate_series(1, 2) i;
INSERT INTO agencies (id, name, kind) VALUES ('committee-1', 'Committee', 'committee');
INSERT INTO cases (id, number, title, agency_id, created_by, created_at)
  SELECT md5('case' || i)::uuid, 'B-' || i, 'Bench case ' || i, 'police-' || (1 + i % 6), 'bench', now() - interval '1 year'
    FROM generate_series(1, ${Math.ceil(n / 5)}) i;
INSERT INTO dossiers (id, case_id, agency_id, uploaded_by, filename, status, bytes, sha256, page_count, pages_done, sealed_at, searchable_at)
  SELECT 'd' || i, md5('case' || (1 + (i - 1) / 5))::uuid, 'police-' || (1 + (1 + (i - 1) / 5) % 6), 'bench', 'scan.zip', 'sealed',
         (1 + i % 400) * 230000, md5('d' || i) || md5('x' || i), 1 + i % 400, 1 + i % 400, now() - interval '1 year',
         CASE WHEN i % 100 = 0 THEN NULL ELSE now() - interval '1 year' END
    FROM generate_series(1, ${n}) i;
INSERT INTO transfers (id, dossier_id, case_id, from_agency, to_agency, stage, status, sent_by, sent_at, due_at, answered_by, answered_at, reason, receipt, pages, bytes)
  SELECT md5('t' || i)::uuid, 'd' || i, md5('case' || (1 + (i - 1) / 5))::uuid, 'police-' || (1 + (1 + (i - 1) / 5) % 6),
         CASE WHEN i % 7 = 0 THEN 'court-' || (1 + i % 2) ELSE 'procuratorate-' || (1 + i % 3) END,
         st.name, s.status, 'bench', sent, sent + st.deadline::interval,
         CASE WHEN s.status = 'pending' THEN NULL ELSE 'bench' END,
         CASE WHEN s.status = 'pending' THEN NULL ELSE sent + (i % 1000) * interval '1 hour' END,
         CASE WHEN s.status = 'returned' THEN (ARRAY['statement unsigned', 'evidence list incomplete', 'pages illegible', 'wrong stage', 'missing expert opinion'])[1 + i % 5] END,
         CASE WHEN s.status = 'pending' THEN NULL ELSE 'receipt' END, 1 + i % 400, (1 + i % 400) * 230000
    FROM generate_series(1, ${n}) i
    CROSS JOIN LATERAL (SELECT now() - (i % 365) * interval '1 day' - (i % 86400) * interval '1 second' AS sent) t0
    CROSS JOIN LATERAL (SELECT CASE WHEN i % 20 < 12 THEN 'accepted' WHEN i % 20 < 15 THEN 'returned' ELSE 'pending' END AS status) s
    CROSS JOIN LATERAL (SELECT name, deadline FROM stages ORDER BY name OFFSET i % 4 LIMIT 1) st;
VACUUM ANALYZE`;

export async function supervisionBench(o: { databaseUrl: string; transfers: number; deliveries: number }): Promise<void> {
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: o.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${o.databaseUrl}${o.databaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-bench-supervision-'));
  const config = configFromEnv({ DATABASE_URL: url, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', WORKERS: 'none', WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
  const gw = await compose(config);
  try {
    let t = performance.now();
    for (const statement of GENERATE(o.transfers).split(';\n')) await gw.db.query(statement);
    const generated = (performance.now() - t) / 1000;
    const address = await gw.start();
    const base = `http://127.0.0.1:${address.port}`;
    const pair = gw.issuerKeys.currentPair();
    const token = (agency: string, role: 'supervisor' | 'clerk') =>
      issueToken({ issuer: config.auth.issuer, audience: config.auth.audience, key: pair.privateKey, kid: pair.kid, subject: 'bench', agency, roles: [role], ttlSeconds: 3600 });
    const supervisor = await token('committee-1', 'supervisor');
    const clerk = await token('police-1', 'clerk');
    const yearAgo = new Date(Date.now() - 365 * 86400_000).toISOString().slice(0, 10);
    const quarter = new Date(Date.now() - 90 * 86400_000).toISOString();

    const queries = [
      { label: 'all agencies, all time (supervisor)', q: '', token: supervisor },
      { label: 'one receiving agency (supervisor)', q: '?agency=procuratorate-2', token: supervisor },
      { label: 'one stage, last 90 days (supervisor)', q: `?stage=prosecution&from=${quarter}`, token: supervisor },
      { label: 'own agency (police clerk)', q: `?from=${yearAgo}`, token: clerk },
      { label: 'CSV, all agencies (supervisor)', q: '', token: supervisor, csv: true },
    ];
    console.log(`\n### Supervision on PostgreSQL: ${o.transfers.toLocaleString('en')} transfers (generated with SQL in ${fmt(generated)} s)\n`);
    console.log('| GET /api/stats | requests | p50 ms | p95 ms |');
    console.log('|---|---:|---:|---:|');
    for (const query of queries) {
      const times: number[] = [];
      for (let i = 0; i < 60; i++) {
        const started = performance.now();
        const res = await fetch(`${base}/api/stats${query.q}`, { headers: { authorization: `Bearer ${query.token}`, accept: query.csv ? 'text/csv' : 'application/json' } });
        if (res.status !== 200) throw new Error(`stats ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        if (i >= 10) times.push(performance.now() - started); // the first ten warm the caches
      }
      times.sort((a, b) => a - b);
      console.log(`| ${query.label} | ${times.length} | ${fmt(percentile(times, 50))} | ${fmt(percentile(times, 95))} |`);
    }

    // The rollups against the scan of every transfer they replace: the same figures, and what each costs in-process.
    console.log('\n| in-process, all agencies, all time | runs | p50 ms | p95 ms |');
    console.log('|---|---:|---:|---:|');
    const all = { from: new Date(0), to: new Date(), agency: null, stage: null };
    for (const [label, run] of [['rollups (what GET /api/stats answers)', () => gw.supervision.stats(all)], ['every transfer scanned (the exact path)', () => gw.supervision.statsFromTransfers(all)]] as const) {
      const times: number[] = [];
      for (let i = 0; i < 23; i++) {
        const started = performance.now();
        await run();
        if (i >= 3) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      console.log(`| ${label} | ${times.length} | ${fmt(percentile(times, 50))} | ${fmt(percentile(times, 95))} |`);
    }
    // Overdue and due-soon move with the clock between the two calls; test/stats-rollup.test.ts holds them exactly.
    const timeless = ({ overdue: _o, dueSoon: _d, byAgencyStage, ...rest }: Awaited<ReturnType<typeof gw.supervision.stats>>) =>
      JSON.stringify({ ...rest, byAgencyStage: byAgencyStage.map(({ overdue: _go, dueSoon: _gd, ...g }) => g) });
    if (timeless(await gw.supervision.stats(all)) !== timeless(await gw.supervision.statsFromTransfers(all))) throw new Error('the rollups disagree with the transfers');

    await answerCost(gw.db);

    const deps = { supervision: gw.supervision, audit: gw.audit, transactions: new SqlTransactions(gw.db) };
    const [pending] = await gw.db.query<{ overdue: number; pending: number }>(`SELECT count(*) FILTER (WHERE due_at < now())::int AS overdue, count(*)::int AS pending FROM transfers WHERE status = 'pending'`);
    t = performance.now();
    const marked = await checkOverdue(deps);
    const first = (performance.now() - t) / 1000;
    t = performance.now();
    const again = await checkOverdue(deps);
    const steady = (performance.now() - t) * 1000;
    console.log(`\n| overdue check over ${o.transfers.toLocaleString('en')} transfers (${pending!.pending.toLocaleString('en')} pending) | marked | time |`);
    console.log('|---|---:|---:|');
    console.log(`| first run: every overdue one marked, audited, in the feed | ${marked.toLocaleString('en')} | ${fmt(first, 2)} s (${fmt(marked / first, 0)} a second) |`);
    console.log(`| a later run: nothing new | ${again} | ${fmt(steady / 1000, 2)} ms |`);
    if (marked !== pending!.overdue) throw new Error(`marked ${marked}, expected ${pending!.overdue}`);

    await deliveries(gw, o.deliveries);
  } finally {
    await gw.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** What the rollups' triggers add to an answer: pending transfers accepted one statement each, with the triggers and without. */
async function answerCost(db: Awaited<ReturnType<typeof compose>>['db']): Promise<void> {
  const ids = (await db.query<{ id: string }>(`SELECT id FROM transfers WHERE status = 'pending' ORDER BY id LIMIT 400`)).map((r) => r.id);
  const accept = `UPDATE transfers SET status = 'accepted', answered_by = 'bench', answered_at = now(), receipt = 'receipt' WHERE id = $1`;
  console.log('\n| accepting one pending transfer (one UPDATE, autocommit) | answers | mean ms |');
  console.log('|---|---:|---:|');
  const run = async (label: string, some: string[]) => {
    const started = performance.now();
    for (const id of some) await db.query(accept, [id]);
    console.log(`| ${label} | ${some.length} | ${fmt((performance.now() - started) / some.length, 2)} |`);
  };
  await run('with the rollup triggers', ids.slice(0, 200));
  await db.query('ALTER TABLE transfers DISABLE TRIGGER transfers_rollup_update');
  try {
    await run('without them (for the comparison only)', ids.slice(200));
  } finally {
    await db.query('ALTER TABLE transfers ENABLE TRIGGER transfers_rollup_update');
  }
}

/** Deliveries a second to a local receiver: one subscription, then four pumped at once. */
async function deliveries(gw: Awaited<ReturnType<typeof compose>>, n: number): Promise<void> {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const subscriptions = new SqlSubscriptionRepository(gw.db);
  const sender = new HttpWebhookSender({ allowHosts: ['127.0.0.1'], timeoutMs: 10_000 });
  const deps = { subscriptions, feed: gw.events, sender, queue: gw.queue, log: gw.log, policy: gw.config.webhooks };
  console.log(`\n| webhook deliveries to 127.0.0.1 (signed, SSRF-checked, cursor moved after each) | deliveries | seconds | per second |`);
  console.log('|---|---:|---:|---:|');
  try {
    for (const parallel of [1, 4]) {
      const agencies = Array.from({ length: parallel }, (_, i) => `hooked-${parallel}-${i}`);
      const subs = [];
      for (const agency of agencies) {
        const { subscription } = await subscriptions.create({ id: randomUUID(), agency, url: `http://127.0.0.1:${port}/hook`, events: ['transfer.received'], secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, createdBy: 'bench', idempotencyKey: null });
        subs.push(subscription);
        // Feed rows after the cursor, as appends would leave them.
        await gw.db.query(
          `INSERT INTO agency_events (agency, seq, type, time, data)
           SELECT $1, $2::bigint + i, 'transfer.received', now(), jsonb_build_object('transferId', md5(i::text)) FROM generate_series(1, $3::int) i`,
          [agency, subscription.deliveredSeq, n],
        );
      }
      received = 0;
      const started = performance.now();
      const counts = await Promise.all(subs.map((s) => pump(deps, s.id)));
      const seconds = (performance.now() - started) / 1000;
      const total = counts.reduce((a, b) => a + b, 0);
      if (total !== n * parallel || received !== total) throw new Error(`delivered ${total}, received ${received}`);
      console.log(`| ${parallel === 1 ? 'one subscription, in order' : `${parallel} subscriptions at once`} | ${total.toLocaleString('en')} | ${fmt(seconds, 2)} | ${fmt(total / seconds, 0)} |`);
    }
  } finally {
    server.close();
  }
}
