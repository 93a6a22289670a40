/**
 * The custody receipt: the gateway's signed statement that a receiving agency accepted (or returned,
 * with its reason) exactly this sealed dossier: same Merkle root, same page count. JWS compact over
 * RFC 8785 canonical JSON, signed with the evidence keys that sign manifests, so that one JWKS
 * verifies both. An export carries the receipts of the dossier's answered transfers.
 */
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { Signer } from '../signing/signer.js';
import { SUITE_ALG } from '../signing/suite.js';
import { verifyCompactJws } from '../signing/verify-jws.js';
import { signCanonical } from './statements.js';

export const RECEIPT_TYPE = 'custody-receipt';

export interface ReceiptPayload {
  readonly v: 1;
  readonly type: typeof RECEIPT_TYPE;
  readonly transfer: string;
  readonly dossier: string;
  readonly case: string;
  readonly merkleRoot: string;
  readonly pageCount: number;
  readonly from: string;
  readonly to: string;
  readonly stage: string;
  readonly decision: 'accepted' | 'returned';
  /** Only on a return: why the receiver sent it back. */
  readonly reason?: string;
  readonly sentAt: string;
  /** When the receiver answered (ISO 8601, UTC). */
  readonly time: string;
}

export function signReceipt(signer: Signer, payload: ReceiptPayload): Promise<string> {
  return signCanonical(signer, payload);
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
export const receiptSchema = z.object({
  v: z.literal(1),
  type: z.literal(RECEIPT_TYPE),
  transfer: z.string().min(1),
  dossier: z.string().min(1),
  case: z.string().min(1),
  merkleRoot: hex64,
  pageCount: z.number().int().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  stage: z.string().min(1),
  decision: z.enum(['accepted', 'returned']),
  reason: z.string().optional(),
  sentAt: z.string(),
  time: z.string(),
});

export type ReceiptCheck =
  | { readonly ok: true; readonly payload: ReceiptPayload; readonly kid: string | null }
  | { readonly ok: false; readonly why: 'signature' | 'malformed'; readonly message: string };

/** Checks a receipt's signature against trusted keys and its payload's shape; nothing more. */
export async function readReceipt(jws: string, keys: JSONWebKeySet): Promise<ReceiptCheck> {
  let payload: Uint8Array;
  let kid: string | null;
  try {
    // Either suite: a receipt signed before a suite switch stays verifiable with the same JWKS.
    const verified = await verifyCompactJws(jws.trim(), keys, Object.values(SUITE_ALG));
    payload = verified.payload;
    kid = verified.protectedHeader.kid ?? null;
  } catch {
    return { ok: false, why: 'signature', message: 'the receipt signature does not verify with any trusted key' };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, why: 'malformed', message: 'the receipt payload is not JSON' };
  }
  const parsed = receiptSchema.safeParse(json);
  if (!parsed.success) return { ok: false, why: 'malformed', message: `receipt: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}` };
  return { ok: true, payload: parsed.data as ReceiptPayload, kid };
}
