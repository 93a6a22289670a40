/**
 * The in-stream reader on its own (upload-tails.ts and its thread): several uploads followed at
 * once, their pages deflated (so each is handed over and stored as a blob of its own), under a
 * budget of held page bytes so small that every upload may have only one page in flight. Every
 * upload must still be read to its end, its pages stored and signed, none waiting on the others.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { UploadTails } from '../dossier/ingest/stream/upload-tails.js';
import { DEFAULT_LIMITS } from '../dossier/pages/types.js';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { tempDir } from './support/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('upload tails: many uploads read in the stream at once', function () {
  this.timeout(120_000);
  let dir: string;
  let tails: UploadTails;
  let blobs: FsBlobStore;

  before(async () => {
    dir = await tempDir('upload-tails-');
    blobs = await FsBlobStore.open(path.join(dir, 'blobs'));
    const keys = await FileKeyRing.open(path.join(dir, 'keys'), { create: true });
    const dossiers = { get: async (id: string) => ({ id, caseId: `case-of-${id}` }) } as never;
    tails = new UploadTails({ blobs, keys, dossiers, limits: DEFAULT_LIMITS, log: pino({ level: 'silent' }), heldBytesBudget: 1 });
  });
  after(async () => {
    await tails?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('six uploads of deflated pages, one page in flight each: every page read, stored and signed', async () => {
    const uploads = await Promise.all(Array.from({ length: 6 }, async (_, u) => {
      const pages = await Promise.all(Array.from({ length: 10 }, (_, i) => jpegPage(u * 100 + i + 1, 300, 400)));
      const zip = await fs.readFile(await zipOf(path.join(dir, `source-${u}.zip`), pages.map((data, i) => ({ name: `${i + 1}.jpg`, data, compress: true }))));
      return { id: `upload-${u}`, file: path.join(dir, `upload-${u}`), zip, pages };
    }));
    for (const u of uploads) {
      await fs.writeFile(u.file, '');
      tails.begin(u.id, u.file);
    }
    // The uploads' bytes arrive interleaved, 16 KiB at a time, as from several clients.
    const step = 16 * 1024;
    for (let at = 0; uploads.some((u) => at < u.zip.length); at += step) {
      for (const u of uploads) {
        if (at >= u.zip.length) continue;
        const end = Math.min(u.zip.length, at + step);
        await fs.appendFile(u.file, u.zip.subarray(at, end));
        tails.grew(u.id, end);
      }
    }
    const results = await Promise.all(uploads.map(async (u) => {
      expect(await tails.finish(u.id, u.zip.length, sha(u.zip))).to.equal(sha(u.zip));
      return tails.take(u.id);
    }));
    for (const [i, r] of results.entries()) {
      const u = uploads[i]!;
      expect(r, `${u.id} was read in the stream`).to.not.equal(null);
      expect(r!.gaveUp).to.equal(null);
      const read = [...r!.entries.values()].map((e) => e.page!);
      expect(read.map((p) => p.sha256)).to.deep.equal(u.pages.map(sha));
      await Promise.all(read.map((p) => p.stored));
      for (const p of read) {
        expect(p.rangeStart, 'a deflated page is no range of its upload').to.equal(null);
        expect((await p.signature).jws).to.be.a('string');
      }
      for (const page of u.pages) expect(Buffer.compare(await fs.readFile(blobs.localPath(sha(page))!), page)).to.equal(0);
    }
  });
});
