/**
 * The scale-out wiring (PostgreSQL + S3 on s3rver) ingests an original that is only in the bucket
 * (a worker without the staging volume, or a crash after the original moved) by ranged GETs: the
 * same sealed evidence as the embedded default's filesystem path (page hashes, sizes, media types,
 * Merkle root), no scratch copy of the original made in the data directory at any moment, and a
 * request count near the number of 4 MiB blocks the original spans. Once in the clear, once with
 * envelope encryption at rest, where a range opens only the 64 KiB segments it covers. A loopback
 * proxy in front of s3rver sees every request.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type http from 'node:http';
import { expect } from 'chai';
import { ingestDossier } from '../dossier/ingest/ingest-dossier.js';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { startFaultProxy, type FaultProxy } from './support/http-fault-proxy.js';
import { masterKeyFile } from './support/master-key.js';
import { startS3, type TestS3 } from './support/s3-server.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { jpeg, mixedTiffPages, multiPageTiff, rawTiff } from './pages/fixtures.js';
import { pdf, zip } from './pages/document-fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const BLOCK = 4 * 1024 * 1024;
const SEGMENT = 64 * 1024;

/** A bucket behind a proxy that notes every GET of an object: its key and the bytes it asked for. */
interface WatchedBucket {
  s3: TestS3;
  proxy: FaultProxy;
  gets: { key: string; range: [number, number] | null }[];
}

async function watchedBucket(): Promise<WatchedBucket> {
  const s3 = await startS3();
  const proxy = await startFaultProxy(s3.endpoint);
  const gets: WatchedBucket['gets'] = [];
  const note = (req: http.IncomingMessage) => {
    const key = /\/sha256\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    if (req.method === 'GET' && key) {
      const r = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      gets.push({ key, range: r ? [Number(r[1]), Number(r[2])] : null });
    }
    return undefined;
  };
  proxy.rule = { answer: note };
  return { s3, proxy, gets };
}

/** Every file under `dir` with its size, to see what an ingest writes there. */
async function filesUnder(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    const size = await fs.stat(file).then((s) => s.size, () => null);
    if (size !== null) out.set(path.relative(dir, file), size);
  }
  return out;
}

/**
 * Runs `work` while sampling `dir` (and watching its uploads folder for new names): every file
 * that appeared or grew meanwhile, with its largest size seen.
 */
