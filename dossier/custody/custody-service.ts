/**
 * Sending and answering transfers: the rules of rules.ts applied to what the repositories hold,
 * the receipt signed with the evidence keys, every step recorded in the audit log. The HTTP edge
 * only validates input and maps the results.
 */
import { randomUUID } from 'node:crypto';
import { DossierError } from '../errors.js';
import type { DossierRecord, Principal } from '../model.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Transactions } from '../ports/transactions.js';
import type { AgencyRepository, StageRepository, TransferRepository } from '../ports/custody.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { KeyRing } from '../signing/signer.js';
import { signReceipt, RECEIPT_TYPE, type ReceiptPayload } from '../evidence/receipt.js';
import type { Transfer } from './model.js';
import { checkAnswer, checkSend, type Decision } from './rules.js';

export interface CustodyDeps {
  readonly dossiers: DossierRepository;
  readonly agencies: AgencyRepository;
  readonly stages: StageRepository;
  readonly transfers: TransferRepository;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /** A transfer and its audit event commit together. */
  readonly transactions: Transactions;
}

export interface SendInput {
  readonly toAgency: string;
  readonly stage: string;
  readonly note?: string | null;
  readonly idempotencyKey?: string | null;
}

export interface AnswerInput {
  readonly reason?: string | null;
  readonly caseNumber?: string;
}

export class CustodyService {
  constructor(private readonly deps: CustodyDeps) {}

  /** Sends a visible dossier (the caller found it through the visibility rule). */
  async send(p: Principal, d: DossierRecord, input: SendInput): Promise<{ transfer: Transfer; created: boolean }> {
    const { transfers, agencies, stages } = this.deps;
    const key = input.idempotencyKey ?? null;
    // A repeated Idempotency-Key answers the first transfer, before any rule (it is pending now).
    const first = key === null ? null : await transfers.byIdempotencyKey(p.agency, key);
    if (first) {
      if (first.dossierId !== d.id || first.to !== input.toAgency || first.stage !== input.stage) {
        throw new DossierError('idempotency_key_reused', 'Idempotency-Key already used for another transfer');
      }
      return { transfer: first, created: false };
    }
    const history = await transfers.listByDossier(d.id);
    checkSend({
      agency: p.agency,
      dossier: d,
      transfers: history,
      toAgency: input.toAgency,
      receiverRegistered: (await agencies.get(input.toAgency)) !== null,
      stageKnown: (await stages.get(input.stage)) !== null,
    });
    return this.deps.transactions.run(async (tx) => {
      const result = await transfers.create(this.newTransfer(p, d, input, key), tx);
      if (result.created) {
        await this.deps.audit.record({
          actor: p.subject, agency: p.agency, action: 'transfer.send', caseId: d.caseId,
          target: { type: 'transfer', id: result.transfer.id },
          details: { dossier: d.id, to: input.toAgency, stage: input.stage },
        }, tx);
      }
      return result;
    });
  }

  /** Accepts or returns a transfer the caller can see; the receipt is signed before it is stored. */
  async answer(p: Principal, t: Transfer, decision: Decision, input: AnswerInput): Promise<Transfer> {
    checkAnswer(p.agency, t, decision, input.reason);
    const d = await this.deps.dossiers.get(t.dossierId);
    if (!d || d.status !== 'sealed' || !d.merkleRoot || d.pageCount === null) throw new DossierError('internal', 'a transferred dossier is not sealed');
    const at = new Date();
    const reason = decision === 'returned' ? input.reason!.trim() : null;
    const payload: ReceiptPayload = {
      v: 1, type: RECEIPT_TYPE, transfer: t.id, dossier: d.id, case: d.caseId, merkleRoot: d.merkleRoot, pageCount: d.pageCount,
      from: t.from, to: t.to, stage: t.stage, decision, ...(reason !== null ? { reason } : {}),
      sentAt: t.sentAt.toISOString(), time: at.toISOString(),
    };
    const receipt = await signReceipt(this.deps.keys.current(), payload);
    return this.deps.transactions.run(async (tx) => {
      const answered = await this.deps.transfers.answer(t.id, { status: decision, by: p.subject, at, reason, receipt, caseNumber: input.caseNumber }, tx);
      await this.deps.audit.record({
        actor: p.subject, agency: p.agency, action: decision === 'accepted' ? 'transfer.accept' : 'transfer.return', caseId: t.caseId,
        target: { type: 'transfer', id: t.id },
        details: { dossier: d.id, from: t.from, stage: t.stage, ...(input.caseNumber ? { caseNumber: input.caseNumber } : {}), ...(reason !== null ? { reason } : {}) },
      }, tx);
      return answered;
    });
  }

  private newTransfer(p: Principal, d: DossierRecord, input: SendInput, key: string | null) {
    return {
      id: randomUUID(), dossierId: d.id, caseId: d.caseId, from: p.agency, to: input.toAgency, stage: input.stage,
      note: input.note ?? null, sentBy: p.subject, idempotencyKey: key,
    };
  }
}
