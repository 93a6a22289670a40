/**
 * Bulk migration at archive scale: `dossier migrate` (the compiled CLI) of a generated archive of
 * small cases (a cover JPEG and a PDF statement each) into a fresh gateway process; then the same
 * command again with nothing new. Prints cases/min, MB/s, CLI peak RSS, journal size, the OCR
 * backlog left and the re-run time. `--rerun-only N`: the nothing-new re-run over N tiny cases
 * whose journal says they are done (no server work: what the re-run costs the CLI alone).
 *
 * Also the gateway's cost per dossier: CPU ms (whole process and main thread, from /proc), SQL
 * statements and transactions, HTTP requests, the ingest job's time and pick-up wait (/metrics),
 * and the CLI's CPU ms; `--strace` adds fsyncs, renames and thread starts (a slower run).
 *
 * One command per size, for a quiet machine (npm run build first):
 *   node --import tsx scripts/bench/migrate-scale.ts --cases 120      [--pdf-pages 12] [--concurrency 8] [--ingest-concurrency 4]
 *   node --import tsx scripts/bench/migrate-scale.ts --cases 1000
 *   node --import tsx scripts/bench/migrate-scale.ts --cases 10000
 *   node --import tsx scripts/bench/migrate-scale.ts --large 20 --large-mb 100   (20 ZIPs of A4 scans; one uploaded alone first)
 *   node --import tsx scripts/bench/migrate-scale.ts --rerun-only 100000
 *   … --server-log FILE [--server-log-level info]   (the gateway's log, e.g. each dossier's ingest phases)
 *   … --cli .cache/base-dist/scripts/dossier.js   (another build of the CLI, for a before/after:
 *     e.g. at the base commit, `npx tsc -p tsconfig.build.json --outDir .cache/base-dist`)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planArchive } from '../support/archive-plan.js';
import { MigrateJournal } from '../support/migrate-journal.js';
import { waitForOutcome } from '../support/resumable-upload.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { makeLargeCaseArchive, makeSmallCaseArchive } from './fixtures/small-case-archive.js';
import { jpegPage } from './fixtures/small-dossiers.js';
import { renderPage } from './fixtures/synthetic-pages.js';
import { serverCost, serverSnapshot, straceCounts } from './server-cost.js';

const uptimeLoad = () => `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '120' },
    'pdf-pages': { type: 'string', default: '12' },
    concurrency: { type: 'string', default: '8' },
    'rerun-only': { type: 'string' },
    large: { type: 'string' },
    'large-mb': { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
    // Counts the gateway's fsyncs, renames and thread starts with strace -f -c (slows the run: a separate run).
    strace: { type: 'boolean', default: false },
    // The gateway's log (LOG_LEVEL=warn, or --server-log-level) written to this file at the end.
    'server-log': { type: 'string' },
    'server-log-level': { type: 'string', default: 'warn' },
    'ingest-concurrency': { type: 'string', default: '4' },
    // The measured gateway's settings beside those (repeatable), e.g. --server-env UPLOAD_STREAM_INGEST=true.
    'server-env': { type: 'string', multiple: true },
    // Another build of the CLI (e.g. main's, compiled to .cache/base-dist) against the same server: before/after.
    cli: { type: 'string', default: 'dist/scripts/dossier.js' },
  },
});
const runDir = path.resolve('.cache/bench-run', `migrate-scale-${Date.now()}`);
const cli = path.resolve(args.cli!);

/** `dossier migrate <root> --json …`: its time, peak RSS, CPU and closing summary line. */
const migrate = (root: string, env: Record<string, string>, extra: string[] = []) => cliRun(['migrate', root, '--json', ...extra], env);

