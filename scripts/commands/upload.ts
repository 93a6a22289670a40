/**
 * `dossier upload <file> --case <id>`: a resumable tus upload for a clerk on a bad link. Unfinished
 * uploads are remembered per file, case and server under the user's config directory, so running
 * the same command again after Ctrl-C, a crash or a reboot continues where the server stopped.
 */
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import * as tus from 'tus-js-client';
import { clientDefaults } from '../../runtime/config.js';

// tus-js-client's Node build exports a file-backed URL storage that its type declarations omit.
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => tus.UrlStorage };

interface UploadOptions {
  case: string;
  server: string;
  token?: string;
  title?: string;
  json?: boolean;
  wait?: boolean;
  chunkSize: string;
}

interface DossierJson {
  id: string;
  status: string;
  bytes: number | null;
  sha256: string | null;
  pageCount: number | null;
  merkleRoot: string | null;
  error?: { code: string; message: string };
}

export function registerUpload(program: Command): void {
  const defaults = clientDefaults();
  program
    .command('upload')
    .description('upload a dossier file to a case (tus, resumable across interruptions and restarts)')
    .argument('<file>', 'the dossier: PDF, TIFF, ZIP or image')
    .requiredOption('--case <id>', 'the case id (from POST /api/cases)')
    .option('--server <url>', 'gateway URL (DOSSIER_SERVER)', defaults.server)
    .option('--token <jwt>', 'bearer token (DOSSIER_TOKEN)')
    .option('--title <text>', 'a title for the dossier')
    .option('--wait', 'wait until the dossier is sealed (or rejected)')
    .option('--json', 'print the result as JSON')
    .option('--chunk-size <MiB>', 'PATCH size in MiB (smaller survives worse links)', '64')
    .action(async (file: string, o: UploadOptions) => {
      const token = o.token ?? defaults.token;
      if (!token) program.error('dossier upload: a bearer token is needed (--token or DOSSIER_TOKEN)', { exitCode: 2 });
      const chunkMiB = Number(o.chunkSize);
      if (!(chunkMiB > 0)) program.error('--chunk-size: a positive number of MiB', { exitCode: 2 });
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) program.error(`dossier upload: no such file: ${file}`, { exitCode: 2 });
      await mkdir(defaults.stateDir, { recursive: true });

      const server = o.server.replace(/\/+$/, '');
      const url = await runUpload({ file, size: stat!.size, server, token: token!, caseId: o.case, title: o.title, chunkSize: chunkMiB * 1024 * 1024, stateFile: path.join(defaults.stateDir, 'uploads.json'), quiet: !!o.json });
      const id = url.split('/').pop()!;
      let d = await getDossier(server, token!, id);
      if (o.wait) {
        while (d.status === 'receiving' || d.status === 'processing') {
          await new Promise((r) => setTimeout(r, 500));
          d = await getDossier(server, token!, id);
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ dossier: d.id, status: d.status, bytes: d.bytes, sha256: d.sha256, pageCount: d.pageCount, merkleRoot: d.merkleRoot, error: d.error })}\n`);
      else process.stdout.write(`dossier ${d.id}: ${d.status}${d.pageCount ? `, ${d.pageCount} pages` : ''}${d.error ? ` (${d.error.code}: ${d.error.message})` : ''}\n`);
      if (d.status === 'rejected') process.exitCode = 1;
    });
}

interface RunOptions {
  file: string;
  size: number;
  server: string;
  token: string;
  caseId: string;
  title?: string;
  chunkSize: number;
  stateFile: string;
  quiet: boolean;
}

function runUpload(o: RunOptions): Promise<string> {
  const bar = o.quiet || !process.stderr.isTTY
    ? null
    : new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {sent}/{total} MB | {speed} MB/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
  const started = Date.now();
  let startOffset: number | null = null;
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(fs.createReadStream(o.file), {
      endpoint: `${o.server}/files/`,
      chunkSize: o.chunkSize,
      uploadSize: o.size,
      metadata: { filename: path.basename(o.file), caseId: o.caseId, ...(o.title ? { title: o.title } : {}) },
      headers: { Authorization: `Bearer ${o.token}` },
      retryDelays: [0, 1000, 3000, 5000, 10_000, 20_000, 30_000, 60_000],
      urlStorage: new FileUrlStorage(o.stateFile),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // The same file to another case or server is another upload.
      fingerprint: async () => ['dossier-upload', path.resolve(o.file), o.size, fs.statSync(o.file).mtimeMs, o.caseId, o.server].join('|'),
      onError: (err) => {
        bar?.stop();
        reject(err);
      },
      onProgress: (sent, total) => {
        startOffset ??= sent;
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        bar?.update(sent, { sent: (sent / 1e6).toFixed(0), total: (total / 1e6).toFixed(0), speed: ((sent - startOffset) / 1e6 / seconds).toFixed(1) });
      },
      onSuccess: () => {
        bar?.stop();
        resolve(upload.url!);
      },
    });
    upload.findPreviousUploads().then((previous) => {
      const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
      if (last) {
        upload.resumeFromPreviousUpload(last);
        process.stderr.write(`resuming upload ${last.uploadUrl?.split('/').pop()}\n`);
      }
      bar?.start(o.size, 0, { sent: 0, total: (o.size / 1e6).toFixed(0), speed: '0' });
      upload.start();
    }, reject);
  });
}

async function getDossier(server: string, token: string, id: string): Promise<DossierJson> {
  const res = await fetch(`${server}/api/dossiers/${id}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /api/dossiers/${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as DossierJson;
}
