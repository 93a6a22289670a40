/**
 * A PostgreSQL-backed job queue (the same SQL on PGlite and PostgreSQL). Claims use
 * FOR UPDATE SKIP LOCKED so any number of worker processes can share one table; a claim is a
 * lease that the runner renews while the job runs, and a lease that lapses (its worker died)
 * makes the job claimable again.
 */
import { afterCommit, type Database, queryableIn } from '../db/database.js';

/** Jobs per INSERT: five array parameters, whatever the count. */
const INSERT_ROWS = 1000;
import type { Job, JobQueue, NewJob } from '../../dossier/ports/job-queue.js';
import type { Tx } from '../../dossier/ports/transactions.js';

export class PgJobQueue implements JobQueue {
  private readonly listeners = new Set<() => void>();

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
    const wake = () => { for (const listener of this.listeners) listener(); };
    if (within) afterCommit(within, wake);
    else wake();
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
    const wake = () => { for (const listener of this.listeners) listener(); };
    if (within) afterCommit(within, wake);
    else wake();
  }

  /** In-process wake-ups so a local runner need not wait for its next poll. */
  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Claims up to `limit` ready jobs of `kind`; none while a job of a kind in `yieldTo` is ready or
   * running, in any process (how ingest takes precedence over OCR and thumbnails).
   */
  async claim(kind: string, workerId: string, leaseSeconds: number, limit: number, yieldTo: readonly string[] = []): Promise<Job[]> {
    const rows = await this.db.query<JobRow>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
              locked_until = now() + make_interval(secs => $2)
        WHERE id IN (
          SELECT id FROM jobs
           WHERE kind = $3
             AND ((status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now()))
             AND NOT EXISTS (
               SELECT 1 FROM jobs AS first
                WHERE first.kind = ANY($5::text[])
                  AND ((first.status = 'queued' AND first.run_at <= now()) OR first.status = 'running'))
           ORDER BY run_at, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, key, payload, attempts, max_attempts`,
      [workerId, leaseSeconds, kind, limit, [...yieldTo]],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      key: r.key,
      payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
      attempt: r.attempts,
      maxAttempts: r.max_attempts,
    }));
  }

  /**
   * Makes the running jobs of owners that `isDead` names claimable at once, instead of after
   * their lease: how a restarted process takes up its own unfinished work promptly.
   */
  async releaseDead(isDead: (owner: string) => boolean): Promise<number> {
    const owners = await this.db.query<{ locked_by: string }>(
      `SELECT DISTINCT locked_by FROM jobs WHERE status = 'running' AND locked_by IS NOT NULL AND locked_until > now()`,
    );
    const dead = owners.map((o) => o.locked_by).filter(isDead);
    if (dead.length === 0) return 0;
    const rows = await this.db.query(
      `UPDATE jobs SET locked_until = now() - interval '1 second'
        WHERE status = 'running' AND locked_by = ANY($1::text[]) RETURNING id`,
      [dead],
    );
    return rows.length;
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
}
