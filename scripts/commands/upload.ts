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
import { clientDefaults } from '../../runtime/config.js';
import { caseByNumber } from '../support/case-by-number.js';
import { apiJson, fileUrlStorage, resumableUpload, waitForOutcome, type DossierJson } from '../support/resumable-upload.js';

interface UploadOptions {
  case: string;
  server: string;
  token?: string;
  title?: string;
  create?: boolean;
  caseTitle?: string;
  json?: boolean;
  wait?: boolean;
  chunkSize: string;
}

export function registerUpload(program: Command): void {
  const defaults = clientDefaults();
  program
    .command('upload')
    .description('upload a dossier file to a case (tus, resumable across interruptions and restarts)')
    .argument('<file>', 'the dossier: PDF, TIFF, ZIP or image')
    .requiredOption('--case <id|number>', 'the case: its id, or its number as your agency knows it ("2026-0417")')
    .option('--create', 'open the case (in your agency) when no case has that number')
    .option('--case-title <text>', 'with --create: the new case’s title')
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
      // An unknown number fails the command (exit 1) with what to do about it.
      const target = await caseByNumber(server, token!, o.case, o.create ? { title: o.caseTitle ?? o.title ?? '' } : undefined);
      const caseId = target.id;
      if (target.created) process.stderr.write(`opened case ${o.case} (${caseId})\n`);
      const size = stat!.size;
      const bar = o.json || !process.stderr.isTTY
        ? null
        : new cliProgress.SingleBar(
            { format: ' {bar} {percentage}% | {sent}/{total} MB | {speed} MB/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
      const started = Date.now();
      let firstSent: number | null = null;
      bar?.start(size, 0, { sent: 0, total: (size / 1e6).toFixed(0), speed: '0' });
      const url = await resumableUpload({
        file,
        server,
        token: token!,
        metadata: { filename: path.basename(file), caseId, ...(o.title ? { title: o.title } : {}) },
        chunkSize: chunkMiB * 1024 * 1024,
        urlStorage: fileUrlStorage(path.join(defaults.stateDir, 'uploads.json')),
        // The same file to another case or server is another upload.
        fingerprintParts: [caseId, server],
        onResume: (u) => process.stderr.write(`resuming upload ${u.split('/').pop()}\n`),
        onProgress: (sent) => {
          firstSent ??= sent;
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          bar?.update(sent, { sent: (sent / 1e6).toFixed(0), speed: ((sent - firstSent) / 1e6 / seconds).toFixed(1) });
        },
      }).finally(() => bar?.stop());
      const uploaded = Date.now();
      const id = url.split('/').pop()!;
      const d: DossierJson = o.wait ? await waitForOutcome(server, token!, id) : (await apiJson<DossierJson>(server, token!, 'GET', `/api/dossiers/${id}`)).json;
      // The transfer's own time (a resumed upload: this run's part), and with --wait the time until settled after it.
      const timing = { uploadSeconds: (uploaded - started) / 1000, ...(o.wait ? { settledSeconds: (Date.now() - uploaded) / 1000 } : {}) };
      if (o.json) process.stdout.write(`${JSON.stringify({ dossier: d.id, case: caseId, status: d.status, bytes: d.bytes, sha256: d.sha256, pageCount: d.pageCount, merkleRoot: d.merkleRoot, error: d.error, ...timing })}\n`);
      else process.stdout.write(`dossier ${d.id}: ${d.status}${d.pageCount ? `, ${d.pageCount} pages` : ''}${d.error ? ` (${d.error.code}: ${d.error.message})` : ''}\n`);
      if (d.status === 'rejected') process.exitCode = 1;
    });
}

