/**
 * Envelope encryption of every blob at rest, over either blob store. Each blob is sealed with a
 * data key of its own in 64 KiB authenticated segments (envelope/layout.ts). The key hierarchy
 * is master key → key-encryption key (a blob_keks row) → the blob's data key, derived from the
 * KEK and the blob's hash (storage/keys/blob-keks.ts); the blob's header names its KEK, so a put
 * is one existence check and one write, with no database row, and a master-key rotation re-wraps
 * the KEKs without rewriting a blob. The key of a blob stays the SHA-256 of its plaintext:
 * hashes, signatures, the Merkle tree and dedup are unchanged. Blobs sealed before KEKs (a
 * version 1 header and a blob_keys row) and blobs stored in the clear are still read as they are.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DossierError } from '../../dossier/errors.js';
import { hashFile } from '../../dossier/hash.js';
import type { BlobPreparation, BlobStore, PendingPut, PreparedBlob } from '../../dossier/ports/blob-store.js';
import { SqlBlobKekRepository } from '../db/blob-kek-repository.js';
import { SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import type { Database } from '../db/database.js';
import { BlobKeks, blobDataKey } from '../keys/blob-keks.js';
import type { MasterKeys } from '../keys/master-keys.js';
import { HEADER_V1_BYTES, HEADER_V2_BYTES, headerV2, parseHeader, storedRange, storedSize } from './envelope/layout.js';
import { inlineSealer, type Sealer } from './envelope/seal-pool.js';
import { OpeningTransform, type BlobSealingKey, type BlobSealKey } from './envelope/seal-streams.js';
import { segmentCipher, type CipherName } from './envelope/segment-cipher.js';
import { sealedNote, sealingPreparation } from './envelope/thread-sealer.js';

/** How a put takes a blob already stored under its key (fs-blob-store.ts). */
export type BlobPresence = 'checked-absent' | 'keep-any';

