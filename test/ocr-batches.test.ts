import { expect } from 'chai';
import { OCR_BATCH, OCR_JOB, enqueueDerivatives, ocrBatchSize } from '../dossier/ingest/derivatives.js';
import type { JobQueue, NewJob } from '../dossier/ports/job-queue.js';

/** Collects what enqueueDerivatives asks for: the OCR jobs' page ranges. */
async function ocrRanges(pageCount: number): Promise<[number, number][]> {
  const jobs: NewJob[] = [];
  const queue = { enqueueAll: async (j: NewJob[]) => { jobs.push(...j); } } as unknown as JobQueue;
  await enqueueDerivatives(queue, 'd1', pageCount);
  return jobs.filter((j) => j.kind === OCR_JOB).map((j) => [(j.payload as { from: number }).from, (j.payload as { to: number }).to]);
}

describe('OCR jobs per dossier', () => {
  it('cuts a small dossier into small jobs, so that no core reads the tail alone', async () => {
    const ranges = await ocrRanges(24);
    expect(ranges).to.have.length(12);
    expect(ranges.every(([a, b]) => b - a + 1 === 2)).to.equal(true);
    expect((await ocrRanges(3)).map(([a, b]) => b - a + 1)).to.deep.equal([1, 1, 1]);
  });

  it('keeps ten-page jobs for large dossiers, and covers every page once', async () => {
    expect(ocrBatchSize(5253)).to.equal(OCR_BATCH);
    for (const n of [1, 17, 24, 159, 160, 1001]) {
      const pages = (await ocrRanges(n)).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
      expect(pages, `${n} pages`).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
    }
  });
});
