/**
 * The custody receipts of an export (receipts/NNNN-<transfer id>.jws): each must be signed by a
 * trusted key (the same keys that verify the manifest) and name this very dossier, its Merkle root
 * and page count, so a receipt cannot be moved from another dossier or another version of it.
 */
import type { JSONWebKeySet } from 'jose';
import { RECEIPTS_DIR, receiptTransferId } from './export-layout.js';
import { readReceipt, type ReceiptPayload } from './receipt.js';
import type { ExportSource, Problem } from './verify-export.js';

export interface ReceiptSummary {
  readonly path: string;
  readonly ok: boolean;
  readonly transfer: string | null;
  readonly decision: ReceiptPayload['decision'] | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly stage: string | null;
  readonly time: string | null;
  readonly reason?: string;
}

export async function checkReceipts(
  source: ExportSource,
  keys: JSONWebKeySet,
  manifest: { dossier: string; case: string; merkleRoot: string; pageCount: number },
  problems: Problem[],
): Promise<ReceiptSummary[]> {
  const paths = (await source.list()).filter((p) => p.startsWith(`${RECEIPTS_DIR}/`) && !p.endsWith('/')).sort();
  const out: ReceiptSummary[] = [];
  for (const path of paths) {
    const fail = (code: Problem['code'], message: string, p?: ReceiptPayload): void => {
      problems.push({ code, message: `${path}: ${message}`, path });
      out.push(summary(path, false, p));
    };
    const named = receiptTransferId(path);
    if (!named) {
      fail('receipt_malformed', 'not a receipt file name (receipts/NNNN-<transfer id>.jws)');
      continue;
    }
    // latin1: ascii decoding would drop a changed byte's high bit (see verify-export.ts).
    const checked = await readReceipt((await source.read(path))?.toString('latin1') ?? '', keys);
    if (!checked.ok) {
      fail(checked.why === 'signature' ? 'receipt_invalid' : 'receipt_malformed', checked.message);
      continue;
    }
    const r = checked.payload;
    const wrong = [
      r.transfer !== named && `names transfer ${r.transfer}, the file ${named}`,
      r.dossier !== manifest.dossier && `is for dossier ${r.dossier}, not ${manifest.dossier}`,
      r.case !== manifest.case && `is for case ${r.case}, not ${manifest.case}`,
      r.merkleRoot !== manifest.merkleRoot && 'names another Merkle root than the manifest',
      r.pageCount !== manifest.pageCount && `names ${r.pageCount} pages, the manifest ${manifest.pageCount}`,
    ].filter((w): w is string => typeof w === 'string');
    if (wrong.length > 0) fail('receipt_mismatch', `the receipt ${wrong.join('; ')}`, r);
    else out.push(summary(path, true, r));
  }
  return out;
}

function summary(path: string, ok: boolean, r?: ReceiptPayload): ReceiptSummary {
  return {
    path, ok, transfer: r?.transfer ?? null, decision: r?.decision ?? null, from: r?.from ?? null, to: r?.to ?? null,
    stage: r?.stage ?? null, time: r?.time ?? null, ...(r?.reason !== undefined ? { reason: r.reason } : {}),
  };
}
