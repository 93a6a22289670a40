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
/**
 * Jobs a dossier's OCR is cut into at least (pages allowing). With ten-page jobs a 24-page dossier
 * is jobs of 10, 10 and 4: on two cores one worker reads the last four alone while the other
 * waits. Sixteen jobs or more keep every core of a machine or two busy to within a job of two
 * pages of the end; from 160 pages on, jobs are OCR_BATCH pages.
 */
export const OCR_MIN_JOBS = 16;

/** Pages per OCR job for a dossier of this many pages: 1 to OCR_BATCH. */
export const ocrBatchSize = (pageCount: number): number => Math.max(1, Math.min(OCR_BATCH, Math.ceil(pageCount / OCR_MIN_JOBS)));
/** A page's OCR is tried this often (engine failure or timeout) before it ends `failed`. */
export const OCR_PAGE_ATTEMPTS = 3;

export async function enqueueDerivatives(queue: JobQueue, dossierId: string, pageCount: number, within?: Tx): Promise<void> {
  const jobs: NewJob[] = [];
  for (let from = 1; from <= pageCount; from += THUMBNAIL_BATCH) {
    const to = Math.min(pageCount, from + THUMBNAIL_BATCH - 1);
    jobs.push({ kind: THUMBNAIL_JOB, key: `${dossierId}:${from}`, payload: { dossierId, from, to } });
  }
  const batch = ocrBatchSize(pageCount);
  for (let from = 1; from <= pageCount; from += batch) {
    const to = Math.min(pageCount, from + batch - 1);
    // Attempts of the job itself (a worker stopped or killed mid-batch), not of a page.
    jobs.push({ kind: OCR_JOB, key: `${dossierId}:${from}`, payload: { dossierId, from, to }, maxAttempts: 10 });
  }
  await queue.enqueueAll(jobs, within);
}
