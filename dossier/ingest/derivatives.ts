/** Work that follows the seal and never delays it: thumbnails and OCR. */
import type { JobQueue, NewJob } from '../ports/job-queue.js';
import type { Tx } from '../ports/transactions.js';

export const THUMBNAIL_JOB = 'thumbnails';
/** Pages per thumbnail job: few enough queue round trips, small enough to retry cheaply. */
export const THUMBNAIL_BATCH = 100;

export const OCR_JOB = 'ocr';
/**
 * Pages per OCR job. A page takes one to a few seconds of a core, so ten pages are ~10–30 s of
 * work: the queue's round trips vanish beside it, a 100-page dossier still spreads over ten
 * workers (on several machines), and the last job holds up "fully searchable" for seconds, not
 * minutes. A re-run skips the pages already done, so a killed worker repeats at most one page.
 */
export const OCR_BATCH = 10;
/** A page's OCR is tried this often (engine failure or timeout) before it ends `failed`. */
export const OCR_PAGE_ATTEMPTS = 3;

export async function enqueueDerivatives(queue: JobQueue, dossierId: string, pageCount: number, within?: Tx): Promise<void> {
  const jobs: NewJob[] = [];
  for (let from = 1; from <= pageCount; from += THUMBNAIL_BATCH) {
    const to = Math.min(pageCount, from + THUMBNAIL_BATCH - 1);
    jobs.push({ kind: THUMBNAIL_JOB, key: `${dossierId}:${from}`, payload: { dossierId, from, to } });
  }
  for (let from = 1; from <= pageCount; from += OCR_BATCH) {
    const to = Math.min(pageCount, from + OCR_BATCH - 1);
    // Attempts of the job itself (a worker stopped or killed mid-batch), not of a page.
    jobs.push({ kind: OCR_JOB, key: `${dossierId}:${from}`, payload: { dossierId, from, to }, maxAttempts: 10 });
  }
  await queue.enqueueAll(jobs, within);
}
