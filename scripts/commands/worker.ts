import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { checkJobKinds, compose } from '../../runtime/compose.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run background jobs (ingest, thumbnails, OCR, supervision, webhooks) against DATABASE_URL and the configured blob store, without HTTP')
    .option('--jobs <kinds>', 'only these job kinds, comma-separated (e.g. ocr, or ingest,thumbnail); default: all')
    .action(async (options: { jobs?: string }) => {
      const config = loadConfig();
      if (config.database.kind !== 'postgres') {
        // PGlite is one process's database: a second process must not open its directory.
        throw new ConfigError('DATABASE_URL: `dossier worker` shares a PostgreSQL with the gateway; the embedded database runs its jobs in-process');
      }
      const kinds = options.jobs?.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
      if (kinds && kinds.length === 0) throw new ConfigError('--jobs: name at least one job kind');
      if (kinds) checkJobKinds(kinds);
      const gateway = await compose(config);
      let id: string;
      try {
        id = await gateway.startWorker({ kinds });
      } catch (err) {
        await gateway.stop();
        throw err;
      }
      gateway.log.info({ worker: id, database: config.database.kind, jobs: kinds ?? 'all' }, 'dossier worker running');
      let stopping = false;
      // SIGTERM: finish running jobs within WORKER_STOP_GRACE, then hand the rest back to the
      // queue (another worker takes them at once); SIGINT hands them back straight away.
      const stop = (signal: 'SIGINT' | 'SIGTERM') => {
        if (stopping) return;
        stopping = true;
        gateway.log.info({ signal, graceMs: config.workers.stopGraceMs }, 'worker stopping');
        gateway.stop({ graceMs: signal === 'SIGTERM' ? config.workers.stopGraceMs : 0 }).then(() => process.exit(0), (err: unknown) => {
          gateway.log.error({ err }, 'stop failed');
          process.exit(1);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
