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
 *
 * A byte range of the archive (`range`, for HTTP Range): the writer walks the same layout and hands
 * the output only the bytes inside it, so a slice is by construction the slice of the whole. An
 * entry wholly before the range is never opened while its CRC-32 is known (`crc`), and is read
 * (not sent) only when its CRC is unknown and the central directory falls inside the range; an
 * entry the range starts inside is opened at the range's start when its CRC is known; nothing
 * after the range is read.
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
  /** The source from byte `from` of the entry on (0: all of it), yielding `size - from` bytes. */
  open(from?: number): Promise<Readable>;
  /** The CRC-32 of the bytes, when known already: lets a range skip the entry (or its head) unread. */
  readonly crc?: number;
}
export type ZipEntry = BytesEntry | StreamEntry;

export interface ZipStreamOptions {
  /** ZIP64 records for every entry and the end, whatever the sizes: for tests of readers. */
  readonly forceZip64?: boolean;
  /** Only these bytes of the archive reach the output (inclusive, as in HTTP); default: all of them. */
  readonly range?: { readonly start: number; readonly end: number };
  /** Told the CRC-32 of each stream entry the writer read whole (a cache of CRCs for later ranges). */
  readonly onCrc?: (entry: StreamEntry, crc: number) => void;
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

  /** Stores the record; returns its stored bytes (the same memory), for a CRC filled in later. */
  append(record: Buffer): Buffer {
    if (this.used + record.length > this.current.length) this.seal(Math.max(CentralDirectory.BLOCK, record.length));
    record.copy(this.current, this.used);
    const stored = this.current.subarray(this.used, this.used + record.length);
    this.used += record.length;
    this.size += record.length;
    this.count++;
    return stored;
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
export function entryName(name: string): Buffer {
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
  /** Central records of entries skipped unread, whose CRC is computed only if the directory is sent. */
  private readonly unknownCrcs: { record: Buffer; entry: StreamEntry }[] = [];

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
      let crc: number | null;
      if ('bytes' in entry) {
        crc = zlib.crc32(entry.bytes);
        await this.write(entry.bytes);
      } else {
        crc = await this.copy(entry, this.offset + size + (zip64 ? 24 : 16));
      }
      await this.write(dataDescriptor(crc ?? 0, size, zip64));
      const record = this.central.append(centralRecord({ name, time, crc: crc ?? 0, size, offset, zip64, forceZip64Offset: this.options.forceZip64 === true }));
      if (crc === null) this.unknownCrcs.push({ record, entry: entry as StreamEntry });
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
      if (this.inRange(centralOffset, centralOffset + size)) {
        for (const { record, entry } of this.unknownCrcs) record.writeUInt32LE(await this.crcOf(entry), 16);
      }
      for (const block of this.central.close()) await this.write(block);
      await this.write(endRecords(count, centralOffset, size, this.options.forceZip64 === true));
      const range = this.options.range;
      if (range && range.end >= this.offset) throw new DossierError('internal', `range ${range.start}-${range.end} is beyond the archive's ${this.offset} bytes`);
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

  /** Whether any of the archive's bytes [from, to) are in the range the output gets. */
  private inRange(from: number, to: number): boolean {
    const r = this.options.range;
    return !r || (from <= r.end && to > r.start && to > from);
  }

  /**
   * The entry's bytes to the output, as far as the range wants them, counted against the declared
   * size. Returns their CRC-32, or null when it was neither known nor needed (the entry and its
   * descriptor outside the range, or the range ending before the descriptor).
   */
  private async copy(entry: StreamEntry, descriptorEnd: number): Promise<number | null> {
    const dataStart = this.offset;
    const r = this.options.range ?? { start: 0, end: Number.MAX_SAFE_INTEGER };
    const descriptorSent = this.inRange(dataStart + entry.size, descriptorEnd);
    const known = entry.crc ?? null;
    // Where reading may start and stop: all of it unless the CRC is known or not wanted.
    const crcFromBytes = known === null && descriptorSent;
    const from = crcFromBytes ? 0 : Math.min(Math.max(r.start - dataStart, 0), entry.size);
    const to = crcFromBytes ? entry.size : Math.min(Math.max(r.end + 1 - dataStart, 0), entry.size);
    if (from >= to && !crcFromBytes) {
      this.offset += entry.size;
      return known;
    }
    this.offset += from;
    const crc = await this.stream(entry, await entry.open(from), from, to);
    this.offset += entry.size - to;
    if (from === 0 && to === entry.size) {
      this.options.onCrc?.(entry, crc);
      return crc;
    }
    return known;
  }

  /** An entry skipped unread whose CRC the central directory needs after all: read, not sent. */
  private async crcOf(entry: StreamEntry): Promise<number> {
    if (entry.crc !== undefined) return entry.crc;
    const source = await entry.open(0);
    let crc = 0;
    let n = 0;
    try {
      for await (const chunk of source) {
        n += (chunk as Uint8Array).length;
        if (n > entry.size) throw sizeMismatch(entry, `more than ${entry.size}`);
        crc = zlib.crc32(chunk as Uint8Array, crc);
      }
    } finally {
      source.destroy();
    }
    if (n !== entry.size) throw sizeMismatch(entry, String(n));
    this.options.onCrc?.(entry, crc);
    return crc;
  }

  /**
   * Bytes [from, to) of the entry from a source opened at `from`, to the output (which keeps what
   * is in range); returns the CRC-32 of what was read (the whole entry's when from = 0, to = size).
   */
  private async stream(entry: StreamEntry, source: Readable, from: number, to: number): Promise<number> {
    // The consumer went away: stop reading now (and close the file), not at the next chunk.
    const stop = () => source.destroy();
    this.out.once('close', stop);
    let crc = 0;
    let n = from;
    try {
      if (this.out.destroyed) throw new ZipOutputClosedError(this.outputError);
      for await (const read of source) {
        if (!(read instanceof Uint8Array)) throw new DossierError('internal', `${entry.name}: the source yields ${typeof read}, not bytes`);
        // Checked before writing: not one byte past the declared size reaches the archive.
        if (n + read.length > entry.size) throw sizeMismatch(entry, `more than ${entry.size}`);
        const chunk = n + read.length > to ? read.subarray(0, to - n) : read;
        n += chunk.length;
        crc = zlib.crc32(chunk, crc);
        await this.write(chunk);
        if (n >= to) break;
      }
    } finally {
      this.out.off('close', stop);
      source.destroy();
    }
    if (n !== to) throw sizeMismatch(entry, String(n));
    return crc;
  }

  /** Counts the bytes as the archive's; hands the output those inside the range. */
  private async write(chunk: Uint8Array): Promise<void> {
    const at = this.offset;
    this.offset += chunk.length;
    const r = this.options.range;
    let part = chunk;
    if (r) {
      const from = Math.max(r.start - at, 0);
      const to = Math.min(r.end + 1 - at, chunk.length);
      if (to <= from) return;
      part = chunk.subarray(from, to);
    }
    if (!this.out.write(part)) await this.drained();
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
