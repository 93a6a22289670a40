/** Repositories and the job queue: the same suite on PGlite and on PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { pino } from 'pino';
import { isDossierError } from '../dossier/errors.js';
import type { Job } from '../dossier/ports/job-queue.js';
import { migrate } from '../storage/db/migrate.js';
import { MIGRATIONS } from '../storage/db/migrations/index.js';
import { SqlCaseRepository } from '../storage/db/case-repository.js';
import { SqlDossierRepository } from '../storage/db/dossier-repository.js';
import { PgJobQueue } from '../storage/queue/pg-job-queue.js';
import { SqlTransactions } from '../storage/db/database.js';
import { JobRunner } from '../storage/queue/job-runner.js';
import { forEachEngine } from './support/databases.js';
import { eventually } from './support/eventually.js';

const silent = pino({ level: 'silent' });

forEachEngine('database', (get) => {
  before(async () => {
    expect(await migrate(get().db)).to.deep.equal(MIGRATIONS.map((m) => m.version));
  });

  it('applies migrations once', async () => {
    expect(await migrate(get().db)).to.deep.equal([]);
  });

  describe('cases', () => {
    it('creates a case visible to its agency only', async () => {
      const cases = new SqlCaseRepository(get().db);
      const c = await cases.create({ id: randomUUID(), number: 'A-1', title: 'Theft', agency: 'police-1', createdBy: 'u1' });
      expect(c).to.include({ number: 'A-1', title: 'Theft', agency: 'police-1' });
      expect(await cases.findVisible(c.id, 'police-1')).to.deep.equal(c);
      expect(await cases.findVisible(c.id, 'proc-1')).to.equal(null);
      expect((await cases.listVisible('police-1', { limit: 10, offset: 0 })).map((x) => x.id)).to.include(c.id);
      expect(await cases.listVisible('proc-1', { limit: 10, offset: 0 })).to.deep.equal([]);
      expect((await cases.listVisible('police-1', { limit: 10, offset: 0, number: 'A-1' })).map((x) => x.id)).to.deep.equal([c.id]);
      expect(await cases.listVisible('police-1', { limit: 10, offset: 0, number: 'A-2' })).to.deep.equal([]);
    });

    it('refuses a duplicate number in one agency, allows it in another', async () => {
      const cases = new SqlCaseRepository(get().db);
      await cases.create({ id: randomUUID(), number: 'DUP', title: '', agency: 'a', createdBy: 'u' });
      const err = await cases.create({ id: randomUUID(), number: 'DUP', title: '', agency: 'a', createdBy: 'u' }).catch((e: unknown) => e);
      expect(isDossierError(err) && err.code).to.equal('conflict');
      await cases.create({ id: randomUUID(), number: 'DUP', title: '', agency: 'b', createdBy: 'u' });
    });

    it('treats a malformed id as absent', async () => {
      expect(await new SqlCaseRepository(get().db).findVisible("x' OR 1=1 --", 'a')).to.equal(null);
    });
  });

  describe('dossiers and pages', () => {
    it('walks receiving → processing → sealed, pages idempotent', async () => {
      const db = get().db;
      const c = await new SqlCaseRepository(db).create({ id: randomUUID(), number: `N-${randomUUID()}`, title: '', agency: 'a', createdBy: 'u' });
      const dossiers = new SqlDossierRepository(db);
      const id = randomUUID();
      const d = await dossiers.create({ id, caseId: c.id, agency: 'a', uploadedBy: 'u', filename: 'f.zip', title: null, declaredBytes: 10 });
      expect(d.status).to.equal('receiving');
      expect(await dossiers.findVisible(id, 'b')).to.equal(null);
      await dossiers.markReceived(id, 10, 'ab'.repeat(32));
      expect(await dossiers.get(id)).to.include({ status: 'processing', bytes: 10, sha256: 'ab'.repeat(32) });
      const pages = Array.from({ length: 1201 }, (_, i) => ({
        dossierId: id,
        index: i + 1,
        sha256: i.toString(16).padStart(64, '0'),
        size: 1000 + i,
        mediaType: 'image/jpeg' as const,
        width: 10,
        height: 20,
        sourceName: `p${i}.jpg`,
        signature: `sig${i}`,
        thumbnailSha256: null,
      }));
      await dossiers.putPages(pages);
      await dossiers.putPages(pages.slice(0, 600)); // a re-run writes the same rows again
      const listed = await dossiers.listPages(id, { offset: 0, limit: 5000 });
      expect(listed).to.have.length(1201);
      expect(listed[1200]).to.deep.include({ index: 1201, size: 2200, sha256: pages[1200]!.sha256 });
      await dossiers.deletePagesFrom(id, 1201);
      expect(await dossiers.listPages(id, { offset: 0, limit: 5000 })).to.have.length(1200);
      expect(await dossiers.pageHashes(id)).to.deep.equal(pages.slice(0, 1200).map((p) => p.sha256));
      await dossiers.seal(id, { merkleRoot: 'cd'.repeat(32), manifestJws: 'm', kid: 'k', sealedAt: new Date(), pageCount: 1200 });
      expect(await dossiers.get(id)).to.include({ status: 'sealed', pageCount: 1200, pagesDone: 1200, merkleRoot: 'cd'.repeat(32) });
      await dossiers.setThumbnails(id, [{ index: 1, sha256: 'ef'.repeat(32) }, { index: 2, sha256: null }]);
      expect((await dossiers.getPage(id, 1))?.thumbnailSha256).to.equal('ef'.repeat(32));
      expect((await dossiers.getPage(id, 2))?.thumbnailSha256).to.equal(null);
      expect((await dossiers.get(id))?.thumbnailsDone).to.equal(2);
      // A sealed dossier can no longer be rejected.
      await dossiers.reject(id, 'internal', 'late');
      expect((await dossiers.get(id))?.status).to.equal('sealed');
    });
  });

  describe('job queue', () => {
    it('enqueues idempotently and hands a job to one claimer', async () => {
      const q = new PgJobQueue(get().db);
      const key = randomUUID();
      await q.enqueue({ kind: 'k1', key, payload: { n: 1 } });
      await q.enqueue({ kind: 'k1', key, payload: { n: 2 } });
      const [a, b] = await Promise.all([q.claim('k1', 'w1', 30, 10), q.claim('k1', 'w2', 30, 10)]);
      const all = [...a, ...b];
      expect(all).to.have.length(1);
      expect(all[0]).to.include({ key, attempt: 1 });
      expect(all[0]!.payload).to.deep.equal({ n: 1 });
      await q.complete(all[0]!.id, all[0]!.id === a[0]?.id ? 'w1' : 'w2');
      expect(await q.claim('k1', 'w3', 30, 10)).to.deep.equal([]);
    });

    it('enqueues many at once (past one statement’s rows), idempotently, with their attempts and run times', async () => {
      const q = new PgJobQueue(get().db);
      const kind = `many-${randomUUID()}`;
      const later = new Date(Date.now() + 3_600_000);
      const jobs = Array.from({ length: 1205 }, (_, i) => ({ kind, key: String(i), payload: { i }, maxAttempts: i === 0 ? 9 : undefined, runAt: i === 1 ? later : undefined }));
      await q.enqueueAll(jobs);
      await q.enqueueAll(jobs.slice(0, 10).map((j) => ({ ...j, payload: { i: -1 } })));
      const rows = await get().db.query<{ key: string; payload: { i: number }; max_attempts: number; run_at: Date }>(
        'SELECT key, payload, max_attempts, run_at FROM jobs WHERE kind = $1 ORDER BY key::int', [kind]);
      expect(rows).to.have.length(1205);
      expect(rows.every((r, i) => r.payload.i === i)).to.equal(true);
      expect(rows[0]!.max_attempts).to.equal(9);
      expect(rows[2]!.max_attempts).to.equal(5);
      expect(new Date(rows[1]!.run_at).getTime()).to.equal(later.getTime());
      expect((await q.claim(kind, 'w', 30, 2000)).map((j) => j.key)).to.not.include('1');
    });

    it('wakes local runners only once the enqueueing transaction has committed, and not after a rollback', async () => {
      const q = new PgJobQueue(get().db);
      const tx = new SqlTransactions(get().db);
      const seen: string[] = [];
      const stop = q.onEnqueue(() => seen.push('wake'));
      try {
        await tx.run(async (t) => {
          await q.enqueue({ kind: 'k-commit', key: randomUUID() }, t);
          seen.push('enqueued');
        });
        expect(seen).to.deep.equal(['enqueued', 'wake']);
        await tx.run(async (t) => {
          await q.enqueue({ kind: 'k-commit', key: randomUUID() }, t);
          throw new Error('rolled back');
        }).catch(() => {});
        expect(seen).to.deep.equal(['enqueued', 'wake']);
      } finally {
        stop();
      }
    });

    it('holds back a kind while a kind it yields to has a job ready or running, then hands it out', async () => {
      const q = new PgJobQueue(get().db);
      const [high, low] = [`high-${randomUUID()}`, `low-${randomUUID()}`];
      await q.enqueue({ kind: low, key: 'ocr' });
      await q.enqueue({ kind: high, key: 'later', runAt: new Date(Date.now() + 3_600_000) });
      // A job that is not due yet holds nothing back.
      expect(await q.claim(low, 'w', 30, 1, [high])).to.have.length(1);
      await q.enqueue({ kind: low, key: 'ocr-2' });
      await q.enqueue({ kind: high, key: 'ingest' });
      expect(await q.claim(low, 'w', 30, 1, [high]), 'queued ingest').to.deep.equal([]);
      const [ingest] = await q.claim(high, 'w', 30, 1);
      expect(ingest).to.include({ key: 'ingest' });
      expect(await q.claim(low, 'w', 30, 1, [high]), 'running ingest').to.deep.equal([]);
      await q.complete(ingest!.id, 'w');
      expect((await q.claim(low, 'w', 30, 1, [high])).map((j) => j.key)).to.deep.equal(['ocr-2']);
    });

    it('runs a higher-priority kind first in a runner with both kinds', async () => {
      const q = new PgJobQueue(get().db);
      const [high, low] = [`ingest-${randomUUID()}`, `thumbs-${randomUUID()}`];
      const order: string[] = [];
      const handler = (kind: string, priority: number) => ({ kind, priority, concurrency: 2, async run(job: Job) { order.push(`${kind === high ? 'high' : 'low'}:${job.key}`); } });
      await q.enqueueAll(['1', '2', '3'].map((key) => ({ kind: low, key })));
      await q.enqueueAll(['1', '2', '3', '4'].map((key) => ({ kind: high, key })));
      const runner = new JobRunner(q, [handler(low, 0), handler(high, 10)], silent, { idlePollMs: 20 });
      runner.start();
      try {
        await eventually(async () => (order.length === 7 ? true : undefined), 10_000, 'all seven jobs');
      } finally {
        await runner.stop();
      }
      expect(order.slice(0, 4).every((o) => o.startsWith('high:')), order.join(' ')).to.equal(true);
    });

    it('sends no claim of a lower kind while a higher job runs here, and wakes the lower kind when the higher runs dry (no poll)', async () => {
      const q = new PgJobQueue(get().db);
      const [high, low] = [`ingest-${randomUUID()}`, `ocr-${randomUUID()}`];
      const claims = new Map<string, number>();
      const claim = q.claim.bind(q);
      q.claim = (kind, ...rest) => {
        claims.set(kind, (claims.get(kind) ?? 0) + 1);
        return claim(kind, ...rest);
      };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const ran: string[] = [];
      const runner = new JobRunner(q, [
        { kind: high, priority: 10, concurrency: 1, async run(job: Job) { ran.push(`high:${job.key}`); if (job.key === 'slow') await gate; } },
        { kind: low, concurrency: 2, async run(job: Job) { ran.push(`low:${job.key}`); } },
      ], silent, { idlePollMs: 600_000 });
      await runner.start();
      try {
        await q.enqueue({ kind: high, key: 'slow' });
        await eventually(async () => (ran.includes('high:slow') ? true : undefined), 10_000, 'the high job running');
        const lowClaimsBefore = claims.get(low) ?? 0;
        await q.enqueueAll(['1', '2', '3'].map((key) => ({ kind: low, key })));
        await q.enqueue({ kind: high, key: 'next' });
        await new Promise((r) => setTimeout(r, 200));
        expect(claims.get(low) ?? 0, 'claims of the lower kind while the higher runs').to.equal(lowClaimsBefore);
        expect(ran.filter((r) => r.startsWith('low:'))).to.deep.equal([]);
        release();
        // The poll is ten minutes: only the wake-up of a higher kind running dry explains the lower jobs running now.
        await eventually(async () => (ran.length === 5 ? true : undefined), 20_000, 'every job');
        expect(ran.slice(0, 2)).to.deep.equal(['high:slow', 'high:next']);
      } finally {
        await runner.stop();
      }
    });

    it('gives a job whose lease lapsed to another worker', async () => {
      const q = new PgJobQueue(get().db);
      await q.enqueue({ kind: 'k2', key: 'x' });
      const [first] = await q.claim('k2', 'dead', 0.05, 1);
      expect(first).to.exist;
      await new Promise((r) => setTimeout(r, 120));
      const [again] = await q.claim('k2', 'alive', 30, 1);
      expect(again).to.include({ id: first!.id, attempt: 2 });
    });

    it('gives the running job of a worker that stopped beating to another within seconds, long before its lease ends', async () => {
      const q = new PgJobQueue(get().db);
      const kind = `hb-${randomUUID()}`;
      await q.registerWorker({ id: 'frozen', host: 'h', pid: 1, kinds: [kind] }, false);
      await q.enqueue({ kind, key: 'x' });
      const [first] = await q.claim(kind, 'frozen', 600, 1);
      expect(first).to.exist;
      // Beating: nobody else may take it.
      expect(await q.claim(kind, 'other', 600, 1, [], 10)).to.deep.equal([]);
      await get().db.query(`UPDATE workers SET heartbeat_at = now() - interval '11 seconds' WHERE id = 'frozen'`);
      const [again] = await q.claim(kind, 'other', 600, 1, [], 10);
      expect(again).to.include({ id: first!.id, attempt: 2 });
      await q.complete(again!.id, 'other');
      await q.unregisterWorker('frozen');
    });

    it('a sole process takes up the jobs a dead process left running at once; the attempt counts', async () => {
      const q = new PgJobQueue(get().db);
      const kind = `sole-${randomUUID()}`;
      await q.registerWorker({ id: 'killed', host: 'h', pid: 2, kinds: [kind] }, false);
      await q.enqueue({ kind, key: 'x' });
      const [first] = await q.claim(kind, 'killed', 600, 1);
      await q.registerWorker({ id: 'restarted', host: 'h', pid: 3, kinds: [kind] }, true);
      const [again] = await q.claim(kind, 'restarted', 600, 1);
      expect(again).to.include({ id: first!.id, attempt: 2 });
      expect((await q.liveWorkers(60)).map((w) => w.id)).to.include('restarted').and.not.include('killed');
      await q.complete(again!.id, 'restarted');
      await q.unregisterWorker('restarted');
    });

    it('on stop, finishes what ends within the grace period and hands the rest back, attempt not counted', async () => {
      const q = new PgJobQueue(get().db);
      const kind = `grace-${randomUUID()}`;
      const done: string[] = [];
      let aborted = 0;
      // The quick job ends only when the test lets it, after both were seen running: a fixed
      // 50 ms could end before a loaded machine's poll saw it running.
      let letQuickEnd!: () => void;
      const quickMayEnd = new Promise<void>((resolve) => { letQuickEnd = resolve; });
      const handler = {
        kind,
        concurrency: 2,
        async run(job: Job, signal: AbortSignal) {
          if (job.key === 'quick') {
            await quickMayEnd;
          } else {
            await new Promise<void>((resolve, reject) => {
              const onAbort = () => { clearTimeout(t); aborted++; reject(new Error('aborted')); };
              const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, 60_000);
              signal.addEventListener('abort', onAbort, { once: true });
            });
          }
          done.push(job.key);
        },
      };
      const runner = new JobRunner(q, [handler], silent, { idlePollMs: 20, heartbeatMs: 50 });
      await runner.start();
      await q.enqueueAll([{ kind, key: 'quick' }, { kind, key: 'slow' }]);
      await eventually(async () => {
        const rows = await get().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE kind = $1 AND status = 'running'`, [kind]);
        return rows[0]!.n === 2 ? true : undefined;
      }, 10_000, 'both running');
      const stopped = runner.stop({ graceMs: 500 });
      letQuickEnd();
      await stopped;
      expect(done).to.deep.equal(['quick']);
      expect(aborted).to.equal(1);
      const rows = await get().db.query<{ key: string; status: string; attempts: number; locked_by: string | null }>(
        `SELECT key, status, attempts, locked_by FROM jobs WHERE kind = $1 ORDER BY key`, [kind]);
      expect(rows).to.deep.equal([
        { key: 'quick', status: 'done', attempts: 1, locked_by: null },
        { key: 'slow', status: 'queued', attempts: 0, locked_by: null },
      ]);
      expect((await q.liveWorkers(60)).map((w) => w.id)).to.not.include(runner.workerId);
      // Another worker takes the handed-back job at once, as its first attempt.
      const [taken] = await q.claim(kind, 'next', 30, 1);
      expect(taken).to.include({ key: 'slow', attempt: 1 });
    });

    it('beats while it runs and counts as live', async () => {
      const q = new PgJobQueue(get().db);
      const runner = new JobRunner(q, [{ kind: `beat-${randomUUID()}`, concurrency: 1, async run() {} }], silent, { idlePollMs: 20, heartbeatMs: 50 });
      await runner.start();
      try {
        const [before] = await get().db.query<{ t: string }>(`SELECT heartbeat_at::text AS t FROM workers WHERE id = $1`, [runner.workerId]);
        await eventually(async () => {
          const [now] = await get().db.query<{ t: string }>(`SELECT heartbeat_at::text AS t FROM workers WHERE id = $1`, [runner.workerId]);
          return now && now.t !== before!.t ? true : undefined;
        }, 5_000, 'a newer heartbeat');
        expect((await q.liveWorkers(10)).map((w) => w.id)).to.include(runner.workerId);
      } finally {
        await runner.stop();
      }
    });

    it('retries with backoff, then gives up', async () => {
      const q = new PgJobQueue(get().db);
      const seen: number[] = [];
      let gaveUp = '';
      const runner = new JobRunner(
        q,
        [
          {
            kind: 'flaky',
            concurrency: 1,
            async run(job: Job) {
              seen.push(job.attempt);
              throw new Error(`boom ${job.attempt}`);
            },
            async onGaveUp(_job, reason) {
              gaveUp = reason;
            },
          },
        ],
        silent,
        { idlePollMs: 20, backoffBaseSeconds: 0.05 },
      );
      await q.enqueue({ kind: 'flaky', key: 'f', maxAttempts: 3 });
      runner.start();
      try {
        await eventually(async () => (gaveUp ? true : undefined), 10_000, 'give up');
      } finally {
        await runner.stop();
      }
      expect(seen).to.deep.equal([1, 2, 3]);
      expect(gaveUp).to.equal('boom 3');
      expect((await q.counts()).failed).to.be.at.least(1);
    });
  });
});