/** Runs the CLI; samples its peak RSS (VmHWM) and CPU while it runs. */
async function cliRun(argv: string[], env: Record<string, string>) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => (out += d));
  let peak = 0;
  let cpuMs = 0;
  const sample = setInterval(() => {
    fs.readFile(`/proc/${child.pid}/status`, 'utf8').then((s) => {
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024);
    }, () => {});
    // The last sample before the exit: within 100 ms of the CLI's CPU time.
    fs.readFile(`/proc/${child.pid}/stat`, 'utf8').then((s) => {
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      cpuMs = (Number(f[11]) + Number(f[12])) * 10;
    }, () => {});
  }, 100);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(sample);
  const seconds = (performance.now() - t0) / 1000;
  // migrate's summary is its last JSON line on stderr; upload --json prints its result on stdout.
  const lines = `${err}\n${out}`.split('\n').filter((l) => l.startsWith('{'));
  const summary = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, any>;
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${err.slice(-2000)}`);
  return { seconds, peakRss: peak, cpuMs, summary };
}

async function journalBytes(stateDir: string): Promise<number> {
  const f = (await fs.readdir(stateDir)).find((x) => x.endsWith('.jsonl'));
  return f ? (await fs.stat(path.join(stateDir, f))).size : 0;
}

const mb = (b: number) => (b / 1e6).toFixed(1);

async function full(cases: number, pdfPages: number, concurrency: number) {
  // A4 at 150 dpi: about the size of a scanned page in the archive.
  const page = await jpegPage(1, 1240, 1754);
  const { root, bytes } = await makeSmallCaseArchive(runDir, { cases, pdfPages, page });
  const dataDir = path.join(runDir, 'data');
  const server = await freshServer(dataDir);
  try {
    const env = { DOSSIER_SERVER: server.url, DOSSIER_TOKEN: await tokenFor(dataDir, 'archive-bench', 'clerk'), DOSSIER_STATE_DIR: path.join(runDir, 'state') };
    const pid = server.child.pid!;
    const strace = args.strace ? await straceCounts(pid) : null;
    const before = await serverSnapshot(pid, server.url);
    const run = await migrate(root, env, ['--concurrency', String(concurrency)]);
    const after = await serverSnapshot(pid, server.url);
    const syscalls = await strace?.stop();
    const again = await migrate(root, env);
    const sealed = run.summary.dossiers.done as number;
    console.log(`| per dossier, server side (${sealed} dossiers; ${uptimeLoad()}) | |`);
    console.log('|---|---|');
    for (const [what, v] of serverCost(before, after, sealed).rows) console.log(`| ${what} | ${v} |`);
    console.log(`| CPU ms, the CLI | ${(run.cpuMs / sealed).toFixed(1)} |`);
    console.log(`| gateway peak RSS MB (whole run, INGEST_CONCURRENCY ${args['ingest-concurrency']}) | ${mb((await server.peakRss()) ?? 0)} |`);
    if (syscalls) for (const [call, n] of syscalls) console.log(`| syscall ${call} (strace -f, slows the run) | ${(Number(n) / sealed).toFixed(1)} |`);
    if (run.summary.phases) {
      console.log('| phase (CLI side) | mean ms per dossier | dossiers |');
      console.log('|---|---|---|');
      for (const [phase, p] of Object.entries(run.summary.phases as Record<string, { meanMs: number; count: number }>)) console.log(`| ${phase} | ${p.meanMs} | ${p.count} |`);
    }
    console.log('| cases | dossiers | MB | concurrency | seconds | cases/min | MB/s | CLI peak RSS MB | journal KB | OCR backlog pages at the end | re-run, nothing new: s | sent in re-run |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    console.log(`| ${cases} | ${run.summary.dossiers.done} | ${mb(bytes)} | ${concurrency} | ${run.seconds.toFixed(1)} | ${(cases / (run.seconds / 60)).toFixed(0)} | ${(bytes / 1e6 / run.seconds).toFixed(1)} | ${mb(run.peakRss)} | ${((await journalBytes(env.DOSSIER_STATE_DIR)) / 1024).toFixed(0)} | ${run.summary.ocrBacklogPages} | ${again.seconds.toFixed(1)} | ${again.summary.dossiers.sent} |`);
  } finally {
    await server.kill('SIGTERM');
    if (args['server-log']) await fs.writeFile(args['server-log'], server.output());
  }
}

/** The gateway of a run: a first start (PGlite's initdb) stopped, then the measured one. */
async function freshServer(dataDir: string) {
  const first = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  await first.kill('SIGTERM');
  const extra = Object.fromEntries((args['server-env'] ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: args['server-log-level']!, INGEST_CONCURRENCY: args['ingest-concurrency']!, ...extra }, undefined, { compiled: true });
}

/**
 * `--large N --large-mb M`: one of the large dossiers uploaded alone (`dossier upload`, no wait:
 * the single upload's throughput), then the N migrated at `--concurrency`, waiting for every seal.
 */
async function large(cases: number, megabytes: number, concurrency: number) {
  // Scan-like A4 pages of the 5,253-page benchmark's kind (about 200 KB each): a large dossier is
  // large in pages and in bytes alike, not thousands of 14 KB thumbnails.
  const pages = await Promise.all([1, 2, 3, 4].map((i) => renderPage(i, { totalPages: 4 })));
  const { root, bytes, files } = await makeLargeCaseArchive(runDir, { cases, megabytes, pages });
  const dataDir = path.join(runDir, 'data');
  const server = await freshServer(dataDir);
  try {
    const env = { DOSSIER_SERVER: server.url, DOSSIER_TOKEN: await tokenFor(dataDir, 'archive-bench', 'clerk'), DOSSIER_STATE_DIR: path.join(runDir, 'state') };
    // The CLI's own start (seconds on a loaded machine) is taken off the migration's time; the
    // single uploads report their transfer's own seconds (upload --json).
    const start = (await cliRun(['--help'], env)).seconds;
    // Three of them one after another, each sealed before the next: the median is the baseline (one
    // 100 MB upload took 0.5 s or 1.2 s minutes apart on the same quiet machine).
    const singles = [];
    for (const [i, file] of [files[0]!, files[2]!, files[3]!].entries()) {
      const one = await cliRun(['upload', file, '--case', `SINGLE-${i + 1}`, '--create', '--json'], env);
      one.seconds = one.summary.uploadSeconds as number;
      await waitForOutcome(env.DOSSIER_SERVER, env.DOSSIER_TOKEN, one.summary.dossier as string);
      singles.push({ run: one, bytes: (await fs.stat(file)).size });
    }
    console.log(`single uploads to their last byte: ${singles.map((s) => s.run.seconds.toFixed(2)).join(', ')} s (the median is the baseline)`);
    const median = singles.sort((a, b) => a.run.seconds - b.run.seconds)[1]!;
    const single = median.run;
    const singleBytes = median.bytes;
    // Another of them, waited for until sealed: the like-for-like baseline.
    const sealedAlone = await cliRun(['upload', files[1]!, '--case', 'SINGLE-SEALED', '--create', '--wait', '--json'], env);
    sealedAlone.seconds = (sealedAlone.summary.uploadSeconds as number) + (sealedAlone.summary.settledSeconds as number);
    const run = await migrate(root, env, ['--concurrency', String(concurrency)]);
    run.seconds -= start;
    console.log(`CLI start (dossier --help): ${start.toFixed(1)} s, taken off the migration's row`);
    const upload = run.summary.phases?.upload as { meanMs: number } | undefined;
    console.log(`| large dossiers (${uptimeLoad()}) | dossiers | MB each | MB | concurrency | seconds | MB/s | ÷ single upload | CLI peak RSS MB |`);
    console.log('|---|---|---|---|---|---|---|---|---|');
    const singleRate = singleBytes / 1e6 / single.seconds;
    console.log(`| one uploaded alone (dossier upload, to its last byte; median of 3) | 1 | ${mb(singleBytes)} | ${mb(singleBytes)} | 1 | ${single.seconds.toFixed(1)} | ${singleRate.toFixed(1)} | 1.00 | ${mb(single.peakRss)} |`);
    const sealedRate = singleBytes / 1e6 / sealedAlone.seconds;
    console.log(`| one uploaded alone and sealed (dossier upload --wait) | 1 | ${mb(singleBytes)} | ${mb(singleBytes)} | 1 | ${sealedAlone.seconds.toFixed(1)} | ${sealedRate.toFixed(1)} | ${(sealedRate / singleRate).toFixed(2)} | ${mb(sealedAlone.peakRss)} |`);
    const rate = bytes / 1e6 / run.seconds;
    console.log(`| migrated, every seal waited for | ${cases} | ${mb(bytes / cases)} | ${mb(bytes)} | ${concurrency} | ${run.seconds.toFixed(1)} | ${rate.toFixed(1)} | ${(rate / singleRate).toFixed(2)} | ${mb(run.peakRss)} |`);
    if (upload) console.log(`mean upload phase per dossier ${upload.meanMs} ms; seal wait ${(run.summary.phases?.seal as { meanMs: number } | undefined)?.meanMs ?? '–'} ms`);
  } finally {
    await server.kill('SIGTERM');
    if (args['server-log']) await fs.writeFile(args['server-log'], server.output());
  }
}

