/**
 * `dossier download <link url>`: what a receiver without an account runs on the signed link it was
 * sent. The export ZIP goes to `--out` (default: here) through a partial file that a later run of
 * the same command continues (HTTP Range with If-Range, scripts/support/resumable-download.ts);
 * with `--verify` every entry is hashed as it arrives (SHA-256, and SM3 for the pages of a
 * national-suite manifest) and, at the end, the manifest's signature, every page, the Merkle root,
 * the original and the receipts are checked by the same verifyExport that `dossier verify` runs,
 * against keys trusted out of band. Exit 3 on any mismatch.
 */
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { MANIFEST_FILE, PAGES_DIR } from '../../dossier/evidence/export-layout.js';
import { verifyExport, type VerifyReport } from '../../dossier/evidence/verify-export.js';
import { streamedZipSource } from '../support/export-source.js';
import { DownloadRefused, resumableDownload } from '../support/resumable-download.js';
import { ZipStreamDigest } from '../support/zip-stream-digest.js';
import { EXIT_VERIFICATION_FAILED, loadJwks, summary } from './verify.js';

interface DownloadCommandOptions {
  out: string;
  verify?: boolean;
  jwks?: string;
  key?: string;
  requireOriginal?: boolean;
  token?: string;
  retries: string;
  json?: boolean;
}

