#!/usr/bin/env node
/**
 * The `dossier` CLI. Exit codes: 0 ok, 1 failure, 2 usage error, 3 verification failed.
 */
// First: the configuration module sizes libuv's thread pool before anything uses it.
import { clientDefaults, ConfigError } from '../runtime/config.js';
import { trustCaFile } from './support/trust-ca.js';
import { Command, CommanderError } from 'commander';
import { registerServe } from './commands/serve.js';
import { registerKeys } from './commands/keys.js';
import { registerToken } from './commands/token.js';
import { registerWorker } from './commands/worker.js';
import { registerVerify } from './commands/verify.js';
import { registerDownload } from './commands/download.js';
import { registerUpload } from './commands/upload.js';
import { registerMigrate } from './commands/migrate.js';
import { registerAudit } from './commands/audit.js';
import { registerUser } from './commands/user.js';
import { registerClient } from './commands/client.js';
import { registerBackup } from './commands/backup.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, verification: 3 } as const;

const program = new Command('dossier')
  .description('Electronic dossier gateway: resumable upload, sealed and signed pages, verifiable transfer.')
  .showHelpAfterError()
  .option('--cacert <file>', 'PEM certificates the gateway\'s HTTPS certificate may chain to, beside the system\'s (DOSSIER_CACERT)')
  .exitOverride();
// Every client command (upload, migrate, verify --jwks URL…) trusts the same CA; none skips verification.
program.hook('preAction', () => {
  const cacert = (program.opts() as { cacert?: string }).cacert ?? clientDefaults().cacert;
  if (cacert) trustCaFile(cacert);
});
registerServe(program);
registerKeys(program);
registerToken(program);
registerWorker(program);
registerVerify(program);
registerDownload(program);
registerUpload(program);
registerMigrate(program);
registerAudit(program);
registerUser(program);
registerClient(program);
registerBackup(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    // fetch's own message ("fetch failed") hides why: an untrusted certificate, a refused connection.
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    process.stderr.write(`dossier: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
    process.exitCode = EXIT.failure;
  }
}
