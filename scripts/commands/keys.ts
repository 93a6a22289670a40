import path from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { openDatabase } from '../../runtime/compose.js';
import { SqlBlobKekRepository } from '../../storage/db/blob-kek-repository.js';
import { SqlBlobKeyRepository } from '../../storage/db/blob-key-repository.js';
import { migrate } from '../../storage/db/migrate.js';
import { openMasterKeys } from '../../storage/keys/open-master-keys.js';
import { rotateMasterKey } from '../../storage/keys/rotate-master.js';
import { FileKeyRing } from '../../storage/keys/file-keyring.js';

/**
 * Signing keys: the evidence ring (DATA_DIR/keys/evidence) or, with `--ring links`, the download
 * links' own ring (DATA_DIR/keys/links). A running gateway picks up a rotation on restart.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys (Ed25519, or SM2 under SIGNATURE_SUITE=sm2-sm3) of the evidence, or of the download links with --ring links: generate, rotate, list');
  const ringDir = (o: { ring?: string }) => path.join(loadConfig().keysDir, o.ring ?? 'evidence');
  // Both rings follow SIGNATURE_SUITE (SM2 link tokens under sm2-sm3).
  const ringSuite = (_o: { ring?: string }) => loadConfig().signatureSuite;
  const ringOption = () => new Option('--ring <name>', 'which key ring: the evidence or the signed download links').choices(['evidence', 'links']).default('evidence');
  const print = (json: boolean, rows: { kid: string; suite: string; createdAt: string; retiredAt: string | null; current: boolean }[]) => {
    if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else for (const k of rows) process.stdout.write(`${k.current ? '*' : ' '} ${k.kid}  ${k.suite}  created ${k.createdAt}${k.retiredAt ? `  retired ${k.retiredAt}` : ''}\n`);
  };
  keys
    .command('generate')
    .description('create the first key when none exists (the gateway also does this on first start)')
    .option('--json', 'print JSON')
    .addOption(ringOption())
    .action(async (o: { json?: boolean; ring?: string }) => print(!!o.json, (await FileKeyRing.open(ringDir(o), { create: true, suite: ringSuite(o) })).list()));
  keys
    .command('rotate')
    .description('make a new current key; the old one is retired and stays published in the JWKS')
    .option('--json', 'print JSON')
    .addOption(ringOption())
    .action(async (o: { json?: boolean; ring?: string }) => {
      const ring = await FileKeyRing.open(ringDir(o), { create: true, suite: ringSuite(o) });
      await ring.rotate(ringSuite(o));
      print(!!o.json, ring.list());
    });
  keys
    .command('rotate-master')
    .description('re-wrap every key-encryption key of blobs at rest (and the data keys of blobs sealed before them) with MASTER_KEY_FILE (the new master key), unwrapping with MASTER_KEY_OLD_FILE; blobs are not rewritten; resumable')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = loadConfig();
      if (!config.atRest) throw new ConfigError('invalid configuration:\n  MASTER_KEY_FILE: the new master key is needed (and MASTER_KEY_OLD_FILE: the one to replace)');
      const db = await openDatabase(config);
      try {
        await migrate(db);
        const repos = { keys: new SqlBlobKeyRepository(db), keks: new SqlBlobKekRepository(db) };
        const master = (await openMasterKeys(config.atRest, repos.keys, repos.keks))!;
        const done = await rotateMasterKey(repos, master, { onBatch: (n) => !o.json && process.stderr.write(`\rre-wrapped ${n}`) });
        if (!o.json && done.rewrapped) process.stderr.write('\n');
        const result = { masterKid: master.current.kid, rewrapped: done.rewrapped };
        process.stdout.write(o.json ? `${JSON.stringify(result)}\n` : `every blob key is wrapped by master key ${result.masterKid} (${result.rewrapped} re-wrapped now); MASTER_KEY_OLD_FILE may go\n`);
      } finally {
        await db.close();
      }
    });
  keys
    .command('list')
    .description('current (*) and retired keys')
    .option('--json', 'print JSON')
    .addOption(ringOption())
    .action(async (o: { json?: boolean; ring?: string }) => print(!!o.json, (await FileKeyRing.open(ringDir(o), { create: false })).list()));
}
