/**
 * Recomputes the audit chain and names the first broken link. Events arrive in seq order from an
 * async iterable (the store streams them in batches), so memory stays bounded for any length.
 *
 * Detects: an edited row (its hash no longer matches its contents, or, when the hash was
 * recomputed too, the next row's prevHash no longer matches), a deleted row (a seq gap), reordered
 * rows (seq out of order or prevHash mismatch), a rewritten stretch (it differs from a signed
 * checkpoint), a forged or altered checkpoint (signature), and a cut tail (a checkpoint or the
 * recorded head names a seq the chain no longer reaches).
 */
import type { PublicJwks } from '../signing/signer.js';
import { checkpointProblem, type AuditCheckpoint } from './checkpoint.js';
import { eventHash, GENESIS_HASH, type AuditEvent } from './event.js';

export interface ChainReport {
  readonly ok: boolean;
  /** Events that verified before the first broken link (all of them when ok). */
  readonly checked: number;
  readonly firstBadSeq?: number;
  readonly reason?: string;
}

export interface VerifyOptions {
  /** Every checkpoint, read BEFORE the events are streamed (a later one may sign newer events). */
  readonly checkpoints: readonly AuditCheckpoint[];
  /** Public keys of the key ring that signed the checkpoints, retired ones included. */
  readonly jwks: PublicJwks;
  /** The chain's tip as the store last recorded it, read before streaming too. */
  readonly head?: { readonly seq: number; readonly hash: string };
}

export async function verifyChain(events: AsyncIterable<AuditEvent>, o: VerifyOptions): Promise<ChainReport> {
  const checkpoints = [...o.checkpoints].sort((a, b) => a.seq - b.seq);
  let next = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const broken = (seq: number, reason: string): ChainReport => ({ ok: false, checked, firstBadSeq: seq, reason });

  for (const c of checkpoints) {
    if (!Number.isSafeInteger(c.seq) || c.seq < 1) return broken(Math.max(1, Number(c.seq) || 1), `checkpoint with impossible seq ${c.seq}`);
  }

  for await (const e of events) {
    if (e.seq !== expectedSeq) {
      return e.seq > expectedSeq
        ? broken(expectedSeq, `event ${expectedSeq} is missing (next present is ${e.seq})`)
        : broken(expectedSeq, `event ${e.seq} appears out of order after ${expectedSeq - 1}`);
    }
    if (e.prevHash !== prevHash) return broken(e.seq, `event ${e.seq} does not chain to the previous event's hash`);
    if (eventHash(e) !== e.hash) return broken(e.seq, `event ${e.seq} was altered: its hash does not match its contents`);
    while (next < checkpoints.length && checkpoints[next]!.seq === e.seq) {
      const c = checkpoints[next++]!;
      const problem = await checkpointProblem(c, o.jwks);
      if (problem) return broken(e.seq, problem);
      if (c.hash !== e.hash) return broken(e.seq, `event ${e.seq} differs from the signed checkpoint at that seq`);
    }
    if (o.head && o.head.seq === e.seq && o.head.hash !== e.hash) return broken(e.seq, `event ${e.seq} differs from the recorded head of the chain`);
    prevHash = e.hash;
    expectedSeq++;
    checked++;
  }

  if (next < checkpoints.length) {
    const c = checkpoints[next]!;
    const problem = await checkpointProblem(c, o.jwks);
    if (problem) return broken(Math.min(c.seq, expectedSeq), problem);
    return broken(expectedSeq, `the chain ends at ${expectedSeq - 1} but a signed checkpoint covers event ${c.seq}: events were removed`);
  }
  if (o.head && o.head.seq >= expectedSeq) {
    return broken(expectedSeq, `the chain ends at ${expectedSeq - 1} but its recorded head is ${o.head.seq}: events were removed`);
  }
  return { ok: true, checked };
}
