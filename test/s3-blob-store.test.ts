/**
 * The S3 blob store against a real S3-protocol server on loopback (s3rver, or TEST_S3_ENDPOINT):
 * the shared contract, then what only an object store has: the bucket check at start, the
 * checksum of every put, the SDK's retries, presigned URLs and Object Lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { GetObjectLegalHoldCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { isDossierError } from '../dossier/errors.js';
import { makeS3Client } from '../storage/blobs/s3-client.js';
import { S3BlobStore } from '../storage/blobs/s3-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';
import { startFaultProxy, SLOW_DOWN, type FaultProxy } from './support/http-fault-proxy.js';
import { startS3, type TestS3 } from './support/s3-server.js';
import { randomFile, tempDir } from './support/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let shared: Promise<TestS3> | null = null;
const server = () => (shared ??= startS3());
after(async () => {
  if (shared) await (await shared).stop();
});

blobStoreContract('S3', async () => {
  const s3 = await server();
  const store = await S3BlobStore.open(s3.settings());
  return { store, dispose: async () => store.close() };
});

describe('S3 blob store', function () {
  this.timeout(60_000);
  let s3: TestS3;
  let store: S3BlobStore;
  let dir: string;
  before(async () => {
    s3 = await server();
    store = await S3BlobStore.open(s3.settings());
    dir = await tempDir('s3-store-');
  });
  after(async () => {
    store?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  describe('the bucket check at start names what is wrong', () => {
    const refusal = (settings: Parameters<typeof S3BlobStore.open>[0]) => S3BlobStore.open(settings).then(() => expect.fail('opened'), (e: Error) => e.message);

    it('an endpoint nobody listens on', async () => {
      const proxy = await startFaultProxy(s3.endpoint);
      const closed = proxy.url;
      await proxy.close();
      expect(await refusal(s3.settings({ endpoint: closed, maxAttempts: 1 }))).to.match(/S3_ENDPOINT .*unreachable/);
    });

    it('a bucket that does not exist', async () => {
      expect(await refusal(s3.settings({ bucket: 'no-such-bucket-here' }))).to.match(/S3_BUCKET "no-such-bucket-here" does not exist/);
    });

    it('credentials the server refuses', async () => {
      expect(await refusal(s3.settings({ accessKeyId: 'WRONG', secretAccessKey: 'WRONG' }))).to.match(/credentials refused.*S3_ACCESS_KEY_ID/);
    });

    it('Object Lock asked of a bucket made without it', async function () {
      if (s3.kind === 'external') this.skip(); // the tests' external buckets are made with it
      expect(await refusal(s3.settings({ objectLock: { retentionDays: 1, legalHold: false } }))).to.match(/has no Object Lock/);
    });
  });

  describe('integrity of every put', () => {
    let proxy: FaultProxy;
    let viaProxy: S3BlobStore;
    before(async () => {
      proxy = await startFaultProxy(s3.endpoint);
      viaProxy = await S3BlobStore.open(s3.settings({ endpoint: proxy.url }));
    });
    after(async () => {
      viaProxy?.close();
      await proxy?.close();
    });
    afterEach(() => {
      proxy.rule = {};
    });

    const flipLastByte = { body: (req: { method?: string }, b: Buffer) => (req.method === 'PUT' && b.length > 0 ? Buffer.concat([b.subarray(0, -1), Buffer.from([b[b.length - 1]! ^ 1])]) : b) };

    it('sends the SHA-256 with the put; bytes altered on the way are refused and never kept', async () => {
      const bytes = randomBytes(20_000);
      let sent: string | undefined;
      proxy.rule = { ...flipLastByte, answer: (req) => ((sent ??= req.headers['x-amz-checksum-sha256'] as string), undefined) };
      const err = await viaProxy.putBytes(sha(bytes), bytes).then(() => null, (e: unknown) => e);
      expect(sent).to.equal(Buffer.from(sha(bytes), 'hex').toString('base64'));
      // A server that checks checksums refuses (BadDigest); s3rver stores, and our ETag check catches it.
      expect(isDossierError(err) ? err.code : (err as Error)?.name).to.be.oneOf(['blob_integrity', 'BadDigest', 'XAmzContentSHA256Mismatch', 'InvalidDigest']);
      expect(await store.size(sha(bytes))).to.equal(null);
    });

    it('uploads a file in parts, each checked, and refuses a file that is not what its key says', async function () {
      this.timeout(120_000);
      const file = await randomFile(dir, 'parts.bin', 40 * 1024 * 1024 + 123);
      const partChecksums: (string | undefined)[] = [];
      proxy.rule = { answer: (req) => (req.url?.includes('partNumber=') && partChecksums.push(req.headers['x-amz-checksum-sha256'] as string | undefined), undefined) };
      await viaProxy.putFile(file.sha256, file.path, { move: false });
      proxy.rule = {};
      expect(await store.size(file.sha256)).to.equal(file.size);
      // Three parts of 16 MiB or less, each sent with its own SHA-256.
      expect(partChecksums).to.have.length(3);
      for (const c of partChecksums) expect(c).to.match(/^[A-Za-z0-9+/]{43}=$/);
      const head = await buffer(await store.read(file.sha256, { start: 16 * 1024 * 1024 - 5, end: 16 * 1024 * 1024 + 4 }));
      const local = await fs.readFile(file.path);
      expect(head.equals(local.subarray(16 * 1024 * 1024 - 5, 16 * 1024 * 1024 + 5))).to.equal(true);

      const wrongKey = sha(randomBytes(8));
      const err = await viaProxy.putFile(wrongKey, file.path, { move: true }).then(() => null, (e: unknown) => e);
      expect(isDossierError(err) && err.code, String(err)).to.equal('blob_integrity');
      expect(await store.size(wrongKey)).to.equal(null);
      await fs.access(file.path); // a refused move leaves the file where it was
    });

    it('a part altered on the way is refused', async function () {
      this.timeout(120_000);
      const file = await randomFile(dir, 'flipped.bin', 17 * 1024 * 1024);
      proxy.rule = flipLastByte;
      const err = await viaProxy.putFile(file.sha256, file.path, { move: false }).then(() => null, (e: unknown) => e);
      expect(err).to.not.equal(null);
      expect(await store.size(file.sha256)).to.equal(null);
    });
  });

  describe("the SDK's retries", () => {
    it('rides out throttling (503 SlowDown) and gives up after the configured attempts', async () => {
      const proxy = await startFaultProxy(s3.endpoint);
      // HeadBucket at open passes; then the first two puts are throttled.
      const retrying = await S3BlobStore.open(s3.settings({ endpoint: proxy.url, maxAttempts: 3 }));
      try {
        const start = proxy.count;
        proxy.rule = { answer: (_req, n) => (n <= start + 2 ? SLOW_DOWN : undefined) };
        const bytes = randomBytes(1000);
        await retrying.putBytes(sha(bytes), bytes);
        expect(proxy.count - start).to.equal(3);
        expect(await store.size(sha(bytes))).to.equal(1000);

        const before = proxy.count;
        proxy.rule = { answer: () => SLOW_DOWN };
        const err = await retrying.size(sha(bytes)).then(() => null, (e: unknown) => e);
        expect(err).to.not.equal(null);
        expect(proxy.count - before).to.equal(3);
      } finally {
        retrying.close();
        await proxy.close();
      }
    });
  });

  it('falls back to plain puts on a server that does not implement If-None-Match', async () => {
    const proxy = await startFaultProxy(s3.endpoint);
    const plain = await S3BlobStore.open(s3.settings({ endpoint: proxy.url }));
    try {
      const conditional: boolean[] = [];
      const notImplemented = { status: 501, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>' };
      proxy.rule = { answer: (req) => (req.method === 'PUT' && conditional.push('if-none-match' in req.headers) && req.headers['if-none-match'] ? notImplemented : undefined) };
      for (const bytes of [randomBytes(700), randomBytes(800)]) {
        await plain.putBytes(sha(bytes), bytes);
        expect(await store.size(sha(bytes))).to.equal(bytes.length);
      }
      expect(conditional).to.deep.equal([true, false, false]);
    } finally {
      plain.close();
      await proxy.close();
    }
  });

  it('presigns a GET that serves the blob without credentials', async () => {
    const bytes = randomBytes(3000);
    await store.putBytes(sha(bytes), bytes);
    const url = await store.downloadUrl(sha(bytes), { expiresInSeconds: 60, contentType: 'image/jpeg', filename: 'page 1.jpg' });
    expect(url).to.match(/X-Amz-Expires=60/);
    const res = await fetch(url!);
    expect(res.status).to.equal(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).to.equal(true);
  });

  it('puts evidence under compliance-mode retention and a legal hold', async function () {
    if (s3.kind !== 'external') {
      console.warn('    ⚠ skipped on s3rver: it has no Object Lock (run `npm run test:s3` against MinIO)');
      this.skip();
    }
    const locked = await S3BlobStore.open(s3.settings({ objectLock: { retentionDays: 1, legalHold: true } }));
    try {
      const bytes = randomBytes(500);
      await locked.putBytes(sha(bytes), bytes);
      const client = makeS3Client(s3.settings());
      const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `sha256/${sha(bytes)}` }));
      expect(head.ObjectLockMode).to.equal('COMPLIANCE');
      expect(head.ObjectLockRetainUntilDate!.getTime()).to.be.greaterThan(Date.now() + 86_000_000);
      const hold = await client.send(new GetObjectLegalHoldCommand({ Bucket: s3.bucket, Key: `sha256/${sha(bytes)}` }));
      expect(hold.LegalHold?.Status).to.equal('ON');
      client.destroy();
    } finally {
      locked.close();
    }
  });

  it('reads ranges as a stream, and a missing blob is not_found', async () => {
    const bytes = randomBytes(70_000);
    await store.putBytes(sha(bytes), bytes);
    expect((await buffer(await store.read(sha(bytes), { start: 69_990, end: 69_999 }))).equals(bytes.subarray(69_990))).to.equal(true);
    const err = await store.read(sha(randomBytes(4))).catch((e: unknown) => e);
    expect(isDossierError(err) && err.code).to.equal('not_found');
  });
});