async function rerunOnly(cases: number) {
  const t0 = performance.now();
  const { root } = await makeSmallCaseArchive(runDir, { cases });
  const server = 'http://127.0.0.1:9'; // never called: everything is in the journal
  const stateDir = path.join(runDir, 'state');
  await fs.mkdir(stateDir, { recursive: true });
  const journal = await MigrateJournal.open(stateDir, root, server);
  for (const c of await planArchive(root)) {
    for (const d of c.dossiers) {
      void journal.record({ case: c.number, item: d.key, caseId: 'c', dossierId: 'd', status: 'sealed', pages: 1, bytes: 1, sha256: null, error: null, stamp: d.stamp });
    }
  }
  await journal.close();
  const made = (performance.now() - t0) / 1000;
  const env = { DOSSIER_SERVER: server, DOSSIER_TOKEN: 'x.eyJhZ2VuY3kiOiJhIn0.x', DOSSIER_STATE_DIR: stateDir };
  const run = await migrate(root, env);
  console.log(`tree and journal made in ${made.toFixed(0)} s`);
  console.log('| cases (one tiny file each) | re-run, nothing new: s | sent | CLI peak RSS MB | journal MB |');
  console.log('|---|---|---|---|---|');
  console.log(`| ${cases} | ${run.seconds.toFixed(1)} | ${run.summary.dossiers.sent} | ${mb(run.peakRss)} | ${mb(await journalBytes(stateDir))} |`);
}

await fs.mkdir(runDir, { recursive: true });
try {
  if (args['rerun-only']) await rerunOnly(Number(args['rerun-only']));
  else if (args.large) await large(Number(args.large), Number(args['large-mb']), Number(args.concurrency));
  else await full(Number(args.cases), Number(args['pdf-pages']), Number(args.concurrency));
} finally {
  if (!args.keep) await fs.rm(runDir, { recursive: true, force: true });
}