export function registerDownload(program: Command): void {
  program
    .command('download')
    .description('download a dossier export through a signed link (GET /d/<token>), resuming an interrupted download; with --verify, check it as it arrives')
    .argument('<url>', 'the signed link, as received (https://…/d/<token>), or an export URL of the API with --token')
    .option('--out <dir>', 'where the export goes (beside it, while it arrives: <name>.part and a small .download.json)', '.')
    .option('--verify', 'verify the export: the manifest signature, every page (SHA-256, SM3 for sm2-sm3), the Merkle root, the original, the receipts; exit 3 on any mismatch')
    .option('--jwks <file|url>', "with --verify: the gateway's public keys, trusted out of band (a saved /.well-known/jwks.json, or its URL)")
    .option('--key <thumbprint>', "with --verify: trust the export's own jwks.json only for the key with this RFC 7638 thumbprint")
    .option('--require-original', 'with --verify: fail when the export does not carry the original upload')
    .option('--token <jwt>', 'a bearer token, for the authenticated export (/api/dossiers/<id>/export); a signed link needs none')
    .option('--retries <n>', 'attempts after a broken connection or a server error within this run (a later run resumes too)', '5')
    .option('--json', 'print the result (and the verification report) as JSON')
    .addHelpText('after', `
Exit codes: 0 downloaded (and verified), 1 failed (network, refused: an expired, revoked or spent link), 2 usage, 3 verification failed.
Run the same command again after an interruption: it continues where the file stopped, as long as the
export is unchanged (its ETag); a single-use link serves the rest of the download that spent it.

Example:
  dossier download 'https://gateway.example/d/eyJ…' --out ./received --verify --jwks gateway-jwks.json`)
    .action(async (url: string, o: DownloadCommandOptions) => {
      const retries = Number(o.retries);
      if (!Number.isInteger(retries) || retries < 0) program.error('--retries: a whole number, 0 or more', { exitCode: 2 });
      if (!/^https?:\/\//.test(url)) program.error('dossier download: the link must be an http(s) URL', { exitCode: 2 });
      if (o.verify && !o.jwks && !o.key) {
        program.error('dossier download --verify: give --jwks (keys you trust) or --key (the thumbprint you were told); the key inside the export is never trusted on its own', { exitCode: 2 });
      }
      if (!o.verify && (o.jwks || o.key || o.requireOriginal)) program.error('--jwks, --key and --require-original go with --verify', { exitCode: 2 });
      // Loaded first: a JWKS that cannot be read should not cost a download.
      const jwks: JSONWebKeySet | undefined = o.jwks ? await loadJwks(o.jwks) : undefined;

      let digest: ZipStreamDigest | null = null;
      const progress = progressReporter(Boolean(o.json));
      let result;
      try {
        result = await resumableDownload({
          url,
          outDir: path.resolve(o.out),
          headers: o.token ? { authorization: `Bearer ${o.token}` } : undefined,
          retries,
          onStart: (s) => {
            // A fresh reader for each attempt: it is handed the part's bytes again, then the new ones.
            digest = o.verify ? newDigest() : null;
            progress.start(s);
          },
          onBytes: (chunk) => digest?.push(chunk),
          onProgress: (received, length) => progress.update(received, length),
          onRetry: (err, attempt, delay) => progress.note(`interrupted (${err.message}); retry ${attempt}/${retries} in ${delay / 1000} s`),
        });
      } catch (err) {
        progress.stop();
        if (err instanceof DownloadRefused && err.code === 'link_used') {
          throw new Error(`${err.message}\n(a spent single-use link continues only the download that spent it, while the export is unchanged: ask the sender for a new link)`);
        }
        const held = err instanceof DownloadRefused ? '' : '; run the same command again to continue';
        throw new Error(`download stopped: ${(err as Error).message}${held}`);
      }
      progress.stop();
      let report: VerifyReport | null = null;
      if (o.verify) {
        const d = digest as ZipStreamDigest | null;
        const source = await streamedZipSource(result.file, d?.digests ?? new Map());
        try {
          report = await verifyExport(source, { jwks, pinnedKey: o.key, requireOriginal: o.requireOriginal });
        } finally {
          await source.close();
        }
        if (source.rehashed > 0) process.stderr.write(`${source.rehashed} entries were hashed again from the file (not confirmed by its central directory while it arrived)\n`);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ file: result.file, bytes: result.length, etag: result.etag, resumedFrom: result.resumedFrom, ...(report ? { verified: report.ok, report } : {}) }, null, 2)}\n`);
      } else {
        process.stdout.write(`${result.file} (${result.length} bytes${result.resumedFrom > 0 ? `, resumed at ${result.resumedFrom}` : ''})\n`);
        if (report) process.stdout.write(summary(report));
      }
      if (report && !report.ok) process.exitCode = EXIT_VERIFICATION_FAILED;
    });
}

/** Pages get SM3 too once the (not yet verified) manifest says it was sealed under sm2-sm3. */
function newDigest(): ZipStreamDigest {
  let sm3 = false;
  return new ZipStreamDigest({
    keep: (name) => name === MANIFEST_FILE,
    onEntry: (name, _d, bytes) => {
      if (name === MANIFEST_FILE && bytes) sm3 = manifestSuite(bytes) === 'sm2-sm3';
    },
    sm3For: (name) => sm3 && name.startsWith(`${PAGES_DIR}/`),
  });
}

function manifestSuite(jws: Buffer): string | null {
  try {
    return (JSON.parse(Buffer.from(jws.toString('ascii').trim().split('.')[1] ?? '', 'base64url').toString('utf8')) as { suite?: string }).suite ?? null;
  } catch {
    return null;
  }
}

/** Progress on stderr: a bar on a terminal, otherwise a line at the start, each tenth and the end. */
function progressReporter(quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  let bar: cliProgress.SingleBar | null = null;
  let started = Date.now();
  let from = 0;
  let lastTenth = -1;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const speed = (received: number) => ((received - from) / 1e6 / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1);
  return {
    start(s: { offset: number; length: number; resumed: boolean; restarted: boolean; file: string }) {
      started = Date.now();
      from = s.offset;
      lastTenth = -1;
      bar?.stop();
      if (s.restarted) process.stderr.write('the export changed since the interrupted download: starting again from the beginning\n');
      process.stderr.write(`${s.resumed ? `resuming at ${mb(s.offset)} of` : 'downloading'} ${mb(s.length)} MB to ${s.file}\n`);
      if (tty) {
        bar = new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {got}/{total} MB | {speed} MB/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(s.length, s.offset, { got: mb(s.offset), total: mb(s.length), speed: '0' });
      }
    },
    update(received: number, length: number) {
      if (bar) return bar.update(received, { got: mb(received), speed: speed(received) });
      const tenth = Math.floor((received / Math.max(1, length)) * 10);
      if (tenth > lastTenth && !quiet) {
        lastTenth = tenth;
        process.stderr.write(`  ${tenth * 10}% ${mb(received)}/${mb(length)} MB ${speed(received)} MB/s\n`);
      }
    },
    note(line: string) {
      bar?.stop();
      bar = null;
      process.stderr.write(`${line}\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
