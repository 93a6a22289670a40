/**
 * One page of a multi-page TIFF as a TIFF of its own, copied by byte ranges: the page's directory,
 * the values it points at and its strips or tiles, nothing else. libvips then decodes the page
 * from memory, so a TIFF kept in object storage is never copied whole to local disk; the pixels,
 * and so the lossless re-encode, are the same as when libvips reads the page in the whole file.
 * Pointers to other directories (sub-IFDs, EXIF, GPS) are left out: they do not hold the page's
 * pixels and the re-encode does not keep them.
 */
import { readExactly, TiffStructureError, TYPE_SIZES, u16, u32, u64, type Layout } from './tiff-ifd.js';

type ReadAt = (position: number, length: number) => Promise<Buffer>;

interface Field {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  readonly value: Buffer;
}

/** Offsets to other directories, and the free-space list: meaningless in the copy. */
const DROPPED = new Set([288, 289, 330, 34665, 34853, 40965]);
/** Data offsets with their byte counts: strips (273, 279) and tiles (324, 325). */
const DATA = [
  { offsets: 273, counts: 279 },
  { offsets: 324, counts: 325 },
];
/** Old-style JPEG (compression 6) points at its data with tags 513/514: not copied here. */
const OLD_JPEG = 513;

export class TiffNotCopyable extends Error {}

/** The page at `ifdOffset` as a single-page TIFF (same byte order and classic/BigTIFF layout). */
export async function singlePageTiff(readAt: ReadAt, ifdOffset: number, maxBytes: number): Promise<Buffer> {
  const header = await readExactly(readAt, 0, 8);
  const little = header.toString('latin1', 0, 2) === 'II';
  const layout: Layout = { little, big: u16(header, 2, little) === 43 };
  const fields = await readFields(readAt, layout, ifdOffset, maxBytes);
  if (fields.some((f) => f.tag === OLD_JPEG)) throw new TiffNotCopyable('old-style JPEG data');
  const data = DATA.find((d) => fields.some((f) => f.tag === d.offsets));
  if (!data) throw new TiffStructureError('a page without strip or tile offsets');
  const offsets = numbers(fields.find((f) => f.tag === data.offsets)!, layout);
  const counts = numbers(fields.find((f) => f.tag === data.counts) ?? fail('a page without strip or tile byte counts'), layout);
  if (counts.length !== offsets.length) throw new TiffStructureError('strip offsets and byte counts differ in number');
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > maxBytes) throw new TiffStructureError(`a page of ${total} compressed bytes`);
  const chunks = await readData(readAt, offsets, counts);
  const kept = fields.filter((f) => !DROPPED.has(f.tag) && f.type !== 13 && f.type !== 18 && f.tag !== data.offsets);
  return write(layout, kept, data.offsets, chunks);
}

async function readFields(readAt: ReadAt, { little, big }: Layout, offset: number, maxBytes: number): Promise<Field[]> {
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  const countBytes = await readExactly(readAt, offset, countSize);
  const count = big ? u64(countBytes, 0, little) : u16(countBytes, 0, little);
  const block = await readExactly(readAt, offset + countSize, count * entrySize);
  const fields: Field[] = [];
  let outOfLine = 0;
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const tag = u16(block, at, little);
    const type = u16(block, at + 2, little);
    const size = TYPE_SIZES[type];
    if (size === undefined) throw new TiffStructureError(`unknown TIFF field type ${type}`);
    const n = big ? u64(block, at + 4, little) : u32(block, at + 4, little);
    const bytes = size * n;
    const valueAt = at + (big ? 12 : 8);
    if (bytes > inline) {
      outOfLine += bytes;
      if (outOfLine > maxBytes) throw new TiffStructureError('page directory values too large');
    }
    const value = bytes <= inline ? Buffer.from(block.subarray(valueAt, valueAt + bytes)) : await readExactly(readAt, big ? u64(block, valueAt, little) : u32(block, valueAt, little), bytes);
    fields.push({ tag, type, count: n, value });
  }
  return fields;
}

