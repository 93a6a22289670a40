/**
 * ZIP and ZIP64: the central directory is read and checked first (zip-entries.ts), then entries
 * are read in dossier order with a bounded read-ahead, each one's format found from its content.
 * Sizes in the headers are not trusted: real inflated bytes are counted against the limits while
 * reading, and every entry's CRC-32 is verified (yauzl would not).
 */
import zlib from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import type { Entry } from 'yauzl';
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
  /** A stored entry's data: where it starts in the archive. */
  readonly start?: number;
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
const SLICE_BYTES = 4 * 1024 * 1024;
const INFLATE_CHUNK = 256 * 1024;

/** `level` is 1 for the uploaded archive, 2 for an archive inside it, and so on. */
export async function* zipPages(input: PageInput, name: string, ctx: ReadContext, level: number, pagesOf: PagesOf): AsyncGenerator<ExtractedPage> {
  if (level > ctx.limits.maxDepth) {
    throw reject('zip_bomb', name, `is an archive nested more than ${ctx.limits.maxDepth} levels deep inside other archives.`);
  }
  // yauzl reads and checks the central directory; the entries' data is read with our own
  // positioned reads (see readStored and inflate), so its file is closed again straight away.
  const zip = await openArchive(input, name);
  let entries: PlannedEntry[];
  try {
    entries = await planEntries(zip, name, ctx, level);
  } finally {
    await closeArchive(zip, typeof input === 'string');
  }
  const names = entries.map((e) => (name === '' ? e.path : `${name}/${e.path}`));
  const access = await openRandomAccess(input);
  try {
    let index = 0;
    const reads = readAhead(entries.length, (i) => readEntry(zip.fileSize, access, entries[i]!, names[i]!, ctx), {
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
      // A page that is the stored entry itself, in the upload (not an archive inside it), says
      // where: the store may keep it as that range of the upload.
      const at = level === 1 && data.start !== undefined ? data.start : undefined;
      for await (const page of pagesOf(data.bytes, data.format, entryName, ctx, level)) {
        yield at !== undefined && page.bytes === data.bytes ? { ...page, at } : page;
      }
    }
  } finally {
    await access.close();
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

function readEntry(zipSize: number, access: RandomAccess, planned: PlannedEntry, entryName: string, ctx: ReadContext): Task<EntryData> {
  const { entry } = planned;
  if (entry.compressionMethod === 0) return { result: readStored(zipSize, access, entry, entryName, ctx) };
  let output: Readable | null = null;
  let cancelled = false;
  const result = (async () => {
    const inflating = await inflate(access, await dataStart(zipSize, access, entry, entryName), entry.compressedSize, entryName);
    output = inflating.output;
    if (cancelled) output.destroy(); // collect then fails at once; the finally below cleans up
    try {
      return await collect(inflating.output, entry, entryName, ctx);
    } finally {
      inflating.output.destroy(); // no-op when it ended; stops reading when it did not
      await inflating.closed;
    }
  })();
  return {
    result,
    cancel: () => {
      cancelled = true;
      output?.destroy();
    },
  };
}

/**
 * Deflated data inflated in 256 KiB chunks: a third of the CPU of yauzl's stream (16 KiB reads,
 * 16 KiB chunks). Up to 4 MiB compressed (any scanned page) it is read in one go, which costs
 * 30 % less CPU than piping; larger data is read in 4 MiB slices as the output is consumed.
 * yauzl's streams are not used at all: destroying one while another read is queued on the same
 * file crashes the process (TypeError in its fd-slicer), and this reader stops streams early.
 * `closed` settles once nothing reads the file any more.
 */
async function inflate(access: RandomAccess, start: number, length: number, entryName: string): Promise<{ output: Readable; closed: Promise<void> }> {
  if (length <= SLICE_BYTES) {
    const compressed = await access.readAt(start, length);
    if (compressed.length !== length) throw truncated(entryName);
    const inflater = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK });
    inflater.end(compressed);
    return { output: inflater, closed: Promise.resolve() };
  }
  async function* slices(): AsyncGenerator<Buffer> {
    for (let at = 0; at < length; at += SLICE_BYTES) {
      const slice = await access.readAt(start + at, Math.min(SLICE_BYTES, length - at));
      if (slice.length === 0) throw truncated(entryName);
      yield slice;
    }
  }
  let settle = () => {};
  const closed = new Promise<void>((resolve) => (settle = resolve));
  // Byte mode with a one-slice high-water mark: one slice read ahead, not sixteen (object mode).
  const source = Readable.from(slices(), { objectMode: false, highWaterMark: SLICE_BYTES });
  // Errors reach the consumer through `output`; the callback only marks the end of the pipeline.
  const output = pipeline(source, zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK }), () => settle());
  return { output, closed };
}

