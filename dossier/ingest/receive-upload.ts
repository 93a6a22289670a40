/**
 * The last byte of an upload landed: the dossier goes from receiving to processing, its ingest is
 * queued and the upload is marked in the audit chain, in one transaction. A crash leaves either a
 * receiving dossier (recovered at the next start) or all three, never a dossier that nobody will
 * ingest or an upload the chain does not show.
 */
import type { AuditLog } from '../ports/audit-log.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { Transactions } from '../ports/transactions.js';
import { INGEST_JOB } from './ingest-job.js';

export interface ReceiveDeps {
  readonly dossiers: DossierRepository;
  readonly queue: JobQueue;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
}

export interface ReceivedUpload {
  readonly id: string;
  readonly bytes: number;
  /** Null when the running hash did not survive a restart: ingest computes it from the bytes. */
  readonly sha256: string | null;
  /** The uploading user, or `system` when start-up recovery finishes the upload. */
  readonly actor: string;
  readonly recovered?: boolean;
}

/** False when the dossier was not receiving (a repeated finish): nothing is done twice. */
export async function receiveUpload(deps: ReceiveDeps, u: ReceivedUpload): Promise<boolean> {
  const d = await deps.dossiers.get(u.id);
  if (!d) return false;
  return deps.transactions.run(async (tx) => {
    if (!(await deps.dossiers.markReceived(u.id, u.bytes, u.sha256, tx))) return false;
    await deps.queue.enqueue({ kind: INGEST_JOB, key: u.id, payload: { dossierId: u.id } }, tx);
    await deps.audit.record({
      actor: u.actor,
      agency: d.agency,
      action: 'dossier.upload',
      target: { type: 'dossier', id: u.id },
      caseId: d.caseId,
      details: { bytes: u.bytes, sha256: u.sha256, filename: d.filename, ...(u.recovered ? { recovered: true } : {}) },
    }, tx);
    return true;
  });
}
