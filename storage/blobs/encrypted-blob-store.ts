/**
 * Envelope encryption of every blob at rest, over either blob store. Each blob is sealed with a
 * data key of its own (random, 32 bytes), in 64 KiB authenticated segments (envelope/layout.ts);
 * the data key, wrapped by the master key, lives in the database (blob_keys), so a master-key
 * rotation never rewrites a blob. The key of a blob stays the SHA-256 of its plaintext: hashes,
 * signatures, the Merkle tree and dedup are unchanged. Blobs stored in the clear before
 * encryption was turned on (no key row) are still read as they are.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { hashFile } from '../../dossier/hash.js';
import type { BlobPreparation, BlobStore, PendingPut, PreparedBlob } from '../../dossier/ports/blob-store.js';
import type { BlobKeyRow, SqlBlobKeyRepository } from '../db/blob-key-repository.js';
import type { MasterKeys } from '../keys/master-keys.js';
import { storedRange, storedSize } from './envelope/layout.js';
import { inlineSealer, type Sealer } from './envelope/seal-pool.js';
import { OpeningTransform, type BlobSealKey } from './envelope/seal-streams.js';
import { KEY_BYTES, segmentCipher, type CipherName } from './envelope/segment-cipher.js';
import { sealedNote, sealingPreparation } from './envelope/thread-sealer.js';

/** What the encrypting store needs of the store beneath: puts whose stored bytes are not the key's. */
export interface SealableStore {
  /**
   * True for a store that keeps no checksum of what it stores (the filesystem): the sealed bytes'
   * SHA-256, which an S3 put sends as its checksum, is then not computed (a hash of every byte
   * stored, on the ingest's main thread). Unset: it is computed.
   */
  readonly keepsNoChecksum?: boolean;
  putBytes(sha256: string, bytes: Uint8Array, storedSha256?: string): Promise<void>;
  putFile(sha256: string, localPath: string, options: { move: boolean; storedSha256?: string }): Promise<void>;
  size(sha256: string): Promise<number | null>;
  read(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  close?(): void;
}

export interface EncryptedBlobStoreOptions {
  readonly keys: SqlBlobKeyRepository;
  readonly master: MasterKeys;
  /** The cipher of new blobs; null: new blobs are stored in the clear (sealed ones still read). */
  readonly cipher: CipherName | null;
  /** Where a file is sealed before it goes in (on the blobs' filesystem for the fs store). */
  readonly scratchDir: string;
  /** Where the sealing runs: in this thread unless given (the gateway hands it a SealPool). */
  readonly sealer?: Sealer;
}

const CACHED_KEYS = 4096;

type SealedAhead = { kind: 'present' | 'clear' } | { kind: 'sealed'; sealedPath: string; storedSha256: string | null };

export class EncryptedBlobStore implements BlobStore {
  /** Unwrapped data keys of recent blobs: a data key never changes, even across a master-key rotation. */
  private readonly cache = new Map<string, { row: BlobKeyRow; dataKey: Buffer }>();
  private readonly keyRows: KeyRowGroups;

  constructor(
    private readonly inner: SealableStore,
    private readonly o: EncryptedBlobStoreOptions,
  ) {
    this.keyRows = new KeyRowGroups(o.keys);
  }

  /** New blobs sealed where their bytes are made (a page reader's thread): thread-sealer.ts. */
  preparation(): BlobPreparation | null {
    return this.o.cipher ? sealingPreparation(this.o.cipher, this.o.master.current, !this.inner.keepsNoChecksum) : null;
  }

  /**
   * A page sealed in its reader's thread under a data key made there: its key row first (grouped
   * with those of the puts around it into one statement), then its bytes, as `putBytes` orders
   * them, so no blob is ever stored without the key that opens it. A blob stored already, or one
   * whose hash got another key meanwhile (the same page in another dossier), goes the way of
   * `putBytes`, which seals it again under the key that stands.
   */
  async putPrepared(sha256: string, bytes: Uint8Array, prepared: PreparedBlob): Promise<void> {
    const note = sealedNote(prepared);
    if (!note || note.cipher !== this.o.cipher || note.masterKid !== this.o.master.current.kid) return this.putBytes(sha256, bytes);
    if ((await this.inner.size(sha256)) !== null) return this.putBytes(sha256, bytes);
    const row = await this.keyRows.ensure({ sha256, size: bytes.byteLength, cipher: note.cipher, masterKid: note.masterKid, wrapped: note.wrapped });
    if (row.masterKid !== note.masterKid || !row.wrapped.equals(note.wrapped)) return this.putBytes(sha256, bytes);
    const storedSha256 = note.storedSha256 ?? (this.inner.keepsNoChecksum ? undefined : createHash('sha256').update(prepared.stored).digest('hex'));
    await this.inner.putBytes(sha256, prepared.stored, storedSha256);
  }

