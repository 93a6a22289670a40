import fs from 'node:fs/promises';
import path from 'node:path';
import { checkpointFromJws, type AuditCheckpoint } from '../../dossier/audit/checkpoint.js';
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
  const verify = audit
    .command('verify')
    .description('recompute the whole audit chain and its signed checkpoints; names the first broken seq (exit 3)')
    .option('--anchor <file...>', 'checkpoints kept outside the database (GET /api/audit/checkpoint, JSON or the bare JWS): the chain must still reach and match each')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean; anchor?: string[] }) => {
      const anchors = await Promise.all((o.anchor ?? []).map((file) => readAnchor(file).catch((err: Error) => verify.error(`dossier audit verify: ${err.message}`, { exitCode: 2 }))));
      const config = loadConfig();
      const keys = await FileKeyRing.open(path.join(config.keysDir, 'evidence'), { create: false });
      const db = await openDatabase(config);
      let report: ChainReport;
      try {
        report = await new SqlAuditLog(db, keys).verify(anchors);
      } finally {
        await db.close();
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
      if (!report.ok) process.exitCode = EXIT_VERIFICATION_FAILED;
    });
}

/** An anchor file: the JSON of GET /api/audit/checkpoint, or its `jws` alone. */
async function readAnchor(file: string): Promise<AuditCheckpoint> {
  const text = (await fs.readFile(file, 'utf8')).trim();
  try {
    return checkpointFromJws(text.startsWith('{') ? String((JSON.parse(text) as { jws?: unknown }).jws) : text);
  } catch (err) {
    throw new Error(`${file}: not an audit checkpoint (${(err as Error).message})`);
  }
}

function summary(r: ChainReport): string {
  return r.ok
    ? `VERIFIED: audit chain of ${r.checked} events intact\n`
    : `NOT VERIFIED: audit chain broken at seq ${r.firstBadSeq} (${r.checked} events verified before it)\n  ✗ ${r.reason}\n`;
}
