/**
 * Runs queued jobs in this process: one loop per handler kind, at most `concurrency` jobs of a
 * kind at once, leases renewed while a job runs, retries with exponential backoff.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Job, JobHandler } from '../../dossier/ports/job-queue.js';
import type { PgJobQueue } from './pg-job-queue.js';

export interface JobRunnerOptions {
  readonly leaseSeconds?: number;
  readonly idlePollMs?: number;
  readonly backoffBaseSeconds?: number;
  /**
   * This process alone uses the database (the embedded PGlite): any job still running at start
   * was left by a process that is gone. Otherwise only owners on this host that are gone count.
   */
  readonly exclusive?: boolean;
}

/**
 * Owner ids are `host:pid:nonce`. An owner on this host is gone when its pid is not alive, or is
 * our own pid under another nonce (a container restarted: the same pid 1, a new process).
 */
export function ownerIsGone(owner: string, self: string, host = os.hostname()): boolean {
  const [ownerHost, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (ownerHost !== host || !Number.isInteger(pid) || pid <= 0 || owner === self) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class JobRunner {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly lease: number;
  private readonly idlePollMs: number;
  private readonly backoffBase: number;
  private unsubscribe: (() => void) | null = null;
  private ready: Promise<void> = Promise.resolve();
  private readonly exclusive: boolean;

  constructor(
    private readonly queue: PgJobQueue,
    private readonly handlers: readonly JobHandler[],
    private readonly log: Logger,
    options: JobRunnerOptions = {},
  ) {
    this.lease = options.leaseSeconds ?? 60;
    this.idlePollMs = options.idlePollMs ?? 500;
    this.backoffBase = options.backoffBaseSeconds ?? 2;
    this.exclusive = options.exclusive ?? false;
  }

  start(): void {
    // Work left running by a dead predecessor is released before the first claim.
    const gone = (owner: string) => (this.exclusive ? owner !== this.workerId : ownerIsGone(owner, this.workerId));
    this.ready = this.queue.releaseDead(gone).then(
      (n) => { if (n > 0) this.log.info({ jobs: n }, 'took up the unfinished jobs of a stopped process'); },
      (err: unknown) => this.log.warn({ err }, 'could not release the jobs of stopped processes; their leases will lapse'),
    );
    this.unsubscribe = this.queue.onEnqueue(() => this.wakeAll());
    for (const h of this.handlers) this.loops.push(this.loop(h));
  }

  /** Stops claiming; waits for running jobs (their leases lapse if we are killed instead). */
  async stop(): Promise<void> {
    this.controller.abort();
    this.unsubscribe?.();
    this.wakeAll();
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.running]);
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private async loop(handler: JobHandler): Promise<void> {
    let active = 0;
    const mine = handler.priority ?? 0;
    const yieldTo = this.handlers.filter((h) => (h.priority ?? 0) > mine).map((h) => h.kind);
    const signal = this.controller.signal;
    await this.ready;
    while (!signal.aborted) {
      const free = handler.concurrency - active;
      let jobs: Job[] = [];
      if (free > 0) {
        try {
          jobs = await this.queue.claim(handler.kind, this.workerId, this.lease, free, yieldTo);
        } catch (err) {
          if (signal.aborted) break;
          this.log.error({ err, kind: handler.kind }, 'job claim failed');
        }
      }
      for (const job of jobs) {
        active++;
        const p = this.execute(handler, job).finally(() => {
          active--;
          this.running.delete(p);
          this.wakeAll();
        });
        this.running.add(p);
      }
      if (jobs.length === 0 || active >= handler.concurrency) await this.sleep(this.idlePollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async execute(handler: JobHandler, job: Job): Promise<void> {
    const log = this.log.child({ job: job.id, kind: job.kind, key: job.key, attempt: job.attempt });
    if (job.attempt > job.maxAttempts) {
      // Claimed again after its worker died on the last allowed attempt.
      const reason = `gave up after ${job.maxAttempts} attempts (a worker stopped while running it)`;
      await this.queue.fail(job.id, this.workerId, reason, null);
      await handler.onGaveUp?.(job, reason).catch((err) => log.error({ err }, 'onGaveUp failed'));
      return;
    }
    const renew = setInterval(() => {
      this.queue.renew(job.id, this.workerId, this.lease).catch((err) => log.warn({ err }, 'lease renewal failed'));
    }, (this.lease * 1000) / 3);
    const started = Date.now();
    try {
      await handler.run(job, this.controller.signal);
      await this.queue.complete(job.id, this.workerId);
      log.debug({ ms: Date.now() - started }, 'job done');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const last = job.attempt >= job.maxAttempts;
      const delay = last ? null : this.backoffBase * 2 ** (job.attempt - 1);
      log.warn({ err, retryIn: delay }, 'job failed');
      await this.queue.fail(job.id, this.workerId, message, delay).catch((e) => log.error({ err: e }, 'job fail update failed'));
      if (last) await handler.onGaveUp?.(job, message).catch((e) => log.error({ err: e }, 'onGaveUp failed'));
    } finally {
      clearInterval(renew);
    }
  }
}
