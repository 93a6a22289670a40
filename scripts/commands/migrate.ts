/**
 * `dossier migrate <archive-dir>`: bulk migration of a scanned paper archive. Creates the cases,
 * uploads every dossier with N uploads at once while the server seals the earlier ones, and is
 * resumable and idempotent: an append-only journal records what is done (an unchanged file, by
 * path, size and mtime, is not read again), an interrupted upload resumes, and a dossier the server
 * already holds with the same SHA-256 is not sent again. Failures never stop the rest; exit 1 if any.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import pLimit from 'p-limit';
import { clientDefaults } from '../../runtime/config.js';
import { planArchive, planFromMapping } from '../support/archive-plan.js';
import { MigrateJournal } from '../support/migrate-journal.js';
import { CaseDirectory, doneInJournal, migrateItem } from '../support/migrate-item.js';
import { MigratePhases } from '../support/migrate-phases.js';
import { describe, MigrateProgress } from '../support/migrate-progress.js';
import { ReportWriter } from '../support/migrate-report.js';
import { OcrBacklog } from '../support/ocr-backlog.js';
import { orderedWindow } from '../support/ordered-window.js';
import { SealWatcher } from '../support/seal-watcher.js';

interface MigrateOptions {
  server: string;
  token?: string;
  concurrency: string;
  report?: string;
  dryRun?: boolean;
  json?: boolean;
  mapping?: string;
  rehash?: boolean;
}

export function registerMigrate(program: Command): void {
  const defaults = clientDefaults();
  program
    .command('migrate')
    .description('migrate an archive: one case per top folder "<number>[ <title>]"; files and page-image folders inside are dossiers')
    .argument('<archive-dir>', 'the archive root')
    .option('--server <url>', 'gateway URL (DOSSIER_SERVER)', defaults.server)
    .option('--token <jwt>', 'bearer token of a clerk (DOSSIER_TOKEN)')
    .option('--concurrency <n>', 'uploads at once', '4')
    .option('--report <file>', 'write the report here: .json or .csv by extension (default: both beside the state file)')
    .option('--mapping <file>', 'a JSON mapping of cases to files and page folders, for archives laid out otherwise')
    .option('--rehash', 'read and hash every file again, even those whose size and mtime are unchanged since they were migrated')
    .option('--dry-run', 'print the plan and send nothing')
    .option('--json', 'print the report as JSON on stdout, and progress as JSON lines on stderr')
    .action(async (root: string, o: MigrateOptions) => {
      const token = o.token ?? defaults.token;
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) program.error('--concurrency: 1 to 64', { exitCode: 2 });
      if (!(await fs.stat(root).then((s) => s.isDirectory(), () => false))) program.error(`dossier migrate: not a directory: ${root}`, { exitCode: 2 });
      if (o.dryRun) {
        const plan = o.mapping ? await planFromMapping(root, o.mapping) : await planArchive(root);
        for (const c of plan) process.stdout.write(`${c.number}${c.title ? ` (${c.title})` : ''}: ${c.dossiers.map((d) => d.filename).join(', ') || 'nothing to send'}\n`);
        return;
      }
      if (!token) program.error('dossier migrate: a bearer token is needed (--token or DOSSIER_TOKEN)', { exitCode: 2 });
      const server = o.server.replace(/\/+$/, '');
      await fs.mkdir(defaults.stateDir, { recursive: true });
      const journal = await MigrateJournal.open(defaults.stateDir, root, server);
      const rehash = o.rehash ?? false;
      const known = rehash ? undefined : (key: string, stamp: string) => journal.get(key)?.stamp === stamp;
      const plan = o.mapping ? await planFromMapping(root, o.mapping) : await planArchive(root, { known });
      const workDir = path.join(defaults.stateDir, 'folder-zips');
      await fs.mkdir(workDir, { recursive: true });

      const items = function* () {
        for (const c of plan) for (const d of c.dossiers) yield { c, d };
      };
      const dossierCount = plan.reduce((n, c) => n + c.dossiers.length, 0);
      // The server ingests in upload order, a few at once: asking about the oldest few is enough.
      const watcher = new SealWatcher({ server, token: token! });
      const ocr = new OcrBacklog(server, token!);
      const progress = new MigrateProgress(
        o.json ? 'json' : process.stderr.isTTY ? 'tty' : 'lines',
        { cases: plan.length, dossiers: dossierCount },
        new Map(plan.map((c) => [c.number, c.dossiers.length])),
        () => ocr.pages,
      );
      const deps = {
        server, token: token!, journal, workDir, rehash, watcher,
        uploadSlots: pLimit(concurrency),
        // Enough sealed-in-waiting to keep the server's ingest busy, few enough that a kill
        // leaves little half-done and memory stays flat.
        maxUnsealed: Math.max(32, 4 * concurrency),
        cases: new CaseDirectory(server, token!, journal),
        phases: new MigratePhases(),
      };
      const report = new ReportWriter(o.report ?? journal.file.replace(/\.jsonl$/, '-report.json'), !o.report, o.json ?? false);
      const counts = { sealed: 0, skipped: 0, failed: 0, rows: 0 };
      // Only the failures are kept for the closing lines (the report has every row).
      const failed: { item: string; error: string | null }[] = [];
      progress.start();
      ocr.start();
      // Items in flight, at most: every upload slot busy, every unsealed dossier waited for, and
      // as many again ready to start; the report rows leave in plan order as they finish.
      const window = deps.maxUnsealed + 2 * concurrency;
      await orderedWindow(
        items(),
        window,
        ({ c, d }) => {
          // Unchanged and done: decided here, at once (a re-run of 100,000 such items takes seconds).
          const done = doneInJournal(deps, d);
          if (done) {
            progress.item(c.number, done.how, done.outcome.bytes);
            return done.outcome;
          }
          return migrateItem(deps, c, d).then(({ outcome, how, sealedNow }) => {
            progress.item(c.number, how, outcome.bytes);
            if (sealedNow) ocr.sealed(sealedNow);
            return outcome;
          });
        },
        (outcome) => {
          counts.rows++;
          if (outcome.status === 'sealed') counts.sealed++;
          else if (outcome.status === 'skipped') counts.skipped++;
          else if (outcome.status === 'failed' || outcome.status === 'rejected') {
            counts.failed++;
            if (failed.length < 1000) failed.push({ item: outcome.item, error: outcome.error });
          }
          return report.row(outcome);
        },
      );
      ocr.stop();
      await ocr.sample();
      const summary = progress.stop(deps.phases.summary());
      await journal.close();
      await report.close();
      process.stderr.write(
        `${plan.length} cases, ${counts.rows} dossiers: ${counts.sealed} sealed, ${counts.skipped} already there, ${counts.failed} failed; ` +
          `${summary.dossiers.sent} sent in this run; ${describe(summary)}\n`,
      );
      for (const f of failed) process.stderr.write(`  ✗ ${f.item}: ${f.error}\n`);
      if (counts.failed > failed.length) process.stderr.write(`  … and ${counts.failed - failed.length} more failures: see the report\n`);
      if (counts.failed) process.exitCode = 1;
    });
}
