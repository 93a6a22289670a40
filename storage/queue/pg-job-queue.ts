/**
 * A PostgreSQL-backed job queue (the same SQL on PGlite and PostgreSQL). Claims use
 * FOR UPDATE SKIP LOCKED so any number of worker processes can share one table; a claim is a
 * lease that the runner renews while the job runs. Each runner also registers in `workers` and
 * beats there every few seconds: a running job whose worker stopped beating is claimable again
 * within seconds, and a lapsed lease makes it claimable in any case.
 */
import { afterCommit, type Database, queryableIn } from '../db/database.js';

/** Jobs per INSERT: five array parameters, whatever the count. */
const INSERT_ROWS = 1000;
import type { Job, JobQueue, NewJob } from '../../dossier/ports/job-queue.js';
import type { Tx } from '../../dossier/ports/transactions.js';

export class PgJobQueue implements JobQueue {
  private readonly listeners = new Set<(kinds: ReadonlySet<string>) => void>();

  constructor(private readonly db: Database) {}

  async enqueue(job: NewJob, within?: Tx): Promise<void> {
    await this.enqueueAll([job], within);
  }

  async enqueueAll(jobs: readonly NewJob[], within?: Tx): Promise<void> {
    const q = queryableIn(this.db, within);
    for (let i = 0; i < jobs.length; i += INSERT_ROWS) {
      const rows = jobs.slice(i, i + INSERT_ROWS);
      await q.query(
        `INSERT INTO jobs (kind, key, payload, max_attempts, run_at)
         SELECT kind, key, payload::jsonb, max_attempts, coalesce(run_at, now())
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS j(kind, key, payload, max_attempts, run_at)
         ON CONFLICT (kind, key) DO NOTHING`,
        [
          rows.map((j) => j.kind),
          rows.map((j) => j.key),
          rows.map((j) => JSON.stringify(j.payload ?? {})),
          rows.map((j) => j.maxAttempts ?? 5),
          rows.map((j) => j.runAt?.toISOString() ?? null),
        ],
      );
    }
    this.wakeAfter(new Set(jobs.map((j) => j.kind)), within);
  }

  async wake(job: NewJob, within?: Tx): Promise<void> {
    // Done or failed: queued afresh. Running: flagged to run again when it completes (complete()).
    // Queued: run at the earlier of the two times.
    await queryableIn(this.db, within).query(
      `INSERT INTO jobs (kind, key, payload, max_attempts, run_at) VALUES ($1, $2, $3::jsonb, $4, coalesce($5::timestamptz, now()))
       ON CONFLICT (kind, key) DO UPDATE SET
         rerun = jobs.status = 'running',
         run_at = CASE WHEN jobs.status = 'queued' THEN least(jobs.run_at, excluded.run_at) ELSE excluded.run_at END,
         status = CASE WHEN jobs.status = 'running' THEN 'running' ELSE 'queued' END,
         attempts = CASE WHEN jobs.status IN ('done', 'failed') THEN 0 ELSE jobs.attempts END,
         payload = excluded.payload, max_attempts = excluded.max_attempts, finished_at = NULL`,
      [job.kind, job.key, JSON.stringify(job.payload ?? {}), job.maxAttempts ?? 5, job.runAt?.toISOString() ?? null],
    );
    this.wakeAfter(new Set([job.kind]), within);
  }

  /** Tells the listeners which kinds got work, once it is visible (after the commit, when in a transaction). */
  private wakeAfter(kinds: ReadonlySet<string>, within?: Tx): void {
    if (kinds.size === 0) return;
    const wake = () => { for (const listener of this.listeners) listener(kinds); };
    if (within) afterCommit(within, wake);
    else wake();
  }

