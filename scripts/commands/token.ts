import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { issueToken } from '../../dossier/access/tokens.js';
import { ROLES, type Role } from '../../dossier/model.js';
import { LOCAL_ISSUER, loadConfig, parseDuration } from '../../runtime/config.js';
import { FileKeyRing } from '../../storage/keys/file-keyring.js';

export function registerToken(program: Command): void {
  const token = program.command('token').description('bearer tokens of the gateway’s own issuer');
  token
    .command('issue')
    .description('print a bearer token accepted by the local gateway (same DATA_DIR)')
    .requiredOption('--agency <id>', 'agency the user acts for')
    .requiredOption('--user <id>', 'user id (the token subject)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}; repeat or comma-separate for several`, collectRoles, [] as Role[])
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 8h, 7d', '8h')
    .option('--json', 'print JSON')
    .action(async (o: { agency: string; user: string; role: Role[]; ttl: string; json?: boolean }) => {
      const config = loadConfig();
      if (config.auth.issuer !== LOCAL_ISSUER) throw new InvalidArgumentError('this gateway trusts an external identity provider; get tokens there');
      const ttl = parseDuration(o.ttl);
      if (!ttl) throw new InvalidArgumentError(`--ttl ${o.ttl}: expected a duration like 8h`);
      const ring = await FileKeyRing.open(path.join(config.keysDir, 'issuer'), { create: true });
      const pair = ring.currentPair();
      const jwt = await issueToken({
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        key: pair.privateKey,
        kid: pair.kid,
        subject: o.user,
        agency: o.agency,
        roles: o.role,
        ttlSeconds: ttl,
      });
      const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
      process.stdout.write(o.json ? `${JSON.stringify({ token: jwt, expiresAt })}\n` : `${jwt}\n`);
    });
}

/** Commander's parser of repeated or comma-separated --role values. */
export function collectRoles(value: string, previous: Role[]): Role[] {
  const roles = value.split(',').map((r) => r.trim());
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new InvalidArgumentError(`unknown role ${r}`);
  return [...previous, ...(roles as Role[])];
}
