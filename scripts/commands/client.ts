/**
 * `dossier client add|list|disable`: agency systems that take tokens from the gateway's own
 * token endpoint (POST /oauth/token, client credentials with private_key_jwt). A client is
 * registered with public keys only: a JWKS file, or a PEM public key. Opens the configured
 * database itself, like `dossier user` (stop a PGlite gateway first).
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose';
import { ROLES, type Role } from '../../dossier/model.js';
import { loadConfig } from '../../runtime/config.js';
import { openDatabase } from '../../runtime/compose.js';
import { migrate } from '../../storage/db/migrate.js';
import { SqlClientRepository } from '../../storage/db/client-repository.js';
import { collectRoles } from './token.js';

function usage(message: string): never {
  process.stderr.write(`dossier client: ${message}\n`);
  throw new InvalidArgumentError(message);
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const AGENCY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ASYMMETRIC = new Set(['RSA', 'EC', 'OKP']);
const PRIVATE_PARTS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Public keys only: a private key or a shared secret in the file is refused, not stripped. */
async function publicKeys(o: { jwksFile?: string; publicKey?: string }): Promise<JSONWebKeySet> {
  if (Boolean(o.jwksFile) === Boolean(o.publicKey)) usage('give exactly one of --jwks-file and --public-key');
  let keys: JWK[];
  if (o.jwksFile) {
    const parsed = JSON.parse(await fs.readFile(o.jwksFile, 'utf8')) as { keys?: JWK[] };
    keys = Array.isArray(parsed.keys) ? parsed.keys : usage(`${o.jwksFile}: not a JWKS ({ "keys": [...] })`);
  } else {
    const pem = await fs.readFile(o.publicKey!, 'utf8');
    if (/PRIVATE KEY/.test(pem)) usage(`${o.publicKey}: holds a private key; register the public key only`);
    keys = [createPublicKey(pem).export({ format: 'jwk' }) as JWK];
  }
  if (keys.length === 0) usage('no keys given');
  for (const k of keys) {
    if (!k.kty || !ASYMMETRIC.has(k.kty)) usage(`key type ${k.kty}: only RSA, EC and OKP public keys`);
    if (PRIVATE_PARTS.some((p) => p in k)) usage('the keys include private parts; register public keys only');
  }
  return { keys: await Promise.all(keys.map(async (k) => ({ ...k, kid: k.kid ?? (await calculateJwkThumbprint(k)) }))) };
}

async function withClients<T>(fn: (c: SqlClientRepository) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig());
  try {
    await migrate(db);
    return await fn(new SqlClientRepository(db));
  } finally {
    await db.close();
  }
}

export function registerClient(program: Command): void {
  const cmd = program.command('client').description('agency systems that get tokens from POST /oauth/token (private_key_jwt)');
  cmd
    .command('add')
    .description('register a client by its public key(s); prints its client id')
    .requiredOption('--agency <id>', 'agency the system acts for')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}; comma-separate for several`, collectRoles, [] as Role[])
    .option('--id <client-id>', 'the client id (default: a new UUID)')
    .option('--jwks-file <file>', 'a JWKS file of the client’s public keys')
    .option('--public-key <file>', 'a PEM public key (SPKI)')
    .option('--json', 'print JSON')
    .action(async (o: { agency: string; role: Role[]; id?: string; jwksFile?: string; publicKey?: string; json?: boolean }) => {
      if (!AGENCY.test(o.agency)) usage(`--agency ${o.agency}: letters, digits and . _ - only`);
      const clientId = o.id ?? randomUUID();
      if (!ID.test(clientId)) usage(`--id ${clientId}: letters, digits and . _ : - only`);
      const jwks = await publicKeys(o);
      const made = await withClients((c) => c.create({ clientId, agency: o.agency, roles: o.role, jwks }));
      if (!made) usage(`client ${clientId} exists already`);
      process.stdout.write(o.json ? `${JSON.stringify({ clientId, agency: o.agency, roles: o.role, kids: jwks.keys.map((k) => k.kid) })}\n` : `${clientId}\n`);
    });
  cmd
    .command('list')
    .description('registered clients')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await withClients((c) => c.list());
      for (const c of list) {
        const row = { clientId: c.clientId, agency: c.agency, roles: c.roles, kids: c.jwks.keys.map((k) => k.kid), disabled: c.disabledAt !== null };
        process.stdout.write(o.json ? `${JSON.stringify(row)}\n` : `${c.clientId}\t${c.agency}\t${c.roles.join(',')}${row.disabled ? '\tdisabled' : ''}\n`);
      }
    });
  cmd
    .command('disable')
    .argument('<client-id>')
    .description('refuse the client’s further assertions (tokens already issued run out within minutes)')
    .action(async (id: string) => {
      if (!(await withClients((c) => c.setDisabled(id, true)))) usage(`no client ${id}`);
    });
}
