/**
 * `dossier user add|list|disable|enable|reset`: local accounts for the browser sign-in. Opens the
 * configured database itself (DATA_DIR or DATABASE_URL); the embedded database belongs to one
 * process, so stop the gateway first when it runs on PGlite.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { hashPassword, passwordProblem } from '../../dossier/access/passwords.js';
import { ROLES, type Role } from '../../dossier/model.js';
import { loadConfig } from '../../runtime/config.js';
import { openDatabase } from '../../runtime/compose.js';
import { migrate } from '../../storage/db/migrate.js';
import { SqlAccountRepository, SqlSessionRepository } from '../../storage/db/account-repository.js';
import { readPassword } from '../support/read-password.js';
import { collectRoles } from './token.js';

/** A usage error (exit 2) that says why: commander prints nothing for one raised in an action. */
function usage(message: string): never {
  process.stderr.write(`dossier user: ${message}\n`);
  throw new InvalidArgumentError(message);
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/;
const AGENCY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function withAccounts<T>(fn: (a: SqlAccountRepository, s: SqlSessionRepository) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig());
  try {
    await migrate(db);
    return await fn(new SqlAccountRepository(db), new SqlSessionRepository(db));
  } finally {
    await db.close();
  }
}

async function newPassword(o: { passwordStdin?: boolean }): Promise<string> {
  const password = o.passwordStdin ? await readStdin() : await readPassword('Password: ', 'Again: ');
  const problem = passwordProblem(password);
  if (problem) usage(problem);
  return password;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const user = (id: string) => {
  if (!ID.test(id)) usage(`--user ${id}: letters, digits and . _ @ - only`);
  return id;
};

export function registerUser(program: Command): void {
  const cmd = program.command('user').description('local accounts that sign in to the web application');
  cmd
    .command('add')
    .description('create an account; the password is asked for, or read from stdin with --password-stdin')
    .requiredOption('--agency <id>', 'agency the user acts for')
    .requiredOption('--user <id>', 'user id (signs in with it)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}; comma-separate for several`, collectRoles, [] as Role[])
    .option('--password-stdin', 'read the password from standard input (scripts)')
    .option('--json', 'print JSON')
    .action(async (o: { agency: string; user: string; role: Role[]; passwordStdin?: boolean; json?: boolean }) => {
      if (!AGENCY.test(o.agency)) usage(`--agency ${o.agency}: not an agency id`);
      const id = user(o.user);
      const passwordHash = await hashPassword(await newPassword(o));
      const made = await withAccounts((a) => a.create({ userId: id, agency: o.agency, roles: o.role, passwordHash }, new Date()));
      if (!made) throw new Error(`user ${id} already exists`);
      const out = { user: made.userId, agency: made.agency, roles: made.roles };
      process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `added ${out.user} (${out.agency}: ${out.roles.join(', ')})\n`);
    });
  cmd
    .command('list')
    .description('every local account')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const all = await withAccounts((a) => a.list());
      const rows = all.map((a) => ({ user: a.userId, agency: a.agency, roles: a.roles, disabled: a.disabledAt !== null, locked: a.lockedUntil !== null && a.lockedUntil > new Date() }));
      if (o.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      for (const r of rows) process.stdout.write(`${r.user}\t${r.agency}\t${r.roles.join(',')}${r.disabled ? '\tdisabled' : ''}${r.locked ? '\tlocked' : ''}\n`);
    });
  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    cmd
      .command(name)
      .description(disabled ? 'stop an account from signing in and end its sessions' : 'let a disabled account sign in again')
      .requiredOption('--user <id>', 'user id')
      .action(async (o: { user: string }) => {
        const ended = await withAccounts(async (a, s) => {
          if (!(await a.setDisabled(user(o.user), disabled, new Date()))) throw new Error(`no user ${o.user}`);
          return disabled ? s.endAllOf(o.user, new Date()) : 0;
        });
        process.stdout.write(`${name}d ${o.user}${disabled ? `; ${ended} session(s) ended` : ''}\n`);
      });
  }
  cmd
    .command('reset')
    .description('set a new password, clear a lockout and end the account’s sessions')
    .requiredOption('--user <id>', 'user id')
    .option('--password-stdin', 'read the password from standard input (scripts)')
    .action(async (o: { user: string; passwordStdin?: boolean }) => {
      const passwordHash = await hashPassword(await newPassword(o));
      const ended = await withAccounts(async (a, s) => {
        if (!(await a.setPassword(user(o.user), passwordHash, new Date()))) throw new Error(`no user ${o.user}`);
        return s.endAllOf(o.user, new Date());
      });
      process.stdout.write(`password of ${o.user} reset; ${ended} session(s) ended\n`);
    });
}
