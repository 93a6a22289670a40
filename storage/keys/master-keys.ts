/**
 * The master keys of envelope encryption at rest. A key file (MASTER_KEY_FILE) holds 32 random
 * bytes in base64 on one line and must be readable by its owner only. A key is known by its id,
 * an HMAC of a fixed label under the key (it names the key without revealing it). Data keys are
 * wrapped with the current key; keys of before a rotation (MASTER_KEY_OLD_FILE) only unwrap.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { KEY_BYTES, NONCE_BYTES, segmentCipher, type CipherName } from '../blobs/envelope/segment-cipher.js';

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

export interface MasterKey {
  readonly kid: string;
  readonly key: Buffer;
}

export function masterKeyOf(key: Buffer): MasterKey {
  if (key.byteLength !== KEY_BYTES) throw new MasterKeyError(`a master key is ${KEY_BYTES} bytes, not ${key.byteLength}`);
  return { kid: createHmac('sha256', key).update('dossier master key id v1').digest('hex').slice(0, 16), key };
}

/** Reads a key file; refuses one that group or others may read, or that is not 32 bytes of base64. */
export async function readMasterKeyFile(file: string, variable = 'MASTER_KEY_FILE'): Promise<MasterKey> {
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new MasterKeyError(`${variable} ${file}: ${err.code === 'ENOENT' ? 'no such file (a lost master key: the blobs it wraps cannot be read)' : err.code}`);
  });
  if ((stat.mode & 0o077) !== 0) {
    throw new MasterKeyError(`${variable} ${file} has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; it must be readable by its owner only (chmod 600)`);
  }
  const text = (await fs.readFile(file, 'utf8')).trim();
  const key = /^[A-Za-z0-9+/]{43}=$/.test(text) ? Buffer.from(text, 'base64') : null;
  if (!key || key.byteLength !== KEY_BYTES) throw new MasterKeyError(`${variable} ${file}: expected ${KEY_BYTES} random bytes in base64 on one line (openssl rand -base64 32)`);
  return masterKeyOf(key);
}

/** Writes a new random key file, mode 0600, refusing to overwrite one. */
export async function createMasterKeyFile(file: string): Promise<MasterKey> {
  const key = randomBytes(KEY_BYTES);
  await fs.writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return masterKeyOf(key);
}

export interface WrappedKey {
  readonly masterKid: string;
  readonly cipher: CipherName;
  readonly wrapped: Buffer;
}

const wrapAad = (subject: string, cipher: CipherName) => Buffer.from(`dossier-blob-key-v1|${subject}|${cipher}`, 'ascii');

export class MasterKeys {
  private readonly byKid: Map<string, MasterKey>;

  constructor(
    readonly current: MasterKey,
    older: readonly MasterKey[] = [],
  ) {
    this.byKid = new Map([...older, current].map((k) => [k.kid, k]));
  }

  knows(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /**
   * A key wrapped under the current master key with its blobs' cipher, bound to what it opens
   * (`subject`: a key-encryption key's `kek:<id>`, or a version 1 blob's hash).
   */
  wrap(subject: string, cipher: CipherName, key: Buffer): WrappedKey {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = segmentCipher(cipher).seal(this.current.key, nonce, wrapAad(subject, cipher), key);
    return { masterKid: this.current.kid, cipher, wrapped: Buffer.concat([nonce, sealed]) };
  }

  /** The wrapped key, or a MasterKeyError naming the master key it needs (never the key itself). */
  unwrap(subject: string, w: WrappedKey): Buffer {
    const master = this.byKid.get(w.masterKid);
    if (!master) throw new MasterKeyError(`the key of ${subject} is wrapped by master key ${w.masterKid}, which is not configured`);
    const key = segmentCipher(w.cipher).open(master.key, w.wrapped.subarray(0, NONCE_BYTES), wrapAad(subject, w.cipher), w.wrapped.subarray(NONCE_BYTES));
    if (!key) throw new MasterKeyError(`the key of ${subject} does not open under master key ${w.masterKid}`);
    return key;
  }
}
