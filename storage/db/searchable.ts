/**
 * `dossier.searchable`: recorded once, in the transaction that ends the text of a sealed
 * dossier's last page (done or failed). Finishers of the same dossier lock its row first, so
 * the last of two concurrent ones sees the other's page and none is left to think "not yet".
 */
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { Tx } from '../../dossier/ports/transactions.js';
import type { Queryable } from './database.js';
import type { PageFinishedHook } from './page-text-repository.js';

export function recordSearchable(audit: AuditLog): PageFinishedHook {
  return async (dossierId, tx: Queryable) => {
    await tx.query('SELECT 1 FROM dossiers WHERE id = $1 FOR UPDATE', [dossierId]);
    // A statement after the lock: it sees every page committed before it was granted.
    const [d] = await tx.query<{ agency_id: string; case_id: string; page_count: number; done: number; failed: number }>(
      `UPDATE dossiers d SET searchable_at = now()
         FROM (SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed
                 FROM page_text WHERE dossier_id = $1) t
        WHERE d.id = $1 AND d.status = 'sealed' AND d.searchable_at IS NULL AND t.done + t.failed >= d.page_count
        RETURNING d.agency_id, d.case_id, d.page_count, t.done, t.failed`,
      [dossierId],
    );
    if (!d) return;
    await audit.record({
      actor: 'system', agency: d.agency_id, action: 'dossier.searchable', target: { type: 'dossier', id: dossierId }, caseId: d.case_id,
      details: { pages: d.page_count, done: d.done, failed: d.failed },
    }, tx as unknown as Tx);
  };
}
