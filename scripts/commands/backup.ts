/**
 * `dossier backup <dir>` and `dossier restore <dir>`: the embedded default's data directory
 * (database, blobs, signing keys) copied consistently while the gateway runs, and restored into
 * an empty one, checked dossier by dossier before it is called good. The scale-out wiring is
 * backed up with PostgreSQL's and the bucket's own tools (README, "Backup and restore").
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { ConfigError, loadConfig, type Config } from '../../runtime/config.js';
import { compose, embeddedBackup, openDatabase } from '../../runtime/compose.js';
import { answers, CONTROL_SOCKET, controlRequest } from '../../runtime/control-socket.js';
import { restoreBackup, type BackupManifest, type BackupProgress } from '../../storage/backup/embedded-backup.js';
import { verifyStored, type StoredReport } from '../support/verify-stored.js';
import { EXIT_VERIFICATION_FAILED, loadJwks } from './verify.js';

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

function showProgress(p: BackupProgress): void {
  if (p.phase === 'database') process.stderr.write(`  database: ${mb(p.bytes)}\n`);
  else if (p.phase === 'keys') process.stderr.write(`  keys: ${p.files} files\n`);
  else process.stderr.write(`\r  blobs: ${p.count} (${mb(p.bytes)})`);
}

function embeddedOnly(what: string): never {
  throw new ConfigError(`${what}: for the embedded default (DATA_DIR); PostgreSQL and S3 are backed up with their own tools, see README "Backup and restore"`);
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('copy DATA_DIR (database, blobs, keys) consistently into an empty directory, while the gateway runs or not')
    .argument('<dir>', 'the backup directory: absent or empty')
    .option('--json', 'print the backup manifest as JSON')
    .action(async (dir: string, o: { json?: boolean }) => {
      const config = loadConfig();
      if (config.database.kind !== 'pglite' || config.blobs.s3) embeddedOnly('dossier backup');
      const out = path.resolve(dir);
      const socket = path.join(config.dataDir, CONTROL_SOCKET);
      let manifest: BackupManifest;
      if (await answers(socket)) {
        process.stderr.write(`backing up ${config.dataDir} through the running gateway\n`);
        manifest = (await controlRequest(socket, { op: 'backup', out }, (p) => showProgress(p as BackupProgress))) as BackupManifest;
      } else {
        process.stderr.write(`backing up ${config.dataDir} (no gateway running on it)\n`);
        const db = await openDatabase(config);
        try {
          manifest = await embeddedBackup(config, db)!(out, showProgress);
        } finally {
          await db.close();
        }
      }
      process.stderr.write('\n');
      process.stdout.write(
        o.json
          ? `${JSON.stringify(manifest, null, 2)}\n`
          : `backup written to ${out}: database ${mb(manifest.database.bytes)}, ${manifest.blobs.count} blobs (${mb(manifest.blobs.bytes)}), ${manifest.keys.length} key files${manifest.encryptedAtRest ? '; blobs are encrypted at rest: keep MASTER_KEY_FILE apart, the restore needs it' : ''}\n`,
      );
    });

  program
    .command('restore')
    .description('restore a backup into DATA_DIR (absent or empty), then verify every sealed dossier and the audit chain (exit 3 if any fails)')
    .argument('<dir>', 'a directory written by `dossier backup`')
    .option('--jwks <file|url>', 'check the dossiers against these keys, kept out of band, instead of the restored key ring')
    .option('--no-verify', 'restore only')
    .option('--json', 'print the verification report as JSON')
    .action(async (dir: string, o: { jwks?: string; verify: boolean; json?: boolean }) => {
      const config = loadConfig();
      if (config.database.kind !== 'pglite' || config.blobs.s3) embeddedOnly('dossier restore');
      if (await answers(path.join(config.dataDir, CONTROL_SOCKET))) throw new ConfigError(`a gateway is running on ${config.dataDir}: restore into an empty DATA_DIR`);
      const trusted = o.jwks ? await loadJwks(o.jwks) : null;
      process.stderr.write(`restoring ${path.resolve(dir)} into ${config.dataDir}\n`);
      const manifest = await restoreBackup(path.resolve(dir), { dataDir: config.dataDir, dbDir: config.database.dir, layout: { blobsDir: config.blobs.dir, keysDir: config.keysDir } }, showProgress);
      process.stderr.write(`\nrestored the backup of ${manifest.createdAt}\n`);
      if (o.verify) await checkStored(config, trusted, o.json);
    });

  program
    .command('check')
    .description('verify every sealed dossier in the configured data (signature, pages, root, receipts) and the audit chain; exit 3 if any fails')
    .option('--jwks <file|url>', 'check against these keys, kept out of band, instead of the configured key ring')
    .option('--json', 'print the report as JSON')
    .action(async (o: { jwks?: string; json?: boolean }) => {
      const config = loadConfig();
      if (config.database.kind === 'pglite' && (await answers(path.join(config.dataDir, CONTROL_SOCKET)))) {
        throw new ConfigError(`a gateway is running on ${config.dataDir}: the embedded database has one owner; stop it, or check a backup with \`dossier restore\``);
      }
      await checkStored(config, o.jwks ? await loadJwks(o.jwks) : null, o.json);
    });
}

/** Every sealed dossier and the audit chain of the configured data; exit 3 when any fails. */
async function checkStored(config: Config, trusted: JSONWebKeySet | null, json?: boolean): Promise<void> {
  // Logs to stderr: stdout is the report's.
  const gateway = await compose(config, { logDestination: process.stderr });
  let report: StoredReport;
  try {
    report = await verifyStored(gateway, trusted ?? { keys: [...gateway.keys.publicJwks().keys] }, (done, total) => process.stderr.write(`\r  verified ${done}/${total} dossiers`));
  } finally {
    await gateway.stop();
  }
  process.stderr.write('\n');
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
  if (!report.ok) process.exitCode = EXIT_VERIFICATION_FAILED;
}

function summary(r: StoredReport): string {
  const lines = [
    `${r.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${r.dossiersVerified}/${r.dossiers} sealed dossiers, ${r.pagesVerified} pages; audit chain of ${r.audit.checked} events ${r.audit.ok ? 'intact' : `broken: ${r.audit.reason}`}`,
    ...r.failures.slice(0, 20).flatMap((f) => [`  ✗ dossier ${f.dossier}`, ...f.problems.slice(0, 5).map((p) => `      ${p.code}: ${p.message}`)]),
  ];
  return `${lines.join('\n')}\n`;
}
