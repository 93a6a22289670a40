/**
 * @tus/file-store that also hashes the bytes as they arrive, so a finished upload's SHA-256 is
 * known the moment its last byte lands. The running hash only survives within one process: after
 * a restart, or when a write breaks off mid-chunk, it is dropped and the ingest hashes the file.
 *
 * It also asks the kernel to write the upload out every SYNC_EVERY bytes while it arrives: the
 * upload is CPU-bound and the disk idle, so the original is mostly on disk by the time the ingest
 * must make it durable, instead of competing with the page writes then.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';

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

export class HashingFileStore extends FileStore {
  private readonly running = new Map<string, RunningHash>();

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
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

  /** The hash of the upload's bytes when all `size` of them passed through this process. */
  takeDigest(id: string, size: number): string | null {
    const state = this.running.get(id);
    this.running.delete(id);
    return state && state.offset === size ? state.hash.digest('hex') : null;
  }

  override async remove(id: string): Promise<void> {
    this.running.delete(id);
    await super.remove(id);
  }
}
