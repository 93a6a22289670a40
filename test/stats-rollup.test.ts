/**
 * GET /api/stats from the rollups (migration 020) against the same figures computed from the
 * transfers themselves, on random data in both engines: random sending times over four years
 * (partial days, day and block edges), statuses, answers, reasons, pages; then answers, resends
 * and a deletion through UPDATE and DELETE, so each trigger is held to the slow path; then random
 * windows, agencies and stages. Any difference at all fails.
 */
import { expect } from 'chai';
import { migrate } from '../storage/db/migrate.js';
import { cutWindow } from '../storage/db/rollup-shape.js';
import { SqlSupervisionRepository, type StatsQuery } from '../storage/db/supervision-repository.js';
import { mulberry32 } from '../scripts/bench/fixtures/synthetic-pages.js';
import { forEachEngine } from './support/databases.js';

const random = mulberry32; // seeded: a failure is reproducible

const AGENCIES = ['police-1', 'police-2', 'procuratorate-1', 'procuratorate-2', 'court-1'];
const STAGES = ['arrest-review', 'prosecution', 'first-instance', 'appeal'];
const REASONS = ['statement unsigned', 'evidence list incomplete', 'pages illegible', 'wrong stage'];
const DAY = 86_400_000;
const SEED = 15_18;
const N = 2500;

describe('cutting a window into day blocks', () => {
  it('covers every whole day once, with aligned blocks, and leaves only the partial days raw', () => {
    const rnd = random(7);
    for (let i = 0; i < 500; i++) {
      const from = new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 2000 * DAY));
      const to = new Date(from.getTime() + Math.floor(rnd() * 900 * DAY));
      const cut = cutWindow(from, to);
      const days: number[] = [];
      for (const b of cut.blocks) {
        for (let d = b.block * 2 ** b.lvl; d < (b.block + 1) * 2 ** b.lvl; d++) days.push(d);
      }
      const whole = Array.from({ length: Math.max(0, Math.floor(to.getTime() / DAY) - Math.ceil(from.getTime() / DAY)) }, (_, k) => Math.ceil(from.getTime() / DAY) + k);
      expect(days).to.deep.equal(whole);
      expect(cut.blocks.length).to.be.at.most(34);
      for (const r of cut.raw) expect(r.to.getTime() - r.from.getTime()).to.be.below(DAY);
    }
  });
});

