/**
 * Envelope encryption at rest, end to end through the gateway: a known run of bytes from the
 * middle of an uploaded JPEG is nowhere in the data directory nor in the S3 bucket, the page
 * still downloads byte-identical and by range; a wrong or lost master key stops the start; the
 * master key rotates (`dossier keys rotate-master`) without rewriting a blob.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { GetObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { makeS3Client } from '../storage/blobs/s3-client.js';
import { dossierCli } from './support/cli.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { filesContaining, masterKeyFile, middleRun, noisyJpeg } from './support/master-key.js';
import { startS3, type TestS3 } from './support/s3-server.js';
import { idFromUrl, tusUpload } from './support/tus.js';

async function uploadJpeg(gw: TestGateway, seed: number, caseNumber = `REST-${seed}`) {
  const clerk = await gw.token('police-1', 'clerk');
  const caseId = (await gw.api('POST', '/api/cases', clerk, { number: caseNumber })).json.id;
  // A scan-like JPEG whose entropy-coded data is far from flat (a flat test card compresses to a few kB).
  const jpeg = await noisyJpeg(seed);
  const id = idFromUrl(await tusUpload(gw.url, jpeg, { token: clerk, metadata: { filename: 'scan.jpg', caseId } }).done);
  await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed');
  // Thumbnail and OCR write blobs too: wait until they have.
  await eventually(async () => {
    const [p] = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { thumbnail: boolean; ocr: { status: string } }[];
    return p && p.ocr.status !== 'queued' && p.thumbnail ? true : undefined;
  }, 120_000, 'OCR done');
  return { clerk, id, jpeg, run: middleRun(jpeg) };
}

async function page(gw: TestGateway, token: string, id: string, range?: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${gw.url}/api/dossiers/${id}/pages/1`, { headers: { authorization: `Bearer ${token}`, ...(range ? { range } : {}) } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe('encryption at rest through the gateway (MASTER_KEY_FILE)', function () {
  this.timeout(240_000);
  let dir: string;
  before(async () => (dir = await tempDir('at-rest-')));
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('filesystem store: no plaintext in DATA_DIR, pages byte-identical whole and by range; wrong and lost keys stop the start; the key rotates', async () => {
    const dataDir = path.join(dir, 'data');
    const key = await masterKeyFile(dir, 'master.key');
    let gw = await startGateway({ DATA_DIR: dataDir, MASTER_KEY_FILE: key });
    const { clerk, id, jpeg, run } = await uploadJpeg(gw, 5);
    expect(jpeg.includes(run)).to.equal(true);
    const hits = await filesContaining(dataDir, run);
    expect(hits.slice(0, 5), `${hits.length} files`).to.deep.equal([]);
    const whole = await page(gw, clerk, id);
    expect(whole.status).to.equal(200);
    expect(whole.body.equals(jpeg)).to.equal(true);
    const part = await page(gw, clerk, id, 'bytes=65530-70000');
    expect(part.status).to.equal(206);
    expect(part.body.equals(jpeg.subarray(65530, 70001))).to.equal(true);
    // The same page in a second dossier (sealed again in its reader's thread, under another data
    // key): stored once, under the key that stood, and read back from both dossiers.
    // (On the filesystem store: under TEST_WIRING=postgres-s3 the blobs are in the bucket.)
    const blobFiles = async () => (await fs.readdir(path.join(dataDir, 'blobs', 'sha256'), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;
    const before = await blobFiles();
    const second = await uploadJpeg(gw, 5, 'REST-5-again');
    expect(second.jpeg.equals(jpeg)).to.equal(true);
    expect(await blobFiles(), 'the page, its original (the same bytes) and its thumbnail: stored once').to.equal(before);
    for (const d of [id, second.id]) {
      expect((await page(gw, clerk, d)).body.equals(jpeg)).to.equal(true);
      expect((await page(gw, clerk, d, 'bytes=1000-140000')).body.equals(jpeg.subarray(1000, 140001))).to.equal(true);
    }
    expect(await filesContaining(dataDir, run)).to.deep.equal([]);
    await gw.stop();

    const wrong = await masterKeyFile(dir, 'wrong.key');
    const refused = await startGateway({ DATA_DIR: dataDir, MASTER_KEY_FILE: wrong }).then(async (g) => (await g.stop(), 'started'), (e: Error) => e.message);
    expect(refused).to.match(/MASTER_KEY_FILE holds master key \w+, but the blobs of key-encryption key \w+ are wrapped by master key \w+/);
    const lost = await startGateway({ DATA_DIR: dataDir }).then(async (g) => (await g.stop(), 'started'), (e: Error) => e.message);
    expect(lost).to.match(/MASTER_KEY_FILE is not set/);

    // Rotation: the new key becomes MASTER_KEY_FILE, the old one MASTER_KEY_OLD_FILE for the command.
    const blobsBefore = await fs.readdir(path.join(dataDir, 'blobs'), { recursive: true });
    const next = await masterKeyFile(dir, 'next.key');
    const rotated = await dossierCli(['keys', 'rotate-master', '--json'], { DATA_DIR: dataDir, MASTER_KEY_FILE: next, MASTER_KEY_OLD_FILE: key }).done;
    expect(rotated.code, rotated.err).to.equal(0);
    expect(JSON.parse(rotated.out).rewrapped).to.be.greaterThan(0);
    const again = await dossierCli(['keys', 'rotate-master', '--json'], { DATA_DIR: dataDir, MASTER_KEY_FILE: next, MASTER_KEY_OLD_FILE: key }).done;
    expect(JSON.parse(again.out).rewrapped, 'a second run has nothing left').to.equal(0);
    expect(await fs.readdir(path.join(dataDir, 'blobs'), { recursive: true })).to.deep.equal(blobsBefore);
    const old = await startGateway({ DATA_DIR: dataDir, MASTER_KEY_FILE: key }).then(async (g) => (await g.stop(), 'started'), (e: Error) => e.message);
    expect(old, 'the old key alone no longer opens').to.match(/wrong key file/);
    gw = await startGateway({ DATA_DIR: dataDir, MASTER_KEY_FILE: next });
    try {
      expect((await page(gw, clerk, id)).body.equals(jpeg)).to.equal(true);
    } finally {
      await gw.stop();
    }
    // Nothing secret in what the gateway and the CLI said, nor in /metrics.
    for (const k of [key, wrong, next]) {
      const secret = (await fs.readFile(k, 'utf8')).trim();
      expect(`${refused}${lost}${rotated.out}${rotated.err}${old}`).to.not.include(secret);
    }
  });

  describe('S3 store', () => {
    let s3: TestS3;
    before(async () => (s3 = await startS3()));
    after(() => s3?.stop());

    it('no object in the bucket holds the plaintext; the page downloads byte-identical (streamed, never a presigned URL)', async () => {
      const gw = await startGateway({ ...s3.env(), MASTER_KEY_FILE: await masterKeyFile(dir, 's3.key'), S3_REDIRECT_MIN_BYTES: '1' });
      try {
        const { clerk, id, jpeg, run } = await uploadJpeg(gw, 6);
        if (s3.dir) {
          // s3rver keeps each object as a file: every byte the bucket holds is under its directory.
          expect((await fs.readdir(s3.dir, { recursive: true })).length).to.be.greaterThan(1);
          expect(await filesContaining(s3.dir, run)).to.deep.equal([]);
        } else {
          const client = makeS3Client(s3.settings());
          const listed = await client.send(new ListObjectsCommand({ Bucket: s3.bucket }));
          expect(listed.Contents?.length ?? 0).to.be.greaterThan(1);
          for (const o of listed.Contents ?? []) {
            const body = await buffer((await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: o.Key! }))).Body as Readable);
            expect(body.includes(run), o.Key).to.equal(false);
          }
          client.destroy();
        }
        const whole = await page(gw, clerk, id);
        expect(whole.status).to.equal(200);
        expect(whole.body.equals(jpeg)).to.equal(true);
        const part = await page(gw, clerk, id, 'bytes=100-199');
        expect(part.body.equals(jpeg.subarray(100, 200))).to.equal(true);
      } finally {
        await gw.stop();
      }
    });
  });
});
