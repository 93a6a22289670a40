/**
 * Reads a ZIP front to back while it is still being written: local file header after local file
 * header, each entry's data as soon as all of it is in the file. Only what can be delimited
 * without the central directory is read: an entry with a data descriptor (sizes after the data),
 * an encrypted one, an unknown method, a size over the read bound, a CRC or size mismatch, a nested
 * archive, PDF or TIFF, or anything else unusual ends the reading with a reason, and the upload goes
 * the ordinary way (the reader of zip-pages.ts after the upload, which then also gives the rejection).
 * What is read here is only a candidate: the central directory decides (streamed-pages.ts).
 */
import zlib from 'node:zlib';
import { isDossierError } from '../errors.js';
import { detectFormat, type PageFormat } from './detect.js';
import { imagePage, type SingleImageFormat } from './image-pages.js';
import type { IngestLimits, PageMediaType } from './types.js';

/** What the tail read of one entry, keyed by its local header's offset. */
export interface TailEntry {
  readonly offset: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly dataStart: number;
  /** Set when the entry is one single-image page; null for content that is no page at all. */
  readonly page: TailPage | null;
}

export interface TailPage {
  readonly bytes: Buffer;
  readonly mediaType: PageMediaType;
  readonly width: number | null;
  readonly height: number | null;
}

export type TailStep =
  | { readonly type: 'entry'; readonly entry: TailEntry }
  /** Every local entry was read: the central directory starts at `offset`. */
  | { readonly type: 'entries-end'; readonly offset: number }
  | { readonly type: 'wait' }
  | { readonly type: 'give-up'; readonly reason: string };

/** Positioned reads of the growing file; `available` bytes of it are known to be written. */
export interface GrowingFile {
  readonly available: number;
  read(position: number, length: number): Buffer;
}

/** Entries above this are left to the after-upload reader (it reads large entries in slices); with
 * 16 pages between the threads, at most 256 MiB of pages are held in memory at once. */
export const TAIL_MAX_ENTRY_BYTES = 16 * 1024 * 1024;
const RATIO_FLOOR = 1024 * 1024;
const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const SINGLE_IMAGES = new Set<PageFormat>(['jpeg', 'png', 'webp', 'jp2']);

export class ZipTail {
  private position = 0;
  private finished = false;

  constructor(private readonly limits: IngestLimits) {}

  /** The next thing the bytes so far allow: an entry, the end of the entries, or wait for more. */
  async step(file: GrowingFile): Promise<TailStep> {
    if (this.finished) return { type: 'wait' };
    const at = this.position;
    if (at + 4 > file.available) return { type: 'wait' };
    const signature = file.read(at, 4).readUInt32LE(0);
    if (signature === CENTRAL || signature === END || signature === END64) {
      this.finished = true;
      return { type: 'entries-end', offset: at };
    }
    if (signature !== LOCAL) return this.giveUp(`no local header at ${at}`);
    if (at + 30 > file.available) return { type: 'wait' };
    const h = file.read(at, 30);
    const flags = h.readUInt16LE(6);
    const method = h.readUInt16LE(8);
    const nameLength = h.readUInt16LE(26);
    const extraLength = h.readUInt16LE(28);
    if (flags & 0x1) return this.giveUp('encrypted entry');
    if (flags & 0x8) return this.giveUp('entry with a data descriptor');
    if (method !== 0 && method !== 8) return this.giveUp(`compression method ${method}`);
    const dataStart = at + 30 + nameLength + extraLength;
    if (dataStart > file.available) return { type: 'wait' };
    const sizes = entrySizes(h, file.read(at + 30 + nameLength, extraLength));
    if (!sizes) return this.giveUp('ZIP64 sizes missing');
    const { compressedSize, uncompressedSize } = sizes;
    if (Math.max(compressedSize, uncompressedSize) > Math.min(TAIL_MAX_ENTRY_BYTES, this.limits.maxEntryBytes)) return this.giveUp('entry too large to read in the stream');
    if (uncompressedSize > RATIO_FLOOR && uncompressedSize > compressedSize * this.limits.maxCompressionRatio) return this.giveUp('compression ratio over the limit');
    if (method === 0 && compressedSize !== uncompressedSize) return this.giveUp('stored entry whose sizes differ');
    if (dataStart + compressedSize > file.available) return { type: 'wait' };
    const raw = file.read(dataStart, compressedSize);
    let bytes: Buffer;
    try {
      bytes = method === 0 ? raw : zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, uncompressedSize) + 1 });
    } catch {
      return this.giveUp('entry does not inflate');
    }
    if (bytes.length !== uncompressedSize) return this.giveUp('entry size differs from its header');
    const crc32 = h.readUInt32LE(14);
    if (zlib.crc32(bytes) !== crc32) return this.giveUp('entry CRC-32 mismatch');
    this.position = dataStart + compressedSize;
    const format = detectFormat(bytes);
    if (format !== null && !SINGLE_IMAGES.has(format)) return this.giveUp(`entry holds a ${format}`);
    let page: TailPage | null = null;
    if (format !== null) {
      try {
        const p = await imagePage(bytes, format as SingleImageFormat, '', this.limits);
        page = { bytes, mediaType: p.mediaType, width: p.width, height: p.height };
      } catch (err) {
        if (!isDossierError(err)) throw err;
        return this.giveUp(`entry rejected as a page (${err.code})`);
      }
    }
    return { type: 'entry', entry: { offset: at, method, crc32, compressedSize, uncompressedSize, dataStart, page } };
  }

  private giveUp(reason: string): TailStep {
    this.finished = true;
    return { type: 'give-up', reason };
  }
}

/** The sizes of the local header, or of its ZIP64 extra field where the header says 0xFFFFFFFF. */
function entrySizes(h: Buffer, extra: Buffer): { compressedSize: number; uncompressedSize: number } | null {
  let compressedSize = h.readUInt32LE(18);
  let uncompressedSize = h.readUInt32LE(22);
  if (compressedSize !== 0xffffffff && uncompressedSize !== 0xffffffff) return { compressedSize, uncompressedSize };
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(i);
    const size = extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      let at = i + 4;
      const next = () => {
        if (at + 8 > i + 4 + size || at + 8 > extra.length) return null;
        const v = Number(extra.readBigUInt64LE(at));
        at += 8;
        return v;
      };
      // Present in this order, each only when its header field is 0xFFFFFFFF.
      if (uncompressedSize === 0xffffffff) uncompressedSize = next() ?? -1;
      if (compressedSize === 0xffffffff) compressedSize = next() ?? -1;
      return compressedSize < 0 || uncompressedSize < 0 ? null : { compressedSize, uncompressedSize };
    }
    i += 4 + size;
  }
  return null;
}