forEachEngine('stats from the rollups equal the stats from the transfers', (get) => {
  let repo: SqlSupervisionRepository;
  const rnd = random(SEED);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const start = Date.UTC(2023, 0, 1);
  const span = 4 * 365 * DAY;

  before(async function () {
    this.timeout(120_000);
    const db = get().db;
    await migrate(db);
    repo = new SqlSupervisionRepository(db);
    for (const id of AGENCIES) await db.query(`INSERT INTO agencies (id, name, kind) VALUES ($1, $1, $2)`, [id, id.split('-')[0]!]);
    await db.query(`INSERT INTO cases (id, number, title, agency_id, created_by) VALUES ('00000000-0000-4000-8000-000000000001', 'R-1', 'random', 'police-1', 'test')`);
    const rows = Array.from({ length: N }, (_, i) => {
      const sent = start + Math.floor(rnd() * span);
      const from = pick(AGENCIES);
      const to = pick(AGENCIES.filter((a) => a !== from));
      const status = pick(['pending', 'accepted', 'accepted', 'returned'] as const);
      // Answers from seconds to months later; deadlines a week to two months, some still running.
      const answered = status === 'pending' ? null : sent + Math.floor(Math.exp(rnd() * 16) * 1000);
      const due = rnd() < 0.05 ? null : sent + Math.floor((7 + rnd() * 53) * DAY);
      const pages = rnd() < 0.03 ? null : 1 + Math.floor(rnd() * 900);
      return { id: `d${i}`, from, to, stage: pick(STAGES), status, sent, answered, due, reason: status === 'returned' ? pick(REASONS) : null, pages };
    });
    // Deadlines that end around now, so due-soon and overdue both occur in the windows that reach it.
    for (const r of rows.slice(0, 200)) {
      r.status = 'pending';
      r.answered = null;
      r.reason = null;
      r.sent = Date.now() - Math.floor(rnd() * 40 * DAY);
      r.due = r.sent + 30 * DAY;
    }
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    await db.query(
      `INSERT INTO dossiers (id, case_id, agency_id, uploaded_by, filename, status, bytes, page_count, sealed_at)
       SELECT id, '00000000-0000-4000-8000-000000000001', 'police-1', 'test', 'scan.zip', 'sealed', 1000, 1, now() FROM unnest($1::text[]) AS id`,
      [col('id')],
    );
    await db.query(
      `INSERT INTO transfers (id, dossier_id, case_id, from_agency, to_agency, stage, status, sent_by, sent_at, due_at, answered_by, answered_at, reason, pages, bytes)
       SELECT md5(x.id)::uuid, x.id, '00000000-0000-4000-8000-000000000001', x.f, x.t, x.stage, x.status, 'test', x.sent, x.due,
              CASE WHEN x.answered IS NULL THEN NULL ELSE 'test' END, x.answered, x.reason, x.pages, x.pages::bigint * 230001
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::int[])
              AS x(id, f, t, stage, status, sent, due, answered, reason, pages)`,
      [col('id'), col('from'), col('to'), col('stage'), col('status'), rows.map((r) => iso(r.sent)), rows.map((r) => iso(r.due)), rows.map((r) => iso(r.answered)), col('reason'), rows.map((r) => (r.pages === null ? null : String(r.pages)))],
    );
    // Through the update trigger: pending ones answered (one statement, many rows), a deadline
    // marked overdue (counted nowhere, so nothing moves), a transfer moved in time and agency; one deleted.
    await db.query(`UPDATE transfers SET status = 'accepted', answered_by = 'test', answered_at = sent_at + interval '3 days' WHERE status = 'pending' AND dossier_id IN (SELECT 'd' || g FROM generate_series(300, 700) g)`);
    await db.query(`UPDATE transfers SET status = 'returned', answered_by = 'test', answered_at = sent_at + interval '5 hours', reason = 'missing expert opinion' WHERE status = 'pending' AND dossier_id IN (SELECT 'd' || g FROM generate_series(700, 900) g)`);
    await db.query(`UPDATE transfers SET overdue_at = now() WHERE status = 'pending' AND due_at < now()`);
    await db.query(`UPDATE transfers SET sent_at = sent_at - interval '400 days', to_agency = 'court-1' WHERE dossier_id = 'd1000' AND from_agency <> 'court-1'`);
    await db.query(`DELETE FROM transfers WHERE dossier_id = 'd1001'`);
  });

  const windows = (): (StatsQuery & { label: string })[] => {
    const out: (StatsQuery & { label: string })[] = [
      { label: 'all time, every agency', from: new Date(0), to: new Date(), agency: null, stage: null },
      { label: 'whole days only', from: new Date(Date.UTC(2024, 2, 1)), to: new Date(Date.UTC(2026, 5, 1)), agency: null, stage: null },
      { label: 'within one day', from: new Date(start + 100 * DAY + 3_600_000), to: new Date(start + 100 * DAY + 20 * 3_600_000), agency: null, stage: null },
      { label: 'all sending times, future ones too', from: new Date(0), to: new Date(Date.UTC(2030, 0, 1)), agency: null, stage: null },
      { label: 'empty', from: new Date(Date.UTC(1990, 0, 1)), to: new Date(Date.UTC(1991, 0, 1)), agency: null, stage: null },
    ];
    for (let i = 0; i < 40; i++) {
      const a = start - 30 * DAY + Math.floor(rnd() * (span + 60 * DAY));
      const b = a + Math.floor(rnd() * rnd() * span);
      out.push({ label: `random ${i}`, from: new Date(a), to: new Date(b), agency: rnd() < 0.5 ? pick(AGENCIES) : null, stage: rnd() < 0.4 ? pick(STAGES) : null });
    }
    return out;
  };

  it('answers every figure exactly as the transfers do, in windows of every shape', async function () {
    this.timeout(120_000);
    let compared = 0;
    for (const w of windows()) {
      const [fast, slow] = [await repo.stats(w), await repo.statsFromTransfers(w)];
      expect(fast, `${w.label}: ${w.from.toISOString()}..${w.to.toISOString()} ${w.agency} ${w.stage}`).to.deep.equal(slow);
      compared += slow.sent;
    }
    // The windows did hold data, with every kind of figure in it.
    const all = await repo.statsFromTransfers({ from: new Date(0), to: new Date(Date.UTC(2030, 0, 1)), agency: null, stage: null });
    expect(all.sent).to.equal(N - 1);
    expect(Math.min(all.accepted, all.returned, all.pending, all.overdue, all.dueSoon)).to.be.greaterThan(0);
    expect(all.returnReasons.map((r) => r.reason)).to.include('missing expert opinion');
    expect(compared).to.be.greaterThan(4 * N);
  });
});
