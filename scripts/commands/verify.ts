import fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { verifyExport, type VerifyReport } from '../../dossier/evidence/verify-export.js';
import { openExport } from '../support/export-source.js';

export const EXIT_VERIFICATION_FAILED = 3;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a dossier export offline (either suite: ed25519-sha256 or sm2-sm3): manifest signature, every page, the Merkle root, the original, the custody receipts')
    .argument('<export>', 'the export ZIP, or a directory it was unpacked into')
    .option('--jwks <file|url>', "the gateway's public keys, trusted out of band (a saved /.well-known/jwks.json, or its URL)")
    .option('--key <thumbprint>', "trust the export's own jwks.json only for the key with this RFC 7638 thumbprint")
    .option('--require-original', 'fail when the export does not carry the original upload (the gateway leaves it out only when asked with ?original=0)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, o: { jwks?: string; key?: string; json?: boolean; requireOriginal?: boolean }) => {
      if (!o.jwks && !o.key) {
        program.error('dossier verify: give --jwks (keys you trust) or --key (the thumbprint you were told); the key inside the export is never trusted on its own', { exitCode: 2 });
      }
      const jwks = o.jwks ? await loadJwks(o.jwks) : undefined;
      const source = await openExport(file);
      let report: VerifyReport;
      try {
        report = await verifyExport(source, { jwks, pinnedKey: o.key, requireOriginal: o.requireOriginal });
      } finally {
        await source.close();
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
      if (!report.ok) process.exitCode = EXIT_VERIFICATION_FAILED;
    });
}

export async function loadJwks(where: string): Promise<JSONWebKeySet> {
  const text = /^https?:\/\//.test(where) ? await (await fetch(where)).text() : await fs.readFile(where, 'utf8');
  const jwks = JSON.parse(text) as JSONWebKeySet;
  if (!Array.isArray(jwks.keys)) throw new Error(`${where} is not a JWKS`);
  return jwks;
}

export function summary(r: VerifyReport): string {
  const lines = [
    `${r.ok ? 'VERIFIED' : 'NOT VERIFIED'}: dossier ${r.dossier ?? '?'} of case ${r.case ?? '?'}`,
    `  sealed ${r.sealedAt ?? '?'} with key ${r.kid ?? '?'} (${r.keySource}), suite ${r.suite ?? '?'}`,
    `  pages ${r.pagesVerified}/${r.pageCount} match, Merkle root ${r.merkleRoot ?? '?'}`,
    `  custody receipts ${r.receipts.filter((x) => x.ok).length}/${r.receipts.length} verified`,
    `  page texts (text/) ${r.unsignedTexts}: OCR derived after sealing, not signed, not verified`,
    `  original upload: ${r.original === 'absent' ? 'not in this export (it was asked for with ?original=0)' : (r.original ?? '?')}`,
    ...r.receipts.filter((x) => x.ok).map((x) => `    ${x.time} ${x.from} → ${x.to} (${x.stage}): ${x.decision}${x.reason ? ` (${x.reason})` : ''}`),
    ...r.problems.slice(0, 50).map((p) => `  ✗ ${p.code}: ${p.message}`),
  ];
  if (r.problems.length > 50) lines.push(`  … and ${r.problems.length - 50} more`);
  return `${lines.join('\n')}\n`;
}
