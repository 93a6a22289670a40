/**
 * How a blob sealed at rest is laid out: an 8-byte header ("DSE", version 1, the cipher), then
 * the plaintext in 64 KiB segments, each sealed on its own with its own tag. A segment's nonce is
 * its index (the data key is the blob's alone, so no nonce repeats under a key); its associated
 * data binds the blob's hash, the index and whether it is the last segment, so segments cannot be
 * moved, swapped between blobs or cut off. A range read opens only the segments it covers.
 */
import { DossierError } from '../../../dossier/errors.js';
import { NONCE_BYTES, TAG_BYTES, type CipherName } from './segment-cipher.js';

export const SEGMENT_BYTES = 64 * 1024;
export const HEADER_BYTES = 8;
const STORED_SEGMENT = SEGMENT_BYTES + TAG_BYTES;
const CIPHER_IDS: Record<CipherName, number> = { 'aes-256-gcm': 1, 'sm4-ctr-hmac-sm3': 2 };

export function header(cipher: CipherName): Buffer {
  return Buffer.from([0x44, 0x53, 0x45, 0x01, CIPHER_IDS[cipher], 0, 0, 0]);
}

/** Segments of a plaintext of `size` bytes: an empty blob still has one (empty) segment. */
export const segmentCount = (size: number) => Math.max(1, Math.ceil(size / SEGMENT_BYTES));

/** Bytes a sealed blob of `size` plaintext bytes takes in the store. */
export const storedSize = (size: number) => HEADER_BYTES + size + TAG_BYTES * segmentCount(size);

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
export function storedRange(size: number, range: { start: number; end: number }): { first: number; start: number; end: number; skip: number; take: number } {
  if (range.start < 0 || range.end < range.start || range.start >= Math.max(size, 1)) {
    throw new DossierError('bad_request', `range ${range.start}-${range.end} outside a blob of ${size} bytes`);
  }
  const end = Math.min(range.end, size - 1);
  const first = Math.floor(range.start / SEGMENT_BYTES);
  const last = Math.floor(end / SEGMENT_BYTES);
  return {
    first,
    start: HEADER_BYTES + first * STORED_SEGMENT,
    end: Math.min(HEADER_BYTES + (last + 1) * STORED_SEGMENT, storedSize(size)) - 1,
    skip: range.start - first * SEGMENT_BYTES,
    take: end - range.start + 1,
  };
}

export const STORED_SEGMENT_BYTES = STORED_SEGMENT;
