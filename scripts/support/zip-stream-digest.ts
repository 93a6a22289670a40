/**
 * Hashes the entries of a ZIP while it arrives, front to back, so that `dossier download --verify`
 * has every page's SHA-256 (and SM3) when the last byte lands, without reading the file again.
 * The export writes STORED entries whose sizes follow the data in a data descriptor; such an
 * entry ends at the first descriptor signature whose CRC-32 and size are those of the bytes
 * before it (a false match needs both a signature and a 32-bit CRC to coincide at exactly the
 * right length). What this reader cannot follow (a compressed entry, a broken header) stops it;
 * the digests it has are only used where the central directory confirms them (name, offset, size,
 * CRC), and anything else is hashed from the finished file.
 */
import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';

export interface StreamedDigest {
  readonly sha256: string;
  readonly sm3?: string;
  readonly size: number;
  readonly crc: number;
  /** Where the entry's local header starts in the archive. */
  readonly offset: number;
}

const LOCAL = 0x04034b50;
const DESCRIPTOR = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
const DESCRIPTOR_FLAG = 0x0008;
const ZIP64_EXTRA = 0x0001;

interface OpenEntry {
  readonly name: string;
  readonly offset: number;
  /** Known from the local header, or null: find the descriptor. */
  readonly declared: number | null;
  readonly descriptorLength: number;
  readonly sha256: Hash;
  readonly sm3: Hash | null;
  size: number;
  crc: number;
}

export interface ZipStreamDigestOptions {
  /** Whether an entry also gets its SM3 (the pages of a national-suite manifest). */
  readonly sm3For?: (name: string) => boolean;
  /** Told each entry as it completes; `bytes` for the small entries asked for by `keep`. */
  readonly onEntry?: (name: string, digest: StreamedDigest, bytes: Buffer | null) => void;
  readonly keep?: (name: string) => boolean;
}

export class ZipStreamDigest {
  readonly digests = new Map<string, StreamedDigest>();
  /** Why the reader stopped before the central directory, if it did. */
  stopped: string | null = null;
  private pending: Buffer = Buffer.alloc(0);
  /** Archive offset of pending[0]. */
  private at = 0;
  private entry: OpenEntry | null = null;
  private kept: Buffer[] | null = null;
  private done = false;

  constructor(private readonly options: ZipStreamDigestOptions = {}) {}

  push(chunk: Buffer): void {
    if (this.done) return;
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (!this.done && (this.entry ? this.data() : this.header()));
  }

  /** Parses a local header; false when more bytes are needed. */
  private header(): boolean {
    const b = this.pending;
    if (b.length < 4) return false;
    if (b.readUInt32LE(0) !== LOCAL) return this.stop(null); // the central directory (or junk): nothing more to hash
    if (b.length < 30) return false;
    const flags = b.readUInt16LE(6);
    const method = b.readUInt16LE(8);
    const nameLength = b.readUInt16LE(26);
    const extraLength = b.readUInt16LE(28);
    if (b.length < 30 + nameLength + extraLength) return false;
    if (method !== 0) return this.stop(`entry at ${this.at} is compressed (method ${method})`);
    const name = b.toString('utf8', 30, 30 + nameLength);
    const extra = b.subarray(30 + nameLength, 30 + nameLength + extraLength);
    const zip64 = hasExtra(extra, ZIP64_EXTRA);
    let declared: number | null = null;
    if (!(flags & DESCRIPTOR_FLAG)) {
      const size = b.readUInt32LE(22);
      if (size === 0xffffffff) return this.stop(`${name}: ZIP64 sizes in the local header are not followed`);
      declared = size;
    }
    const keep = this.options.keep?.(name) ?? false;
    this.kept = keep ? [] : null;
    this.entry = {
      name, offset: this.at, declared, descriptorLength: declared === null ? (zip64 ? 24 : 16) : 0,
      sha256: createHash('sha256'), sm3: this.options.sm3For?.(name) ? createHash('sm3') : null, size: 0, crc: 0,
    };
    this.advance(30 + nameLength + extraLength);
    return true;
  }

  /** Takes entry bytes; true when the entry ended (the next header may follow), false for more bytes. */
  private data(): boolean {
    const e = this.entry!;
    if (e.declared !== null) {
      const take = Math.min(e.declared - e.size, this.pending.length);
      this.feed(this.pending.subarray(0, take), null);
      this.advance(take);
      if (e.size < e.declared) return false;
      this.complete();
      return true;
    }
    for (;;) {
      const b = this.pending;
      const p = b.indexOf(DESCRIPTOR);
      if (p < 0) {
        // Keep the last three bytes: a signature may straddle this chunk and the next.
        const safe = Math.max(0, b.length - 3);
        this.feed(b.subarray(0, safe), null);
        this.advance(safe);
        return false;
      }
      if (p + e.descriptorLength > b.length) {
        this.feed(b.subarray(0, p), null);
        this.advance(p);
        return false;
      }
      const crc = zlib.crc32(b.subarray(0, p), e.crc);
      const size = e.size + p;
      if (b.readUInt32LE(p + 4) === crc && descriptorSize(b, p, e.descriptorLength) === size) {
        this.feed(b.subarray(0, p), crc);
        this.advance(p + e.descriptorLength);
        this.complete();
        return true;
      }
      // Not the descriptor: everything up to and with this signature's first byte is data.
      this.feed(b.subarray(0, p + 1), zlib.crc32(b.subarray(p, p + 1), crc));
      this.advance(p + 1);
    }
  }

  /** Entry bytes: hashed, counted, CRC'd (or `crc` given when computed already). */
  private feed(bytes: Buffer, crc: number | null): void {
    const e = this.entry!;
    if (bytes.length === 0) return;
    e.sha256.update(bytes);
    e.sm3?.update(bytes);
    e.crc = crc ?? zlib.crc32(bytes, e.crc);
    e.size += bytes.length;
    this.kept?.push(Buffer.from(bytes));
  }

  private complete(): void {
    const e = this.entry!;
    const digest: StreamedDigest = { sha256: e.sha256.digest('hex'), ...(e.sm3 ? { sm3: e.sm3.digest('hex') } : {}), size: e.size, crc: e.crc >>> 0, offset: e.offset };
    this.digests.set(e.name, digest);
    this.options.onEntry?.(e.name, digest, this.kept ? Buffer.concat(this.kept) : null);
    this.entry = null;
    this.kept = null;
  }

  private advance(n: number): void {
    this.pending = this.pending.subarray(n);
    this.at += n;
  }

  private stop(why: string | null): boolean {
    this.stopped = why;
    this.done = true;
    this.pending = Buffer.alloc(0);
    return false;
  }
}

function hasExtra(extra: Buffer, id: number): boolean {
  for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) if (extra.readUInt16LE(i) === id) return true;
  return false;
}

function descriptorSize(b: Buffer, p: number, length: number): number {
  if (length === 16) return b.readUInt32LE(p + 8) === b.readUInt32LE(p + 12) ? b.readUInt32LE(p + 8) : -1;
  const compressed = b.readUInt32LE(p + 8) + b.readUInt32LE(p + 12) * 0x1_0000_0000;
  const size = b.readUInt32LE(p + 16) + b.readUInt32LE(p + 20) * 0x1_0000_0000;
  return compressed === size ? size : -1;
}
