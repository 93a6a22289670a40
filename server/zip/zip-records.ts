/**
 * The byte layouts of a STORE-only ZIP written front to back (PKWARE APPNOTE.TXT 6.3.10): local
 * header, data descriptor, central directory record, and the end records with their ZIP64 forms.
 * Pure functions of their arguments, so the same entries always give the same bytes.
 */

/** A 32-bit size or offset field holding this value means "the real one is in the ZIP64 extra". */
export const ZIP64_LIMIT = 0xffffffff;
/** The same for the 16-bit entry counts of the end record. */
export const ZIP64_COUNT_LIMIT = 0xffff;

const SIGNATURE = {
  local: 0x04034b50,
  descriptor: 0x08074b50,
  central: 0x02014b50,
  zip64End: 0x06064b50,
  zip64Locator: 0x07064b50,
  end: 0x06054b50,
} as const;

/** Bit 3: CRC and sizes follow the data in a descriptor (the CRC is known only then); bit 11: UTF-8 names. */
const FLAGS = 0x0008 | 0x0800;
const STORED = 0;
const VERSION_NEEDED = 20;
const VERSION_NEEDED_ZIP64 = 45;
/** Made by: Unix (high byte 3, so that the external attributes hold a mode), spec version 4.5. */
const VERSION_MADE_BY = (3 << 8) | 45;
/** A regular file, rw-r--r--. */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
const ZIP64_EXTRA_ID = 0x0001;

export interface DosDateTime {
  readonly time: number;
  readonly date: number;
}

/**
 * MS-DOS time and date of `d` in UTC (two-second steps), clamped to the format's 1980–2107: UTC
 * rather than the server's zone, so that an export's bytes do not depend on where it was made.
 */
export function dosDateTime(d: Date): DosDateTime {
  const ms = Math.min(Math.max(d.getTime(), Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58));
  const t = new Date(ms);
  return {
    time: (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1),
    date: ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate(),
  };
}

/** Writes a non-negative integer below 2^53 as 64-bit little-endian (no BigInt on the hot path). */
function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, at);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

/**
 * The local header. With the descriptor flag its CRC and sizes are zero (APPNOTE 4.4.4); a ZIP64
 * entry carries a ZIP64 extra (zero sizes too), which tells a streaming reader that the
 * descriptor's sizes are 8 bytes wide (4.3.9.2), as Python's zipfile writes it.
 */
export function localHeader(name: Buffer, time: DosDateTime, zip64: boolean): Buffer {
  const extraLength = zip64 ? 20 : 0;
  const buf = Buffer.alloc(30 + name.length + extraLength);
  buf.writeUInt32LE(SIGNATURE.local, 0);
  buf.writeUInt16LE(zip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 4);
  buf.writeUInt16LE(FLAGS, 6);
  buf.writeUInt16LE(STORED, 8);
  buf.writeUInt16LE(time.time, 10);
  buf.writeUInt16LE(time.date, 12);
  // 14..25: CRC-32, compressed and uncompressed size stay zero (in the descriptor instead).
  buf.writeUInt16LE(name.length, 26);
  buf.writeUInt16LE(extraLength, 28);
  name.copy(buf, 30);
  if (zip64) {
    buf.writeUInt16LE(ZIP64_EXTRA_ID, 30 + name.length);
    buf.writeUInt16LE(16, 32 + name.length);
  }
  return buf;
}

/** The data descriptor after an entry's bytes: CRC-32, then compressed and uncompressed size (equal: stored). */
export function dataDescriptor(crc: number, size: number, zip64: boolean): Buffer {
  const buf = Buffer.alloc(zip64 ? 24 : 16);
  buf.writeUInt32LE(SIGNATURE.descriptor, 0);
  buf.writeUInt32LE(crc, 4);
  if (zip64) {
    writeU64(buf, size, 8);
    writeU64(buf, size, 16);
  } else {
    buf.writeUInt32LE(size, 8);
    buf.writeUInt32LE(size, 12);
  }
  return buf;
}

export interface CentralEntry {
  readonly name: Buffer;
  readonly time: DosDateTime;
  readonly crc: number;
  readonly size: number;
  /** Where the entry's local header starts. */
  readonly offset: number;
  /** The local header had the ZIP64 extra: the sizes go in the ZIP64 extra here too. */
  readonly zip64: boolean;
  /** Put the offset in the ZIP64 extra even when it fits (tests of readers' ZIP64 paths). */
  readonly forceZip64Offset: boolean;
}

