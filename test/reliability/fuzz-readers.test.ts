/**
 * Fuzzing the page readers: seeded byte-level mutations of a valid PDF, ZIP, TIFF and JPEG
 * dossier, each read by the service's page reader (read-pages.ts, in a thread of its own). Every
 * mutation must end in pages (each one the format it claims) or a stable rejection code, within
 * a time bound and a heap bound, with the process' memory bounded. A failure prints fast-check's
 * seed and path (rerun: FUZZ_SEED=<seed>) and the mutations; it then belongs in fuzz/regressions.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { REJECTION_CODES, type ErrorCode } from '../../dossier/errors.js';
import { DEFAULT_LIMITS, type IngestLimits } from '../../dossier/pages/types.js';
import { testEnv } from '../support/env.js';
import { tempDir } from '../support/fixtures.js';
import { mutate, mutations, type Mutation } from './fuzz/mutations.js';
import { readerInThread, type BoundedOutcome, type ReaderInThread } from './fuzz/reader-in-thread.js';
import { READER_REGRESSIONS } from './fuzz/regressions.js';
import { rawZip } from '../pages/document-fixtures.js';
import { seedDossiers, seedZipEntries, SEED_FORMATS, type SeedFormat } from './fuzz/seed-dossiers.js';
import { recordCase, recordFigures } from './results.js';

/**
 * Four fifths of the fuzz runs go to the files, shared by the four formats and the ZIP's entries
 * (mutated inside a well-formed archive, past its CRC checks); the rest to HTTP.
 */
const RUNS_PER_FORMAT = Math.max(1, Math.floor((testEnv.fuzzRuns * 4) / 5 / (SEED_FORMATS.length + 1)));
/** Generous: the seeds read in milliseconds; a read this long is a hang, even on a loaded machine. */
const CASE_TIMEOUT_MS = 30_000;
const HEAP_MB = 512;
/** The process' resident memory may grow this much over its start (sharp's caches, the threads). */
const RSS_GROWTH_LIMIT = 1024 * 1024 ** 2;
/** Page and pixel limits of a small gateway: a mutated count or size meets a limit, not the disk. */
const LIMITS: IngestLimits = { ...DEFAULT_LIMITS, maxPages: 1000, maxPixels: 16_000_000 };

/** What a mutated file may become; anything else is a bug of the reader. */
export function verdict(outcome: BoundedOutcome): string | null {
  switch (outcome.kind) {
    case 'pages': {
      if (outcome.pages.length === 0) return 'no pages and no rejection';
      for (const [i, p] of outcome.pages.entries()) {
        if (p.size === 0) return `page ${i + 1} is empty`;
        if (p.detected !== p.mediaType) return `page ${i + 1} claims ${p.mediaType} but its bytes are ${p.detected ?? 'of no known format'}`;
        for (const d of [p.width, p.height]) if (d !== null && !(Number.isFinite(d) && d >= 0)) return `page ${i + 1} has the size ${p.width} x ${p.height}`;
      }
      return null;
    }
    case 'rejected':
      return REJECTION_CODES.has(outcome.code as ErrorCode) ? null : `code ${outcome.code}: ${outcome.message}${outcome.stack ? ` (${outcome.stack})` : ''}`;
    case 'timeout':
      return `no end within ${outcome.ms} ms`;
    case 'died':
      return `the reader's thread died: ${outcome.message}`;
  }
}

const label = (o: BoundedOutcome) => (o.kind === 'pages' ? `pages:${o.pages.length}` : o.kind === 'rejected' ? o.code : o.kind);

