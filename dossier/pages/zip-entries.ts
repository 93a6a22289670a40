/**
 * The plan for reading a ZIP, made from the central directory alone before any file data is
 * read: every name is checked (one unsafe name rejects the archive), junk is dropped, zip-bomb
 * limits are checked against the declared sizes, and the rest is put in dossier order.
 */
import fs from 'node:fs/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { withBlockCache } from './block-cache.js';
import { expectPages, reject, type PageInput, type ReadContext } from './context.js';
import { openRandomAccess } from './random-access.js';
import { isRangedFile } from './ranged-file.js';
import { yauzlReader } from './yauzl-ranged-reader.js';

export interface PlannedEntry {
  readonly entry: Entry;
  /** The entry's path inside this archive, as a person reads it. */
  readonly path: string;
  /** Named like a page (`.jpg`, `.pdf`, ...): unreadable content is then an error, not junk. */
  readonly pageLike: 'image' | 'pdf' | 'zip' | null;
}

const OPTIONS: yauzl.Options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true };
/** Below this size a high ratio is harmless (a text file of spaces) and is not held against it. */
const RATIO_FLOOR = 1024 * 1024;
/** Blocks of the central directory read at once (and two ahead) from a file on disk. */
const DIRECTORY_BLOCK_BYTES = 1024 * 1024;
/** The fixed part of a local file header; its name and extra field follow. */
const LOCAL_HEADER_BYTES = 30;
const JUNK_FILES = new Set(['thumbs.db', 'desktop.ini']);
const PAGE_EXTENSIONS: Record<string, PlannedEntry['pageLike']> = {
  jpg: 'image', jpeg: 'image', jpe: 'image', jfif: 'image', png: 'image', tif: 'image', tiff: 'image',
  jp2: 'image', j2k: 'image', jpx: 'image', jpf: 'image', webp: 'image', pdf: 'pdf', zip: 'zip',
};

export async function openArchive(input: PageInput, name: string): Promise<ZipFile> {
  let zip: ZipFile;
  const local = typeof input === 'string' ? await cachedFile(input) : null;
  try {
    // A copy each time: yauzl writes defaults into the options object it is given.
    zip = await (isRangedFile(input)
      ? yauzl.fromRandomAccessReaderPromise(yauzlReader(input), input.size, { ...OPTIONS })
      : local
        ? yauzl.fromRandomAccessReaderPromise(local.reader, local.size, { ...OPTIONS })
        : yauzl.fromBufferPromise(input as Buffer, { ...OPTIONS }));
  } catch (err) {
    await local?.release();
    if (isFileSystemError(err)) throw err; // the upload could not be read: not the clerk's fault
    throw reject('corrupt_archive', name, 'is not a readable ZIP archive: it is damaged or incomplete.', { reason: message(err) });
  }
  // Errors after the listing (e.g. while closing) must not crash the process as unhandled events.
  zip.on('error', () => {});
  return zip;
}

/**
 * A ZIP on disk, read by yauzl through a block cache: its central directory in a few reads of a
 * MiB, where yauzl's own file reader makes two reads through libuv's pool per entry (5,253 entries:
 * 750 ms against 90 ms, BENCHMARKS.md). Entry data is read elsewhere (zip-pages.ts), not here.
 */
