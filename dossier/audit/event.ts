/**
 * One link of the audit chain and its hash. The hash covers every field but itself: SHA-256 over
 * the canonical JSON (RFC 8785) of { seq, time, actor, agency, action, target, caseId, details,
 * prevHash }, time as ISO 8601 with milliseconds. The first event's prevHash is GENESIS_HASH.
 */
import { createHash } from 'node:crypto';
import { canonicalBytes } from '../evidence/statements.js';
import type { AuditEntry } from '../ports/audit-log.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds, as hashed. */
  readonly time: string;
  readonly actor: string;
  readonly agency: string;
  /** An AuditAction when written by this code; kept as text so that verification reads any row. */
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly caseId: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export type UnhashedEvent = Omit<AuditEvent, 'hash'>;

export function eventHash(e: UnhashedEvent): string {
  const body = {
    seq: e.seq,
    time: e.time,
    actor: e.actor,
    agency: e.agency,
    action: e.action,
    target: { type: e.target.type, id: e.target.id },
    caseId: e.caseId,
    details: e.details,
    prevHash: e.prevHash,
  };
  return createHash('sha256').update(canonicalBytes(body)).digest('hex');
}

/**
 * The next link after (prevSeq, prevHash). Details go through a JSON round trip first, so that what
 * is hashed is exactly what a JSON column gives back (no undefined members, dates as strings).
 */
export function chainEvent(entry: AuditEntry, prev: { seq: number; hash: string }, time: Date): AuditEvent {
  const details = JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>;
  const unhashed: UnhashedEvent = {
    seq: prev.seq + 1,
    time: time.toISOString(),
    actor: entry.actor,
    agency: entry.agency,
    action: entry.action,
    target: { type: entry.target.type, id: entry.target.id },
    // uuid text as the database gives it back
    caseId: entry.caseId ? entry.caseId.toLowerCase() : null,
    details,
    prevHash: prev.hash,
  };
  return { ...unhashed, hash: eventHash(unhashed) };
}