async function diskWrittenDuring(dir: string, work: () => Promise<unknown>): Promise<Map<string, number>> {
  const before = await filesUnder(dir);
  const grown = new Map<string, number>();
  const sample = async () => {
    for (const [file, size] of await filesUnder(dir)) {
      if ((before.get(file) ?? -1) < size) grown.set(file, Math.max(size, grown.get(file) ?? 0));
    }
  };
  const named: string[] = [];
  const watchers = [dir, path.join(dir, 'uploads')].map((d) => fs.watch(d));
  const watching = watchers.map(async (w) => {
    try {
      for await (const event of w) if (event.filename && !before.has(event.filename)) named.push(event.filename);
    } catch {
      // the folder went away: nothing more to see in it
    }
  });
  let running = true;
  const sampling = (async () => {
    while (running) {
      await sample();
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampling;
    await sample();
    for (const w of watchers) (w as unknown as { close?: () => void }).close?.();
  }
  void watching;
  for (const name of named) if (!grown.has(name)) grown.set(name, 0);
  return grown;
}

describe('an original kept in S3 is ingested by byte ranges [PostgreSQL + s3rver]', function () {
  this.timeout(300_000);
  let pgPlain: EngineHandle;
  let pgSealed: EngineHandle;
  let plainBucket: WatchedBucket;
  let sealedBucket: WatchedBucket;
  let reference: TestGateway;
  let plain: TestGateway;
  let sealed: TestGateway;
  let keyDir: string;
  const fixtures: { name: string; bytes: Buffer; pages: number }[] = [];

  before(async function () {
    pgPlain = await openOrSkip(this, postgresEngine());
    pgSealed = await postgresEngine().open();
    [plainBucket, sealedBucket] = await Promise.all([watchedBucket(), watchedBucket()]);
    keyDir = await tempDir('ranged-key-');
    const base = { WORKERS: 'none', OCR_WORKERS: '1' };
    reference = await startGateway({ ...base, BLOB_STORE: 'fs' });
    plain = await startGateway({ ...base, DATABASE_URL: pgPlain.url!, ...plainBucket.s3.env(), S3_ENDPOINT: plainBucket.proxy.url });
    sealed = await startGateway({ ...base, DATABASE_URL: pgSealed.url!, ...sealedBucket.s3.env(), S3_ENDPOINT: sealedBucket.proxy.url, MASTER_KEY_FILE: await masterKeyFile(keyDir) });
    // A ZIP over three blocks (stored and deflated scans in two volumes), a TIFF of every kind, a PDF.
    const scans = await Promise.all(Array.from({ length: 48 }, async (_, i) => ({ name: `vol${1 + (i % 2)}/${i + 1}.jpg`, data: await jpeg(i, 640, 900), compress: i % 4 === 0 })));
    fixtures.push({ name: 'scans.zip', bytes: await zip(scans), pages: 48 });
    const tiff = rawTiff([...mixedTiffPages(), ...mixedTiffPages()]);
    fixtures.push({ name: 'mixed.tif', bytes: tiff, pages: 12 });
    fixtures.push({ name: 'lzw.tif', bytes: await multiPageTiff(5, 400, 300), pages: 5 });
    fixtures.push({ name: 'witness.pdf', bytes: await pdf(5, { images: true }), pages: 5 });
  });

  after(async () => {
    await Promise.all([reference?.stop(), plain?.stop(), sealed?.stop()]);
    for (const b of [plainBucket, sealedBucket]) {
      await b?.proxy.close();
      await b?.s3.stop();
    }
    await pgPlain?.dispose();
    await pgSealed?.dispose();
    if (keyDir) await fs.rm(keyDir, { recursive: true, force: true });
  });

  /** Uploads over tus and returns the dossier, not yet ingested (the gateways run no jobs). */
  async function uploaded(gw: TestGateway, name: string, bytes: Buffer): Promise<string> {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: `R-${name}-${Date.now()}` })).json.id;
    return idFromUrl(await tusUpload(gw.url, bytes, { token: clerk, metadata: { filename: name, caseId } }).done);
  }

  async function evidence(gw: TestGateway, id: string) {
    const d = (await gw.gateway.dossiers.get(id))!;
    const pages = await gw.gateway.dossiers.listPages(id, { offset: 0, limit: 1000 });
    return { status: d.status, original: d.sha256, merkleRoot: d.merkleRoot, pages: pages.map((p) => [p.sha256, p.size, p.mediaType, p.width, p.height]) };
  }

  /** The original moved into the bucket and the staged upload gone, as a worker without the volume finds it. */
  async function onlyInBucket(gw: TestGateway, id: string): Promise<string> {
    const deps = gw.gateway.ingestDeps;
    const d = (await gw.gateway.dossiers.get(id))!;
    await deps.blobs.putFile(d.sha256!, (await deps.staging.path(id))!, { move: true });
    await deps.staging.forget(id);
    expect(await deps.staging.path(id)).to.equal(null);
    return d.sha256!;
  }

  for (const wiring of ['in the clear', 'sealed at rest (aes-256-gcm)'] as const) {
    it(`the same evidence as the filesystem path, no local copy, few requests: ${wiring}`, async () => {
      const gw = wiring === 'in the clear' ? plain : sealed;
      const bucket = wiring === 'in the clear' ? plainBucket : sealedBucket;
      for (const f of fixtures) {
        const ref = await uploaded(reference, f.name, f.bytes);
        expect(await ingestDossier(reference.gateway.ingestDeps, ref)).to.equal('sealed');
        const expected = await evidence(reference, ref);
        expect(expected.pages, f.name).to.have.length(f.pages);

        const id = await uploaded(gw, f.name, f.bytes);
        const original = await onlyInBucket(gw, id);
        expect(original).to.equal(sha(f.bytes));
        bucket.gets.length = 0;
        const written = await diskWrittenDuring(gw.dataDir, async () => expect(await ingestDossier(gw.gateway.ingestDeps, id)).to.equal('sealed'));
        expect(await evidence(gw, id), f.name).to.deep.equal(expected);

        // Nothing of the original on local disk, at any moment of the ingest.
        expect([...written], `${f.name}: files written under the data directory during the ingest`).to.deep.equal([]);
        expect(await fs.readdir(path.join(gw.dataDir, 'uploads')).then((n) => n.filter((x) => x.startsWith(id)))).to.deep.equal([]);

        // Only ranged GETs of the original, about one per block it spans, each byte fetched about once.
        const reads = bucket.gets.filter((g) => g.key === original);
        expect(reads.every((g) => g.range !== null), `${f.name}: a GET of the whole original`).to.equal(true);
        const fetched = reads.reduce((sum, g) => sum + g.range![1] - g.range![0] + 1, 0);
        const blocks = Math.ceil(f.bytes.length / BLOCK);
        expect(reads.length, `${f.name}: ${reads.length} requests for ${blocks} blocks`).to.be.within(1, blocks + 4);
        const overhead = wiring === 'in the clear' ? 1 : 1 + 2 * (16 / SEGMENT) + 0.01; // tags, and a segment at each end
        expect(fetched, `${f.name}: ${fetched} bytes fetched for ${f.bytes.length}`).to.be.at.most(Math.ceil(2 * f.bytes.length * overhead) + 2 * SEGMENT);
      }
    });
  }

  it('sealed at rest, a small range opens only the segments it covers', async () => {
    const f = fixtures[0]!;
    const sha256 = sha(f.bytes);
    expect(await sealed.gateway.blobs.size(sha256)).to.equal(f.bytes.length);
    sealedBucket.gets.length = 0;
    const start = 3 * SEGMENT + 100;
    const stream = await sealed.gateway.blobs.read(sha256, { start, end: start + 999 });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(f.bytes.subarray(start, start + 1000))).to.equal(true);
    const [get] = sealedBucket.gets.filter((g) => g.key === sha256);
    expect(get?.range, 'a ranged GET of the sealed blob').to.not.equal(null);
    // One segment of ciphertext and its tag, not the blob.
    expect(get!.range![1] - get!.range![0] + 1).to.be.at.most(SEGMENT + 64);
  });
});
