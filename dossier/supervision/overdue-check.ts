/**
 * The scheduled overdue check, a job of the durable queue: whichever process claims it runs it
 * (exactly one at a time, however many share the database), and a restart loses nothing, since
 * the next run is queued in the same transaction as the last batch it marked. Each transfer found
 * pending past its due time is marked once and `transfer.overdue` recorded with it, so the event
 * goes out once per transfer whatever crashes or how many checks run.
 */
import type { AuditEntry, AuditLog } from '../ports/audit-log.js';
import type { JobHandler, JobQueue } from '../ports/job-queue.js';
import type { Log } from '../ports/log.js';
import type { OverdueMarker, TransferMetadata } from '../ports/supervision.js';
import type { Transactions } from '../ports/transactions.js';

export const OVERDUE_CHECK_JOB = 'supervision.overdue-check';
/** Transfers marked per transaction: bounded locks and audit batches. */
const BATCH = 500;
/** One key: the check is woken, not enqueued anew, so the queue keeps one row for it. */
const KEY = 'every';

export interface OverdueCheckDeps {
  readonly supervision: OverdueMarker;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
  readonly queue: JobQueue;
  readonly log: Log;
  readonly intervalMs: number;
}

const overdueEntry = (t: TransferMetadata): AuditEntry => ({
  actor: 'system',
  agency: t.toAgency,
  action: 'transfer.overdue',
  target: { type: 'transfer', id: t.transferId },
  caseId: t.caseId,
  details: { dossier: t.dossierId, from: t.fromAgency, to: t.toAgency, stage: t.stage, dueAt: t.dueAt?.toISOString() ?? null },
});

/** Marks every transfer overdue now; returns how many. */
export async function checkOverdue(deps: Pick<OverdueCheckDeps, 'supervision' | 'audit' | 'transactions'>): Promise<number> {
  let total = 0;
  for (;;) {
    const marked = await deps.transactions.run(async (tx) => {
      const found = await deps.supervision.markOverdue(BATCH, tx);
      if (found.length > 0) await deps.audit.recordAll(found.map(overdueEntry), tx);
      return found.length;
    });
    total += marked;
    if (marked < BATCH) return total;
  }
}

/** Queues the check (at start of every process; a no-op beside a pending run sooner). */
export function scheduleOverdueCheck(queue: JobQueue, at: Date = new Date()): Promise<void> {
  return queue.wake({ kind: OVERDUE_CHECK_JOB, key: KEY, runAt: at, maxAttempts: 5 });
}

export function overdueCheckHandler(deps: OverdueCheckDeps): JobHandler {
  return {
    kind: OVERDUE_CHECK_JOB,
    concurrency: 1,
    async run() {
      const started = Date.now();
      const marked = await checkOverdue(deps);
      if (marked > 0) deps.log.info({ marked, ms: Date.now() - started }, 'transfers marked overdue');
      // Woken while running: the queue runs it again at this time, after this run completes.
      await scheduleOverdueCheck(deps.queue, new Date(Date.now() + deps.intervalMs));
    },
    async onGaveUp(_job, reason) {
      deps.log.error({ reason }, 'overdue check gave up; scheduled again');
      await scheduleOverdueCheck(deps.queue, new Date(Date.now() + deps.intervalMs));
    },
  };
}
