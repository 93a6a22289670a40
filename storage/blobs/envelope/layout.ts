/**
 * How a blob sealed at rest is laid out: a header, then the plaintext in 64 KiB segments, each
 * sealed on its own with its own tag. A segment's nonce is its index (the data key is the blob's
 * alone, so no nonce repeats under a key); its associated data binds the blob's hash, the index
 * and whether it is the last segment, so segments cannot be moved, swapped between blobs or cut
 * off. A range read opens only the segments it covers.
 *
 * Two headers. Version 2 (every new blob), 32 bytes: "DSE", 2, the cipher, three zero bytes, the
 * id of the key-encryption key its data key derives from (16 bytes), the plaintext size (8 bytes):
 * a blob names what opens it, so storing one needs no database row. Version 1 (blobs sealed before
 * it), 8 bytes: "DSE", 1, the cipher, three zero bytes; its data key is a blob_keys row.
 */
import { DossierError } from '../../../dossier/errors.js';
import { NONCE_BYTES, TAG_BYTES, type CipherName } from './segment-cipher.js';

export const SEGMENT_BYTES = 64 * 1024;
export const HEADER_V1_BYTES = 8;
export const HEADER_V2_BYTES = 32;
export const KEK_ID_BYTES = 16;
const STORED_SEGMENT = SEGMENT_BYTES + TAG_BYTES;
const CIPHER_IDS: Record<CipherName, number> = { 'aes-256-gcm': 1, 'sm4-ctr-hmac-sm3': 2 };
const CIPHER_OF_ID = new Map(Object.entries(CIPHER_IDS).map(([name, id]) => [id, name as CipherName]));

/** A version 1 header (blobs sealed before version 2; kept for the tests that make one). */
export function headerV1(cipher: CipherName): Buffer {
  return Buffer.from([0x44, 0x53, 0x45, 0x01, CIPHER_IDS[cipher], 0, 0, 0]);
}

/** The version 2 header of a blob of `size` plaintext bytes whose data key derives from key-encryption key `kekId` (hex). */
export function headerV2(cipher: CipherName, kekId: string, size: number): Buffer {
  const h = Buffer.alloc(HEADER_V2_BYTES);
  h.set([0x44, 0x53, 0x45, 0x02, CIPHER_IDS[cipher]], 0);
  if (!/^[0-9a-f]{32}$/.test(kekId)) throw new Error(`not a key-encryption key id: ${kekId}`);
  h.write(kekId, 8, 'hex');
  h.writeBigUInt64BE(BigInt(size), 8 + KEK_ID_BYTES);
  return h;
}

export type ParsedHeader =
  | { readonly version: 1; readonly cipher: CipherName }
  | { readonly version: 2; readonly cipher: CipherName; readonly kekId: string; readonly size: number };

/**
 * What the first bytes of a stored blob say it is, or null when they are no header of ours (a
 * blob stored in the clear). A blob in the clear may begin like a header by chance: the caller
 * treats a version 1 header as sealed only with its key row, a version 2 one only when its stored
 * size fits (and its tags then check every segment).
 */
export function parseHeader(first: Uint8Array): ParsedHeader | null {
  if (first.byteLength < HEADER_V1_BYTES || first[0] !== 0x44 || first[1] !== 0x53 || first[2] !== 0x45) return null;
  const cipher = CIPHER_OF_ID.get(first[4]!);
  if (!cipher || first[5] !== 0 || first[6] !== 0 || first[7] !== 0) return null;
  if (first[3] === 0x01) return { version: 1, cipher };
  if (first[3] !== 0x02 || first.byteLength < HEADER_V2_BYTES) return null;
  const b = Buffer.from(first.buffer, first.byteOffset, HEADER_V2_BYTES);
  const size = b.readBigUInt64BE(8 + KEK_ID_BYTES);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { version: 2, cipher, kekId: b.toString('hex', 8, 8 + KEK_ID_BYTES), size: Number(size) };
}

/** Segments of a plaintext of `size` bytes: an empty blob still has one (empty) segment. */
export const segmentCount = (size: number) => Math.max(1, Math.ceil(size / SEGMENT_BYTES));

/** Bytes a sealed blob of `size` plaintext bytes takes in the store, after a header of `headerBytes`. */
export const storedSize = (size: number, headerBytes: number = HEADER_V2_BYTES) => headerBytes + size + TAG_BYTES * segmentCount(size);

export function nonceOf(index: number): Buffer {
  const n = Buffer.alloc(NONCE_BYTES);
  n.writeBigUInt64BE(BigInt(index), NONCE_BYTES - 8);
  return n;
}

const AAD_LABEL = Buffer.from('dossier-blob-v1', 'ascii');
export function aadOf(sha256: string, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = last ? 1 : 0;
  return Buffer.concat([AAD_LABEL, Buffer.from(sha256, 'hex'), tail]);
}

/** The stored bytes to fetch for an inclusive plaintext range, and where the plaintext starts in them. */
export function storedRange(
  size: number,
  range: { start: number; end: number },
  headerBytes: number = HEADER_V2_BYTES,
): { first: number; start: number; end: number; skip: number; take: number } {
  if (range.start < 0 || range.end < range.start || range.start >= Math.max(size, 1)) {
    throw new DossierError('bad_request', `range ${range.start}-${range.end} outside a blob of ${size} bytes`);
  }
  const end = Math.min(range.end, size - 1);
  const first = Math.floor(range.start / SEGMENT_BYTES);
  const last = Math.floor(end / SEGMENT_BYTES);
  return {
    first,
    start: headerBytes + first * STORED_SEGMENT,
    end: Math.min(headerBytes + (last + 1) * STORED_SEGMENT, storedSize(size, headerBytes)) - 1,
    skip: range.start - first * SEGMENT_BYTES,
    take: end - range.start + 1,
  };
}

export const STORED_SEGMENT_BYTES = STORED_SEGMENT;
