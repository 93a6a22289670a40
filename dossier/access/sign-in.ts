/**
 * Signing in with a local account and the browser sessions that follow. The session secret is a
 * random 256-bit value handed to the browser once; only its SHA-256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DossierError } from '../errors.js';
import type { Principal, Role } from '../model.js';
import type { AccountRepository, FederatedIdentity, SessionRecord, SessionRepository } from '../ports/accounts.js';
import { decoyHash, verifyPassword } from './passwords.js';

export interface SessionPolicy {
  /** A session unused this long ends. */
  readonly idleSeconds: number;
  /** A session ends this long after sign-in, however busy. */
  readonly absoluteSeconds: number;
}

export interface SignInDeps {
  readonly accounts: AccountRepository;
  readonly sessions: SessionRepository;
  readonly policy: SessionPolicy;
}

/** Failures in a row allowed before the account locks. */
export const FREE_FAILURES = 5;

/** Lock after the fifth failure in a row: 30 s, doubling with each further failure, at most 15 min. */
export function lockSeconds(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(900, 30 * 2 ** (failures - FREE_FAILURES));
}

export const sessionIdHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export interface NewSession {
  /** The cookie's value: shown once, never stored. */
  readonly secret: string;
  readonly session: SessionRecord;
}

export async function signIn(deps: SignInDeps, userId: string, password: string, now = new Date()): Promise<NewSession> {
  const account = await deps.accounts.get(userId);
  if (!account) {
    await verifyPassword(password, await decoyHash); // as slow as a real check: no user enumeration by timing
    throw new DossierError('invalid_credentials', 'wrong user or password');
  }
  if (account.lockedUntil && account.lockedUntil > now) {
    const seconds = Math.ceil((account.lockedUntil.getTime() - now.getTime()) / 1000);
    throw new DossierError('too_many_attempts', `too many failed sign-ins; try again in ${seconds} s`, { retryAfter: seconds });
  }
  const ok = await verifyPassword(password, account.passwordHash);
  if (!ok) {
    await deps.accounts.recordFailure(userId, lockSeconds, now);
    throw new DossierError('invalid_credentials', 'wrong user or password');
  }
  // A disabled account is told apart only after the right password: no probing for accounts.
  if (account.disabledAt) throw new DossierError('forbidden', 'this account is disabled');
  await deps.accounts.recordSuccess(userId);
  return openSession(deps, userId, { agency: account.agency, roles: account.roles }, now);
}

/** A session for a user an identity provider vouched for (no local account, no password). */
export function federatedSignIn(deps: SignInDeps, userId: string, identity: FederatedIdentity, now = new Date()): Promise<NewSession> {
  return openSession(deps, userId, identity, now, identity);
}

async function openSession(deps: SignInDeps, userId: string, who: { agency: string; roles: readonly Role[] }, now: Date, federated?: FederatedIdentity): Promise<NewSession> {
  const secret = randomBytes(32).toString('base64url');
  const record: SessionRecord = {
    userId,
    agency: who.agency,
    roles: who.roles,
    csrfToken: randomBytes(32).toString('base64url'),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + deps.policy.absoluteSeconds * 1000),
  };
  await deps.sessions.create({ idHash: sessionIdHash(secret), userId, csrfToken: record.csrfToken, createdAt: now, expiresAt: record.expiresAt, ...(federated ? { federated } : {}) });
  return { secret, session: record };
}

// Writing last_seen on every request would put a database write on every page thumbnail.
const TOUCH_EVERY_MS = 30_000;

/** The session behind a cookie secret, or null when it is unknown, ended or expired. */
export async function resumeSession(deps: SignInDeps, secret: string, now = new Date()): Promise<SessionRecord | null> {
  const idHash = sessionIdHash(secret);
  const s = await deps.sessions.findLive(idHash, now, deps.policy.idleSeconds);
  if (s && now.getTime() - s.lastSeenAt.getTime() > TOUCH_EVERY_MS) await deps.sessions.touch(idHash, now);
  return s;
}

export const sessionPrincipal = (s: SessionRecord): Principal => ({ subject: s.userId, agency: s.agency, roles: s.roles });