describe('fuzzing the page readers @fuzz', function () {
  // Bounded by the run count and the per-case bound; minutes only on a loaded machine.
  this.timeout(1_800_000);
  let seeds: Record<SeedFormat, Buffer>;
  let entries: { name: string; data: Buffer }[];
  let dir: string;
  let reader: ReaderInThread;
  let rssStart: number;
  let rssPeak = 0;
  const tally: Record<string, Record<string, number>> = {};

  before(async () => {
    seeds = await seedDossiers();
    entries = await seedZipEntries();
    dir = await tempDir('dossier-fuzz-');
    reader = readerInThread({ timeoutMs: CASE_TIMEOUT_MS, heapMb: HEAP_MB });
    rssStart = process.memoryUsage().rss;
    console.log(`      fuzz seed ${testEnv.fuzzSeed}, ${RUNS_PER_FORMAT} mutations per format (FUZZ_SEED, FUZZ_RUNS to change)`);
  });
  after(async () => {
    await reader?.close();
    await fs.rm(dir, { recursive: true, force: true });
    recordFigures('fuzz', { seed: testEnv.fuzzSeed, runsPerFormat: RUNS_PER_FORMAT, outcomes: tally, rssStartMb: Math.round(rssStart / 2 ** 20), rssPeakMb: Math.round(rssPeak / 2 ** 20) });
    console.log('      outcomes per format:');
    for (const [format, counts] of Object.entries(tally)) console.log(`        ${format}: ${Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  /** The seed of `format` mutated; with `entry`, the ZIP rebuilt around that entry mutated. */
  function mutated(format: SeedFormat, list: readonly Mutation[], entry?: number): Buffer {
    if (entry === undefined) return mutate(seeds[format], list);
    return rawZip(entries.map((e, i) => (i === entry ? { name: e.name, data: mutate(e.data, list) } : e)));
  }

  /** Reads one mutated file; returns what went wrong, or null. */
  async function attempt(format: SeedFormat, list: readonly Mutation[], entry?: number): Promise<{ outcome: BoundedOutcome; problem: string | null }> {
    const file = path.join(dir, `case.${format}`);
    await fs.writeFile(file, mutated(format, list, entry));
    const outcome = await reader.read(file, LIMITS);
    const rss = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rss);
    let problem = verdict(outcome);
    if (!problem && rss - rssStart > RSS_GROWTH_LIMIT) problem = `the process grew to ${Math.round(rss / 2 ** 20)} MiB`;
    return { outcome, problem };
  }

  it('every seed is a valid dossier (the mutations start from pages)', async () => {
    for (const format of SEED_FORMATS) {
      const { outcome, problem } = await attempt(format, []);
      expect(problem, format).to.equal(null);
      expect(outcome.kind, `${format}: ${JSON.stringify(outcome)}`).to.equal('pages');
    }
  });

  for (const [i, format] of SEED_FORMATS.entries()) {
    it(`${RUNS_PER_FORMAT} mutations of a valid ${format}: pages or a stable rejection, within ${CASE_TIMEOUT_MS / 1000} s and ${HEAP_MB} MiB of heap`, async () => {
      const started = performance.now();
      const counts: Record<string, number> = (tally[format] = {});
      await fc.assert(
        fc.asyncProperty(mutations, async (list) => {
          const { outcome, problem } = await attempt(format, list);
          counts[label(outcome)] = (counts[label(outcome)] ?? 0) + 1;
          if (problem) throw new Error(`${format} mutated by ${JSON.stringify(list)}: ${problem}`);
        }),
        { seed: testEnv.fuzzSeed + i, numRuns: RUNS_PER_FORMAT },
      );
      recordCase('fuzz', `${RUNS_PER_FORMAT} mutations of ${format}`, Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', '), performance.now() - started);
    });
  }

  it(`${RUNS_PER_FORMAT} mutations of the entries of a valid zip (CRCs right): pages or a stable rejection, within the same bounds`, async () => {
    const started = performance.now();
    const counts: Record<string, number> = (tally['zip entries'] = {});
    await fc.assert(
      fc.asyncProperty(fc.nat(4), mutations, async (entry, list) => {
        const { outcome, problem } = await attempt('zip', list, entry);
        counts[label(outcome)] = (counts[label(outcome)] ?? 0) + 1;
        if (problem) throw new Error(`zip entry ${entries[entry]!.name} mutated by ${JSON.stringify(list)}: ${problem}`);
      }),
      { seed: testEnv.fuzzSeed + SEED_FORMATS.length, numRuns: RUNS_PER_FORMAT },
    );
    recordCase('fuzz', `${RUNS_PER_FORMAT} mutations of zip entries`, Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', '), performance.now() - started);
  });

  describe('regressions found by fuzzing', () => {
    for (const r of READER_REGRESSIONS) {
      it(`${r.format}${r.entry === undefined ? '' : ` entry ${r.entry}`}: ${r.found} → ${r.expect}`, async () => {
        const { outcome, problem } = await attempt(r.format, r.mutations, r.entry);
        expect(problem, JSON.stringify(outcome)).to.equal(null);
        expect(label(outcome)).to.equal(r.expect);
        recordCase('fuzz', `regression ${r.format}: ${r.found}`, label(outcome), 0);
      });
    }
  });
});
