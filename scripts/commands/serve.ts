import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config.js';
import { compose } from '../../runtime/compose.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway (what `npm start` runs); configuration from the environment, see README')
    .action(async () => {
      const config = loadConfig();
      const gateway = await compose(config);
      const address = await gateway.start();
      const where = `${config.tls ? 'https' : 'http'}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
      gateway.log.info(
        { listen: where, dataDir: config.dataDir, database: config.database.kind, workers: config.workers.mode, kid: gateway.keys.current().kid },
        `dossier gateway listening on ${where}, data in ${config.dataDir}`,
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        gateway.log.info({ signal }, 'stopping');
        // Running jobs go back to the queue at once: the next start (or another worker) takes them up.
        gateway.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            gateway.log.error({ err }, 'stop failed');
            process.exit(1);
          },
        );
      };
      // A renewed certificate: new connections get it, uploads in flight keep going on theirs.
      process.on('SIGHUP', () => {
        if (!config.tls) return gateway.log.warn('SIGHUP: no TLS certificate to reload (TLS_CERT_FILE unset)');
        try {
          gateway.reloadTls();
          gateway.log.info({ cert: config.tls.certFile }, 'TLS certificate reloaded');
        } catch (err) {
          gateway.log.error({ err }, 'TLS certificate reload failed; the previous certificate stays');
        }
      });
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
