/**
 * Blobs on the local filesystem under <dir>/sha256/ab/cd/<hash>. Writes go to a temp file in the
 * same filesystem, are fsynced, then renamed: a crash leaves a whole blob or none.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DossierError } from '../../dossier/errors.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { BlobPresence } from './encrypted-blob-store.js';
import { failpoint } from '../../dossier/failpoints.js';

const HASH = /^[0-9a-f]{64}$/;
/** A temp file untouched this long belongs to a write that died (a live one writes or renames within seconds). */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** A whole file's data made durable: the step before a rename makes it a blob. */
async function syncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    failpoint('blob.fsync');
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private readonly made = new Set<string>();

  private constructor(private readonly dir: string) {
    this.tmpDir = path.join(dir, 'tmp');
  }

  static async open(dir: string): Promise<FsBlobStore> {
    const store = new FsBlobStore(path.resolve(dir));
    await fs.mkdir(store.tmpDir, { recursive: true });
    await store.sweepStaleTemps();
    return store;
  }

  /**
   * Temp files of writes that a crash cut short are never renamed in, so they are no blob; they
   * are removed at start once old enough that no live writer (another process on a shared
   * volume) can still own them.
   */
  private async sweepStaleTemps(): Promise<void> {
    const before = Date.now() - STALE_TEMP_MS;
    for (const name of await fs.readdir(this.tmpDir)) {
      const file = path.join(this.tmpDir, name);
      const st = await fs.stat(file).catch(() => null);
      if (st?.isFile() && st.mtimeMs < before) await fs.rm(file, { force: true });
    }
  }

  /** The path guard: a key becomes a path only after it proves to be a hash. */
  private resolve(sha256: string): string {
    if (!HASH.test(sha256)) throw new DossierError('bad_request', `not a blob key: ${sha256.slice(0, 80)}`);
    return path.join(this.dir, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  private async ensureParent(file: string): Promise<void> {
    const parent = path.dirname(file);
    if (this.made.has(parent)) return;
    await fs.mkdir(parent, { recursive: true });
    this.made.add(parent);
  }

  /** The filesystem keeps no checksum, so the hash of sealed bytes (`_storedSha256`) is not needed. */
  readonly keepsNoChecksum = true;

  /**
   * `presence`: how a blob already there is taken. Unset, one of another size is replaced (the
   * plain store's repair); 'keep-any' keeps whatever is there (the sealing store's: a blob kept in
   * the clear before stays so); 'checked-absent': the caller has just found none, so no stat.
   */
  async putBytes(sha256: string, bytes: Uint8Array, _storedSha256?: string, presence?: BlobPresence): Promise<void> {
    const file = this.resolve(sha256);
    if (presence !== 'checked-absent') {
      const size = await this.size(sha256);
      if (size !== null && (presence === 'keep-any' || size === bytes.byteLength)) return;
    }
    const tmp = path.join(this.tmpDir, randomUUID());
    const fh = await fs.open(tmp, 'w', 0o640);
    try {
      failpoint('blob.write');
      await fh.writeFile(bytes);
      failpoint('blob.fsync');
      await fh.datasync();
    } catch (err) {
      await fh.close().catch(() => {});
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await this.ensureParent(file);
    failpoint('blob.rename');
    await fs.rename(tmp, file);
  }

  async putFile(sha256: string, localPath: string, options: { move: boolean; storedSha256?: string }): Promise<void> {
    const file = this.resolve(sha256);
    const { size } = await fs.stat(localPath);
    if ((await this.size(sha256)) === size) {
      if (options.move) await fs.rm(localPath, { force: true });
      return;
    }
    await this.ensureParent(file);
    if (options.move) {
      await syncFile(localPath);
      try {
        failpoint('blob.rename');
        await fs.rename(localPath, file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      }
    }
    const tmp = path.join(this.tmpDir, randomUUID());
    failpoint('blob.write');
    await fs.copyFile(localPath, tmp);
    await syncFile(tmp);
    failpoint('blob.rename');
    await fs.rename(tmp, file);
    if (options.move) await fs.rm(localPath, { force: true });
  }

  async size(sha256: string): Promise<number | null> {
    try {
      return (await fs.stat(this.resolve(sha256))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    const file = this.resolve(sha256);
    const fh = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new DossierError('not_found', `blob ${sha256} not found`);
      throw err;
    });
    return fh.createReadStream({ start: range?.start, end: range?.end });
  }

  localPath(sha256: string): string | null {
    return this.resolve(sha256);
  }

  /** Scratch space on the blobs' own filesystem: a file made there is renamed in, never copied. */
  get scratchDir(): string {
    return this.tmpDir;
  }

  /** Files are served by the gateway itself. */
  async downloadUrl(): Promise<string | null> {
    return null;
  }
}