async function cachedFile(path: string): Promise<{ reader: yauzl.RandomAccessReader; size: number; release: () => Promise<void> }> {
  const access = await openRandomAccess(path);
  let released: Promise<void> | null = null;
  const release = () => (released ??= access.close());
  try {
    const { size } = await fs.stat(path);
    const file = withBlockCache({ size, readAt: (position, length) => access.readAt(position, length) }, { blockBytes: DIRECTORY_BLOCK_BYTES });
    return { reader: yauzlReader(file, release), size, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Closes the archive and, for a file, waits until its descriptor is really closed. */
export async function closeArchive(zip: ZipFile, fromFile: boolean): Promise<void> {
  if (!zip.isOpen) return;
  const closed = fromFile ? new Promise<void>((resolve) => zip.once('close', () => resolve())) : Promise.resolve();
  zip.close();
  await closed;
}

/** Reads the central directory and returns the entries to read, in dossier order. */
export async function planEntries(zip: ZipFile, name: string, ctx: ReadContext, level: number): Promise<PlannedEntry[]> {
  const { limits } = ctx;
  // Entry records cost memory before anything is known about them; junk rarely outnumbers pages.
  if (zip.entryCount > 4 * limits.maxPages + 1024) {
    throw reject('too_many_pages', name, `lists ${zip.entryCount} files, far more than the ${limits.maxPages} pages a dossier may have.`);
  }
  const entries = await listEntries(zip, name);
  // Every name first: one unsafe name rejects the archive whatever else is wrong with it.
  for (const { fileName } of entries) {
    const unsafe = unsafeReason(fileName);
    if (unsafe) throw reject('unsafe_path', name, `contains an entry with an unsafe name ("${printable(fileName)}": ${unsafe}).`);
  }
  for (const entry of entries) {
    if (isSymlink(entry)) throw reject('unsafe_path', name, `contains a symbolic link ("${printable(entry.fileName)}"), which could point outside its folder.`);
  }
  if (overlapping(entries)) throw reject('zip_bomb', name, 'has entries that share their bytes (overlapping entries), as only a zip bomb has.');
  const planned: PlannedEntry[] = [];
  let declared = 0;
  let pageLike = 0;
  for (const entry of entries) {
    const path = entry.fileName;
    const segments = path.split('/').filter((s) => s !== '' && s !== '.');
    if (isJunk(path, segments)) continue;
    const entryName = name === '' ? path : `${name}/${path}`;
    if (level + segments.length - 1 > limits.maxDepth) {
      throw reject('unsafe_path', entryName, `lies in folders nested more than ${limits.maxDepth} levels deep.`);
    }
    if (entry.isEncrypted()) throw reject('unsupported_format', entryName, 'is encrypted (password-protected). Please upload the archive without a password.');
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw reject('unsupported_format', entryName, `is compressed with a method this service cannot read (method ${entry.compressionMethod}); please use ordinary ZIP (deflate) compression.`);
    }
    checkDeclaredSize(entry, entryName, ctx);
    declared += entry.uncompressedSize;
    if (ctx.inflated + declared > limits.maxTotalUncompressedBytes) {
      throw reject('zip_bomb', name, `would unpack to more than ${limits.maxTotalUncompressedBytes} bytes in total.`, { limit: limits.maxTotalUncompressedBytes });
    }
    const extension = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
    const kind = PAGE_EXTENSIONS[extension] ?? null;
    if (kind === 'image' || kind === 'pdf') pageLike++;
    planned.push({ entry, path, pageLike: kind });
  }
  expectPages(ctx, pageLike, name, true);
  return sortEntries(planned);
}

function checkDeclaredSize(entry: Entry, entryName: string, { limits }: ReadContext): void {
  const { uncompressedSize: size, compressedSize } = entry;
  if (size > limits.maxEntryBytes) {
    throw reject('zip_bomb', entryName, `would unpack to ${size} bytes, more than the ${limits.maxEntryBytes} bytes allowed for one file.`);
  }
  if (size > RATIO_FLOOR && size > compressedSize * limits.maxCompressionRatio) {
    throw reject('zip_bomb', entryName, `is compressed more than ${limits.maxCompressionRatio} to 1, as only a zip bomb is.`, { size, compressedSize });
  }
}

/** All central directory records, or a rejection naming the first broken or unsafe one. */
function listEntries(zip: ZipFile, name: string): Promise<Entry[]> {
  return new Promise((resolve, fail) => {
    const entries: Entry[] = [];
    const onEntry = (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    };
    const done = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEnd = () => {
      done();
      resolve(entries);
    };
    const onError = (err: Error) => {
      done();
      // yauzl's own name checks (absolute path, `..`, backslash tricks) stop the listing.
      if (/^(invalid characters in fileName|absolute path|invalid relative path)/.test(err.message)) {
        const entry = printable(err.message.replace(/^[^:]*: /, ''));
        fail(reject('unsafe_path', name, `contains an entry with an unsafe name ("${entry}"), which could write outside its folder.`));
      } else if (/strong encryption/.test(err.message)) {
        fail(reject('unsupported_format', name, 'contains encrypted entries. Please upload the archive without a password.'));
      } else {
        fail(reject('corrupt_archive', name, 'is a damaged ZIP archive: its table of contents cannot be read.', { reason: message(err) }));
      }
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** A Unix symbolic link (S_IFLNK in the high half of the external attributes). */
function isSymlink(entry: Entry): boolean {
  return entry.versionMadeBy >> 8 === 3 && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

/**
 * Entries whose bytes overlap another's: honest writers lay entries end to end, while a
 * non-recursive bomb points many names at one stretch of data to multiply it.
 */
function overlapping(entries: readonly Entry[]): boolean {
  const spans = entries.map((e) => [e.relativeOffsetOfLocalHeader, e.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + e.compressedSize] as const);
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) return true;
  return false;
}

function unsafeReason(path: string): string | null {
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.startsWith('/') || path.startsWith('\\')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'names a drive';
  if (path.split(/[/\\]/).includes('..')) return 'climbs out of its folder with ".."';
  return null;
}

/** Folders, macOS resource forks and Finder files, Windows thumbnails, dotfiles. */
function isJunk(path: string, segments: string[]): boolean {
  if (path.endsWith('/') || segments.length === 0) return true;
  if (segments.some((s) => s.startsWith('.') || s === '__MACOSX')) return true;
  return JUNK_FILES.has(segments[segments.length - 1]!.toLowerCase());
}

// A fixed locale: the page order must not depend on the server it runs on (re-runs give the same root).
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Natural order, segment by segment: `2.jpg` before `10.jpg`, and a folder is a volume, so all of
 * `vol2/` comes before `vol10/`. Names equal to the collator fall back to code points, then to
 * their order in the archive, so the order never depends on the sort algorithm.
 */
function sortEntries(entries: PlannedEntry[]): PlannedEntry[] {
  const keyed = entries.map((e, index) => ({ e, index, segments: e.path.split('/').filter((s) => s !== '' && s !== '.') }));
  keyed.sort((a, b) => {
    const n = Math.min(a.segments.length, b.segments.length);
    for (let i = 0; i < n; i++) {
      const c = collator.compare(a.segments[i]!, b.segments[i]!);
      if (c !== 0) return c;
    }
    if (a.segments.length !== b.segments.length) return a.segments.length - b.segments.length;
    if (a.e.path !== b.e.path) return a.e.path < b.e.path ? -1 : 1;
    return a.index - b.index;
  });
  return keyed.map((k) => k.e);
}

function isFileSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function message(err: unknown): string {
  return printable((err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200));
}

/** Control characters shown as escapes, so a hostile name cannot forge lines in a message. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
