/**
 * Sealing and opening of blob segments: a whole buffer at once (pages, thumbnails), or as streams
 * (originals of gigabytes, range reads) holding one segment in memory at a time.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { DossierError } from '../../../dossier/errors.js';
import { aadOf, nonceOf, SEGMENT_BYTES, segmentCount, STORED_SEGMENT_BYTES } from './layout.js';
import { TAG_BYTES, type SegmentCipher } from './segment-cipher.js';

export interface BlobSealKey {
  readonly cipher: SegmentCipher;
  readonly dataKey: Buffer;
  /** The plaintext's SHA-256: the blob's key, bound into every segment. */
  readonly sha256: string;
}

/** A key to seal a new blob with: the header it is stored under comes first (layout.ts). */
export interface BlobSealingKey extends BlobSealKey {
  readonly header: Uint8Array;
}

/**
 * The sealed blob of `plain`, header first, in one buffer of its own (never a slice of a shared
 * pool, so it can be transferred to another thread whole): each segment is sealed straight into
 * its place, with no per-segment buffers to join.
 */
export function sealBuffer(k: BlobSealingKey, plain: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(k.header.byteLength + plain.byteLength + TAG_BYTES * segmentCount(plain.byteLength));
  out.set(k.header, 0);
  sealSegmentsInto(k, plain, 0, true, out, k.header.byteLength);
  return out;
}

/**
 * The sealed segments of `plain`, numbered from segment `first` on (plain then starts at a segment
 * edge); `last`: its final segment is the blob's last. Segments are independent of each other, so
 * parts of one blob can be sealed in different threads (seal-pool.ts) and joined in order.
 */
export function sealSegments(k: BlobSealKey, plain: Uint8Array, first: number, last: boolean): Buffer {
  const out = Buffer.allocUnsafeSlow(plain.byteLength + TAG_BYTES * segmentCount(plain.byteLength));
  sealSegmentsInto(k, plain, first, last, out, 0);
  return out;
}

function sealSegmentsInto(k: BlobSealKey, plain: Uint8Array, first: number, last: boolean, out: Buffer, at: number): void {
  const n = segmentCount(plain.byteLength);
  for (let i = 0; i < n; i++) {
    const chunk = plain.subarray(i * SEGMENT_BYTES, Math.min((i + 1) * SEGMENT_BYTES, plain.byteLength));
    k.cipher.sealInto(k.dataKey, nonceOf(first + i), aadOf(k.sha256, first + i, last && i === n - 1), chunk, out, at);
    at += chunk.byteLength + TAG_BYTES;
  }
}

/** Plaintext in, the sealed blob out (header first). The last segment is known only at the end, so one is held back. */
export class SealingTransform extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private index = 0;

  constructor(private readonly k: BlobSealingKey) {
    super();
    this.push(Buffer.from(k.header));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.held.push(chunk);
    this.heldBytes += chunk.byteLength;
    if (this.heldBytes > SEGMENT_BYTES) {
      let all = Buffer.concat(this.held);
      while (all.byteLength > SEGMENT_BYTES) {
        this.push(this.seal(all.subarray(0, SEGMENT_BYTES), false));
        all = all.subarray(SEGMENT_BYTES);
      }
      this.held = [all];
      this.heldBytes = all.byteLength;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(this.seal(Buffer.concat(this.held), true));
    done();
  }

  private seal(plain: Buffer, last: boolean): Buffer {
    const i = this.index++;
    return this.k.cipher.seal(this.k.dataKey, nonceOf(i), aadOf(this.k.sha256, i, last), plain);
  }
}

/**
 * Stored segments in (from segment `first` on), plaintext out: `skip` bytes dropped from the
 * front, `take` bytes passed. A segment whose tag fails stops the stream with blob_integrity.
 */
export class OpeningTransform extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private index: number;
  private skip: number;
  private left: number;
  private readonly lastIndex: number;

  constructor(private readonly k: BlobSealKey, o: { size: number; first: number; skip: number; take: number }) {
    super();
    this.index = o.first;
    this.skip = o.skip;
    this.left = o.take;
    this.lastIndex = segmentCount(o.size) - 1;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.held.push(chunk);
    this.heldBytes += chunk.byteLength;
    if (this.heldBytes < STORED_SEGMENT_BYTES) return done();
    let all = Buffer.concat(this.held);
    try {
      while (all.byteLength >= STORED_SEGMENT_BYTES) {
        this.open(all.subarray(0, STORED_SEGMENT_BYTES));
        all = all.subarray(STORED_SEGMENT_BYTES);
      }
    } catch (err) {
      return done(err as Error);
    }
    this.held = [all];
    this.heldBytes = all.byteLength;
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.heldBytes > 0) this.open(Buffer.concat(this.held));
      if (this.left > 0) throw new DossierError('blob_integrity', `sealed blob ${this.k.sha256} ends early`);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private open(sealed: Buffer): void {
    const i = this.index++;
    const plain = this.k.cipher.open(this.k.dataKey, nonceOf(i), aadOf(this.k.sha256, i, i === this.lastIndex), sealed);
    if (!plain) throw new DossierError('blob_integrity', `segment ${i} of sealed blob ${this.k.sha256} fails its tag`);
    let out = plain;
    if (this.skip > 0) {
      out = out.subarray(Math.min(this.skip, out.byteLength));
      this.skip -= plain.byteLength - out.byteLength;
    }
    if (out.byteLength > this.left) out = out.subarray(0, this.left);
    this.left -= out.byteLength;
    if (out.byteLength > 0) this.push(out);
  }
}
