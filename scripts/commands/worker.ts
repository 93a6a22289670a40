import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { compose } from '../../runtime/compose.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run ingest and thumbnail jobs against DATABASE_URL and the configured blob store, without HTTP')
    .action(async () => {
      const config = loadConfig();
      if (config.database.kind !== 'postgres') {
        // PGlite is one process's database: a second process must not open its directory.
        throw new ConfigError('DATABASE_URL: `dossier worker` shares a PostgreSQL with the gateway; the embedded database runs its jobs in-process');
      }
      const gateway = await compose(config);
      const id = await gateway.startWorker();
      gateway.log.info({ worker: id, database: config.database.kind }, 'dossier worker running');
      const stop = () => gateway.stop().then(() => process.exit(0), () => process.exit(1));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
