/**
 * @tus/file-store that also hashes the bytes as they arrive, so a finished upload's SHA-256 is
 * known the moment its last byte lands. The running hash only survives within one process: after
 * a restart, or when a write breaks off mid-chunk, it is dropped and the ingest hashes the file.
 *
 * It also asks the kernel to write the upload out every SYNC_EVERY bytes while it arrives: the
 * upload is CPU-bound and the disk idle, so the original is mostly on disk by the time the ingest
 * must make it durable, instead of competing with the page writes then.
 *
 * Given `tails` (in-stream ingest, upload-tails.ts), it also tells the tail thread how far the file
 * has grown; that thread writes the file out and reads the pages (and hashes the whole upload
 * instead of this thread when `hashInTail`). The same rule holds: one unbroken run of bytes
 * through this process, or nothing.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { UploadTails } from '../../dossier/ingest/stream/upload-tails.js';
import { failpoint, failpointArmed } from '../../dossier/failpoints.js';

interface RunningHash {
  hash: Hash;
  offset: number;
}

const SYNC_EVERY = 128 * 1024 * 1024;

/** Writes the file's dirty pages out; a hint only: durability is the ingest's flush. */
async function writeOut(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** The tail thread hears of new bytes at most this often (a message per 64 KiB chunk costs). */
const GROW_EVERY = 1024 * 1024;

/** The request's chunks through the `upload.write` failpoint (fault-injection tests only). */
function throughFailpoint(readable: Readable): Readable {
  const checked = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        failpoint('upload.write');
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
  readable.once('error', (err) => checked.destroy(err));
  return readable.pipe(checked);
}

type FileStoreOptions = ConstructorParameters<typeof FileStore>[0];

export class HashingFileStore extends FileStore {
  private readonly running = new Map<string, RunningHash>();
  /** With tails: where each followed upload's unbroken run of bytes has reached. */
  private readonly followed = new Map<string, number>();

  constructor(options: FileStoreOptions, private readonly tails: UploadTails | null = null) {
    super(options);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    if (failpointArmed('upload.write')) readable = throughFailpoint(readable);
    if (this.tails) return this.writeFollowed(this.tails, readable, id, offset);
    let state = this.running.get(id);
    if (!state && offset === 0) {
      state = { hash: createHash('sha256'), offset: 0 };
      this.running.set(id, state);
    }
    if (!state || state.offset !== offset) {
      this.running.delete(id);
      return super.write(readable, id, offset);
    }
    const hashing = state;
    const file = path.join(this.directory, id);
    let unsynced = 0;
    let syncing = false;
    const tee = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hashing.hash.update(chunk);
        hashing.offset += chunk.length;
        unsynced += chunk.length;
        if (unsynced >= SYNC_EVERY && !syncing) {
          unsynced = 0;
          syncing = true;
          writeOut(file).then(
            () => (syncing = false),
            () => (syncing = false),
          );
        }
        done(null, chunk);
      },
    });
    readable.once('error', (err) => tee.destroy(err));
    try {
      const end = await super.write(readable.pipe(tee), id, offset);
      if (end !== hashing.offset) this.running.delete(id);
      return end;
    } catch (err) {
      this.running.delete(id);
      throw err;
    }
  }

  private async writeFollowed(tails: UploadTails, readable: Readable, id: string, offset: number): Promise<number> {
    if (offset === 0) {
      tails.begin(id, path.join(this.directory, id));
      this.followed.set(id, 0);
      if (!tails.hashInTail) this.running.set(id, { hash: createHash('sha256'), offset: 0 });
    }
    const hashing = tails.hashInTail ? null : this.running.get(id);
    if (this.followed.get(id) !== offset || !tails.has(id) || hashing === undefined || (hashing && hashing.offset !== offset)) {
      this.forget(id);
      return super.write(readable, id, offset);
    }
    let seen = offset;
    let told = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hashing?.hash.update(chunk);
        seen += chunk.length;
        if (seen - told >= GROW_EVERY) {
          told = seen;
          tails.grew(id, seen);
        }
        done(null, chunk);
      },
    });
    readable.once('error', (err) => counter.destroy(err));
    try {
      const end = await super.write(readable.pipe(counter), id, offset);
      // A request that broke off may have passed bytes that never reached the file.
      if (end !== seen) {
        this.forget(id);
        return end;
      }
      if (hashing) hashing.offset = end;
      this.followed.set(id, end);
      tails.grew(id, end); // now written: the tail thread may read up to here
      return end;
    } catch (err) {
      this.forget(id);
      throw err;
    }
  }

  /** The hash of the upload's bytes when all `size` of them passed through this process. */
  async takeDigest(id: string, size: number): Promise<string | null> {
    if (this.tails) {
      const followed = this.followed.get(id);
      this.followed.delete(id);
      const state = this.running.get(id);
      this.running.delete(id);
      if (followed !== size) return null;
      return this.tails.finish(id, size, state && state.offset === size ? state.hash.digest('hex') : null);
    }
    const state = this.running.get(id);
    this.running.delete(id);
    return state && state.offset === size ? state.hash.digest('hex') : null;
  }

  private forget(id: string): void {
    this.followed.delete(id);
    this.running.delete(id);
    this.tails?.broken(id);
  }

  override async remove(id: string): Promise<void> {
    this.running.delete(id);
    this.forget(id);
    await super.remove(id);
  }
}
