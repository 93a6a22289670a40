/**
 * Master-key rotation: every data key not wrapped by the current master key is unwrapped with the
 * key that wraps it (MASTER_KEY_OLD_FILE) and wrapped again with the current one. The blobs are
 * not touched. Each batch commits on its own, so a rotation cut short resumes where it stopped:
 * what is left is exactly the rows still under an old key.
 */
import type { SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import type { MasterKeys } from './master-keys.js';

export async function rotateMasterKey(
  keys: SqlBlobKeyRepository,
  master: MasterKeys,
  o: { batch?: number; onBatch?: (rewrapped: number) => void } = {},
): Promise<{ rewrapped: number }> {
  const batch = o.batch ?? 500;
  let after = '';
  let rewrapped = 0;
  for (;;) {
    const rows = await keys.notWrappedBy(master.current.kid, after, batch);
    if (rows.length === 0) return { rewrapped };
    const updates = rows.map((r) => ({ sha256: r.sha256, from: r.masterKid, to: master.wrap(r.sha256, r.cipher, master.unwrap(r.sha256, r)) }));
    rewrapped += await keys.rewrap(updates);
    after = rows[rows.length - 1]!.sha256;
    o.onBatch?.(rewrapped);
  }
}
