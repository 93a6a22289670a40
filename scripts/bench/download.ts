/**
 * `npm run bench -- --only download [--pages N]`: the receiver's download of the benchmark
 * dossier's export through a signed link: `dossier download` (the compiled CLI) plain and with
 * --verify, beside curl of the same URL; then a download cut at half and resumed (Range). The
 * gateway runs with WORKERS=none after the seal, so no OCR competes and the export stays the same.
 * Three alternating rounds, the median of each.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureSyntheticDossier } from './fixtures/generate.js';
import { api, fmt, mb, pollUntil, upload } from './measure.js';
import { spawnServer, tokenFor } from '../support/server-process.js';
import { sidecarFileOf } from '../support/resumable-download.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/scripts/dossier.js');

async function seconds(cmd: string, args: string[]): Promise<number> {
  return (await timed(cmd, args)).seconds;
}

async function timed(cmd: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const t0 = performance.now();
  const { stdout } = await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  return { seconds: (performance.now() - t0) / 1000, stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function downloadBench(o: { cacheDir: string; runDir: string; pages: number; keep: boolean }): Promise<void> {
  const fixture = await ensureSyntheticDossier({ dir: o.cacheDir, pages: o.pages });
  const dataDir = path.join(o.runDir, `download-${Date.now()}`);
  const out = path.join(dataDir, 'received');
  await fs.mkdir(out, { recursive: true });
  let server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, undefined, { compiled: true });
  try {
    const token = await tokenFor(dataDir, 'police-bench', 'clerk');
    const c = await api<{ id: string }>(server.url, token, 'POST', '/api/cases', { number: `BENCH-DL-${Date.now()}` });
    const id = (await upload(server.url, token, fixture.zipPath, { filename: 'bench.zip', caseId: c.id })).split('/').pop()!;
    await pollUntil(() => api<{ status: string }>(server.url, token, 'GET', `/api/dossiers/${id}`), (d) => d.status === 'sealed', 250);
    await server.kill('SIGTERM');
    server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', WORKERS: 'none' }, undefined, { compiled: true });
    const link = (await api<{ url: string }>(server.url, token, 'POST', `/api/dossiers/${id}/links`, {})).url;
    const jwks = path.join(dataDir, 'jwks.json');
    await fs.writeFile(jwks, await (await fetch(`${server.url}/.well-known/jwks.json`)).text());
    const zip = path.join(out, `dossier-${id}.zip`);
    const clean = () => fs.rm(out, { recursive: true, force: true }).then(() => fs.mkdir(out));
    const times: Record<'curl' | 'cli' | 'verify' | 'start', number[]> = { curl: [], cli: [], verify: [], start: [] };
    for (let round = 0; round < 3; round++) {
      await clean();
      times.curl.push(await seconds('curl', ['-sSf', '-o', zip, link]));
      // The CLI's start alone (Node.js loading every command's modules), to tell it from the transfer.
      times.start.push(await seconds(process.execPath, [CLI, 'download', '--help']));
      await clean();
      times.cli.push(await seconds(process.execPath, [CLI, 'download', link, '--out', out, '--json']));
      await clean();
      const verified = await timed(process.execPath, [CLI, 'download', link, '--out', out, '--verify', '--jwks', jwks, '--json']);
      const result = JSON.parse(verified.stdout) as { file: string; verified: boolean };
      if (!result.verified || result.file !== zip) throw new Error(`dossier download --verify: ${verified.stdout}`);
      times.verify.push(verified.seconds);
    }
    const bytes = (await fs.stat(zip)).size;
    // Resumed: the first half by curl into the part file the CLI keeps, then the CLI continues.
    await clean();
    const head = await fetch(link, { method: 'HEAD' });
    const sidecar = { v: 1, filename: path.basename(zip), etag: head.headers.get('etag'), length: bytes };
    await fs.writeFile(sidecarFileOf(out, link), JSON.stringify(sidecar));
    await run('curl', ['-sSf', '-r', `0-${Math.floor(bytes / 2) - 1}`, '-o', `${zip}.part`, link]);
    const resumedS = await seconds(process.execPath, [CLI, 'download', link, '--out', out, '--verify', '--jwks', jwks, '--json']);

    const start = median(times.start);
    console.log(`| export of ${o.pages} pages through a signed link (${fmt(mb(bytes), 0)} MB), median of 3 | seconds | MB/s | seconds without the CLI's start | MB/s without it |`);
    console.log('|---|---|---|---|---|');
    for (const [label, xs] of [['curl -o', times.curl], ['dossier download', times.cli], ['dossier download --verify', times.verify]] as const) {
      const net = label === 'curl -o' ? median(xs) : median(xs) - start;
      console.log(`| ${label} | ${fmt(median(xs), 2)} | ${fmt(mb(bytes) / median(xs), 0)} | ${fmt(net, 2)} | ${fmt(mb(bytes) / net, 0)} |`);
    }
    console.log(`| dossier download --verify, resumed at half (one run; MB/s of the half sent) | ${fmt(resumedS, 2)} | ${fmt(mb(bytes / 2) / resumedS, 0)} | ${fmt(resumedS - start, 2)} | ${fmt(mb(bytes / 2) / (resumedS - start), 0)} |`);
    console.log(`\nthe CLI's start alone (\`dossier download --help\`, median of 3): ${fmt(start, 2)} s\n`);
  } finally {
    await server.kill('SIGTERM');
    if (!o.keep) await fs.rm(dataDir, { recursive: true, force: true });
  }
}
