/** The storage port of supervision: transfer metadata across agencies, and the overdue marking. */
import type { Transfer } from '../custody/model.js';
import type { Tx } from './transactions.js';

/** What the supervising committee may see of a transfer: never page content. */
export interface TransferMetadata {
  readonly transferId: string;
  readonly caseId: string;
  /** The case owner's number for the case (cases.number). */
  readonly caseNumber: string;
  readonly dossierId: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly stage: string;
  readonly status: Transfer['status'];
  readonly sentAt: Date;
  readonly dueAt: Date | null;
  readonly answeredAt: Date | null;
  readonly overdueAt: Date | null;
  readonly reason: string | null;
  readonly pageCount: number | null;
  readonly bytes: number | null;
}

export interface OverdueMarker {
  /**
   * Marks up to `limit` pending transfers past their due time overdue, in the caller's
   * transaction; each transfer is returned by this once in its life.
   */
  markOverdue(limit: number, within: Tx): Promise<TransferMetadata[]>;
}
