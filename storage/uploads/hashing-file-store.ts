/**
 * @tus/file-store that also hashes the bytes as they arrive, so a finished upload's SHA-256 is
 * known the moment its last byte lands. The running hash only survives within one process: after
 * a restart, or when a write breaks off mid-chunk, it is dropped and the ingest hashes the file.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';

interface RunningHash {
  hash: Hash;
  offset: number;
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
    const tee = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hashing.hash.update(chunk);
        hashing.offset += chunk.length;
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
