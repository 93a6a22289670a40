/**
 * yauzl's RandomAccessReader over a RangedFile, so that yauzl reads and checks the central
 * directory of an archive kept in object storage, or of a file on disk through a block cache. Its
 * fixed-size record reads go straight to `readAt` (served by the block cache), not through a
 * stream per record.
 */
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { RangedFile } from './ranged-file.js';

class RangedReader extends yauzl.RandomAccessReader {
  constructor(private readonly file: RangedFile, private readonly release: () => Promise<void>) {
    super();
  }

  override close(callback: (err: Error | null) => void): void {
    this.release().then(() => callback(null), (err: Error) => callback(err));
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const file = this.file;
    return Readable.from((async function* () {
      yield await exactly(file, start, end - start);
    })(), { objectMode: false });
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    exactly(this.file, position, length).then(
      (bytes) => {
        bytes.copy(buffer, offset);
        callback(null);
      },
      (err: Error) => callback(err),
    );
  }
}

async function exactly(file: RangedFile, position: number, length: number): Promise<Buffer> {
  const bytes = await file.readAt(position, length);
  if (bytes.length !== length) throw new Error(`unexpected EOF: ${bytes.length} of ${length} bytes at ${position}`);
  return bytes;
}

/** `release` runs when yauzl closes the reader (the archive is closed): a file's descriptor goes. */
export function yauzlReader(file: RangedFile, release: () => Promise<void> = async () => {}): yauzl.RandomAccessReader {
  return new RangedReader(file, release);
}