  /** In-process wake-ups so a local runner need not wait for its next poll: told the kinds enqueued. */
  onEnqueue(listener: (kinds: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Claims up to `limit` ready jobs of `kind`; none while a job of a kind in `yieldTo` is ready or
   * running, in any process (how ingest takes precedence over OCR and thumbnails).
   */
  async claim(kind: string, workerId: string, leaseSeconds: number, limit: number, yieldTo: readonly string[] = [], deadAfterSeconds = 10): Promise<Job[]> {
    const rows = await this.db.query<JobRow>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
              locked_until = now() + make_interval(secs => $2)
        WHERE id IN (
          SELECT id FROM jobs
           WHERE kind = $3
             AND ((status = 'queued' AND run_at <= now())
               OR (status = 'running' AND (locked_until < now() OR EXISTS (
                    SELECT 1 FROM workers w WHERE w.id = jobs.locked_by AND w.heartbeat_at < now() - make_interval(secs => $6)))))
             AND NOT EXISTS (
               SELECT 1 FROM jobs AS first
                WHERE first.kind = ANY($5::text[])
                  AND ((first.status = 'queued' AND first.run_at <= now()) OR first.status = 'running'))
           ORDER BY run_at, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, key, payload, attempts, max_attempts, extract(epoch FROM clock_timestamp() - run_at)::float8 AS waited`,
      [workerId, leaseSeconds, kind, limit, [...yieldTo], deadAfterSeconds],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      key: r.key,
      payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
      attempt: r.attempts,
      maxAttempts: r.max_attempts,
      waitedSeconds: Number(r.waited),
    }));
  }

  async renew(id: number, workerId: string, leaseSeconds: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
        WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING id`,
      [id, workerId, leaseSeconds],
    );
    return rows.length > 0;
  }

  async complete(id: number, workerId: string): Promise<void> {
    await this.db.query(
      // A job woken while it ran (rerun) goes back to the queue at the time its wake-up asked for.
      `UPDATE jobs SET status = CASE WHEN rerun THEN 'queued' ELSE 'done' END, attempts = CASE WHEN rerun THEN 0 ELSE attempts END,
              finished_at = CASE WHEN rerun THEN NULL ELSE now() END, rerun = false, locked_by = NULL, locked_until = NULL
        WHERE id = $1 AND locked_by = $2`,
      [id, workerId],
    );
  }

  /**
   * Gives a running job back to the queue at once, its attempt not counted: a worker that stops
   * before the job finished (SIGTERM past its grace period) lets another take it now.
   */
  async release(id: number, workerId: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(), locked_by = NULL, locked_until = NULL
        WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [id, workerId],
    );
  }

  /** Registers a runner (or refreshes its row); `sole`: no other process can use this database. */
  async registerWorker(worker: { id: string; host: string; pid: number; kinds: readonly string[] }, sole: boolean): Promise<void> {
    // A sole process (the embedded database) knows every running job was left by a process that
    // died: their leases end now, so they are taken up at once (the attempt still counts, so a
    // job that kills its process still gives up in the end).
    if (sole) {
      await this.db.query(`UPDATE jobs SET locked_until = now() - interval '1 second' WHERE status = 'running' AND locked_by IS DISTINCT FROM $1`, [worker.id]);
      await this.db.query(`DELETE FROM workers WHERE id <> $1`, [worker.id]);
    }
    // Rows of workers long dead: their jobs' leases have lapsed anyway.
    await this.db.query(`DELETE FROM workers WHERE heartbeat_at < now() - interval '1 day'`);
    await this.db.query(
      `INSERT INTO workers (id, host, pid, kinds) VALUES ($1, $2, $3, $4::text[])
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), kinds = excluded.kinds`,
      [worker.id, worker.host, worker.pid, [...worker.kinds]],
    );
  }

  /** False when the row is gone (pruned after a day frozen): the caller registers again. */
  async heartbeat(workerId: string): Promise<boolean> {
    const rows = await this.db.query(`UPDATE workers SET heartbeat_at = now() WHERE id = $1 RETURNING id`, [workerId]);
    return rows.length > 0;
  }

  async unregisterWorker(workerId: string): Promise<void> {
    await this.db.query(`DELETE FROM workers WHERE id = $1`, [workerId]);
  }

  /** The workers beating within `aliveSeconds`, for operations (/metrics). */
  async liveWorkers(aliveSeconds: number): Promise<{ id: string; kinds: string[]; heartbeatAt: Date }[]> {
    const rows = await this.db.query<{ id: string; kinds: string[]; heartbeat_at: Date | string }>(
      `SELECT id, kinds, heartbeat_at FROM workers WHERE heartbeat_at > now() - make_interval(secs => $1) ORDER BY id`,
      [aliveSeconds],
    );
    return rows.map((r) => ({ id: r.id, kinds: r.kinds, heartbeatAt: new Date(r.heartbeat_at) }));
  }

  /** Jobs by kind and status (done jobs are not counted: they only grow). */
  async depth(): Promise<{ kind: string; status: string; n: number }[]> {
    return this.db.query<{ kind: string; status: string; n: number }>(
      `SELECT kind, status, count(*)::int AS n FROM jobs WHERE status <> 'done' GROUP BY kind, status`,
    );
  }

  /** Schedules a retry after `delaySeconds`, or marks the job failed for good. */
  async fail(id: number, workerId: string, error: string, retryInSeconds: number | null): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET status = CASE WHEN $4::float8 IS NULL THEN 'failed' ELSE 'queued' END,
              run_at = CASE WHEN $4::float8 IS NULL THEN run_at ELSE now() + make_interval(secs => $4::float8) END,
              finished_at = CASE WHEN $4::float8 IS NULL THEN now() ELSE NULL END,
              last_error = $3, locked_by = NULL, locked_until = NULL
        WHERE id = $1 AND locked_by = $2`,
      [id, workerId, error.slice(0, 4000), retryInSeconds],
    );
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM jobs GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}

interface JobRow {
  id: number | string;
  kind: string;
  key: string;
  payload: Record<string, unknown> | string;
  attempts: number;
  max_attempts: number;
  waited: number | string;
}
