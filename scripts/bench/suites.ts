/**
 * `npm run bench -- --only suites [--pages N]`: the two signature suites' primitives side by side
 * (crypto-suites.ts), then the ingest of the benchmark dossier (a stored ZIP of the synthetic
 * pages, the first N of them when given) under SIGNATURE_SUITE=ed25519-sha256 and sm2-sm3, in
 * alternating rounds on fresh gateways (the compiled build), upload start to sealed, with the
 * pipeline's phases from the "dossier sealed" log line. Prints markdown tables.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeStoredZip } from './fixtures/archives.js';
import { api, fmt, pollUntil, timeCommand, upload } from './measure.js';
import { cryptoSuitesBench } from './crypto-suites.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import type { SignatureSuite } from '../../dossier/signing/suite.js';

interface Run {
  suite: SignatureSuite;
  uploadS: number;
  sealS: number;
  totalS: number;
  phases: Record<string, number>;
}

/** A ZIP of the page files present (complete JPEGs) in `pagesDir`, at most `pages` of them. */
export async function benchZip(pagesDir: string, pages: number, out: string): Promise<{ file: string; pages: number }> {
  const files = (await fs.readdir(pagesDir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, pages);
  if (await fs.stat(out).then(() => true, () => false)) return { file: out, pages: files.length };
  await writeStoredZip(files.map((f, i) => ({ file: path.join(pagesDir, f), name: `dossier/${String(i + 1).padStart(4, '0')}.jpg` })), out);
  return { file: out, pages: files.length };
}

async function ingestOnce(suite: SignatureSuite, zip: string, runDir: string): Promise<Run> {
  const dataDir = path.join(runDir, `suite-${suite}-${Date.now()}`);
  await fs.mkdir(dataDir, { recursive: true });
  const env = { DATA_DIR: dataDir, SIGNATURE_SUITE: suite, WORKERS: 'in-process', OCR_WORKERS: '1' };
  // First start: PGlite's initdb (whose heap stays for the process); measure a restarted gateway.
  const first = await spawnServer({ ...env, LOG_LEVEL: 'warn' }, undefined, { compiled: true, startTimeoutMs: 300_000 });
  await first.kill('SIGTERM');
  const server = await spawnServer({ ...env, LOG_LEVEL: 'info' }, undefined, { compiled: true, startTimeoutMs: 300_000 });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `SUITE-${suite}-${Date.now()}` });
    await timeCommand('sync', []);
    const t0 = performance.now();
    const url = await upload(server.url, token, zip, { filename: path.basename(zip), caseId: c.id });
    const uploadS = (performance.now() - t0) / 1000;
    const id = url.split('/').pop()!;
    const sealed = await pollUntil(
      () => api<{ status: string; error?: unknown }>(server.url, token, 'GET', `/api/dossiers/${id}`),
      (d) => d.status === 'sealed' || d.status === 'rejected',
    );
    if (sealed.value.status !== 'sealed') throw new Error(`${suite}: ${JSON.stringify(sealed.value.error)}`);
    const totalS = (performance.now() - t0) / 1000;
    const line = server.output().split('\n').find((l) => l.includes('"dossier sealed"'));
    return { suite, uploadS, sealS: totalS - uploadS, totalS, phases: line ? (JSON.parse(line).phases as Record<string, number>) : {} };
  } finally {
    await server.kill('SIGTERM');
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

export async function suitesBench(o: { pagesDir: string; pages: number; runDir: string; rounds?: number }): Promise<string> {
  const crypto = await cryptoSuitesBench();
  process.stdout.write(`${crypto}\n\n`); // at once: the ingest rounds take minutes
  const out: string[] = [];
  await fs.mkdir(o.runDir, { recursive: true });
  const { file, pages } = await benchZip(o.pagesDir, o.pages, path.join(o.runDir, `suites-${o.pages}.zip`));
  const size = (await fs.stat(file)).size;
  const runs: Run[] = [];
  // Each row printed as it is measured: a round takes minutes on a busy machine.
  process.stdout.write(`Ingest of ${pages} pages (${fmt(size / 1e6, 0)} MB stored ZIP), upload start to sealed, alternating rounds:\n\n`);
  process.stdout.write('| round | suite | upload s | upload→sealed s | total s | pages (ms) | seal (ms) |\n|---|---|---|---|---|---|---|\n');
  for (let round = 0; round < (o.rounds ?? 2); round++) {
    for (const suite of ['ed25519-sha256', 'sm2-sm3'] as const) {
      const r = await ingestOnce(suite, file, o.runDir);
      runs.push(r);
      process.stdout.write(`| ${round + 1} | ${r.suite} | ${fmt(r.uploadS)} | ${fmt(r.sealS)} | ${fmt(r.totalS)} | ${r.phases.pages ?? '?'} | ${r.phases.seal ?? '?'} |\n`);
    }
  }
  const mean = (s: SignatureSuite, f: (r: Run) => number) => {
    const xs = runs.filter((r) => r.suite === s).map(f);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const [ed, sm] = [mean('ed25519-sha256', (r) => r.totalS), mean('sm2-sm3', (r) => r.totalS)];
  out.push('', `Mean total: ed25519-sha256 ${fmt(ed)} s, sm2-sm3 ${fmt(sm)} s: the national suite costs ${fmt(((sm - ed) / ed) * 100, 0)} %.`);
  return out.join('\n');
}
