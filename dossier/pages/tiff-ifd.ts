/**
 * Walks the image file directories (IFDs) of a TIFF without decoding anything: page count, each
 * page's size (for the pixel-flood check before any decode), bit depth and resolution. sharp only
 * reports one density, but fax scans have different horizontal and vertical resolutions
 * (204 x 98 dpi), which a lossless re-encode must keep. Classic TIFF and BigTIFF, both byte orders.
 */
import type { RandomAccess } from './random-access.js';

type ReadAt = RandomAccess['readAt'];

export interface TiffDirectory {
  /** Index of the IFD in the file: the `page` option of sharp. */
  readonly index: number;
  /** Where the IFD starts in the file (tiff-page-copy.ts copies a page from there). */
  readonly offset: number;
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly samplesPerPixel: number;
  /** 1 none, 4 CCITT G4, 5 LZW, 7 JPEG, 8 deflate, ... */
  readonly compression: number;
  /** 0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 palette, 5 CMYK, 6 YCbCr, ... */
  readonly photometric: number | null;
  /** NewSubfileType bit 0: a reduced-resolution copy (thumbnail) of another page, not a page. */
  readonly reduced: boolean;
  /** Pixels per resolution unit; unit 2 is inch, 3 is centimetre, 1 means none. */
  readonly xres: number | null;
  readonly yres: number | null;
  readonly resolutionUnit: number;
}

export class TiffStructureError extends Error {}

export const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };
const MAX_ENTRIES = 4096; // real IFDs hold a few dozen tags; more is a hostile file

export interface Layout {
  readonly little: boolean;
  readonly big: boolean; // BigTIFF: 8-byte counts and offsets, 20-byte entries
}

/**
 * The directories in file order. Stops once more than `maxPages` pages (or a hostile number of
 * thumbnail directories) are seen, so a caller can refuse a file with too many pages without
 * walking all of them; `complete` is then false. Throws TiffStructureError on a broken file.
 */
export async function readTiffDirectories(readAt: ReadAt, maxPages: number): Promise<{ directories: TiffDirectory[]; complete: boolean }> {
  const header = await readAt(0, 16);
  if (header.length < 8) throw new TiffStructureError('file too short for a TIFF header');
  const little = header.toString('latin1', 0, 2) === 'II';
  const layout: Layout = { little, big: u16(header, 2, little) === 43 };
  if (layout.big && header.length < 16) throw new TiffStructureError('file too short for a BigTIFF header');
  let offset = layout.big ? u64(header, 8, little) : u32(header, 4, little);
  const seen = new Set<number>();
  const directories: TiffDirectory[] = [];
  let pages = 0;
  while (offset !== 0) {
    if (pages > maxPages || directories.length > 2 * maxPages + 64) return { directories, complete: false };
    if (seen.has(offset)) throw new TiffStructureError('IFD chain loops back on itself');
    seen.add(offset);
    const { directory, next } = await readDirectory(readAt, layout, offset, directories.length);
    directories.push(directory);
    if (!directory.reduced) pages++;
    offset = next;
  }
  return { directories, complete: true };
}

async function readDirectory(readAt: ReadAt, layout: Layout, offset: number, index: number) {
  const { little, big } = layout;
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const countBytes = await readExactly(readAt, offset, countSize);
  const count = big ? u64(countBytes, 0, little) : u16(countBytes, 0, little);
  if (count === 0 || count > MAX_ENTRIES) throw new TiffStructureError(`IFD ${index} has ${count} entries`);
  const block = await readExactly(readAt, offset + countSize, count * entrySize + (big ? 8 : 4));
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const tag = u16(block, at, little);
    if (!WANTED.has(tag)) continue;
    tags.set(tag, await firstValue(readAt, layout, block, at));
  }
  const next = big ? u64(block, count * entrySize, little) : u32(block, count * entrySize, little);
  const width = tags.get(256) ?? 0;
  const height = tags.get(257) ?? 0;
  if (!(width > 0 && height > 0)) throw new TiffStructureError(`IFD ${index} has no image size`);
  const directory: TiffDirectory = {
    index,
    offset,
    width,
    height,
    bitsPerSample: tags.get(258) ?? 1, // the TIFF default
    samplesPerPixel: tags.get(277) ?? 1,
    compression: tags.get(259) ?? 1,
    photometric: tags.get(262) ?? null,
    reduced: ((tags.get(254) ?? 0) & 1) === 1,
    xres: positive(tags.get(282)),
    yres: positive(tags.get(283)),
    resolutionUnit: tags.get(296) ?? 2, // the TIFF default is inch
  };
  return { directory, next };
}

// NewSubfileType, ImageWidth, ImageLength, BitsPerSample, Compression, Photometric, SamplesPerPixel,
// X/YResolution, ResolutionUnit
const WANTED = new Set([254, 256, 257, 258, 259, 262, 277, 282, 283, 296]);

/** The first value of an entry, read inline or from its offset; rationals as a number. */
async function firstValue(readAt: ReadAt, { little, big }: Layout, block: Buffer, at: number): Promise<number> {
  const type = u16(block, at + 2, little);
  const size = TYPE_SIZES[type];
  if (size === undefined) throw new TiffStructureError(`unknown TIFF field type ${type}`);
  const count = big ? u64(block, at + 4, little) : u32(block, at + 4, little);
  if (count === 0) throw new TiffStructureError('TIFF field without a value');
  const inline = big ? 8 : 4;
  const valueAt = at + (big ? 12 : 8);
  const value = size * count <= inline ? block.subarray(valueAt, valueAt + size) : await readExactly(readAt, big ? u64(block, valueAt, little) : u32(block, valueAt, little), size);
  switch (type) {
    case 1: case 6: case 7: return value.readUInt8(0);
    case 3: case 8: return u16(value, 0, little);
    case 4: case 9: case 13: return u32(value, 0, little);
    case 16: case 17: case 18: return u64(value, 0, little);
    case 5: case 10: {
      const denominator = u32(value, 4, little);
      return denominator === 0 ? 0 : u32(value, 0, little) / denominator;
    }
    case 11: return little ? value.readFloatLE(0) : value.readFloatBE(0);
    case 12: return little ? value.readDoubleLE(0) : value.readDoubleBE(0);
    default: throw new TiffStructureError(`TIFF field type ${type} where a number was expected`);
  }
}

export async function readExactly(readAt: ReadAt, position: number, length: number): Promise<Buffer> {
  const bytes = await readAt(position, length);
  if (bytes.length < length) throw new TiffStructureError(`TIFF structure runs past the end of the file at ${position}`);
  return bytes;
}

const positive = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) && v > 0 ? v : null);
export const u16 = (b: Buffer, at: number, little: boolean): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
export const u32 = (b: Buffer, at: number, little: boolean): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
export function u64(b: Buffer, at: number, little: boolean): number {
  const v = little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TiffStructureError('TIFF offset beyond any real file');
  return Number(v);
}
