/**
 * Who holds a dossier and who may move it: pure rules over the dossier and its transfers, so that
 * routes, links and tests ask one place. Visibility (who may read) is wider than custody (who may
 * act): a returned dossier stays visible to the agency that returned it, read-only.
 */
import { DossierError } from '../errors.js';
import type { DossierRecord } from '../model.js';
import type { Transfer } from './model.js';

/** The owner until a transfer is accepted; then the agency that accepted the latest one. */
export function custodianOf(dossier: Pick<DossierRecord, 'agency'>, transfers: readonly Transfer[]): string {
  let holder = dossier.agency;
  let since = -Infinity;
  for (const t of transfers) {
    if (t.status !== 'accepted' || !t.answeredAt) continue;
    if (t.answeredAt.getTime() >= since) {
      holder = t.to;
      since = t.answeredAt.getTime();
    }
  }
  return holder;
}

export function pendingTransferOf(transfers: readonly Transfer[]): Transfer | null {
  return transfers.find((t) => t.status === 'pending') ?? null;
}

/** Acting on a dossier (send, link): only its custodian, never a reader who merely sees it. */
export function requireCustodian(agency: string, dossier: Pick<DossierRecord, 'agency'>, transfers: readonly Transfer[]): void {
  const holder = custodianOf(dossier, transfers);
  if (holder !== agency) throw new DossierError('forbidden', 'your agency does not hold this dossier (read-only)');
}

export interface SendRequest {
  readonly agency: string;
  readonly dossier: Pick<DossierRecord, 'agency' | 'status'>;
  readonly transfers: readonly Transfer[];
  readonly toAgency: string;
  /** Whether `toAgency` is a registered agency. */
  readonly receiverRegistered: boolean;
  /** Whether `stage` is a configured stage. */
  readonly stageKnown: boolean;
}

export function checkSend(r: SendRequest): void {
  requireCustodian(r.agency, r.dossier, r.transfers);
  if (r.dossier.status !== 'sealed') throw new DossierError('conflict', `dossier is ${r.dossier.status}; only a sealed dossier can be sent`);
  if (r.toAgency === r.agency) throw new DossierError('bad_request', 'toAgency: cannot send a dossier to your own agency');
  if (!r.receiverRegistered) throw new DossierError('unknown_agency', `toAgency: ${r.toAgency} is not a registered agency`);
  if (!r.stageKnown) throw new DossierError('bad_request', 'stage: not a configured stage (GET /api/stages)');
  if (pendingTransferOf(r.transfers)) throw new DossierError('transfer_pending', 'a transfer of this dossier is waiting for an answer');
}

export type Decision = 'accepted' | 'returned';

/** Accept or return: only the receiving agency, only while pending, a return only with a reason. */
export function checkAnswer(agency: string, t: Transfer, decision: Decision, reason?: string | null): void {
  if (t.to !== agency) throw new DossierError('forbidden', 'only the receiving agency may answer a transfer');
  if (t.status !== 'pending') throw new DossierError('conflict', `transfer already ${t.status}`);
  if (decision === 'returned' && !reason?.trim()) throw new DossierError('bad_request', 'reason: a return needs a reason');
}
