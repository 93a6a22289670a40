import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config.js';
import { openDatabase } from '../../runtime/compose.js';
import type { ChainReport } from '../../dossier/audit/verify-chain.js';
import { SqlAuditLog } from '../../storage/db/audit-log.js';
import { FileKeyRing } from '../../storage/keys/file-keyring.js';
import { EXIT_VERIFICATION_FAILED } from './verify.js';

/**
 * `dossier audit verify`: opens the configured database itself (DATA_DIR or DATABASE_URL) and
 * recomputes the audit chain against the checkpoints signed with the evidence keys. The embedded
 * database belongs to one process: stop the gateway first, or ask it (GET /api/audit/verify).
 */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit chain');
  audit
    .command('verify')
    .description('recompute the whole audit chain and its signed checkpoints; names the first broken seq (exit 3)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }) => {
      const config = loadConfig();
      const keys = await FileKeyRing.open(path.join(config.keysDir, 'evidence'), { create: false });
      const db = await openDatabase(config);
      let report: ChainReport;
      try {
        report = await new SqlAuditLog(db, keys).verify();
      } finally {
        await db.close();
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
      if (!report.ok) process.exitCode = EXIT_VERIFICATION_FAILED;
    });
}

function summary(r: ChainReport): string {
  return r.ok
    ? `VERIFIED: audit chain of ${r.checked} events intact\n`
    : `NOT VERIFIED: audit chain broken at seq ${r.firstBadSeq} (${r.checked} events verified before it)\n  ✗ ${r.reason}\n`;
}
