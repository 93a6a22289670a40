/**
 * Runs queued jobs in this process: one loop per handler kind, at most `concurrency` jobs of a
 * kind at once, leases renewed while a job runs, retries with exponential backoff. The runner
 * beats in the `workers` table every `heartbeatMs`; another runner takes this one's running jobs
 * when it misses `deadAfterSeconds` of beats (killed, frozen or cut off).
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
  readonly heartbeatMs?: number;
  readonly deadAfterSeconds?: number;
  /** No other process can open this database (the embedded one): dead runners' jobs are taken at start. */
  readonly soleProcess?: boolean;
  /** Told of every job that ended, for metrics. */
  readonly onJobEnd?: (kind: string, outcome: 'done' | 'failed' | 'released', seconds: number) => void;
  /** Told of every claim: how long the job was due before it was taken (pick-up latency). */
  readonly onJobClaimed?: (kind: string, waitedSeconds: number) => void;
}

/** Stop: how long running jobs may take to finish before they are handed back to the queue. */
export interface StopOptions {
  readonly graceMs?: number;
}

export class JobRunner {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Aborted on stop: no more claims. */
  private readonly controller = new AbortController();
  /** Aborted when the grace period ends: running handlers are told to give up. */
  private readonly jobsController = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly runningJobs = new Map<number, string>();
  /** Each loop's wake-up, by the kind it claims. */
  private readonly wakers = new Map<string, Set<() => void>>();
  /** Jobs of each kind running in this runner now. */
  private readonly activeByKind = new Map<string, number>();
  private readonly loops: Promise<void>[] = [];
  private readonly lease: number;
  private readonly idlePollMs: number;
  private readonly backoffBase: number;
  private readonly heartbeatMs: number;
  private readonly deadAfter: number;
  private unsubscribe: (() => void) | null = null;
  private beat: NodeJS.Timeout | null = null;
  private registered: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: PgJobQueue,
    private readonly handlers: readonly JobHandler[],
    private readonly log: Logger,
    private readonly options: JobRunnerOptions = {},
  ) {
    this.lease = options.leaseSeconds ?? 60;
    this.idlePollMs = options.idlePollMs ?? 500;
    this.backoffBase = options.backoffBaseSeconds ?? 2;
    this.heartbeatMs = options.heartbeatMs ?? 2000;
    this.deadAfter = options.deadAfterSeconds ?? 10;
  }

  get kinds(): string[] {
    return this.handlers.map((h) => h.kind);
  }

  /** Registers this runner, then starts claiming; resolves once registered. */
  async start(): Promise<void> {
    const worker = { id: this.workerId, host: os.hostname(), pid: process.pid, kinds: this.kinds };
    await this.queue.registerWorker(worker, this.options.soleProcess ?? false);
    this.beat = setInterval(() => {
      this.registered = this.queue.heartbeat(this.workerId).then(
        (alive) => (alive ? undefined : this.queue.registerWorker(worker, false)),
        (err) => this.log.warn({ err }, 'worker heartbeat failed'),
      );
    }, this.heartbeatMs);
    this.beat.unref();
    // Only the loops of the kinds enqueued: the others would claim nothing new.
    this.unsubscribe = this.queue.onEnqueue((kinds) => { for (const k of kinds) this.wake(k); });
    for (const h of this.handlers) this.loops.push(this.loop(h));
  }

  /**
   * Stops claiming and lets running jobs finish for `graceMs` (default: as long as they take);
   * then aborts those still running and hands them back to the queue, attempt not counted, so
   * another worker takes them at once. Unregisters last.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    this.controller.abort();
    this.unsubscribe?.();
    this.wakeAll();
    await Promise.allSettled(this.loops);
    const all = Promise.allSettled([...this.running]);
    if (options.graceMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), options.graceMs); });
      const late = await Promise.race([all.then(() => 'done' as const), graceOver]);
      clearTimeout(timer);
      if (late === 'late') {
        const left = [...this.runningJobs.keys()];
        this.log.info({ jobs: left.length }, 'grace period over: handing running jobs back to the queue');
        this.jobsController.abort();
        for (const id of left) await this.queue.release(id, this.workerId).catch((err) => this.log.error({ err, job: id }, 'job release failed'));
      }
    }
    await all;
    if (this.beat) clearInterval(this.beat);
    await this.registered;
    await this.queue.unregisterWorker(this.workerId).catch((err) => this.log.warn({ err }, 'worker unregister failed'));
  }

  private wakeAll(): void {
    for (const kind of this.wakers.keys()) this.wake(kind);
  }

  private wake(kind: string): void {
    for (const wake of [...(this.wakers.get(kind) ?? [])]) wake();
  }

  /**
   * Claims of lower-priority kinds are not even tried while a job they yield to runs here: the
   * queue would refuse them anyway (it sees this runner's jobs as running), and on the embedded
   * database each refused claim is a statement on the main thread, several per dossier ingested.
   */
  private yieldingLocally(yieldTo: readonly string[]): boolean {
    return yieldTo.some((k) => (this.activeByKind.get(k) ?? 0) > 0);
  }

  private async loop(handler: JobHandler): Promise<void> {
    let active = 0;
    const mine = handler.priority ?? 0;
    const yieldTo = this.handlers.filter((h) => (h.priority ?? 0) > mine).map((h) => h.kind);
    // The kinds that yield to this one: woken when this one runs out of work.
    const yielding = this.handlers.filter((h) => (h.priority ?? 0) < mine).map((h) => h.kind);
    const signal = this.controller.signal;
    const setActive = (n: number) => {
      active = n;
      this.activeByKind.set(handler.kind, n);
    };
    while (!signal.aborted) {
      const free = handler.concurrency - active;
      let jobs: Job[] = [];
      let tried = false;
      if (free > 0 && !this.yieldingLocally(yieldTo)) {
        tried = true;
        try {
          jobs = await this.queue.claim(handler.kind, this.workerId, this.lease, free, yieldTo, this.deadAfter);
        } catch (err) {
          if (signal.aborted) break;
          this.log.error({ err, kind: handler.kind }, 'job claim failed');
        }
      }
      for (const job of jobs) {
        setActive(active + 1);
        if (job.waitedSeconds !== undefined) this.options.onJobClaimed?.(job.kind, job.waitedSeconds);
        const p = this.execute(handler, job).finally(() => {
          setActive(active - 1);
          this.running.delete(p);
          // A free slot for this kind; the kinds yielding to it learn when it runs dry (below).
          this.wake(handler.kind);
        });
        this.running.add(p);
      }
      // Ran dry here: the lower kinds may claim again (the queue still checks other processes).
      if (tried && jobs.length === 0 && active === 0) for (const k of yielding) this.wake(k);
      // Fewer than asked for: nothing else is ready now (an enqueue or a finished job wakes us).
      if (jobs.length < free || active >= handler.concurrency) await this.sleep(handler.kind, this.idlePollMs);
    }
  }

  private sleep(kind: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakers = this.wakers.get(kind) ?? new Set<() => void>();
      this.wakers.set(kind, wakers);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
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
    const seconds = () => (Date.now() - started) / 1000;
    this.runningJobs.set(job.id, job.kind);
    try {
      await handler.run(job, this.jobsController.signal);
      await this.queue.complete(job.id, this.workerId);
      this.options.onJobEnd?.(job.kind, 'done', seconds());
      log.debug({ ms: Date.now() - started }, 'job done');
    } catch (err) {
      if (this.jobsController.signal.aborted) {
        // Handed back by stop(): not a failure of the job.
        this.options.onJobEnd?.(job.kind, 'released', seconds());
        return;
      }
      this.options.onJobEnd?.(job.kind, 'failed', seconds());
      const message = err instanceof Error ? err.message : String(err);
      const last = job.attempt >= job.maxAttempts;
      const delay = last ? null : this.backoffBase * 2 ** (job.attempt - 1);
      log.warn({ err, retryIn: delay }, 'job failed');
      await this.queue.fail(job.id, this.workerId, message, delay).catch((e) => log.error({ err: e }, 'job fail update failed'));
      if (last) await handler.onGaveUp?.(job, message).catch((e) => log.error({ err: e }, 'onGaveUp failed'));
    } finally {
      clearInterval(renew);
      this.runningJobs.delete(job.id);
    }
  }
}
