/**
 * What an S3 put is checked against. The blob key is the SHA-256 of the bytes, so it is sent as
 * `x-amz-checksum-sha256` and a server that supports checksums refuses bytes that do not match
 * (and echoes the checksum). A server that ignores checksums still answers the MD5 of what it
 * stored as the ETag (of each part, for a multipart upload): we compare that instead.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DossierError } from '../../dossier/errors.js';

export const base64OfHex = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

const MD5_ETAG = /^"?([0-9a-f]{32})(-\d+)?"?$/;

/**
 * Throws blob_integrity when the server's answer shows other bytes than ours. `md5Etag` is the
 * ETag our bytes give (computed only when the server did not echo the SHA-256).
 */
export function checkStored(key: string, answer: { ChecksumSHA256?: string; ETag?: string }, sentSha256: string | null, md5Etag: (answered: string) => string): void {
  if (answer.ChecksumSHA256 && sentSha256) {
    if (answer.ChecksumSHA256 !== sentSha256) throw integrity(key, `checksum ${answer.ChecksumSHA256} ≠ ${sentSha256}`);
    return;
  }
  // An ETag that is not an MD5 (SSE-KMS, some gateways) cannot be compared; the checksum was sent all the same.
  const etag = answer.ETag?.toLowerCase();
  if (!etag || !MD5_ETAG.test(etag)) return;
  const ours = md5Etag(etag);
  if (etag.replace(/"/g, '') !== ours) throw integrity(key, `ETag ${etag} ≠ ${ours}`);
}

function integrity(key: string, why: string): DossierError {
  return new DossierError('blob_integrity', `the object store kept other bytes than were sent for ${key} (${why})`);
}

/**
 * Passes a file's bytes through on their way to a (multipart) upload, hashing them: SHA-256 of
 * the whole (it must equal the key, else the stream fails before the upload completes, and the
 * upload is aborted), and MD5 of each part, from which the multipart ETag is computed.
 */
export class HashingPassThrough extends Transform {
  private readonly sha = createHash('sha256');
  private readonly wholeMd5 = createHash('md5');
  private partMd5: Hash = createHash('md5');
  private inPart = 0;
  private readonly partDigests: Buffer[] = [];
  /** Why the bytes were refused, kept because the upload's own clean-up error may hide it. */
  failure: DossierError | null = null;

  constructor(
    private readonly expectedSha256: string,
    private readonly partSize: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.sha.update(chunk);
    this.wholeMd5.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.partSize - this.inPart);
      this.partMd5.update(chunk.subarray(at, at + take));
      this.inPart += take;
      at += take;
      if (this.inPart === this.partSize) this.endPart();
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.inPart > 0 || this.partDigests.length === 0) this.endPart();
    const sha256 = this.sha.digest('hex');
    if (sha256 === this.expectedSha256) return done();
    this.failure = new DossierError('blob_integrity', `the file's SHA-256 is ${sha256}, not its key ${this.expectedSha256}`);
    done(this.failure);
  }

  private endPart(): void {
    this.partDigests.push(this.partMd5.digest());
    this.partMd5 = createHash('md5');
    this.inPart = 0;
  }

  /**
   * The ETag a server gives these bytes: S3's is the MD5 for one part, else the MD5 of the part
   * MD5s and "-N"; some servers (s3rver) answer the whole object's MD5 for a multipart upload too.
   */
  etag(answered: string): string {
    const whole = this.wholeMd5.copy().digest('hex');
    if (this.partDigests.length === 1 || !answered.includes('-')) return whole;
    return `${createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex')}-${this.partDigests.length}`;
  }
}
