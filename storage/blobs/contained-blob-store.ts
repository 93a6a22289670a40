/**
 * Blobs kept inside other blobs. A ZIP of scans is mostly stored entries, and each such page is
 * exactly a byte range of the upload, which the store keeps whole anyway: writing the page again
 * costs a second copy of the dossier and a file, an fsync and a rename per page (most of the
 * time between a large ZIP's last byte and its seal). This store records such a page as a row
 * (container, start, size; migration 024) and serves its reads from the container's range, so
 * every reader (export, viewer, OCR, thumbnails) keeps asking for the page by its hash.
 *
 * Everything else goes to the inner store unchanged (blobs kept whole stay the inner store's),
 * and a blob kept whole is read from there first: only a miss looks for a range. Ranges are
 * immutable (content addressing), so those found are cached. A range whose container is absent
 * (an upload rejected after its pages were read) is passed over.
 */
import { Readable } from 'node:stream';
import { DossierError, isDossierError } from '../../dossier/errors.js';
import type { BlobPreparation, BlobStore, ContainedBlob, DownloadUrlOptions, PendingPut, PreparedBlob } from '../../dossier/ports/blob-store.js';
import type { SqlBlobRangeRepository } from '../db/blob-range-repository.js';

/** Ranges remembered (about 200 bytes each): a large dossier's pages read in a row. */
const CACHED_RANGES = 50_000;

export class ContainedBlobStore implements BlobStore {
  private readonly found = new Map<string, ContainedBlob>();

  /** `maxBytes`: the largest blob kept as a range (larger ones are kept whole). */
  constructor(
    private readonly inner: BlobStore & { close?(): void },
    private readonly ranges: Pick<SqlBlobRangeRepository, 'add' | 'find'>,
    readonly containedMaxBytes: number = Number.MAX_SAFE_INTEGER,
  ) {}

  /** The store that keeps blobs whole (tests and the at-rest checks look at it). */
  get whole(): BlobStore {
    return this.inner;
  }

  async keepContained(ranges: readonly ContainedBlob[]): Promise<void> {
    for (const r of ranges) {
      if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.size) || r.start < 0 || r.size < 0 || r.size > this.containedMaxBytes) {
        throw new DossierError('internal', `blob ${r.sha256}: not a byte range: ${r.start}+${r.size}`);
      }
    }
    if (ranges.length) await this.ranges.add(ranges);
  }

  putBytes(sha256: string, bytes: Uint8Array): Promise<void> {
    return this.inner.putBytes(sha256, bytes);
  }

  putFile(sha256: string, localPath: string, options: { move: boolean }): Promise<void> {
    return this.inner.putFile(sha256, localPath, options);
  }

  async size(sha256: string): Promise<number | null> {
    const whole = this.found.has(sha256) ? null : await this.inner.size(sha256);
    return whole ?? (await this.range(sha256))?.size ?? null;
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    if (!this.found.has(sha256)) {
      try {
        return await this.inner.read(sha256, range);
      } catch (err) {
        if (!isDossierError(err) || err.code !== 'not_found') throw err;
      }
    }
    const r = await this.range(sha256);
    if (!r) throw new DossierError('not_found', `blob ${sha256} not found`);
    const end = Math.min(range?.end ?? r.size - 1, r.size - 1);
    const start = range?.start ?? 0;
    if (r.size === 0 || start > end) return Readable.from([]);
    return this.inner.read(r.container, { start: r.start + start, end: r.start + end });
  }

  localPath(sha256: string): string | null {
    return this.found.has(sha256) ? null : this.inner.localPath(sha256);
  }

  /** A range has no object of its own to presign: the gateway streams it. */
  async downloadUrl(sha256: string, options: DownloadUrlOptions): Promise<string | null> {
    if (this.found.has(sha256) || (await this.inner.size(sha256)) === null) return null;
    return this.inner.downloadUrl(sha256, options);
  }

  preparation(): BlobPreparation | null {
    return this.inner.preparation?.() ?? null;
  }

  get putPrepared(): ((sha256: string, bytes: Uint8Array, prepared: PreparedBlob) => Promise<void>) | undefined {
    return this.inner.putPrepared?.bind(this.inner);
  }

  get beginPutFile(): ((sha256: string, localPath: string) => PendingPut) | undefined {
    return this.inner.beginPutFile?.bind(this.inner);
  }

  close(): void {
    this.inner.close?.();
  }

  /** The first recorded range of `sha256` whose container holds it, remembered once found. */
  private async range(sha256: string): Promise<ContainedBlob | null> {
    const known = this.found.get(sha256);
    if (known) return known;
    for (const r of await this.ranges.find(sha256)) {
      const size = await this.inner.size(r.container);
      if (size === null || r.start + r.size > size) continue;
      if (this.found.size >= CACHED_RANGES) this.found.delete(this.found.keys().next().value!);
      this.found.set(sha256, r);
      return r;
    }
    return null;
  }
}
