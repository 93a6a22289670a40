/**
 * The S3 client of the S3 blob store, and the start-up check of its bucket. Retries are the SDK's
 * own standard strategy (exponential backoff with jitter on throttling, 5xx and connection
 * errors); only the attempt count is ours.
 */
import https from 'node:https';
import tls from 'node:tls';
import { GetObjectCommand, GetObjectLockConfigurationCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

export interface S3Settings {
  /** Unset: the region's AWS endpoint. */
  readonly endpoint: string | null;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** Bucket in the path (MinIO, most self-hosted servers), not in the host name. */
  readonly forcePathStyle: boolean;
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  /** Presigned URLs are made for this endpoint (what clients reach), else for `endpoint`. */
  readonly publicEndpoint: string | null;
  /** Compliance-mode retention in days and/or a legal hold on every object put; needs a bucket made with Object Lock. */
  readonly objectLock: { readonly retentionDays: number | null; readonly legalHold: boolean } | null;
  /** Server-side encryption of every object put (S3_SSE, S3_SSE_KMS_KEY_ID); null: the bucket's default. */
  readonly serverSideEncryption?: { readonly mode: 'AES256' | 'aws:kms'; readonly kmsKeyId: string | null } | null;
  /** PEM certificates the endpoint's TLS certificate must chain to (S3_CA_FILE), beside the system's. */
  readonly caPem?: string | null;
}

export function makeS3Client(s: S3Settings, endpoint: string | null = s.endpoint): S3Client {
  return new S3Client({
    region: s.region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: s.forcePathStyle,
    ...(s.accessKeyId && s.secretAccessKey ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } } : {}),
    maxAttempts: s.maxAttempts,
    retryMode: 'standard',
    // We send the SHA-256 ourselves (the blob key is that hash); the SDK's default CRC32 would
    // stream as an aws-chunked trailer, which many S3-compatible servers do not read.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // S3_CA_FILE adds to the system's roots; certificates are always verified.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000, ...(s.caPem ? { httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, ca: [...tls.rootCertificates, s.caPem] }) } : {}) },
  });
}

/** A key that never names a blob: reading it tells a missing bucket from refused credentials. */
const PROBE_KEY = `sha256/${'0'.repeat(64)}`;

/** Why the store cannot be used, naming the setting to fix; null when the bucket is ready. */
export async function checkBucket(client: S3Client, s: S3Settings): Promise<string | null> {
  const where = s.endpoint ?? `the AWS endpoint of region ${s.region}`;
  // A GET's error body names the problem (NoSuchBucket, InvalidAccessKeyId, AccessDenied…), where
  // HeadBucket's answer has no body; and a bucket-level request is what some servers sign differently.
  try {
    const got = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: PROBE_KEY, Range: 'bytes=0-0' }));
    (got.Body as { destroy?: () => void } | undefined)?.destroy?.();
  } catch (err) {
    const status = statusOf(err);
    const name = (err as { name?: string }).name ?? '';
    if (status === undefined) return `S3_ENDPOINT ${where} unreachable: ${describe(err)}`;
    if (name === 'NoSuchBucket') return `S3_BUCKET "${s.bucket}" does not exist at ${where}`;
    if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'InvalidToken' || name === 'ExpiredToken') {
      return `S3 credentials refused by ${where} (S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY): ${describe(err)}`;
    }
    if (status === 403) return `S3_BUCKET "${s.bucket}": the credentials may not use this bucket: ${describe(err)}`;
    if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
      return `S3_BUCKET "${s.bucket}" is not in S3_REGION ${s.region} or needs S3_FORCE_PATH_STYLE: ${describe(err)}`;
    }
    if (!(status === 404 && name === 'NoSuchKey')) return `S3_BUCKET "${s.bucket}" at ${where}: ${describe(err)}`;
  }
  if (s.objectLock) {
    const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket: s.bucket })).catch((e: unknown) => e);
    const enabled = !(lock instanceof Error) && (lock as { ObjectLockConfiguration?: { ObjectLockEnabled?: string } }).ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    if (!enabled) {
      return `S3_BUCKET "${s.bucket}" has no Object Lock, which S3_OBJECT_LOCK_DAYS / S3_LEGAL_HOLD need (a bucket is made with it): ${lock instanceof Error ? describe(lock) : 'not enabled'}`;
    }
  }
  return null;
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  return [e.name, code, e.message].filter((x) => x && x !== 'Error' && x !== 'AggregateError').join(': ') || String(err);
}
