/**
 * A ZIP written front to back into a Writable, entries STORED (the export's pages are JPEG, PNG or
 * PDF already), each read from its source only when the archive reaches it. One loop per entry —
 * local header, the source's chunks straight to the output with their CRC-32 (zlib.crc32, native),
 * then a data descriptor — with the output's backpressure as the only buffer, so memory stays flat
 * and the bytes move at the speed of the disk and the socket (a chain of Transform streams per
 * entry, as yazl builds, held the export to a third of that). ZIP64 wherever a size, an offset or
 * a count needs it (or everywhere, `forceZip64`).
 *
 * The archive is never silently wrong: a source that yields more or fewer bytes than declared, or
 * fails, destroys the output with the error (a reader sees a truncated archive, not a complete one).
 * When the output closes early (the client went away), the entry's source is destroyed at once,
 * which closes its file, and `add`/`finish` reject with ZipOutputClosedError.
 */
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import { DossierError } from '../../dossier/errors.js';
import { ZIP64_LIMIT, centralRecord, dataDescriptor, dosDateTime, endRecords, localHeader } from './zip-records.js';

interface EntryBase {
  /** Path inside the archive, `/`-separated, relative; UTF-8. */
  readonly name: string;
  readonly mtime: Date;
}
/** An entry whose bytes are at hand (manifest, receipts). */
export interface BytesEntry extends EntryBase {
  readonly bytes: Uint8Array;
}
/** An entry read when the archive reaches it; the source must yield exactly `size` bytes. */
export interface StreamEntry extends EntryBase {
  readonly size: number;
  open(): Promise<Readable>;
}
export type ZipEntry = BytesEntry | StreamEntry;

export interface ZipStreamOptions {
  /** ZIP64 records for every entry and the end, whatever the sizes: for tests of readers. */
  readonly forceZip64?: boolean;
}

/** The output closed before the archive was complete (the consumer went away or failed). */
export class ZipOutputClosedError extends Error {
  override readonly name = 'ZipOutputClosedError';
  constructor(cause?: unknown) {
    super('the ZIP output closed before the archive was complete', { cause });
  }
}

/** The central directory as it grows: records packed into 64 KiB blocks, not one Buffer per entry. */
class CentralDirectory {
  private static readonly BLOCK = 64 * 1024;
  readonly blocks: Buffer[] = [];
  private current = Buffer.allocUnsafe(CentralDirectory.BLOCK);
  private used = 0;
  size = 0;
  count = 0;

  append(record: Buffer): void {
    if (this.used + record.length > this.current.length) this.seal(Math.max(CentralDirectory.BLOCK, record.length));
    record.copy(this.current, this.used);
    this.used += record.length;
    this.size += record.length;
    this.count++;
  }

  /** The blocks in order, the last one trimmed; the directory takes no more records after. */
  close(): Buffer[] {
    this.seal(0);
    return this.blocks;
  }

  private seal(nextBlock: number): void {
    if (this.used > 0) this.blocks.push(this.current.subarray(0, this.used));
    this.current = Buffer.allocUnsafe(nextBlock);
    this.used = 0;
  }
}

/** Relative, `/`-separated, no `..`: what every unzip tool extracts where it should. */
function entryName(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const bad = name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0') || name.split('/').includes('..');
  if (bad || bytes.length > 0xffff) throw new DossierError('internal', `not a ZIP entry name: ${JSON.stringify(name.slice(0, 200))}`);
  return bytes;
}

export class ZipStreamWriter {
  private offset = 0;
  private readonly central = new CentralDirectory();
  private state: 'open' | 'busy' | 'failed' | 'finished' = 'open';
  private outputError: unknown = null;

  constructor(
    private readonly out: Writable,
    private readonly options: ZipStreamOptions = {},
  ) {
    // Errors of the output reach the caller as rejections of add/finish, never as an unhandled event.
    out.on('error', (err) => {
      this.outputError ??= err;
    });
  }

