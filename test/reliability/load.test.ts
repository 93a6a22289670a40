/**
 * Load, on loopback, bounded in count and time (issue 17): 100 concurrent tus uploads of 10 MB in
 * 1 MB chunks to a gateway process, every SHA-256 right; 1,000 concurrent page reads, every byte
 * right; 200 concurrent searches, every answer right. The gateway's resident memory, sampled from
 * /proc while the uploads run, stays within its base plus 16 MB per active upload. Latencies
 * (p50/p99) are printed and recorded for RELIABILITY.md, never asserted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { spawnServer, tokenFor, type ServerProcess } from '../../scripts/support/server-process.js';
import { randomFile, tempDir } from '../support/fixtures.js';
import { jsonApi } from '../support/gateway.js';
import { textPdf, uploadSealed, ocrFinished } from '../support/ocr-fixtures.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { recordFigures } from './results.js';

const UPLOADS = 100;
const UPLOAD_BYTES = 10 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const PAGE_READS = 1000;
const SEARCHES = 200;
const PER_UPLOAD_BUDGET = 16 * 1024 * 1024;

const percentile = (ms: number[], p: number) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
};
const timed = async <T>(fn: () => Promise<T>, into: number[]): Promise<T> => {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    into.push(performance.now() - t);
  }
};

async function rss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

describe('load: concurrent uploads, page reads and searches (loopback, bounded)', function () {
  this.timeout(600_000);
  let dir: string;
  let server: ServerProcess;
  let api: ReturnType<typeof jsonApi>;
  let clerk: string;
  let caseId: string;

  before(async () => {
    dir = await tempDir('load-');
    // OCR off the cores: nothing here needs it (the searched pages carry a text layer).
    server = await spawnServer({ DATA_DIR: path.join(dir, 'data'), OCR_WORKERS: '1', LOG_LEVEL: 'warn' });
    api = jsonApi(server.url);
    clerk = await tokenFor(path.join(dir, 'data'), 'police-1', 'clerk');
    caseId = (await api('POST', '/api/cases', clerk, { number: 'LOAD-1' })).json.id as string;
  });
  after(async () => {
    await server?.kill();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it(`${UPLOADS} concurrent tus uploads of 10 MB in 1 MB chunks: every SHA-256 right, memory within base + 16 MB an upload`, async () => {
    const files = await Promise.all(Array.from({ length: UPLOADS }, (_, i) => randomFile(dir, `u${i}.bin`, UPLOAD_BYTES)));
    const pid = server.child.pid!;
    const base = await rss(pid);
    let peak = base;
    let active = 0;
    let worstOver = -Infinity;
    const sampler = setInterval(() => {
      rss(pid).then((r) => {
        peak = Math.max(peak, r);
        worstOver = Math.max(worstOver, r - base - active * PER_UPLOAD_BUDGET);
      }, () => {});
    }, 100);
    const latencies: number[] = [];
    const started = performance.now();
    let ids: string[];
    try {
      ids = await Promise.all(
        files.map((f, i) =>
          timed(async () => {
            active++;
            try {
              return idFromUrl(await tusUpload(server.url, f.path, { token: clerk, metadata: { filename: `u${i}.bin`, caseId }, chunkSize: CHUNK }).done);
            } finally {
              active--;
            }
          }, latencies),
        ),
      );
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    // Random bytes are no dossier format: each is rejected at ingest, naming the hash of what arrived.
    for (const [i, id] of ids.entries()) {
      const d = await eventuallyDone(id);
      expect([d.bytes, d.sha256], `upload ${i}`).to.deep.equal([files[i]!.size, files[i]!.sha256]);
    }
    const figures = {
      uploads: UPLOADS, mbEach: UPLOAD_BYTES / 2 ** 20, seconds: Math.round(seconds * 10) / 10, mbPerSecond: Math.round(((UPLOADS * UPLOAD_BYTES) / 2 ** 20 / seconds) * 10) / 10,
      uploadP50ms: percentile(latencies, 50), uploadP99ms: percentile(latencies, 99), baseRssMb: Math.round(base / 2 ** 20), peakRssMb: Math.round(peak / 2 ** 20),
      peakOverBasePerUploadMb: Math.round(((peak - base) / UPLOADS / 2 ** 20) * 100) / 100,
    };
    recordFigures('load', figures);
    console.log(`      ${JSON.stringify(figures)}`);
    expect(worstOver, 'resident memory above base + 16 MB per active upload').to.be.at.most(0);
  });

  it(`${PAGE_READS} concurrent page reads and ${SEARCHES} concurrent searches: every answer right`, async () => {
    const words = Array.from({ length: 10 }, (_, i) => `loadword${i}x${Math.random().toString(36).slice(2, 8)}`);
    const gw = { url: server.url, api };
    const id = await uploadSealed(gw, clerk, caseId, 'text.pdf', await textPdf(words.map((w, i) => `Page ${i + 1} of the load dossier: ${w}`)));
    await ocrFinished(gw, clerk, id);
    const pages = (await api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { index: number; sha256: string }[];
    expect(pages).to.have.length(10);

    const reads: number[] = [];
    await Promise.all(
      Array.from({ length: PAGE_READS }, (_, i) =>
        timed(async () => {
          const p = pages[i % pages.length]!;
          const res = await fetch(`${server.url}/api/dossiers/${id}/pages/${p.index}`, { headers: { authorization: `Bearer ${clerk}` } });
          expect(res.status).to.equal(200);
          expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).to.equal(p.sha256);
        }, reads),
      ),
    );
    const searches: number[] = [];
    await Promise.all(
      Array.from({ length: SEARCHES }, (_, i) =>
        timed(async () => {
          const w = words[i % words.length]!;
          const res = await api('GET', `/api/search?q=${w}`, clerk);
          expect(res.status).to.equal(200);
          expect(res.json.hits.map((h: { dossierId: string; page: number }) => [h.dossierId, h.page])).to.deep.equal([[id, (i % words.length) + 1]]);
        }, searches),
      ),
    );
    const figures = { pageReads: PAGE_READS, pageReadP50ms: percentile(reads, 50), pageReadP99ms: percentile(reads, 99), searches: SEARCHES, searchP50ms: percentile(searches, 50), searchP99ms: percentile(searches, 99) };
    recordFigures('load', figures);
    console.log(`      ${JSON.stringify(figures)}`);
  });

  async function eventuallyDone(id: string): Promise<{ bytes: number; sha256: string; status: string }> {
    for (const deadline = Date.now() + 300_000; ; ) {
      const d = (await api('GET', `/api/dossiers/${id}`, clerk)).json;
      if (d.status === 'rejected' || d.status === 'sealed') return d;
      if (Date.now() > deadline) throw new Error(`dossier ${id} still ${d.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});
