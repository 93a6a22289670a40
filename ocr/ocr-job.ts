/**
 * The OCR job: a batch of pages of a sealed dossier (dossier/ingest/derivatives.ts enqueues them
 * at seal). Idempotent: pages already done or failed are skipped, so a job leased again after its
 * worker died continues where it stopped. A page that fails or exceeds the timeout never stops
 * the batch: the failure is counted and a single-page retry job is enqueued for later (backoff),
 * in the same transaction; after the last attempt the page ends `failed` with the reason. Bytes
 * the image decoder rejects (corrupt_image) fail at once: no retry can decode them.
 */
import pLimit from 'p-limit';
import { z } from 'zod';
import { OCR_JOB, OCR_PAGE_ATTEMPTS } from '../dossier/ingest/derivatives.js';
import { REJECTION_CODES, isDossierError } from '../dossier/errors.js';
import type { JobHandler, JobQueue } from '../dossier/ports/job-queue.js';
import type { Log } from '../dossier/ports/log.js';
import type { DossierRepository } from '../dossier/ports/repositories.js';
import { indexPage, type IndexPageDeps } from './index-page.js';

export interface OcrJobDeps extends IndexPageDeps {
  readonly dossiers: DossierRepository;
  readonly queue: JobQueue;
  readonly log: Log;
  readonly maxPageAttempts?: number;
  /** First retry delay; doubles with every attempt. */
  readonly retryBaseSeconds?: number;
  /**
   * Pages of the batch handed to the engine at once (default 1: one after the other). More only
   * where waiting pages are read more cheaply together: the native CLI reads them in one process
   * (create-engine.ts ocrPagesAtOnce).
   */
  readonly pagesAtOnce?: number;
}

const payloadSchema = z.object({
  dossierId: z.string().min(1),
  from: z.number().int().min(1),
  to: z.number().int().min(1),
  /** A single-page retry: runs only while the page has exactly this many failed attempts. */
  afterAttempts: z.number().int().min(1).optional(),
});
type OcrPayload = z.infer<typeof payloadSchema>;

export function ocrHandler(deps: OcrJobDeps, concurrency: number): JobHandler {
  return {
    kind: OCR_JOB,
    concurrency,
    run: (job, signal) => ocrBatch(deps, payloadSchema.parse(job.payload), signal),
    async onGaveUp(job, reason) {
      // The job itself kept failing (not a page: those are caught): end its pages, say why.
      const p = payloadSchema.parse(job.payload);
      deps.log.error({ dossier: p.dossierId, from: p.from, to: p.to, reason }, 'OCR job gave up');
      await deps.pageTexts.failRemaining(p.dossierId, p.from, p.to, `OCR job gave up: ${reason}`);
    },
  };
}

export async function ocrBatch(deps: OcrJobDeps, p: OcrPayload, signal: AbortSignal): Promise<void> {
  const maxAttempts = deps.maxPageAttempts ?? OCR_PAGE_ATTEMPTS;
  const base = deps.retryBaseSeconds ?? 5;
  const pages = await deps.dossiers.listPages(p.dossierId, { offset: p.from - 1, limit: p.to - p.from + 1 });
  const records = new Map((await deps.pageTexts.list(p.dossierId, p.from, p.to)).map((r) => [r.index, r]));
  const log = deps.log.child({ dossier: p.dossierId });
  const todo = pages.filter((page) => {
    const record = records.get(page.index);
    if (record && record.status !== 'queued') return false;
    // A page that failed before belongs to its retry chain: only the retry for exactly its
    // current attempt count works on it, so no attempt runs twice.
    return (record?.attempts ?? 0) === (p.afterAttempts ?? 0);
  });
  const limit = pLimit(Math.max(1, deps.pagesAtOnce ?? 1));
  // Every page settles before the job does (none still writing after it ends), in page order of start.
  const outcomes = await Promise.allSettled(todo.map((page) => limit(async () => {
    signal.throwIfAborted(); // stopping: the job is retried later, the pages done so far stay done
    try {
      await indexPage(deps, page, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const reason = err instanceof Error ? err.message || err.name : String(err);
      // Bytes that cannot be decoded stay so: trying again only spends the backoff.
      const permanent = isDossierError(err) && REJECTION_CODES.has(err.code);
      const outcome = await deps.pageTexts.recordFailure(p.dossierId, page.index, reason, {
        maxAttempts: permanent ? 1 : maxAttempts,
        retry: (attempts, within) =>
          deps.queue.enqueue(
            {
              kind: OCR_JOB,
              key: `${p.dossierId}:${page.index}:retry${attempts}`,
              payload: { dossierId: p.dossierId, from: page.index, to: page.index, afterAttempts: attempts },
              runAt: new Date(Date.now() + base * 2 ** (attempts - 1) * 1000),
              maxAttempts: 10,
            },
            within,
          ),
      });
      log.warn({ page: page.index, attempts: outcome.attempts, status: outcome.status, reason }, 'OCR of a page failed');
    }
  })));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
