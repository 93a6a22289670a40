import type { Transfer, TransferStatus } from '../../dossier/custody/model.js';
import { DossierError } from '../../dossier/errors.js';
import type { NewTransfer, TransferAnswer, TransferRepository } from '../../dossier/ports/custody.js';
import { isUuid } from './case-repository.js';
import { type Database, type Queryable, queryableIn, inTransaction } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface TransferRow {
  id: string;
  dossier_id: string;
  case_id: string;
  from_agency: string;
  to_agency: string;
  stage: string;
  note: string | null;
  status: TransferStatus;
  sent_by: string;
  sent_at: Date;
  answered_by: string | null;
  answered_at: Date | null;
  reason: string | null;
  receipt: string | null;
  due_at: Date | null;
  overdue_at: Date | null;
}

const toTransfer = (r: TransferRow): Transfer => ({
  id: r.id,
  dossierId: r.dossier_id,
  caseId: r.case_id,
  from: r.from_agency,
  to: r.to_agency,
  stage: r.stage,
  note: r.note,
  status: r.status,
  sentBy: r.sent_by,
  sentAt: new Date(r.sent_at),
  answeredBy: r.answered_by,
  answeredAt: r.answered_at ? new Date(r.answered_at) : null,
  reason: r.reason,
  receipt: r.receipt,
  dueAt: r.due_at ? new Date(r.due_at) : null,
  overdueAt: r.overdue_at ? new Date(r.overdue_at) : null,
});

export class SqlTransferRepository implements TransferRepository {
  constructor(private readonly db: Database) {}

  async create(t: NewTransfer, within?: Tx): Promise<{ transfer: Transfer; created: boolean }> {
    const q = queryableIn(this.db, within);
    // DO NOTHING without a target covers both the idempotency key and the one-pending index.
    const rows = await q.query<TransferRow>(
      // The clock: the stage's deadline in force now, in calendar time (P1M is a month).
      // What it moves, kept on the row for the statistics (a sealed dossier does not change).
      `INSERT INTO transfers (id, dossier_id, case_id, from_agency, to_agency, stage, note, sent_by, idempotency_key, due_at, pages, bytes)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, now() + (SELECT deadline::interval FROM stages WHERE name = $6), d.page_count, d.bytes
         FROM dossiers d WHERE d.id = $2
       ON CONFLICT DO NOTHING RETURNING *`,
      [t.id, t.dossierId, t.caseId, t.from, t.to, t.stage, t.note, t.sentBy, t.idempotencyKey],
    );
    if (rows[0]) return { transfer: toTransfer(rows[0]), created: true };
    // Lost a race with the same key: the first transfer is the answer.
    const first = t.idempotencyKey === null ? null : await this.byIdempotencyKey(t.from, t.idempotencyKey, within);
    if (first) {
      if (first.dossierId !== t.dossierId || first.to !== t.to || first.stage !== t.stage) {
        throw new DossierError('idempotency_key_reused', 'Idempotency-Key already used for another transfer');
      }
      return { transfer: first, created: false };
    }
    throw new DossierError('transfer_pending', 'a transfer of this dossier is waiting for an answer');
  }

  async get(id: string): Promise<Transfer | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query<TransferRow>(`SELECT * FROM transfers WHERE id = $1`, [id]);
    return rows[0] ? toTransfer(rows[0]) : null;
  }

  async byIdempotencyKey(fromAgency: string, key: string, within?: Tx): Promise<Transfer | null> {
    const rows = await queryableIn(this.db, within).query<TransferRow>(`SELECT * FROM transfers WHERE from_agency = $1 AND idempotency_key = $2`, [fromAgency, key]);
    return rows[0] ? toTransfer(rows[0]) : null;
  }

  async findVisible(id: string, agency: string): Promise<Transfer | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.query<TransferRow>(`SELECT * FROM transfers WHERE id = $1 AND (from_agency = $2 OR to_agency = $2)`, [id, agency]);
    return rows[0] ? toTransfer(rows[0]) : null;
  }

  async listByDossier(dossierId: string): Promise<Transfer[]> {
    const rows = await this.db.query<TransferRow>(`SELECT * FROM transfers WHERE dossier_id = $1 ORDER BY sent_at, id`, [dossierId]);
    return rows.map(toTransfer);
  }

  async list(agency: string, o: { direction: 'in' | 'out'; status?: TransferStatus; limit: number; offset: number }): Promise<Transfer[]> {
    const column = o.direction === 'in' ? 'to_agency' : 'from_agency';
    const rows = await this.db.query<TransferRow>(
      `SELECT * FROM transfers WHERE ${column} = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY sent_at DESC, id LIMIT $3 OFFSET $4`,
      [agency, o.status ?? null, o.limit, o.offset],
    );
    return rows.map(toTransfer);
  }

  async answer(id: string, a: TransferAnswer, within?: Tx): Promise<Transfer> {
    return inTransaction(this.db, within, async (tx) => {
      const rows = await tx.query<TransferRow>(
        `UPDATE transfers SET status = $2, answered_by = $3, answered_at = $4, reason = $5, receipt = $6
          WHERE id = $1 AND status = 'pending' RETURNING *`,
        [id, a.status, a.by, a.at, a.reason, a.receipt],
      );
      if (!rows[0]) throw new DossierError('conflict', 'transfer is no longer pending');
      const t = toTransfer(rows[0]);
      if (a.caseNumber !== undefined) await recordCaseNumber(tx, t.caseId, t.to, a.caseNumber);
      return t;
    });
  }

  async receipts(dossierId: string): Promise<{ transferId: string; receipt: string }[]> {
    const rows = await this.db.query<{ id: string; receipt: string }>(
      `SELECT id, receipt FROM transfers WHERE dossier_id = $1 AND receipt IS NOT NULL ORDER BY answered_at, id`,
      [dossierId],
    );
    return rows.map((r) => ({ transferId: r.id, receipt: r.receipt }));
  }
}

/**
 * The receiver's own number for the case. DO NOTHING keeps the transaction usable on either unique
 * constraint; reading back tells "already this number" from "taken" (the caller's transaction
 * then rolls back, answer included).
 */
async function recordCaseNumber(tx: Queryable, caseId: string, agency: string, number: string): Promise<void> {
  await tx.query(`INSERT INTO case_numbers (case_id, agency_id, number) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [caseId, agency, number]);
  const mine = await tx.query<{ number: string }>(`SELECT number FROM case_numbers WHERE case_id = $1 AND agency_id = $2`, [caseId, agency]);
  if (mine[0]?.number === number) return;
  if (mine[0]) throw new DossierError('conflict', `caseNumber: your agency already numbers this case ${mine[0].number}`);
  throw new DossierError('conflict', `caseNumber: your agency already uses ${number} for another case`);
}
