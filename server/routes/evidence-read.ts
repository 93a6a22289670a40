/** Records a read of evidence (a page, its proof, the manifest, an export) before it is served. */
import type { Principal } from '../../dossier/model.js';
import type { AuditAction, AuditLog } from '../../dossier/ports/audit-log.js';

export function recordEvidenceRead(
  audit: AuditLog,
  who: Principal,
  action: AuditAction,
  dossier: { readonly id: string; readonly caseId: string },
  page?: number,
  details?: Record<string, unknown>,
): Promise<void> {
  const target = page === undefined ? { type: 'dossier', id: dossier.id } : { type: 'page', id: `${dossier.id}/${page}` };
  return audit.record({ actor: who.subject, agency: who.agency, action, target, caseId: dossier.caseId, details });
}