  /** Bytes handed to the output so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  /** Writes one entry, whole; resolves when its last byte is handed to the output. One at a time. */
  async add(entry: ZipEntry): Promise<void> {
    this.enter();
    try {
      const name = entryName(entry.name);
      const time = dosDateTime(entry.mtime);
      const size = 'bytes' in entry ? entry.bytes.length : entry.size;
      if (!Number.isSafeInteger(size) || size < 0) throw new DossierError('internal', `${entry.name}: bad declared size ${size}`);
      const zip64 = this.options.forceZip64 === true || size >= ZIP64_LIMIT;
      const offset = this.offset;
      await this.write(localHeader(name, time, zip64));
      let crc: number;
      if ('bytes' in entry) {
        crc = zlib.crc32(entry.bytes);
        await this.write(entry.bytes);
      } else {
        crc = await this.copy(entry, await entry.open());
      }
      await this.write(dataDescriptor(crc, size, zip64));
      this.central.append(centralRecord({ name, time, crc, size, offset, zip64, forceZip64Offset: this.options.forceZip64 === true }));
      this.state = 'open';
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Writes the central directory and the end records, ends the output and waits until it has finished. */
  async finish(): Promise<void> {
    this.enter();
    try {
      const centralOffset = this.offset;
      const { size, count } = this.central;
      for (const block of this.central.close()) await this.write(block);
      await this.write(endRecords(count, centralOffset, size, this.options.forceZip64 === true));
      this.out.end();
      await finished(this.out);
      this.state = 'finished';
    } catch (err) {
      throw this.fail(err);
    }
  }

  private enter(): void {
    if (this.state !== 'open') throw new DossierError('internal', `ZIP writer is ${this.state}: entries go one at a time, before finish`);
    this.state = 'busy';
  }

  /** The source's bytes to the output, counted against the declared size; returns their CRC-32. */
  private async copy(entry: StreamEntry, source: Readable): Promise<number> {
    // The consumer went away: stop reading now (and close the file), not at the next chunk.
    const stop = () => source.destroy();
    this.out.once('close', stop);
    let crc = 0;
    let n = 0;
    try {
      if (this.out.destroyed) throw new ZipOutputClosedError(this.outputError);
      for await (const chunk of source) {
        if (!(chunk instanceof Uint8Array)) throw new DossierError('internal', `${entry.name}: the source yields ${typeof chunk}, not bytes`);
        n += chunk.length;
        // Checked before writing: not one byte past the declared size reaches the archive.
        if (n > entry.size) throw sizeMismatch(entry, `more than ${entry.size}`);
        crc = zlib.crc32(chunk, crc);
        await this.write(chunk);
      }
    } finally {
      this.out.off('close', stop);
      source.destroy();
    }
    if (n !== entry.size) throw sizeMismatch(entry, String(n));
    return crc;
  }

  private async write(chunk: Uint8Array): Promise<void> {
    this.offset += chunk.length;
    if (!this.out.write(chunk)) await this.drained();
  }

  private drained(): Promise<void> {
    const out = this.out;
    return new Promise((resolve, reject) => {
      if (out.destroyed) return reject(new ZipOutputClosedError(this.outputError));
      const onDrain = () => {
        out.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        out.off('drain', onDrain);
        reject(new ZipOutputClosedError(this.outputError));
      };
      out.once('drain', onDrain);
      out.once('close', onClose);
    });
  }

  /**
   * Ends the writer for good. An error of ours (a source that lied or failed) destroys the output
   * with it, so that the archive cannot pass for complete; an output that was closed already
   * gives ZipOutputClosedError (a source failing because we stopped it is not the cause).
   */
  private fail(err: unknown): unknown {
    if (this.state === 'finished' || this.state === 'failed') return err;
    this.state = 'failed';
    if (this.out.destroyed) return err instanceof ZipOutputClosedError ? err : new ZipOutputClosedError(this.outputError ?? err);
    this.out.destroy(err instanceof Error ? err : new Error(String(err)));
    return err;
  }
}

function sizeMismatch(entry: StreamEntry, got: string): DossierError {
  return new DossierError('internal', `${entry.name}: the source gave ${got} bytes, ${entry.size} were declared`, { entry: entry.name });
}
