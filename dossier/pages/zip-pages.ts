/**
 * ZIP and ZIP64: the central directory is read and checked first (zip-entries.ts), then entries
 * are read in dossier order with a bounded read-ahead, each one's format found from its content.
 * Sizes in the headers are not trusted: real inflated bytes are counted against the limits while
 * reading, and every entry's CRC-32 is verified (yauzl does not).
 */
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { DossierError } from '../errors.js';
import { reject, type PageInput, type ReadContext } from './context.js';
import { detectFormat, HEAD_BYTES, type PageFormat } from './detect.js';
import { openRandomAccess, type RandomAccess } from './random-access.js';
import { readAhead, type Task } from './read-ahead.js';
import type { ExtractedPage } from './types.js';
import { closeArchive, openArchive, planEntries, type PlannedEntry } from './zip-entries.js';

/** Reads the pages of one file of any format; read-pages.ts provides it (archives nest). */
export type PagesOf = (input: PageInput, format: PageFormat, name: string, ctx: ReadContext, level: number) => AsyncIterable<ExtractedPage>;

interface EntryData {
  /** null: not a page format; `bytes` then holds only the head that was looked at. */
  readonly format: PageFormat | null;
  readonly bytes: Buffer;
}

/** Same threshold as for declared sizes: tiny entries may compress very well. */
const RATIO_FLOOR = 1024 * 1024;
/**
 * Entries in flight (the one being waited for included) and their bytes at most; an entry larger
 * than that is read alone. Measured about a third faster than one at a time on 228 KB scans.
 */
const READ_AHEAD_ENTRIES = 4;
const READ_AHEAD_BYTES = 64 * 1024 * 1024;
/** Stored entries up to this size are read whole at once; larger ones head first. */
const EAGER_BYTES = 16 * 1024 * 1024;

/** `level` is 1 for the uploaded archive, 2 for an archive inside it, and so on. */
export async function* zipPages(input: PageInput, name: string, ctx: ReadContext, level: number, pagesOf: PagesOf): AsyncGenerator<ExtractedPage> {
  if (level > ctx.limits.maxDepth) {
    throw reject('zip_bomb', name, `is an archive nested more than ${ctx.limits.maxDepth} levels deep inside other archives.`);
  }
  const zip = await openArchive(input, name);
  let access: RandomAccess | null = null;
  try {
    const entries = await planEntries(zip, name, ctx, level);
    const names = entries.map((e) => (name === '' ? e.path : `${name}/${e.path}`));
    const files = (access = await openRandomAccess(input));
    let index = 0;
    const reads = readAhead(entries.length, (i) => readEntry(zip, files, entries[i]!, names[i]!, ctx), {
      window: READ_AHEAD_ENTRIES,
      budget: READ_AHEAD_BYTES,
      sizeOf: (i) => entries[i]!.entry.uncompressedSize,
    });
    for await (const data of reads) {
      const planned = entries[index]!;
      const entryName = names[index++]!;
      if (data.format === null) {
        if (planned.pageLike) throw notWhatItsNameSays(planned, entryName);
        continue; // an index file, a checksum list, a cover letter in Word: not a page
      }
      yield* pagesOf(data.bytes, data.format, entryName, ctx, level);
    }
  } finally {
    await access?.close();
    await closeArchive(zip, typeof input === 'string');
  }
}

function notWhatItsNameSays(planned: PlannedEntry, entryName: string): DossierError {
  switch (planned.pageLike) {
    case 'pdf':
      return reject('corrupt_pdf', entryName, 'is named like a PDF but its content is not a PDF.');
    case 'zip':
      return reject('corrupt_archive', entryName, 'is named like a ZIP archive but its content is not one.');
    default:
      return reject('corrupt_image', entryName, 'is named like an image but its content is not a JPEG, PNG, TIFF, JPEG 2000 or WebP image.');
  }
}

function readEntry(zip: ZipFile, access: RandomAccess, planned: PlannedEntry, entryName: string, ctx: ReadContext): Task<EntryData> {
  if (planned.entry.compressionMethod === 0) return { result: readStored(zip, access, planned.entry, entryName, ctx) };
  let stream: Readable | null = null;
  let cancelled = false;
  const result = (async () => {
    let opened: Readable;
    try {
      opened = await zip.openReadStreamPromise(planned.entry);
    } catch (err) {
      throw unpackError(err, entryName);
    }
    if (cancelled) {
      opened.destroy();
      throw new Error('cancelled');
    }
    stream = opened;
    return collect(opened, planned.entry, entryName, ctx);
  })();
  return {
    result,
    cancel: () => {
      cancelled = true;
      stream?.destroy();
    },
  };
}

