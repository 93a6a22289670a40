/** Local accounts and browser sessions as stored (storage/db/account-repository.ts). */
import type { Role } from '../model.js';
import type { Tx } from './transactions.js';

export interface AccountRecord {
  readonly userId: string;
  readonly agency: string;
  readonly roles: readonly Role[];
  readonly passwordHash: string;
  readonly disabledAt: Date | null;
  readonly failedAttempts: number;
  readonly lockedUntil: Date | null;
  readonly createdAt: Date;
}

export interface AccountRepository {
  /** Null when the user id is taken. */
  create(a: { userId: string; agency: string; roles: readonly Role[]; passwordHash: string }, now: Date, within?: Tx): Promise<AccountRecord | null>;
  get(userId: string): Promise<AccountRecord | null>;
  list(): Promise<AccountRecord[]>;
  setDisabled(userId: string, disabled: boolean, now: Date): Promise<boolean>;
  /** A new password also clears the lockout. */
  setPassword(userId: string, passwordHash: string, now: Date): Promise<boolean>;
  /** Counts one failure and sets the lock the caller computed from the new count. */
  recordFailure(userId: string, lockFor: (failures: number) => number, now: Date): Promise<void>;
  recordSuccess(userId: string): Promise<void>;
}

export interface SessionRecord {
  readonly userId: string;
  readonly agency: string;
  readonly roles: readonly Role[];
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
}

export interface SessionRepository {
  /** `federated`: a user of an identity provider, with no local account; the session holds who they are. */
  create(s: { idHash: string; userId: string; csrfToken: string; createdAt: Date; expiresAt: Date; federated?: FederatedIdentity }): Promise<void>;
  /** A live session of an enabled account (with the account's current agency and roles), or of a federated user. */
  findLive(idHash: string, now: Date, idleSeconds: number): Promise<SessionRecord | null>;
  touch(idHash: string, now: Date): Promise<void>;
  end(idHash: string, now: Date): Promise<void>;
  /** Every open session of the user (disable, reset). */
  endAllOf(userId: string, now: Date): Promise<number>;
}

/** A user as an identity provider vouched for them, mapped to our agency and roles. */
export interface FederatedIdentity {
  readonly issuer: string;
  readonly agency: string;
  readonly roles: readonly Role[];
}

/** An OpenID Connect sign-in under way: what the callback must match. */
export interface PendingLogin {
  readonly state: string;
  readonly bindingHash: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  readonly expiresAt: Date;
}

export interface PendingLoginRepository {
  save(l: PendingLogin): Promise<void>;
  /** The login of this state, removed as it is read (a callback is taken once); null when unknown, used or expired. */
  take(state: string, now: Date): Promise<PendingLogin | null>;
}
