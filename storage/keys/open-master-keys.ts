/**
 * The master keys a process starts with, checked against the data keys the database holds: a
 * lost key file, a wrong one, or a key the blobs need that is not configured stops the start with
 * a message naming what to set, never a store whose blobs silently fail to read.
 */
import type { SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import { MasterKeyError, MasterKeys, readMasterKeyFile } from './master-keys.js';

export async function openMasterKeys(files: { masterKeyFile: string; oldMasterKeyFiles: readonly string[] } | null, keys: SqlBlobKeyRepository): Promise<MasterKeys | null> {
  const master = files
    ? new MasterKeys(await readMasterKeyFile(files.masterKeyFile), await Promise.all(files.oldMasterKeyFiles.map((f) => readMasterKeyFile(f, 'MASTER_KEY_OLD_FILE'))))
    : null;
  for (const group of await keys.byMasterKey()) {
    if (!master) {
      throw new MasterKeyError(`${group.count} blobs are encrypted at rest under master key ${group.masterKid}, but MASTER_KEY_FILE is not set`);
    }
    if (!master.knows(group.masterKid)) {
      throw new MasterKeyError(
        `MASTER_KEY_FILE holds master key ${master.current.kid}, but ${group.count} blobs are wrapped by master key ${group.masterKid}: ` +
          'a wrong key file? (during a rotation, name the previous key in MASTER_KEY_OLD_FILE)',
      );
    }
    master.unwrap(group.sample.sha256, group.sample); // the id matched; the key must open its data keys too
  }
  return master;
}
