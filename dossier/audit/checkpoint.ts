/**
 * Signed checkpoints: the evidence key signs { v, seq, hash, time } of the chain's tip now and
 * then. Rewriting the chain from some seq on (recomputing every later hash) cannot reproduce a
 * signature, and cutting the tail below a checkpoint leaves a signed seq the chain no longer has.
 */
import { canonicalBytes, signCanonical } from '../evidence/statements.js';
import type { PublicJwks, Signer } from '../signing/signer.js';
import { SUITE_ALG } from '../signing/suite.js';
import { verifyCompactJws } from '../signing/verify-jws.js';

export interface AuditCheckpoint {
  readonly seq: number;
  readonly time: string;
  readonly hash: string;
  readonly jws: string;
}

interface CheckpointPayload {
  readonly v: 1;
  readonly kind: 'audit-checkpoint';
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
}

export async function signCheckpoint(signer: Signer, tip: { seq: number; hash: string }, time: Date): Promise<AuditCheckpoint> {
  const payload: CheckpointPayload = { v: 1, kind: 'audit-checkpoint', seq: tip.seq, hash: tip.hash, time: time.toISOString() };
  return { seq: tip.seq, hash: tip.hash, time: payload.time, jws: await signCanonical(signer, payload) };
}

/**
 * A checkpoint kept outside the database (an anchor: the JWS an auditor saved, published, or
 * handed to a supervisor) read back from its compact JWS. Only decoded here; verifyChain checks
 * the signature like any checkpoint's. Throws on text that is not a checkpoint JWS.
 */
export function checkpointFromJws(jws: string): AuditCheckpoint {
  const text = jws.trim();
  const parts = text.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  let p: Partial<CheckpointPayload>;
  try {
    p = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<CheckpointPayload>;
  } catch {
    throw new Error('the JWS payload is not JSON');
  }
  if (p.kind !== 'audit-checkpoint' || typeof p.seq !== 'number' || typeof p.hash !== 'string' || typeof p.time !== 'string') {
    throw new Error('the JWS is not an audit checkpoint');
  }
  return { seq: p.seq, hash: p.hash, time: p.time, jws: text };
}

/** Null when the checkpoint is genuine and its row says what was signed; else the reason. */
export async function checkpointProblem(c: AuditCheckpoint, jwks: PublicJwks): Promise<string | null> {
  let payload: Uint8Array;
  try {
    // Either suite: the chain runs on across a suite switch, each checkpoint under its own key.
    ({ payload } = await verifyCompactJws(c.jws, jwks, Object.values(SUITE_ALG)));
  } catch (err) {
    return `checkpoint ${c.seq}: signature does not verify (${(err as Error).message})`;
  }
  let signed: Partial<CheckpointPayload>;
  try {
    signed = JSON.parse(Buffer.from(payload).toString('utf8')) as Partial<CheckpointPayload>;
  } catch {
    return `checkpoint ${c.seq}: signed payload is not JSON`;
  }
  const expected = canonicalBytes({ v: 1, kind: 'audit-checkpoint', seq: c.seq, hash: c.hash, time: c.time });
  if (!Buffer.from(payload).equals(expected)) {
    return `checkpoint ${c.seq}: row differs from what was signed (seq ${String(signed.seq)}, hash ${String(signed.hash)})`;
  }
  return null;
}
