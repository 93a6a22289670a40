/** Work that follows the seal and never delays it: thumbnails now, OCR later. */
import type { JobQueue } from '../ports/job-queue.js';

export const THUMBNAIL_JOB = 'thumbnails';
/** Pages per thumbnail job: few enough queue round trips, small enough to retry cheaply. */
export const THUMBNAIL_BATCH = 100;

export async function enqueueDerivatives(queue: JobQueue, dossierId: string, pageCount: number): Promise<void> {
  for (let from = 1; from <= pageCount; from += THUMBNAIL_BATCH) {
    const to = Math.min(pageCount, from + THUMBNAIL_BATCH - 1);
    await queue.enqueue({ kind: THUMBNAIL_JOB, key: `${dossierId}:${from}`, payload: { dossierId, from, to } });
  }
}