/**
 * A stored (uncompressed) entry is read with one positioned read straight into its own buffer:
 * a ZIP of scanned JPEGs is mostly stored entries, and this reads them at disk speed, where
 * yauzl's stream of 16 KiB chunks reaches about a quarter of it.
 */
async function readStored(zipSize: number, access: RandomAccess, entry: Entry, entryName: string, ctx: ReadContext): Promise<EntryData> {
  const size = entry.uncompressedSize; // yauzl checked that it equals compressedSize for stored entries
  const start = await dataStart(zipSize, access, entry, entryName);
  // A large entry is only read whole once its head shows it is a page (not, say, a video).
  if (size > EAGER_BYTES) {
    const head = await access.readAt(start, HEAD_BYTES);
    if (detectFormat(head) === null) return { format: null, bytes: head };
  }
  countInflated(ctx, size, entryName);
  const bytes = await access.readAt(start, size);
  if (bytes.length !== size) throw truncated(entryName);
  if (zlib.crc32(bytes) !== entry.crc32) throw reject('corrupt_archive', entryName, 'is damaged: its content does not match its checksum (CRC-32).');
  return { format: detectFormat(bytes), bytes, start };
}

/** Where the entry's data starts: after its local header, whose name and extra field may differ. */
async function dataStart(zipSize: number, access: RandomAccess, entry: Entry, entryName: string): Promise<number> {
  const header = await access.readAt(entry.relativeOffsetOfLocalHeader, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50) {
    throw reject('corrupt_archive', entryName, 'cannot be found in the archive: the archive is damaged (no local file header).');
  }
  const start = entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > zipSize) throw truncated(entryName);
  return start;
}

function truncated(entryName: string): DossierError {
  return reject('corrupt_archive', entryName, 'runs past the end of the archive: the archive is truncated.');
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
  // Past its declared size an entry is either damaged or a bomb that lies about its size. Keep
  // inflating (counting, keeping nothing) until the bomb limits decide, or the stream ends.
  let overrun = false;
  try {
    // Leaving this loop early (return or throw) destroys the stream and releases the file.
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      received += chunk.length;
      countInflated(ctx, chunk.length, entryName);
      if (received > limits.maxEntryBytes) {
        throw reject('zip_bomb', entryName, `unpacks to more than the ${limits.maxEntryBytes} bytes allowed for one file.`);
      }
      if (received > RATIO_FLOOR && received > entry.compressedSize * limits.maxCompressionRatio) {
        throw reject('zip_bomb', entryName, `is compressed more than ${limits.maxCompressionRatio} to 1, as only a zip bomb is.`);
      }
      if (received > entry.uncompressedSize) overrun = true;
      if (overrun) continue;
      crc = zlib.crc32(chunk, crc);
      chunks.push(chunk);
      if (!detected && received >= HEAD_BYTES) {
        detected = true;
        const head = Buffer.concat(chunks, received);
        if (detectFormat(head) === null) return { format: null, bytes: head };
      }
    }
  } catch (err) {
    if (overrun && !(err instanceof DossierError)) throw damagedSize(entryName, entry);
    throw unpackError(err, entryName);
  }
  if (overrun) throw damagedSize(entryName, entry);
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

function damagedSize(entryName: string, entry: Entry): DossierError {
  return reject('corrupt_archive', entryName, `unpacks to more than the ${entry.uncompressedSize} bytes its header declares: the archive is damaged.`);
}

function unpackError(err: unknown, entryName: string): DossierError {
  if (err instanceof DossierError) return err;
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
  return reject('corrupt_archive', entryName, 'cannot be unpacked: the archive is damaged.', { reason: text });
}
