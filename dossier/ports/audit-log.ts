/**
 * The audit port: every state change and every read of evidence is recorded here. The storage
 * adapter chains each event to the previous one by hash (see dossier/audit/); callers only say
 * what happened. Recording must not be skipped on success paths: a route records before it
 * answers (for streamed reads, when the stream starts).
 */
import type { Tx } from './transactions.js';

export const AUDIT_ACTIONS = [
  'agency.create',
  'case.create',
  'dossier.upload',
  'dossier.sealed',
  'dossier.rejected',
  'dossier.read',
  'page.read',
  'original.read',
  'thumbnail.read',
  'page.view',
  'proof.read',
  'page.text.read',
  'manifest.read',
  'dossier.export',
  'search',
  'transfer.send',
  'transfer.accept',
  'transfer.return',
  'link.create',
  'link.revoke',
  'link.use',
  'stage.update',
  'session.start',
  'session.end',
  'client.token',
  // supervision and integration
  'transfer.overdue',
  'dossier.searchable',
  'supervision.read',
  'webhook.create',
  'webhook.delete',
  'webhook.redeliver',
  // local accounts managed over HTTP
  'account.create',
  'account.update',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** The user (token subject), `link:<jti>` for a signed link, `system` for the workers. */
  readonly actor: string;
  /** The acting agency (for a link: the link's audience agency). */
  readonly agency: string;
  readonly action: AuditAction;
  /** What was acted on: e.g. { type: 'dossier', id } or { type: 'page', id: '<dossier>/<n>' }. */
  readonly target: { readonly type: string; readonly id: string };
  /** The case concerned, when there is one: auditors of the agencies that see it read the event. */
  readonly caseId?: string | null;
  /** Small, non-secret facts (page count, transfer stage, link id, search query length…). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditLog {
  /** Appends one event; `within` is an open transaction of the same database, when given. */
  record(entry: AuditEntry, within?: Tx): Promise<void>;
  /** Appends several events in order, in the caller's transaction (one lock of the chain head). */
  recordAll(entries: readonly AuditEntry[], within: Tx): Promise<void>;
}