/** One central directory record; a field that does not fit (or is forced) moves to the ZIP64 extra. */
export function centralRecord(e: CentralEntry): Buffer {
  const sizesIn64 = e.zip64 || e.size >= ZIP64_LIMIT;
  const offsetIn64 = e.forceZip64Offset || e.offset >= ZIP64_LIMIT;
  const extraData = (sizesIn64 ? 16 : 0) + (offsetIn64 ? 8 : 0);
  const extraLength = extraData > 0 ? 4 + extraData : 0;
  const buf = Buffer.alloc(46 + e.name.length + extraLength);
  buf.writeUInt32LE(SIGNATURE.central, 0);
  buf.writeUInt16LE(VERSION_MADE_BY, 4);
  buf.writeUInt16LE(extraLength > 0 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED, 6);
  buf.writeUInt16LE(FLAGS, 8);
  buf.writeUInt16LE(STORED, 10);
  buf.writeUInt16LE(e.time.time, 12);
  buf.writeUInt16LE(e.time.date, 14);
  buf.writeUInt32LE(e.crc, 16);
  buf.writeUInt32LE(sizesIn64 ? ZIP64_LIMIT : e.size, 20);
  buf.writeUInt32LE(sizesIn64 ? ZIP64_LIMIT : e.size, 24);
  buf.writeUInt16LE(e.name.length, 28);
  buf.writeUInt16LE(extraLength, 30);
  // 32..37: comment length, disk number start and internal attributes stay zero.
  buf.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
  buf.writeUInt32LE(offsetIn64 ? ZIP64_LIMIT : e.offset, 42);
  e.name.copy(buf, 46);
  if (extraLength > 0) {
    // The ZIP64 extra's fields in their fixed order, each only if its header field says so (4.5.3).
    let at = 46 + e.name.length;
    buf.writeUInt16LE(ZIP64_EXTRA_ID, at);
    buf.writeUInt16LE(extraData, at + 2);
    at += 4;
    if (sizesIn64) {
      writeU64(buf, e.size, at);
      writeU64(buf, e.size, at + 8);
      at += 16;
    }
    if (offsetIn64) writeU64(buf, e.offset, at);
  }
  return buf;
}

/**
 * What follows the central directory: the end record, preceded by the ZIP64 end record and its
 * locator when a count, size or offset does not fit (or `force`); the end record's fields that do
 * not fit hold their all-ones marker, and with `force` all of them do, so readers take the ZIP64 path.
 */
export function endRecords(entries: number, centralOffset: number, centralSize: number, force: boolean): Buffer {
  const countOver = force || entries >= ZIP64_COUNT_LIMIT;
  const sizeOver = force || centralSize >= ZIP64_LIMIT;
  const offsetOver = force || centralOffset >= ZIP64_LIMIT;
  const zip64 = countOver || sizeOver || offsetOver;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(SIGNATURE.end, 0);
  // 4..7: this disk and the central directory's disk: 0.
  end.writeUInt16LE(countOver ? ZIP64_COUNT_LIMIT : entries, 8);
  end.writeUInt16LE(countOver ? ZIP64_COUNT_LIMIT : entries, 10);
  end.writeUInt32LE(sizeOver ? ZIP64_LIMIT : centralSize, 12);
  end.writeUInt32LE(offsetOver ? ZIP64_LIMIT : centralOffset, 16);
  if (!zip64) return end;

  const record = Buffer.alloc(56);
  record.writeUInt32LE(SIGNATURE.zip64End, 0);
  writeU64(record, 56 - 12, 4); // the size of the rest of the record
  record.writeUInt16LE(VERSION_MADE_BY, 12);
  record.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
  // 16..23: disk numbers 0.
  writeU64(record, entries, 24);
  writeU64(record, entries, 32);
  writeU64(record, centralSize, 40);
  writeU64(record, centralOffset, 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(SIGNATURE.zip64Locator, 0);
  writeU64(locator, centralOffset + centralSize, 8); // where the ZIP64 end record starts
  locator.writeUInt32LE(1, 16); // disks in all
  return Buffer.concat([record, locator, end]);
}
