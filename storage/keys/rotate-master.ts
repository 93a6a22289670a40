/**
 * Master-key rotation: every key-encryption key, and every data key of a blob sealed before them
 * (blob_keys), not wrapped by the current master key is unwrapped with the key that wraps it
 * (MASTER_KEY_OLD_FILE) and wrapped again with the current one. No blob is touched. Each batch
 * commits on its own, so a rotation cut short resumes where it stopped: what is left is exactly
 * the rows still under an old key.
 */
import type { SqlBlobKekRepository } from '../db/blob-kek-repository.js';
import type { SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import { kekSubject } from './blob-keks.js';
import type { MasterKeys } from './master-keys.js';

export async function rotateMasterKey(
  repos: { keys: SqlBlobKeyRepository; keks: SqlBlobKekRepository },
  master: MasterKeys,
  o: { batch?: number; onBatch?: (rewrapped: number) => void } = {},
): Promise<{ rewrapped: number }> {
  const kid = master.current.kid;
  const keks = (await repos.keks.all()).filter((k) => k.masterKid !== kid);
  let rewrapped = await repos.keks.rewrap(keks.map((k) => ({ id: k.id, from: k.masterKid, to: master.wrap(kekSubject(k.id), k.cipher, master.unwrap(kekSubject(k.id), k)) })));
  if (keks.length) o.onBatch?.(rewrapped);
  const batch = o.batch ?? 500;
  let after = '';
  for (;;) {
    const rows = await repos.keys.notWrappedBy(kid, after, batch);
    if (rows.length === 0) return { rewrapped };
    const updates = rows.map((r) => ({ sha256: r.sha256, from: r.masterKid, to: master.wrap(r.sha256, r.cipher, master.unwrap(r.sha256, r)) }));
    rewrapped += await repos.keys.rewrap(updates);
    after = rows[rows.length - 1]!.sha256;
    o.onBatch?.(rewrapped);
  }
}
