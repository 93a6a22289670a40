/**
 * Supervision (issue 15): a stage with a two-second deadline makes a pending transfer overdue,
 * marked once by the scheduled check (across a restart), visible to the committee's supervisor
 * and to the sender, not to a third agency; statistics in JSON and CSV; supervisor reads audited.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { clockOf } from '../dossier/supervision/clock.js';
import { COMMITTEE, agenciesWithCommittee, sealedDossier, send } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('transfer clocks', () => {
  const sentAt = new Date('2026-03-01T00:00:00Z');
  const dueAt = new Date('2026-03-11T00:00:00Z'); // ten days
  const at = (iso: string) => new Date(iso);
  it('on time, due soon within the last fifth, overdue past due, stopped when answered', () => {
    expect(clockOf({ status: 'pending', sentAt, dueAt }, at('2026-03-08T23:59:00Z')).state).to.equal('on-time');
    expect(clockOf({ status: 'pending', sentAt, dueAt }, at('2026-03-09T00:00:00Z')).state).to.equal('due-soon');
    expect(clockOf({ status: 'pending', sentAt, dueAt }, at('2026-03-11T00:00:00Z')).state).to.equal('due-soon');
    const late = clockOf({ status: 'pending', sentAt, dueAt }, at('2026-03-11T01:00:00Z'));
    expect([late.state, late.lateSeconds]).to.deep.equal(['overdue', 3600]);
    expect(clockOf({ status: 'accepted', sentAt, dueAt }, at('2026-04-01T00:00:00Z')).state).to.equal('answered');
  });
});

describe('supervision: overdue transfers, statistics, the supervisor', function () {
  this.timeout(180_000);
  let dir: string;
  let env: Record<string, string>;
  let gw: TestGateway;
  let police: string;
  let supervisor: string;
  let overdueId: string;
  let acceptedId: string;
  let returnedId: string;

  const overdueEventsOf = async (token: string, transferId: string) => {
    const all = (await gw.api('GET', '/api/events?limit=1000', token)).json.events as { type: string; data: { transferId?: string } }[];
    return all.filter((e) => e.type === 'transfer.overdue' && e.data.transferId === transferId);
  };

  before(async () => {
    dir = await tempDir('supervision-');
    env = { DATA_DIR: path.join(dir, 'data'), AGENCIES_FILE: await agenciesWithCommittee(dir), SUPERVISION_CHECK_INTERVAL: '1s' };
    gw = await startGateway(env);
    police = await gw.token('police-1', 'clerk');
    supervisor = await gw.token(COMMITTEE.id, 'supervisor', { user: 'supervisor-1' });
    const admin = await gw.token('police-1', 'admin');
    const quick = await gw.api('PUT', '/api/stages/quick-review', admin, { label: { en: 'Quick review', 'zh-CN': '快速审查' }, deadline: 'PT2S' });
    expect(quick.status, JSON.stringify(quick.json)).to.equal(201);

    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'S-1', title: 'Fraud' })).json.id;
    const [late, ok, back] = await Promise.all([1, 2, 3].map((seed) => sealedDossier(gw, police, caseId, 40 + seed, 2)));
    const prosecutor = await gw.token('procuratorate-1', 'prosecutor');
    acceptedId = await send(gw, police, ok!.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${acceptedId}/accept`, prosecutor, {})).status).to.equal(200);
    returnedId = await send(gw, police, back!.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${returnedId}/return`, prosecutor, { reason: 'statement unsigned' })).status).to.equal(200);
    overdueId = await send(gw, police, late!.id, 'procuratorate-1', 'quick-review');
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('marks the transfer overdue: the supervisor and the sender see it, a third agency does not', async () => {
    const item = await eventually(async () => {
      const r = await gw.api('GET', '/api/supervision/overdue', supervisor);
      expect(r.status, JSON.stringify(r.json)).to.equal(200);
      return (r.json.items as { transferId: string }[]).find((i) => i.transferId === overdueId);
    }, 30_000, 'the transfer overdue for the supervisor');
    expect(item).to.include({ caseNumber: 'S-1', fromAgency: 'police-1', toAgency: 'procuratorate-1', stage: 'quick-review', status: 'pending', clock: 'overdue' });
    const t = item as unknown as { sentAt: string; dueAt: string };
    expect(Date.parse(t.dueAt) - Date.parse(t.sentAt)).to.equal(2000);

    const sender = (await gw.api('GET', '/api/supervision/overdue', police)).json.items as { transferId: string }[];
    expect(sender.map((i) => i.transferId)).to.deep.equal([overdueId]);
    const court = (await gw.api('GET', '/api/supervision/overdue', await gw.token('court-1', 'judge'))).json.items;
    expect(court).to.deep.equal([]);
    // The sender's own view of the transfer carries the clock too.
    const view = await eventually(async () => {
      const v = (await gw.api('GET', `/api/transfers/${overdueId}`, police)).json;
      return v.overdueAt ? v : undefined;
    }, 30_000, 'overdueAt set by the check');
    expect(Date.parse(view.overdueAt)).to.be.at.least(Date.parse(view.dueAt));
  });

  it('emits transfer.overdue once, to the sender and the receiver, whatever the number of checks and a restart', async () => {
    const receiver = await gw.token('procuratorate-1', 'prosecutor');
    await eventually(async () => ((await overdueEventsOf(police, overdueId)).length > 0 ? true : undefined), 30_000, 'transfer.overdue');
    const checksRun = async () => (await gw.gateway.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'transfer.overdue'`))[0]!.n;
    expect(await checksRun()).to.equal(1);
    await gw.stop();
    gw = await startGateway(env);
    // The check runs every second: let several run after the restart.
    const job = async () => (await gw.gateway.db.query<{ run_at: Date }>(`SELECT run_at FROM jobs WHERE kind = 'supervision.overdue-check'`))[0]!;
    const first = (await job()).run_at.getTime();
    await eventually(async () => ((await job()).run_at.getTime() > first + 2000 ? true : undefined), 30_000, 'two more checks');
    expect(await checksRun()).to.equal(1);
    expect(await overdueEventsOf(police, overdueId)).to.have.length(1);
    expect(await overdueEventsOf(receiver, overdueId)).to.have.length(1);
    expect((await gw.gateway.db.query(`SELECT 1 FROM jobs WHERE kind = 'supervision.overdue-check'`)).length, 'one job row, woken again').to.equal(1);
  });

  it('GET /api/stats: counts, time to accept, return reasons, pages and bytes; others see their own agency only', async () => {
    const all = await gw.api('GET', '/api/stats', supervisor);
    expect(all.status, JSON.stringify(all.json)).to.equal(200);
    expect(all.json).to.include({ sent: 3, accepted: 1, returned: 1, pending: 1, overdue: 1, pages: 6 });
    expect(all.json.returnReasons).to.deep.equal([{ reason: 'statement unsigned', count: 1 }]);
    // One accepted transfer: p50 and p90 are its time to accept (to within the histogram's 0.5 %).
    const accepted = (await gw.api('GET', `/api/transfers/${acceptedId}`, police)).json;
    const actual = (Date.parse(accepted.answeredAt) - Date.parse(accepted.sentAt)) / 1000;
    for (const p of [all.json.acceptSeconds.p50, all.json.acceptSeconds.p90]) expect(Math.abs(p - actual)).to.be.at.most(0.005 * actual + 0.01);
    const prosecution = all.json.byAgencyStage.find((g: { stage: string }) => g.stage === 'prosecution');
    expect(prosecution).to.include({ agency: 'procuratorate-1', sent: 2, accepted: 1, returned: 1 });

    const byStage = (await gw.api('GET', '/api/stats?stage=quick-review', supervisor)).json;
    expect(byStage).to.include({ sent: 1, pending: 1, overdue: 1, accepted: 0 });
    const none = (await gw.api('GET', '/api/stats?from=2000-01-01&to=2000-02-01', supervisor)).json;
    expect(none).to.include({ sent: 0, pages: 0 });
    expect(none.acceptSeconds).to.deep.equal({ p50: null, p90: null });

    const court = await gw.api('GET', '/api/stats', await gw.token('court-1', 'judge'));
    expect(court.json).to.include({ sent: 0, agency: 'court-1' });
    expect((await gw.api('GET', '/api/stats?agency=police-1', await gw.token('court-1', 'judge'))).status).to.equal(404);
    expect((await gw.api('GET', '/api/stats', police)).json).to.include({ sent: 3, agency: 'police-1' });
    expect((await gw.api('GET', '/api/stats?from=yesterday', police)).status).to.equal(400);
  });

  it('GET /api/stats as CSV with Accept: text/csv', async () => {
    const res = await fetch(`${gw.url}/api/stats`, { headers: { authorization: `Bearer ${supervisor}`, accept: 'text/csv' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).to.equal('agency,stage,sent,accepted,returned,pending,overdue,due_soon,pages,bytes,accept_p50_seconds,accept_p90_seconds');
    expect(lines.at(-1)).to.match(/^\*,\*,3,1,1,1,1,0,6,\d+,/);
    expect(lines.some((l) => l.startsWith('procuratorate-1,quick-review,1,0,0,1,1,'))).to.equal(true);
  });

  it('GET /api/supervision/transfers: every agency’s transfer metadata for the committee, never content', async () => {
    const r = await gw.api('GET', '/api/supervision/transfers', supervisor);
    expect(r.status).to.equal(200);
    const items = r.json.items as Record<string, unknown>[];
    expect(items.map((i) => i.transferId).sort()).to.deep.equal([overdueId, acceptedId, returnedId].sort());
    expect(items.find((i) => i.transferId === returnedId)).to.include({ status: 'returned', reason: 'statement unsigned', pageCount: 2, caseNumber: 'S-1' });
    // A supervisor of an agency that is not a committee sees only its own agency's.
    const notCommittee = (await gw.api('GET', '/api/supervision/transfers', await gw.token('court-1', 'supervisor'))).json.items;
    expect(notCommittee).to.deep.equal([]);
  });

  it('records every supervisor read in the audit chain', async () => {
    const [{ seq }] = await gw.gateway.db.query<{ seq: number }>(`SELECT seq FROM audit_head`) as [{ seq: number }];
    for (const route of ['/api/supervision/overdue', '/api/supervision/transfers', '/api/stats?stage=prosecution', '/api/events']) {
      expect((await gw.api('GET', route, supervisor)).status, route).to.equal(200);
    }
    const reads = await gw.gateway.db.query<{ target_id: string }>(
      `SELECT target_id FROM audit_events WHERE action = 'supervision.read' AND actor = 'supervisor-1' AND seq > $1 ORDER BY seq`, [seq]);
    expect(reads.map((r) => r.target_id)).to.deep.equal(['overdue', 'transfers', 'stats', 'events']);
    const auditor = await gw.token(COMMITTEE.id, 'auditor');
    const events = (await gw.api('GET', '/api/audit?limit=1000', auditor)).json.events as { action: string; details: { query?: Record<string, string> } }[];
    expect(events.filter((e) => e.action === 'supervision.read').map((e) => e.details.query)).to.deep.include({ stage: 'prosecution' });
  });
});
