/**
 * Durable background work. Jobs are identified by (kind, key): enqueueing the same pair twice is
 * a no-op, so a step that enqueues can itself be retried safely. Handlers must be idempotent: a
 * job whose worker died is run again.
 */
import type { Tx } from './transactions.js';

export interface JobQueue {
  enqueue(job: NewJob, within?: Tx): Promise<void>;
  /** Many jobs in as few statements as the database allows (a sealed dossier's hundreds). */
  enqueueAll(jobs: readonly NewJob[], within?: Tx): Promise<void>;
  /**
   * Queues (kind, key) again, to run at `runAt` (default now), even if it is done or failed; one
   * woken while it runs runs once more after it finishes. Recurring work keeps one key this way.
   */
  wake(job: NewJob, within?: Tx): Promise<void>;
}

export interface NewJob {
  readonly kind: string;
  readonly key: string;
  readonly payload?: Record<string, unknown>;
  readonly maxAttempts?: number;
  readonly runAt?: Date;
}

export interface Job {
  readonly id: number;
  readonly kind: string;
  readonly key: string;
  readonly payload: Record<string, unknown>;
  /** 1 on the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** From the job being due to its claim (pick-up latency), when the queue knows. */
  readonly waitedSeconds?: number;
}

export interface JobHandler {
  readonly kind: string;
  /** Jobs of this kind run at most this many at once in one process. */
  readonly concurrency: number;
  /** Higher first: no job of this kind starts while one of a higher priority is ready or running. Default 0. */
  readonly priority?: number;
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** Called once when the job has failed for the last time. */
  onGaveUp?(job: Job, reason: string): Promise<void>;
}
