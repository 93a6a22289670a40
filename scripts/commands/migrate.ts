/**
 * `dossier migrate <archive-dir>`: bulk migration of a scanned paper archive. Creates the cases,
 * uploads every dossier with N at once, waits for each seal, and is resumable and idempotent: a
 * state file records what is done, an interrupted upload resumes, and a dossier the server already
 * holds with the same SHA-256 is not sent again. Failures never stop the rest; exit 1 if any.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { decodeJwt } from 'jose';
import pLimit from 'p-limit';
import { hashFile } from '../../dossier/hash.js';
import { clientDefaults } from '../../runtime/config.js';
import { planArchive, planFromMapping, type PlannedCase, type PlannedDossier } from '../support/archive-plan.js';
import { folderZip } from '../support/folder-zip.js';
import { MigrateState, type ItemOutcome } from '../support/migrate-state.js';
import { apiJson, resumableUpload, waitForOutcome, type DossierJson } from '../support/resumable-upload.js';

interface MigrateOptions {
  server: string;
  token?: string;
  concurrency: string;
  report?: string;
  dryRun?: boolean;
  json?: boolean;
  mapping?: string;
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
    .option('--dry-run', 'print the plan and send nothing')
    .option('--json', 'print the report as JSON')
    .action(async (root: string, o: MigrateOptions) => {
      const token = o.token ?? defaults.token;
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) program.error('--concurrency: 1 to 64', { exitCode: 2 });
      if (!(await fs.stat(root).then((s) => s.isDirectory(), () => false))) program.error(`dossier migrate: not a directory: ${root}`, { exitCode: 2 });
      const plan = o.mapping ? await planFromMapping(root, o.mapping) : await planArchive(root);
      if (o.dryRun) {
        for (const c of plan) process.stdout.write(`${c.number}${c.title ? ` (${c.title})` : ''}: ${c.dossiers.map((d) => d.filename).join(', ') || 'nothing to send'}\n`);
        return;
      }
      if (!token) program.error('dossier migrate: a bearer token is needed (--token or DOSSIER_TOKEN)', { exitCode: 2 });
      const server = o.server.replace(/\/+$/, '');
      await fs.mkdir(defaults.stateDir, { recursive: true });
      const state = await MigrateState.open(defaults.stateDir, root, server);
      const workDir = path.join(defaults.stateDir, 'folder-zips');
      await fs.mkdir(workDir, { recursive: true });

      const bars = o.json || !process.stderr.isTTY ? null : new cliProgress.MultiBar({ format: ' {bar} {percentage}% | {name}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_grey);
      const items = plan.flatMap((c) => c.dossiers.map((d) => ({ c, d })));
      const overall = bars?.create(items.length, 0, { name: `${items.length} dossiers in ${plan.length} cases` });
      const started = Date.now();
      const limit = pLimit(concurrency);
      const caseIds = new Map<string, Promise<string>>();
      const ensureCase = (c: PlannedCase) => {
        if (!caseIds.has(c.number)) caseIds.set(c.number, findOrCreateCase(server, token!, c));
        return caseIds.get(c.number)!;
      };
      const outcomes = await Promise.all(
        items.map(({ c, d }) =>
          limit(async () => {
            const outcome = await migrateOne({ server, token: token!, c, d, state, workDir, ensureCase, bars });
            overall?.increment();
            return outcome;
          }),
        ),
      );
      bars?.stop();
      const seconds = (Date.now() - started) / 1000;
      const bytes = outcomes.reduce((n, x) => n + (x.status === 'sealed' ? x.bytes : 0), 0);
      await writeReports(o.report ?? state.file.replace(/\.json$/, '-report.json'), outcomes, !o.report);
      if (o.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
      const failed = outcomes.filter((x) => x.status === 'failed' || x.status === 'rejected');
      process.stderr.write(
        `${plan.length} cases, ${outcomes.length} dossiers: ${outcomes.filter((x) => x.status === 'sealed').length} sealed, ${outcomes.filter((x) => x.status === 'skipped').length} already there, ${failed.length} failed; ` +
          `${(plan.length / (seconds / 60)).toFixed(1)} cases/min, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s\n`,
      );
      for (const f of failed) process.stderr.write(`  ✗ ${f.item}: ${f.error}\n`);
      if (failed.length) process.exitCode = 1;
    });
}

interface OneItem {
  server: string;
  token: string;
  c: PlannedCase;
  d: PlannedDossier;
  state: MigrateState;
  workDir: string;
  ensureCase: (c: PlannedCase) => Promise<string>;
  bars: cliProgress.MultiBar | null;
}

async function migrateOne(x: OneItem): Promise<ItemOutcome> {
  const done = x.state.get(x.d.key);
  if (done?.status === 'sealed' || done?.status === 'skipped') return done;
  const base: ItemOutcome = { case: x.c.number, item: x.d.key, caseId: null, dossierId: null, status: 'failed', pages: null, bytes: 0, sha256: null, error: null };
  let bar: cliProgress.SingleBar | undefined;
  try {
    const caseId = await x.ensureCase(x.c);
    const file = x.d.kind === 'folder' ? await folderZip(x.d.path, x.workDir) : x.d.path;
    const { sha256, size } = await hashFile(file);
    Object.assign(base, { caseId, sha256, bytes: size });
    // Already on the server (an earlier run, or someone else): do not send it twice.
    const held = (await apiJson<{ dossiers: DossierJson[] }>(x.server, x.token, 'GET', `/api/cases/${caseId}`)).json.dossiers.find(
      (d) => d.sha256 === sha256 && d.status !== 'rejected',
    );
    let outcome: DossierJson;
    if (held) {
      outcome = held.status === 'sealed' ? held : await waitForOutcome(x.server, x.token, held.id);
    } else {
      bar = x.bars?.create(size, 0, { name: x.d.key });
      const url = await resumableUpload({
        file, server: x.server, token: x.token, chunkSize: 64 * 1024 * 1024,
        metadata: { filename: x.d.filename, caseId },
        stateFile: path.join(path.dirname(x.state.file), 'uploads.json'),
        fingerprintParts: [caseId, x.server],
        onProgress: (sent) => bar?.update(sent),
      });
      outcome = await waitForOutcome(x.server, x.token, url.split('/').pop()!);
    }
    const result: ItemOutcome = {
      ...base, dossierId: outcome.id, pages: outcome.pageCount,
      status: outcome.status === 'sealed' ? (held ? 'skipped' : 'sealed') : 'rejected',
      error: outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : null,
    };
    await x.state.record(x.d.key, result);
    return result;
  } catch (err) {
    const result = { ...base, error: err instanceof Error ? err.message : String(err) };
    await x.state.record(x.d.key, result);
    return result;
  } finally {
    if (bar) x.bars?.remove(bar);
  }
}

async function findOrCreateCase(server: string, token: string, c: PlannedCase): Promise<string> {
  const created = await apiJson<{ id: string; error?: { message: string } }>(server, token, 'POST', '/api/cases', { number: c.number, title: c.title });
  if (created.status === 201) return created.json.id;
  if (created.status === 409) {
    // `?number=` matches any agency's number for a case; ours is the one our agency gave it.
    const agency = agencyOf(token);
    const found = await apiJson<{ cases: { id: string; numbers?: { agency: string; number: string }[] }[] }>(
      server,
      token,
      'GET',
      `/api/cases?number=${encodeURIComponent(c.number)}`,
    );
    const ours = found.json.cases.find((k) => k.numbers?.some((n) => n.agency === agency && n.number === c.number));
    if (ours) return ours.id;
  }
  throw new Error(`case ${c.number}: ${created.status} ${created.json.error?.message ?? ''}`);
}

/** The agency our token speaks for (read, not verified: the server verifies it on every call). */
function agencyOf(token: string): string | undefined {
  const claim = decodeJwt(token).agency;
  return typeof claim === 'string' ? claim : undefined;
}

const CSV_COLUMNS = ['case', 'item', 'status', 'pages', 'bytes', 'dossierId', 'sha256', 'error'] as const;

async function writeReports(target: string, rows: ItemOutcome[], both: boolean): Promise<void> {
  const csv = [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((k) => csvCell(r[k])).join(','))].join('\n');
  const base = target.replace(/\.(json|csv)$/, '');
  if (both || target.endsWith('.json')) await fs.writeFile(`${base}.json`, JSON.stringify(rows, null, 2));
  if (both || target.endsWith('.csv')) await fs.writeFile(`${base}.csv`, `${csv}\n`);
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