  async putBytes(sha256: string, bytes: Uint8Array): Promise<void> {
    const sealKey = await this.keyForPut(sha256, bytes.byteLength);
    if (sealKey === 'present') return;
    if (sealKey === 'clear') return this.inner.putBytes(sha256, bytes, sha256);
    const sealed = await this.sealer.sealBuffer(sealKey, bytes);
    await this.inner.putBytes(sha256, sealed, this.inner.keepsNoChecksum ? undefined : createHash('sha256').update(sealed).digest('hex'));
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

  /** The file's key row, then its sealed copy in scratch space made durable; or that it need not be (present, or kept in the clear). */
  private async sealAhead(sha256: string, localPath: string, background: boolean): Promise<SealedAhead> {
    const { size } = await fs.stat(localPath);
    const sealKey = await this.keyForPut(sha256, size);
    if (sealKey === 'present' || sealKey === 'clear') return { kind: sealKey };
    await fs.mkdir(this.o.scratchDir, { recursive: true });
    const sealedPath = path.join(this.o.scratchDir, `sealing-${randomBytes(8).toString('hex')}`);
    try {
      await this.sealer.sealFile(sealKey, localPath, sealedPath, { background });
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
    const k = await this.sealKeyOf(sha256);
    return k ? k.row.size : stored;
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    const k = await this.sealKeyOf(sha256);
    if (!k) return this.inner.read(sha256, range);
    const size = k.row.size;
    // An empty blob is its one empty segment: opened whole, so that its tag is still checked.
    const r = size === 0 ? { first: 0, start: 0, end: storedSize(0) - 1, skip: 0, take: 0 } : storedRange(size, range ?? { start: 0, end: size - 1 });
    const stored = await this.inner.read(sha256, { start: size === 0 ? storedSize(0) - 16 : r.start, end: r.end });
    const opening = new OpeningTransform({ cipher: segmentCipher(k.row.cipher), dataKey: k.dataKey, sha256 }, { size, first: r.first, skip: r.skip, take: r.take });
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

  /** 'present' when the blob is stored already (sealed, or in the clear from before), else how to store it. */
  private async keyForPut(sha256: string, size: number): Promise<BlobSealKey | 'present' | 'clear'> {
    const stored = await this.inner.size(sha256);
    // A new blob under a cipher needs no look-up first: `ensure` answers the key that stands.
    const existing = stored === null && this.o.cipher ? null : await this.o.keys.get(sha256);
    if (stored !== null && (!existing || stored === storedSize(existing.size))) return 'present';
    if (!existing && !this.o.cipher) return 'clear';
    const row = existing ?? (await this.keyRows.ensure({ sha256, size, ...this.o.master.wrap(sha256, this.o.cipher!, randomBytes(KEY_BYTES)) }));
    return this.remember(row);
  }

  private async sealKeyOf(sha256: string): Promise<{ row: BlobKeyRow; dataKey: Buffer } | null> {
    const hit = this.cache.get(sha256);
    if (hit) return hit;
    const row = await this.o.keys.get(sha256);
    if (!row) return null;
    this.remember(row);
    return this.cache.get(sha256)!;
  }

  private remember(row: BlobKeyRow): BlobSealKey {
    const dataKey = this.cache.get(row.sha256)?.dataKey ?? this.o.master.unwrap(row.sha256, row);
    this.cache.delete(row.sha256);
    this.cache.set(row.sha256, { row, dataKey });
    if (this.cache.size > CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
    return { cipher: segmentCipher(row.cipher), dataKey, sha256: row.sha256 };
  }
}

/**
 * Key rows of concurrent puts written in one statement: the rows asked for within one turn of the
 * event loop, or while the previous statement runs, go in together (a page's row and those of the
 * pages beside it, a thumbnail's and its neighbours'). Each caller still gets the row that stands
 * for its hash before it writes a byte.
 */
class KeyRowGroups {
  private queued: { row: BlobKeyRow; resolve: (r: BlobKeyRow) => void; reject: (e: unknown) => void }[] = [];
  private busy = false;

  constructor(private readonly keys: SqlBlobKeyRepository, private readonly most = 500) {}

  ensure(row: BlobKeyRow): Promise<BlobKeyRow> {
    return new Promise((resolve, reject) => {
      this.queued.push({ row, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const group = this.queued.splice(0, this.most);
    try {
      const rows = await this.keys.ensureAll(group.map((g) => g.row));
      group.forEach((g, i) => g.resolve(rows[i]!));
    } catch (err) {
      for (const g of group) g.reject(err);
    }
    this.busy = false;
    if (this.queued.length) this.kick();
  }
}
