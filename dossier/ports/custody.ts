/** Storage ports of custody: agencies, stages, per-agency case numbers, transfers. */
import type { Agency, CaseNumber, Stage, Transfer, TransferStatus } from '../custody/model.js';
import type { Tx } from './transactions.js';

export interface AgencyRepository {
  /** Inserts, or (for configuration files read at start) updates name and kind. */
  upsert(a: Agency): Promise<Agency>;
  /** Inserts; false when the id is already registered. */
  create(a: Agency, within?: Tx): Promise<boolean>;
  get(id: string): Promise<Agency | null>;
  list(): Promise<Agency[]>;
}

export interface StageRepository {
  list(): Promise<Stage[]>;
  get(name: string): Promise<Stage | null>;
  /** Creates or replaces; a new stage without an order goes last. Returns whether it was created. */
  put(name: string, s: { label: Stage['label']; deadline: string; order?: number }, within?: Tx): Promise<{ stage: Stage; created: boolean }>;
}

export interface CaseNumberRepository {
  /** Every agency's number for each of the cases, owner first. */
  numbersOf(caseIds: readonly string[]): Promise<Map<string, CaseNumber[]>>;
}

/** A transfer as sent: the record's sending half, and the key that makes a repeated send a replay. */
export interface NewTransfer extends Pick<Transfer, 'id' | 'dossierId' | 'caseId' | 'from' | 'to' | 'stage' | 'note' | 'sentBy'> {
  readonly idempotencyKey: string | null;
}

export interface TransferAnswer {
  readonly status: Exclude<TransferStatus, 'pending'>;
  readonly by: string;
  readonly at: Date;
  readonly reason: string | null;
  readonly receipt: string;
  /** The receiver's own number for the case, recorded with the answer. */
  readonly caseNumber?: string;
}

export interface TransferRepository {
  /**
   * Records a pending transfer. With an idempotency key already used by the sending agency, the
   * first transfer comes back (`created: false`); a dossier already in flight is `transfer_pending`.
   */
  create(t: NewTransfer, within?: Tx): Promise<{ transfer: Transfer; created: boolean }>;
  get(id: string): Promise<Transfer | null>;
  /** The transfer the agency sent with this Idempotency-Key, if any. */
  byIdempotencyKey(fromAgency: string, key: string): Promise<Transfer | null>;
  /** The transfer if `agency` sent or received it, else null (404 either way). */
  findVisible(id: string, agency: string): Promise<Transfer | null>;
  listByDossier(dossierId: string): Promise<Transfer[]>;
  list(agency: string, o: { direction: 'in' | 'out'; status?: TransferStatus; limit: number; offset: number }): Promise<Transfer[]>;
  /** pending → accepted | returned with its receipt, atomically; `conflict` when no longer pending. */
  answer(id: string, a: TransferAnswer, within?: Tx): Promise<Transfer>;
  /** Answered transfers of a dossier that carry a receipt, in the order they were answered. */
  receipts(dossierId: string): Promise<{ transferId: string; receipt: string }[]>;
}
