/**
 * An S3 server for the suites: s3rver (from the npm registry) in a child process on 127.0.0.1,
 * so that a test can stop and restart it on the same port and data; or, when TEST_S3_ENDPOINT is
 * set (`npm run test:s3`), a real server such as MinIO, with a fresh bucket per call.
 *
 * What s3rver does not do: it checks SigV4 signatures, ranges and multipart, but ignores
 * x-amz-checksum-* and Content-MD5, If-None-Match on PUT, and has no Object Lock. The suites that
 * need those skip with a notice on it and run on a real server.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { makeS3Client, type S3Settings } from '../../storage/blobs/s3-client.js';
import { killS3rver, spawnS3rver } from '../../scripts/bench/s3rver-process.js';
import { testEnv } from './env.js';
import { tempDir } from './fixtures.js';

export interface TestS3 {
  readonly kind: 's3rver' | 'external';
  readonly endpoint: string;
  readonly bucket: string;
  /** Where s3rver keeps its objects on disk (null for an external server). */
  readonly dir: string | null;
  settings(extra?: Partial<S3Settings>): S3Settings;
  /** The gateway's environment for this bucket. */
  env(): Record<string, string>;
  /** Stops the server process (s3rver only); `restart` brings it back on the same port and data. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Access {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
}

/** The store's settings and the gateway's environment for one server and bucket. */
function wiring(a: Access): Pick<TestS3, 'settings' | 'env'> {
  return {
    settings: (extra = {}) => ({ ...a, forcePathStyle: true, maxAttempts: 3, publicEndpoint: null, objectLock: null, ...extra }),
    env: () => ({
      BLOB_STORE: 's3',
      S3_ENDPOINT: a.endpoint,
      S3_BUCKET: a.bucket,
      S3_REGION: a.region,
      ...(a.accessKeyId && a.secretAccessKey ? { S3_ACCESS_KEY_ID: a.accessKeyId, S3_SECRET_ACCESS_KEY: a.secretAccessKey } : {}),
      S3_FORCE_PATH_STYLE: 'true',
    }),
  };
}

export async function startS3(): Promise<TestS3> {
  const bucket = `t-${randomUUID().slice(0, 8)}`;
  if (testEnv.s3.endpoint) return external(testEnv.s3.endpoint, bucket);
  const dir = await tempDir('s3rver-');
  let { child, port } = await spawnS3rver(dir, 0, bucket);
  let current: ChildProcess | null = child;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    kind: 's3rver',
    endpoint,
    bucket,
    dir,
    ...wiring({ endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
    async kill() {
      await killS3rver(current);
      current = null;
    },
    async restart() {
      await killS3rver(current);
      ({ child, port } = await spawnS3rver(dir, port, bucket));
      current = child;
    },
    async stop() {
      await killS3rver(current);
      current = null;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A real server from TEST_S3_ENDPOINT and TEST_S3_ACCESS_KEY_ID / TEST_S3_SECRET_ACCESS_KEY. */
async function external(endpoint: string, bucket: string): Promise<TestS3> {
  const { accessKeyId, secretAccessKey, region } = testEnv.s3;
  const { settings, env } = wiring({ endpoint, region, bucket, accessKeyId: accessKeyId ?? null, secretAccessKey: secretAccessKey ?? null });
  const client = makeS3Client(settings());
  // Object Lock can only be enabled when the bucket is made.
  await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  client.destroy();
  const cannot = async () => {
    throw new Error('an external S3 server cannot be stopped by the tests');
  };
  return { kind: 'external', endpoint, bucket, dir: null, settings, env, kill: cannot, restart: cannot, stop: async () => {} };
}
