/**
 * Idempotency-Key for the POSTs that create something: the same key and the same request answer
 * the first response again (nothing is created twice); the same key with another request is
 * 422 idempotency_key_reused. The first answer is stored in the transaction that creates the
 * resource, so a crash leaves both or neither; of two concurrent requests with one key, one
 * commits and the other rolls back and replays it.
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import canonicalize from 'canonicalize';
import { DossierError } from '../dossier/errors.js';
import type { Principal } from '../dossier/model.js';
import type { Transactions, Tx } from '../dossier/ports/transactions.js';
import type { SqlIdempotencyStore } from '../storage/db/idempotency-store.js';
import { idempotencyKeyOf } from './idempotency.js';

export interface IdempotencyDeps {
  readonly idempotency: SqlIdempotencyStore;
  readonly transactions: Transactions;
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

class KeyTaken extends Error {}

const reused = () => new DossierError('idempotency_key_reused', 'Idempotency-Key already used for another request');

/** Runs `create` in a transaction, once per Idempotency-Key of the caller's agency. */
export async function idempotent(deps: IdempotencyDeps, req: Request, p: Principal, create: (tx: Tx) => Promise<Answer>): Promise<Answer> {
  const key = idempotencyKeyOf(req);
  if (key === null) return deps.transactions.run(create);
  const fingerprint = createHash('sha256').update(canonicalize({ method: req.method, path: req.baseUrl + req.path, body: req.body ?? null }) ?? '').digest('hex');
  const replay = async (): Promise<Answer | null> => {
    const first = await deps.idempotency.find(p.agency, key);
    if (!first) return null;
    if (first.fingerprint !== fingerprint) throw reused();
    return { status: first.status, body: first.response };
  };
  const earlier = await replay();
  if (earlier) return earlier;
  try {
    return await deps.transactions.run(async (tx) => {
      const answer = await create(tx);
      if (!(await deps.idempotency.save(p.agency, key, { fingerprint, status: answer.status, response: answer.body }, tx))) throw new KeyTaken();
      return answer;
    });
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    const winner = await replay();
    if (!winner) throw new DossierError('conflict', 'Idempotency-Key: a request with this key is being answered; try again');
    return winner;
  }
}
