/** Job definitions of the ingest pipeline: typed payloads plus their handlers. */
import { z } from 'zod';
import type { JobHandler } from '../ports/job-queue.js';
import { ingestDossier, rejectDossier, type IngestDeps } from './ingest-dossier.js';
import { THUMBNAIL_JOB } from './derivatives.js';
import { makeThumbnails, type ThumbnailDeps } from './make-thumbnails.js';

export const INGEST_JOB = 'ingest';

const ingestPayload = z.object({ dossierId: z.string().min(1) });
const thumbnailPayload = z.object({ dossierId: z.string().min(1), from: z.number().int().min(1), to: z.number().int().min(1) });

/**
 * `foreground` marks a running ingest as work someone waits for (ocr/foreground-gate.ts): the
 * queue's priority only orders what starts, the mark also keeps OCR and thumbnails to one page at
 * a time while an ingest runs, so that they do not take the cores from it.
 */
export function ingestHandler(deps: IngestDeps, concurrency: number, foreground?: () => () => void): JobHandler {
  return {
    kind: INGEST_JOB,
    concurrency,
    // Before OCR and thumbnails: a migration is not slowed by the OCR backlog it creates.
    priority: 10,
    async run(job) {
      const ended = foreground?.();
      try {
        await ingestDossier(deps, ingestPayload.parse(job.payload).dossierId);
      } finally {
        ended?.();
      }
    },
    async onGaveUp(job, reason) {
      // A dossier whose ingest keeps failing for reasons other than its content: say so, keep the bytes.
      const { dossierId } = ingestPayload.parse(job.payload);
      deps.log.error({ dossier: dossierId, reason }, 'ingest gave up');
      const d = await deps.dossiers.get(dossierId);
      if (d && d.status !== 'sealed' && d.status !== 'rejected') await rejectDossier(deps, d, 'internal', `ingest failed: ${reason}`);
    },
  };
}

export function thumbnailHandler(deps: ThumbnailDeps, concurrency: number): JobHandler {
  return {
    kind: THUMBNAIL_JOB,
    concurrency,
    async run(job) {
      await makeThumbnails(deps, thumbnailPayload.parse(job.payload));
    },
  };
}
