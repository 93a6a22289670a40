/**
 * The key hierarchy of blobs sealed at rest (version 2): master key → key-encryption key (KEK,
 * random, a blob_keks row wrapped by the master key) → each blob's data key, derived from the KEK
 * and the blob's hash with HKDF-Expand (HMAC-SM3 under the national suite's cipher). A blob's header
 * names its KEK, so storing a blob writes nothing to the database, and a master-key rotation
 * re-wraps the KEKs alone (rotate-master.ts), never a blob.
 *
 * The derivation is convergent: one page stored twice at once, by two processes or two dossiers,
 * is sealed to the same bytes, so no put can replace a blob with one another key opens. It tells
 * a reader of the ciphertexts no more than the store's names, which are the plaintexts' SHA-256s
 * already. The hash must be the bytes' own (content addressing): callers hash what they seal.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { KEY_BYTES, type CipherName } from '../blobs/envelope/segment-cipher.js';
import type { KekRow, SqlBlobKekRepository } from '../db/blob-kek-repository.js';
import { MasterKeyError, type MasterKeys } from './master-keys.js';

export interface Kek {
  /** 32 hex digits, as the blob header carries it. */
  readonly id: string;
  readonly cipher: CipherName;
  readonly key: Buffer;
}

/** What the master key's wrap of a KEK is bound to: its id. */
export const kekSubject = (id: string) => `kek:${id}`;

/**
 * The data key of the blob whose plaintext hashes to `sha256`, under `kek`: HKDF-Expand (RFC 5869)
 * with the KEK as its pseudorandom key (a uniformly random key needs no extract step), one block of
 * HMAC-SHA256 (HMAC-SM3 under the national cipher). Written out as that one HMAC: 5 µs a call
 * here against 16 µs for Node's `hkdfSync` (which also runs the extract step), once a page.
 */
export function blobDataKey(kek: Kek, sha256: string): Buffer {
  const digest = kek.cipher === 'sm4-ctr-hmac-sm3' ? 'sm3' : 'sha256';
  return createHmac(digest, kek.key).update(`dossier blob data key v2|${kek.cipher}|${sha256}`).update(BLOCK_ONE).digest().subarray(0, KEY_BYTES);
}
const BLOCK_ONE = Buffer.from([1]);

export class BlobKeks {
  private readonly byId = new Map<string, Kek>();
  private currentKek: Kek | null = null;

  private constructor(
    private readonly repo: SqlBlobKekRepository,
    private readonly master: MasterKeys,
  ) {}

  /**
   * The KEKs the database holds, each opened with the master keys (a key they need that is not
   * configured stops here); with `cipher`, the current KEK of that cipher, made now if none stands.
   */
  static async open(repo: SqlBlobKekRepository, master: MasterKeys, cipher: CipherName | null): Promise<BlobKeks> {
    const keks = new BlobKeks(repo, master);
    for (const r of await repo.all()) keks.add(r);
    if (cipher) {
      const id = randomBytes(16).toString('hex');
      const made = { id, ...master.wrap(kekSubject(id), cipher, randomBytes(KEY_BYTES)) };
      keks.currentKek = keks.add(await repo.ensureCurrent(made));
    }
    return keks;
  }

  /** The KEK new blobs derive their data keys from. */
  get current(): Kek {
    if (!this.currentKek) throw new MasterKeyError('no cipher is configured for new blobs at rest');
    return this.currentKek;
  }

  /** The KEK a blob's header names; one made by another process since this one started is read then. Null: no such KEK. */
  async byIdOrNull(id: string): Promise<Kek | null> {
    const known = this.byId.get(id);
    if (known) return known;
    const r = await this.repo.get(id);
    return r ? this.add(r) : null;
  }

  private add(r: KekRow): Kek {
    const kek = { id: r.id, cipher: r.cipher, key: this.master.unwrap(kekSubject(r.id), r) };
    this.byId.set(r.id, kek);
    return kek;
  }
}
