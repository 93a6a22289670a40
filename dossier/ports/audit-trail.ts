/** Reading and checking the audit chain (the writing side is audit-log.ts). */
import type { AuditEvent } from '../audit/event.js';
import type { AuditCheckpoint } from '../audit/checkpoint.js';
import type { ChainReport } from '../audit/verify-chain.js';

export interface AuditListQuery {
  /** The reader's agency: events of the cases it sees, and its own events without a case. */
  readonly agency: string;
  /** Only this case's events (the caller has checked that the agency sees the case). */
  readonly caseId?: string;
  /** Events after this seq (the previous page's `next`). */
  readonly after: number;
  readonly limit: number;
}

export interface AuditTrail {
  /** One page of the events the agency may read, in seq order. */
  list(q: AuditListQuery): Promise<AuditEvent[]>;
  /**
   * Recomputes the whole chain against its signed checkpoints and any `anchors`: checkpoints
   * kept outside the database, which alone reveal a tail cut together with its checkpoints.
   */
  verify(anchors?: readonly AuditCheckpoint[]): Promise<ChainReport>;
  /** The newest signed checkpoint, for auditors to keep outside the database; null before the first. */
  latestCheckpoint(): Promise<AuditCheckpoint | null>;
}
