import type { Role } from '../../dossier/model.js';
import type { AccountRecord, AccountRepository, FederatedIdentity, PendingLogin, PendingLoginRepository, SessionRecord, SessionRepository } from '../../dossier/ports/accounts.js';
import type { Tx } from '../../dossier/ports/transactions.js';
import { type Database, queryableIn } from './database.js';

interface AccountRow {
  user_id: string;
  agency: string;
  roles: Role[];
  password_hash: string;
  disabled_at: Date | null;
  failed_attempts: number;
  locked_until: Date | null;
  created_at: Date;
}

const date = (d: Date | string | null) => (d === null ? null : new Date(d));

const toAccount = (r: AccountRow): AccountRecord => ({
  userId: r.user_id,
  agency: r.agency,
  roles: r.roles,
  passwordHash: r.password_hash,
  disabledAt: date(r.disabled_at),
  failedAttempts: Number(r.failed_attempts),
  lockedUntil: date(r.locked_until),
  createdAt: date(r.created_at)!,
});

export class SqlAccountRepository implements AccountRepository {
  constructor(private readonly db: Database) {}

  async create(a: { userId: string; agency: string; roles: readonly Role[]; passwordHash: string }, now: Date, within?: Tx): Promise<AccountRecord | null> {
    const rows = await queryableIn(this.db, within).query<AccountRow>(
      `INSERT INTO accounts (user_id, agency, roles, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (user_id) DO NOTHING RETURNING *`,
      [a.userId, a.agency, a.roles, a.passwordHash, now],
    );
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async get(userId: string): Promise<AccountRecord | null> {
    const rows = await this.db.query<AccountRow>(`SELECT * FROM accounts WHERE user_id = $1`, [userId]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async list(): Promise<AccountRecord[]> {
    return (await this.db.query<AccountRow>(`SELECT * FROM accounts ORDER BY agency, user_id`)).map(toAccount);
  }

  async setDisabled(userId: string, disabled: boolean, now: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE accounts SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, $3) END, updated_at = $3 WHERE user_id = $1 RETURNING 1`,
      [userId, disabled, now],
    );
    return rows.length > 0;
  }

  async setPassword(userId: string, passwordHash: string, now: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE accounts SET password_hash = $2, failed_attempts = 0, locked_until = NULL, updated_at = $3 WHERE user_id = $1 RETURNING 1`,
      [userId, passwordHash, now],
    );
    return rows.length > 0;
  }

  async recordFailure(userId: string, lockFor: (failures: number) => number, now: Date): Promise<void> {
    // The count is bumped in one statement (concurrent failures each count), the lock set after.
    const rows = await this.db.query<{ failed_attempts: number }>(
      `UPDATE accounts SET failed_attempts = failed_attempts + 1 WHERE user_id = $1 RETURNING failed_attempts`,
      [userId],
    );
    const seconds = rows[0] ? lockFor(Number(rows[0].failed_attempts)) : 0;
    if (seconds > 0) await this.db.query(`UPDATE accounts SET locked_until = $2 WHERE user_id = $1`, [userId, new Date(now.getTime() + seconds * 1000)]);
  }

  async recordSuccess(userId: string): Promise<void> {
    await this.db.query(`UPDATE accounts SET failed_attempts = 0, locked_until = NULL WHERE user_id = $1 AND failed_attempts > 0`, [userId]);
  }
}

interface SessionRow {
  user_id: string;
  agency: string;
  roles: Role[];
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

export class SqlSessionRepository implements SessionRepository {
  constructor(private readonly db: Database) {}

  async create(s: { idHash: string; userId: string; csrfToken: string; createdAt: Date; expiresAt: Date; federated?: FederatedIdentity }): Promise<void> {
    const f = s.federated;
    await this.db.query(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, issuer, agency, roles) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)`,
      [s.idHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt, f?.issuer ?? null, f?.agency ?? null, f ? [...f.roles] : null],
    );
  }

  async findLive(idHash: string, now: Date, idleSeconds: number): Promise<SessionRecord | null> {
    const rows = await this.db.query<SessionRow>(
      // A federated session names its own agency and roles; a local one takes its account's.
      `SELECT s.user_id, coalesce(s.agency, a.agency) AS agency, coalesce(s.roles, a.roles) AS roles, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at
         FROM sessions s LEFT JOIN accounts a ON a.user_id = s.user_id AND s.issuer IS NULL
        WHERE s.id_hash = $1 AND s.ended_at IS NULL AND (s.issuer IS NOT NULL OR (a.user_id IS NOT NULL AND a.disabled_at IS NULL))
          AND s.expires_at > $2 AND s.last_seen_at + make_interval(secs => $3) > $2`,
      [idHash, now, idleSeconds],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      userId: r.user_id,
      agency: r.agency,
      roles: r.roles,
      csrfToken: r.csrf_token,
      createdAt: date(r.created_at)!,
      lastSeenAt: date(r.last_seen_at)!,
      expiresAt: date(r.expires_at)!,
    };
  }

  async touch(idHash: string, now: Date): Promise<void> {
    await this.db.query(`UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id_hash = $1`, [idHash, now]);
  }

  async end(idHash: string, now: Date): Promise<void> {
    await this.db.query(`UPDATE sessions SET ended_at = coalesce(ended_at, $2) WHERE id_hash = $1`, [idHash, now]);
  }

  async endAllOf(userId: string, now: Date): Promise<number> {
    const rows = await this.db.query(`UPDATE sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL RETURNING 1`, [userId, now]);
    return rows.length;
  }
}

interface PendingLoginRow {
  state: string;
  binding_hash: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  expires_at: Date;
}

export class SqlPendingLoginRepository implements PendingLoginRepository {
  constructor(private readonly db: Database) {}

  async save(l: PendingLogin): Promise<void> {
    // Abandoned sign-ins are swept as new ones begin.
    await this.db.query(`DELETE FROM oidc_logins WHERE expires_at < now() - interval '1 hour'`);
    await this.db.query(
      `INSERT INTO oidc_logins (state, binding_hash, nonce, code_verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [l.state, l.bindingHash, l.nonce, l.codeVerifier, l.returnTo, l.expiresAt],
    );
  }

  async take(state: string, now: Date): Promise<PendingLogin | null> {
    const rows = await this.db.query<PendingLoginRow>(`DELETE FROM oidc_logins WHERE state = $1 RETURNING *`, [state]);
    const r = rows[0];
    if (!r || new Date(r.expires_at) <= now) return null;
    return { state: r.state, bindingHash: r.binding_hash, nonce: r.nonce, codeVerifier: r.code_verifier, returnTo: r.return_to, expiresAt: new Date(r.expires_at) };
  }
}
