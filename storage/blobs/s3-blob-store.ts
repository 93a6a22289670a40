/**
 * Blobs in an S3 bucket (AWS S3, MinIO, Ceph RGW) under sha256/<hash>. Every put carries the
 * SHA-256 and is checked against the server's answer (verify-upload.ts); large files go up in
 * parts through @aws-sdk/lib-storage; reads stream, by range when asked. With Object Lock
 * configured every object is put under compliance-mode retention and/or a legal hold: sealed
 * evidence that nobody, the bucket's owner included, can delete or overwrite before its time.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DossierError } from '../../dossier/errors.js';
import type { BlobStore, DownloadUrlOptions } from '../../dossier/ports/blob-store.js';
import { checkBucket, makeS3Client, statusOf, type S3Settings } from './s3-client.js';
import { base64OfHex, checkStored, HashingPassThrough } from './verify-upload.js';
import { failpoint } from '../../dossier/failpoints.js';

const HASH = /^[0-9a-f]{64}$/;
const MIB = 1024 * 1024;
/** Parts of 16 MiB (or larger, to stay within S3's 10,000 parts), four in flight. */
const PART_SIZE = 16 * MIB;
const MAX_PARTS = 9_000;
const PARTS_IN_FLIGHT = 4;

export class S3BlobStore implements BlobStore {
  /** Cleared when the server does not implement conditional PUTs (then a put may rewrite the same bytes). */
  private conditionalPuts = true;

  private constructor(
    private readonly client: S3Client,
    private readonly presigner: S3Client,
    private readonly s: S3Settings,
  ) {}

  /** Opens the store after checking the bucket; the error names the setting that is wrong. */
  static async open(settings: S3Settings): Promise<S3BlobStore> {
    const client = makeS3Client(settings);
    const problem = await checkBucket(client, settings);
    if (problem) {
      client.destroy();
      throw new Error(`blob store: ${problem}`);
    }
    const presigner = settings.publicEndpoint ? makeS3Client(settings, settings.publicEndpoint) : client;
    return new S3BlobStore(client, presigner, settings);
  }

  /** The key guard: only a hash becomes a key. */
  private key(sha256: string): string {
    if (!HASH.test(sha256)) throw new DossierError('bad_request', `not a blob key: ${sha256.slice(0, 80)}`);
    return `sha256/${sha256}`;
  }

  private lockParams() {
    const lock = this.s.objectLock;
    if (!lock) return {};
    return {
      ...(lock.retentionDays ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + lock.retentionDays * 86_400_000) } : {}),
      ...(lock.legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
    };
  }

  /** `storedSha256`: the hash of the bytes as stored when it is not the key (a blob sealed at rest). */
  /** Server-side encryption asked of the store (S3_SSE): SSE-S3, or SSE-KMS with the configured key. */
  private sseParams() {
    const sse = this.s.serverSideEncryption;
    if (!sse) return {};
    return { ServerSideEncryption: sse.mode, ...(sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) };
  }

  async putBytes(sha256: string, bytes: Uint8Array, storedSha256: string = sha256): Promise<void> {
    const Key = this.key(sha256);
    const checksum = base64OfHex(storedSha256);
    for (let attempt = 1; ; attempt++) {
      try {
        failpoint('s3.put');
        // If-None-Match: a blob already there (same key, so the same bytes) is left as it is.
        const answer = await this.client.send(
          new PutObjectCommand({ Bucket: this.s.bucket, Key, Body: bytes, ContentLength: bytes.byteLength, ChecksumSHA256: checksum, ...(this.conditionalPuts ? { IfNoneMatch: '*' } : {}), ...this.lockParams(), ...this.sseParams() }),
        );
        await this.checked(Key, () => checkStored(Key, answer, checksum, () => createHash('md5').update(bytes).digest('hex')));
        return;
      } catch (err) {
        const status = statusOf(err);
        if (status === 412) return;
        if (status === 501 && this.conditionalPuts) {
          this.conditionalPuts = false;
          continue;
        }
        // 409: another writer is putting the same key right now; once it is done, ours is a no-op.
        if (status === 409 && attempt < 5) {
          await new Promise((r) => setTimeout(r, 50 * attempt));
          continue;
        }
        throw err;
      }
    }
  }

  async putFile(sha256: string, localPath: string, options: { move: boolean; storedSha256?: string }): Promise<void> {
    const Key = this.key(sha256);
    const stored = options.storedSha256 ?? sha256;
    const { size } = await fs.stat(localPath);
    if ((await this.size(sha256)) !== size) {
      const partSize = Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / MIB) * MIB);
      const hashing = new HashingPassThrough(stored, partSize);
      const file = createReadStream(localPath);
      file.once('error', (err) => hashing.destroy(err));
      const single = size <= partSize;
      failpoint('s3.put');
      const upload = new Upload({
        client: this.client,
        partSize,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
        // One part: the whole file's SHA-256 (the key) is sent and checked. Several: each part's.
        params: { Bucket: this.s.bucket, Key, Body: file.pipe(hashing), ...(single ? { ChecksumSHA256: base64OfHex(stored) } : { ChecksumAlgorithm: 'SHA256' as const }), ...this.lockParams(), ...this.sseParams() },
      });
      const answer = await upload.done().catch((err: unknown) => {
        throw hashing.failure ?? err;
      });
      await this.checked(Key, () => checkStored(Key, { ETag: answer.ETag, ...(single ? { ChecksumSHA256: answer.ChecksumSHA256 } : {}) }, single ? base64OfHex(stored) : null, (answered) => hashing.etag(answered)));
    }
    if (options.move) await fs.rm(localPath, { force: true });
  }

  /** Runs the check of a put; an object found bad is deleted (never served) before the error. */
  private async checked(Key: string, check: () => void): Promise<void> {
    try {
      check();
    } catch (err) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key })).catch(() => {});
      throw err;
    }
  }

  async size(sha256: string): Promise<number | null> {
    const Key = this.key(sha256);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.s.bucket, Key }));
      return head.ContentLength ?? null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async read(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    const Key = this.key(sha256);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      if (!(got.Body instanceof Readable)) throw new DossierError('internal', `object ${Key} came without a stream`);
      return got.Body;
    } catch (err) {
      if (statusOf(err) === 404) throw new DossierError('not_found', `blob ${sha256} not found`);
      // A range from byte 0 of an empty object: nothing, as a file gives (S3 answers 416).
      if (statusOf(err) === 416 && range?.start === 0) return Readable.from([]);
      throw err;
    }
  }

  localPath(): string | null {
    return null;
  }

  async downloadUrl(sha256: string, o: DownloadUrlOptions): Promise<string | null> {
    const command = new GetObjectCommand({
      Bucket: this.s.bucket,
      Key: this.key(sha256),
      ResponseContentType: o.contentType,
      ...(o.filename ? { ResponseContentDisposition: contentDisposition(o.filename) } : {}),
    });
    return getSignedUrl(this.presigner, command, { expiresIn: o.expiresInSeconds });
  }

  close(): void {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }
}

/** RFC 6266: a plain quoted name when it is printable ASCII, the UTF-8 form (RFC 8187) besides otherwise. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return ascii === filename ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