/** What the encrypting store needs of the store beneath: puts whose stored bytes are not the key's. */
export interface SealableStore {
  /**
   * True for a store that keeps no checksum of what it stores (the filesystem): the sealed bytes'
   * SHA-256, which an S3 put sends as its checksum, is then not computed (a hash of every byte
   * stored, on the ingest's main thread). Unset: it is computed.
   */
  readonly keepsNoChecksum?: boolean;
  putBytes(sha256: string, bytes: Uint8Array, storedSha256?: string, presence?: BlobPresence): Promise<void>;
  putFile(sha256: string, localPath: string, options: { move: boolean; storedSha256?: string }): Promise<void>;
  size(sha256: string): Promise<number | null>;
  read(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  close?(): void;
}

export interface EncryptedBlobStoreOptions {
  /** Where the key-encryption keys (and the data keys of version 1 blobs) are. */
  readonly db: Database;
  readonly master: MasterKeys;
  /** The cipher of new blobs; null: new blobs are stored in the clear (sealed ones still read). */
  readonly cipher: CipherName | null;
  /** Where a file is sealed before it goes in (on the blobs' filesystem for the fs store). */
  readonly scratchDir: string;
  /** Where the sealing runs: in this thread unless given (the gateway hands it a SealPool). */
  readonly sealer?: Sealer;
}

const CACHED_KEYS = 4096;

/** How a stored blob is opened: in the clear, or sealed after a header of `headerBytes`. */
type Opening = { readonly clear: true } | { readonly clear: false; readonly headerBytes: number; readonly size: number; readonly key: BlobSealKey };

type SealedAhead = { kind: 'present' | 'clear' } | { kind: 'sealed'; sealedPath: string; storedSha256: string | null };

const sha256Of = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class EncryptedBlobStore implements BlobStore {
  /** How recent blobs open: a blob's key and header never change, even across a master-key rotation. */
  private readonly cache = new Map<string, Opening>();

  private constructor(
    private readonly inner: SealableStore,
    private readonly o: EncryptedBlobStoreOptions,
    private readonly keks: BlobKeks,
    private readonly legacyKeys: SqlBlobKeyRepository,
  ) {}

  /** Opens the KEKs (making the current one of `cipher` if none stands) and the store over `inner`. */
  static async open(inner: SealableStore, o: EncryptedBlobStoreOptions): Promise<EncryptedBlobStore> {
    const keks = await BlobKeks.open(new SqlBlobKekRepository(o.db), o.master, o.cipher);
    return new EncryptedBlobStore(inner, o, keks, new SqlBlobKeyRepository(o.db));
  }

  /** New blobs sealed where their bytes are made (a page reader's thread): thread-sealer.ts. */
  preparation(): BlobPreparation | null {
    return this.o.cipher ? sealingPreparation(this.keks.current, !this.inner.keepsNoChecksum) : null;
  }

  /**
   * A page sealed in its reader's thread: written as it is, unless a blob is stored under its key
   * already (the existence check is the store's own, in the same put). A page prepared under
   * another cipher or KEK than the current one goes the way of `putBytes`.
   */
  async putPrepared(sha256: string, bytes: Uint8Array, prepared: PreparedBlob): Promise<void> {
    const note = sealedNote(prepared);
    if (!note || !this.o.cipher || note.cipher !== this.o.cipher || note.kekId !== this.keks.current.id) return this.putBytes(sha256, bytes);
    const storedSha256 = note.storedSha256 ?? (this.inner.keepsNoChecksum ? undefined : sha256Of(prepared.stored));
    await this.inner.putBytes(sha256, prepared.stored, storedSha256, 'keep-any');
  }

  async putBytes(sha256: string, bytes: Uint8Array): Promise<void> {
    if (!this.o.cipher) return this.inner.putBytes(sha256, bytes, sha256, 'keep-any');
    if ((await this.inner.size(sha256)) !== null) return;
    const sealed = await this.sealer.sealBuffer(this.sealingKey(sha256, bytes), bytes);
    await this.inner.putBytes(sha256, sealed, this.inner.keepsNoChecksum ? undefined : sha256Of(sealed), 'checked-absent');
  }

  async putFile(sha256: string, localPath: string, options: { move: boolean }): Promise<void> {
    await this.keepSealed(sha256, localPath, await this.sealAhead(sha256, localPath, false), options.move);
  }

  /**
   * A file cannot be kept by renaming it when it is sealed: it is read and written whole. That
   * starts here, into scratch space, while the file is still read elsewhere (the upload whose
   * pages are being extracted); `finish` moves the sealed copy in, `abandon` leaves nothing of it.
   */
  beginPutFile(sha256: string, localPath: string): PendingPut {
    // One run at a time: the page extraction beside it keeps the cores, and leaves it time enough.
    const ahead = this.sealAhead(sha256, localPath, true);
    ahead.catch(() => {}); // surfaces in finish
    return {
      finish: async () => this.keepSealed(sha256, localPath, await ahead, true),
      abandon: async () => {
        const a = await ahead.catch(() => null);
        if (a?.kind === 'sealed') await fs.rm(a.sealedPath, { force: true });
      },
    };
  }

  /**
   * The file's sealed copy in scratch space made durable; or that it need not be (present, or
   * kept in the clear). The file's hash is the caller's, taken as its bytes arrived.
   */
  private async sealAhead(sha256: string, localPath: string, background: boolean): Promise<SealedAhead> {
    const { size } = await fs.stat(localPath);
    if ((await this.inner.size(sha256)) !== null) return { kind: 'present' };
    if (!this.o.cipher) return { kind: 'clear' };
    await fs.mkdir(this.o.scratchDir, { recursive: true });
    const sealedPath = path.join(this.o.scratchDir, `sealing-${randomBytes(8).toString('hex')}`);
    try {
      await this.sealer.sealFile(this.sealingKeyOfSize(sha256, size), localPath, sealedPath, { background });
      const written = await fs.open(sealedPath, 'r');
      await written.datasync().finally(() => written.close());
      // An S3 put's checksum: the sealed bytes' SHA-256, read back (the filesystem keeps none).
      return { kind: 'sealed', sealedPath, storedSha256: this.inner.keepsNoChecksum ? null : (await hashFile(sealedPath)).sha256 };
    } catch (err) {
      await fs.rm(sealedPath, { force: true });
      throw err;
    }
  }

  private async keepSealed(sha256: string, localPath: string, ahead: SealedAhead, move: boolean): Promise<void> {
    if (ahead.kind === 'clear') return this.inner.putFile(sha256, localPath, { move, storedSha256: sha256 });
    if (ahead.kind === 'sealed') {
      try {
        await this.inner.putFile(sha256, ahead.sealedPath, { move: true, ...(ahead.storedSha256 ? { storedSha256: ahead.storedSha256 } : {}) });
      } finally {
        await fs.rm(ahead.sealedPath, { force: true });
      }
    }
    // The plaintext goes only once its sealed copy is durable.
    if (move) await fs.rm(localPath, { force: true });
  }

  async size(sha256: string): Promise<number | null> {
    const stored = await this.inner.size(sha256);
    if (stored === null) return null;
    const o = await this.openingOf(sha256);
    return o.clear ? stored : o.size;
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    const o = await this.openingOf(sha256);
    if (o.clear) return this.inner.read(sha256, range);
    const { size, headerBytes } = o;
    // An empty blob is its one empty segment: opened whole, so that its tag is still checked.
    const r = size === 0 ? { first: 0, start: headerBytes, end: storedSize(0, headerBytes) - 1, skip: 0, take: 0 } : storedRange(size, range ?? { start: 0, end: size - 1 }, headerBytes);
    const stored = await this.inner.read(sha256, { start: r.start, end: r.end });
    const opening = new OpeningTransform(o.key, { size, first: r.first, skip: r.skip, take: r.take });
    stored.once('error', (err) => opening.destroy(err));
    opening.once('close', () => stored.destroy());
    return stored.pipe(opening);
  }

  /** Sealed bytes have no path that could be read as the page: callers read through `read`. */
  localPath(): string | null {
    return null;
  }

  /** A presigned URL would hand out ciphertext: sealed blobs are always streamed by the gateway. */
  async downloadUrl(): Promise<string | null> {
    return null;
  }

  close(): void {
    this.inner.close?.();
    void this.sealer.close();
  }

  private get sealer(): Sealer {
    return this.o.sealer ?? inlineSealer;
  }

  /**
   * The key a new blob is sealed with. Its data key derives from its hash, so the hash must be the
   * bytes' own: checked here (thumbnails and pages sealed again are small; pages sealed in their
   * reader's thread are hashed there, where they are sealed).
   */
  private sealingKey(sha256: string, bytes: Uint8Array): BlobSealingKey {
    if (sha256Of(bytes) !== sha256) throw new DossierError('internal', `a blob put under ${sha256} hashes to another key`);
    return this.sealingKeyOfSize(sha256, bytes.byteLength);
  }

  private sealingKeyOfSize(sha256: string, size: number): BlobSealingKey {
    const kek = this.keks.current;
    return { cipher: segmentCipher(kek.cipher), dataKey: blobDataKey(kek, sha256), sha256, header: headerV2(kek.cipher, kek.id, size) };
  }

  /** How the stored blob opens, from its header (and for a version 1 blob its key row). */
  private async openingOf(sha256: string): Promise<Opening> {
    const hit = this.cache.get(sha256);
    if (hit) return hit;
    const head = await buffer(await this.inner.read(sha256, { start: 0, end: HEADER_V2_BYTES - 1 }));
    const h = parseHeader(head);
    let o: Opening = { clear: true };
    if (h?.version === 2) {
      const kek = await this.keks.byIdOrNull(h.kekId);
      if (kek && kek.cipher === h.cipher) {
        o = { clear: false, headerBytes: HEADER_V2_BYTES, size: h.size, key: { cipher: segmentCipher(h.cipher), dataKey: blobDataKey(kek, sha256), sha256 } };
      } else if ((await this.inner.size(sha256)) === storedSize(h.size, HEADER_V2_BYTES)) {
        // Laid out as a sealed blob, under a key this database does not hold: never served as if clear.
        throw new DossierError('blob_integrity', `blob ${sha256} is sealed under key-encryption key ${h.kekId}, which the database does not hold`);
      }
    } else if (h?.version === 1) {
      const row = await this.legacyKeys.get(sha256);
      if (row) o = { clear: false, headerBytes: HEADER_V1_BYTES, size: row.size, key: { cipher: segmentCipher(row.cipher), dataKey: this.o.master.unwrap(sha256, row), sha256 } };
    }
    this.cache.set(sha256, o);
    if (this.cache.size > CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
    return o;
  }
}