/**
 * A stored (uncompressed) entry is read with one positioned read straight into its own buffer:
 * a ZIP of scanned JPEGs is mostly stored entries, and this reads them at disk speed, where
 * yauzl's stream of 16 KiB chunks reaches about a quarter of it.
 */
async function readStored(zip: ZipFile, access: RandomAccess, entry: Entry, entryName: string, ctx: ReadContext): Promise<EntryData> {
  const size = entry.uncompressedSize; // yauzl checked that it equals compressedSize for stored entries
  const header = await access.readAt(entry.relativeOffsetOfLocalHeader, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50) {
    throw reject('corrupt_archive', entryName, 'cannot be found in the archive: the archive is damaged (no local file header).');
  }
  const start = entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + size > zip.fileSize) throw reject('corrupt_archive', entryName, 'runs past the end of the archive: the archive is truncated.');
  // A large entry is only read whole once its head shows it is a page (not, say, a video).
  if (size > EAGER_BYTES) {
    const head = await access.readAt(start, HEAD_BYTES);
    if (detectFormat(head) === null) return { format: null, bytes: head };
  }
  countInflated(ctx, size, entryName);
  const bytes = await access.readAt(start, size);
  if (bytes.length !== size) throw reject('corrupt_archive', entryName, 'runs past the end of the archive: the archive is truncated.');
  if (zlib.crc32(bytes) !== entry.crc32) throw reject('corrupt_archive', entryName, 'is damaged: its content does not match its checksum (CRC-32).');
  return { format: detectFormat(bytes), bytes };
}

function countInflated(ctx: ReadContext, bytes: number, entryName: string): void {
  ctx.inflated += bytes;
  if (ctx.inflated > ctx.limits.maxTotalUncompressedBytes) {
    throw reject('zip_bomb', entryName, `takes the unpacked archive past ${ctx.limits.maxTotalUncompressedBytes} bytes in total.`);
  }
}

/** The entry's bytes, or only its head when the head shows it is not a page. */
async function collect(stream: Readable, entry: Entry, entryName: string, ctx: ReadContext): Promise<EntryData> {
  const { limits } = ctx;
  const chunks: Buffer[] = [];
  let received = 0;
  let crc = 0;
  let detected = false;
  try {
    // Leaving this loop early (return or throw) destroys the stream and releases the file.
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      received += chunk.length;
      countInflated(ctx, chunk.length, entryName);
      if (received > entry.uncompressedSize || received > limits.maxEntryBytes) {
        throw reject('zip_bomb', entryName, `unpacks to more than the ${entry.uncompressedSize} bytes its header declares.`);
      }
      if (received > RATIO_FLOOR && received > entry.compressedSize * limits.maxCompressionRatio) {
        throw reject('zip_bomb', entryName, `is compressed more than ${limits.maxCompressionRatio} to 1, as only a zip bomb is.`);
      }
      crc = zlib.crc32(chunk, crc);
      chunks.push(chunk);
      if (!detected && received >= HEAD_BYTES) {
        detected = true;
        const head = Buffer.concat(chunks, received);
        if (detectFormat(head) === null) return { format: null, bytes: head };
      }
    }
  } catch (err) {
    throw unpackError(err, entryName);
  }
  if (received !== entry.uncompressedSize) {
    throw reject('corrupt_archive', entryName, `is truncated: ${received} of ${entry.uncompressedSize} bytes could be unpacked.`);
  }
  if (crc !== entry.crc32) throw reject('corrupt_archive', entryName, 'is damaged: its content does not match its checksum (CRC-32).');
  // One chunk that owns its memory is used as is; otherwise copy, so that no page keeps a larger
  // buffer (a nested archive, a pooled allocation) alive.
  const only = chunks.length === 1 ? chunks[0]! : null;
  const bytes = only && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength ? only : Buffer.concat(chunks, received);
  return { format: detectFormat(bytes), bytes };
}

function unpackError(err: unknown, entryName: string): DossierError {
  if (err instanceof DossierError) return err;
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
  // yauzl's size check: the data inflates past the size declared in the central directory.
  if (/too many bytes in the stream/.test(text)) return reject('zip_bomb', entryName, 'unpacks to more bytes than its header declares.');
  return reject('corrupt_archive', entryName, 'cannot be unpacked: the archive is damaged.', { reason: text });
}
