/**
 * Every sealed dossier of a data directory checked as a receiver checks an export (signature,
 * every page's bytes, the root, the original, the receipts), and the audit chain recomputed:
 * what `dossier restore` runs before it says the restore is good.
 */
import type { JSONWebKeySet } from 'jose';
import { storedExportSource } from '../../dossier/evidence/stored-export-source.js';
import { verifyExport, type Problem } from '../../dossier/evidence/verify-export.js';
import type { compose } from '../../runtime/compose.js';

type Gateway = Awaited<ReturnType<typeof compose>>;

/** Sealed dossiers listed at once; the repository has no cursor for this question. */
const MAX_DOSSIERS = 10_000_000;

export interface StoredReport {
  readonly ok: boolean;
  readonly dossiers: number;
  readonly dossiersVerified: number;
  readonly pagesVerified: number;
  readonly failures: readonly { dossier: string; problems: readonly Problem[] }[];
  readonly audit: { readonly ok: boolean; readonly checked: number; readonly reason?: string };
}

export async function verifyStored(gateway: Gateway, trusted: JSONWebKeySet, onDossier: (done: number, total: number) => void = () => {}): Promise<StoredReport> {
  const ids = await gateway.dossiers.idsByStatus('sealed', MAX_DOSSIERS);
  const failures: { dossier: string; problems: readonly Problem[] }[] = [];
  let pagesVerified = 0;
  const jwks = gateway.keys.publicJwks();
  for (const [i, id] of ids.entries()) {
    const d = await gateway.dossiers.get(id);
    if (!d) continue;
    const source = await storedExportSource({ dossiers: gateway.dossiers, blobs: gateway.blobs, receipts: gateway.transfers, jwks }, d);
    const report = await verifyExport(source, { jwks: trusted });
    pagesVerified += report.pagesVerified;
    if (!report.ok) failures.push({ dossier: id, problems: report.problems });
    onDossier(i + 1, ids.length);
  }
  const chain = await gateway.audit.verify();
  return {
    ok: failures.length === 0 && chain.ok,
    dossiers: ids.length,
    dossiersVerified: ids.length - failures.length,
    pagesVerified,
    failures,
    audit: { ok: chain.ok, checked: chain.checked, ...(chain.ok ? {} : { reason: chain.reason }) },
  };
}
