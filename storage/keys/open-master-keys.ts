/**
 * The master keys a process starts with, checked against the keys the database holds (the
 * key-encryption keys, and the data keys of blobs sealed before them): a lost key file, a wrong
 * one, or a key the blobs need that is not configured stops the start with a message naming what
 * to set, never a store whose blobs silently fail to read.
 */
import type { SqlBlobKekRepository } from '../db/blob-kek-repository.js';
import type { SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import { kekSubject } from './blob-keks.js';
import { MasterKeyError, MasterKeys, readMasterKeyFile, type WrappedKey } from './master-keys.js';

export async function openMasterKeys(
  files: { masterKeyFile: string; oldMasterKeyFiles: readonly string[] } | null,
  keys: SqlBlobKeyRepository,
  keks: SqlBlobKekRepository,
): Promise<MasterKeys | null> {
  const master = files
    ? new MasterKeys(await readMasterKeyFile(files.masterKeyFile), await Promise.all(files.oldMasterKeyFiles.map((f) => readMasterKeyFile(f, 'MASTER_KEY_OLD_FILE'))))
    : null;
  const groups: { masterKid: string; what: string; subject: string; sample: WrappedKey }[] = [];
  for (const g of await keys.byMasterKey()) groups.push({ masterKid: g.masterKid, what: `${g.count} blobs are`, subject: g.sample.sha256, sample: g.sample });
  for (const k of await keks.all()) groups.push({ masterKid: k.masterKid, what: `the blobs of key-encryption key ${k.id} are`, subject: kekSubject(k.id), sample: k });
  for (const group of groups) {
    if (!master) {
      throw new MasterKeyError(`${group.what} encrypted at rest under master key ${group.masterKid}, but MASTER_KEY_FILE is not set`);
    }
    if (!master.knows(group.masterKid)) {
      throw new MasterKeyError(
        `MASTER_KEY_FILE holds master key ${master.current.kid}, but ${group.what} wrapped by master key ${group.masterKid}: ` +
          'a wrong key file? (during a rotation, name the previous key in MASTER_KEY_OLD_FILE)',
      );
    }
    master.unwrap(group.subject, group.sample); // the id matched; the key must open what it wraps too
  }
  return master;
}