function numbers(field: Field, { little }: Layout): number[] {
  const size = TYPE_SIZES[field.type]!;
  const read = field.type === 3 ? (at: number) => u16(field.value, at, little) : field.type === 4 ? (at: number) => u32(field.value, at, little) : field.type === 16 ? (at: number) => u64(field.value, at, little) : null;
  if (!read) throw new TiffStructureError(`strip offsets of field type ${field.type}`);
  return Array.from({ length: field.count }, (_, i) => read(i * size));
}

/** Strips or tiles, neighbours read together (the block cache below serves them by block). */
async function readData(readAt: ReadAt, offsets: number[], counts: number[]): Promise<Buffer[]> {
  return Promise.all(offsets.map(async (offset, i) => {
    const bytes = await readAt(offset, counts[i]!);
    if (bytes.length !== counts[i]) throw new TiffStructureError(`strip ${i} runs past the end of the file`);
    return bytes;
  }));
}

function fail(message: string): never {
  throw new TiffStructureError(message);
}

/** Header, the one directory, its out-of-line values, then the data; offsets as LONG / LONG8. */
function write({ little, big }: Layout, kept: Field[], offsetsTag: number, chunks: Buffer[]): Buffer {
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  const headerSize = big ? 16 : 8;
  const offsetType = big ? 16 : 4;
  const offsetSize = big ? 8 : 4;
  const offsetsField: Field = { tag: offsetsTag, type: offsetType, count: chunks.length, value: Buffer.alloc(offsetSize * chunks.length) };
  const fields = [...kept, offsetsField].sort((a, b) => a.tag - b.tag);
  const ifdSize = (big ? 8 : 2) + fields.length * entrySize + (big ? 8 : 4);
  const valuesSize = fields.reduce((sum, f) => sum + (f.value.length > inline ? f.value.length + (f.value.length & 1) : 0), 0);
  const dataStart = headerSize + ifdSize + valuesSize;
  const total = dataStart + chunks.reduce((sum, c) => sum + c.length, 0);
  if (!big && total > 0xffffffff) throw new TiffNotCopyable('a classic TIFF page larger than 4 GiB');
  let at = dataStart;
  chunks.forEach((chunk, i) => {
    writeUint(offsetsField.value, i * offsetSize, at, offsetSize, little);
    at += chunk.length;
  });

  const out = Buffer.alloc(total);
  out.write(little ? 'II' : 'MM', 0, 'latin1');
  writeUint(out, 2, big ? 43 : 42, 2, little);
  if (big) {
    writeUint(out, 4, 8, 2, little);
    writeUint(out, 8, headerSize, 8, little);
  } else writeUint(out, 4, headerSize, 4, little);

  let entry = headerSize;
  writeUint(out, entry, fields.length, big ? 8 : 2, little);
  entry += big ? 8 : 2;
  let value = headerSize + ifdSize;
  for (const f of fields) {
    writeUint(out, entry, f.tag, 2, little);
    writeUint(out, entry + 2, f.type, 2, little);
    writeUint(out, entry + 4, f.count, big ? 8 : 4, little);
    const field = entry + (big ? 12 : 8);
    if (f.value.length <= inline) f.value.copy(out, field);
    else {
      writeUint(out, field, value, inline, little);
      f.value.copy(out, value);
      value += f.value.length + (f.value.length & 1); // values start on a word boundary
    }
    entry += entrySize;
  }
  // The next-directory offset stays 0: one page.
  at = dataStart;
  for (const chunk of chunks) at += chunk.copy(out, at);
  return out;
}

function writeUint(buffer: Buffer, at: number, v: number, size: number, little: boolean): void {
  if (size === 2) little ? buffer.writeUInt16LE(v, at) : buffer.writeUInt16BE(v, at);
  else if (size === 4) little ? buffer.writeUInt32LE(v, at) : buffer.writeUInt32BE(v, at);
  else little ? buffer.writeBigUInt64LE(BigInt(v), at) : buffer.writeBigUInt64BE(BigInt(v), at);
}
