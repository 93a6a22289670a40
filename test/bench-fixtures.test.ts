import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PDFDocument } from 'pdf-lib';
import yauzl from 'yauzl';
import { jpegInfo } from '../scripts/bench/fixtures/archives.js';
import { ensureSyntheticDossier, type SyntheticDossier } from '../scripts/bench/fixtures/generate.js';
import { pageText, renderPage, uniqueToken } from '../scripts/bench/fixtures/synthetic-pages.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface ZipEntryInfo { name: string; method: number; flags: number; compressed: number; size: number; sha256: string }

/** All entries of a ZIP, in central-directory order, with a hash of each entry's content. */
function listZip(file: string): Promise<ZipEntryInfo[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out: ZipEntryInfo[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        zip.openReadStream(e, (err2, rs) => {
          if (err2 || !rs) return reject(err2 ?? new Error('no stream'));
          const h = createHash('sha256');
          rs.on('data', (c: Buffer) => h.update(c));
          rs.on('error', reject);
          rs.on('end', () => {
            out.push({
              name: e.fileName, method: e.compressionMethod, flags: e.generalPurposeBitFlag,
              compressed: e.compressedSize, size: e.uncompressedSize, sha256: h.digest('hex'),
            });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

describe('bench fixtures: synthetic page text', () => {
  it('is deterministic and starts with the case header', () => {
    expect(pageText(17)).to.deep.equal(pageText(17));
    expect(pageText(17)[0]).to.match(/^Case 2026-\d{4} {2}Page 17 of 5253$/);
    expect(pageText(3, 12)[0]).to.match(/Page 3 of 12$/);
    expect(pageText(17).join('\n')).to.not.equal(pageText(18).join('\n'));
  });

  it('puts each page\'s unique token on that page only (all 5253 pages)', () => {
    expect(uniqueToken(17)).to.match(/^EXHIBIT-00017-[A-Z]{2}$/);
    const texts = Array.from({ length: 5253 }, (_, k) => pageText(k + 1).join('\n'));
    texts.forEach((text, k) => {
      const tokens = text.match(/EXHIBIT-\d{5}-[A-Z]{2}/g);
      expect(tokens, `page ${k + 1}`).to.deep.equal([uniqueToken(k + 1)]);
    });
    const token = uniqueToken(17);
    expect(texts.filter((t) => t.includes(token))).to.have.length(1);
  });

  it('keeps lines short enough to fit the page', () => {
    for (let i = 1; i <= 300; i++) for (const line of pageText(i)) expect(line.length, `page ${i}`).to.be.at.most(80);
  });

  it('fits the page with the most lines without clipping (renderPage throws if text would be cut)', async function () {
    this.timeout(60_000);
    let longest = 1, most = 0;
    for (let i = 1; i <= 5253; i++) {
      const n = pageText(i).length;
      if (n > most) [longest, most] = [i, n];
    }
    const jpeg = await renderPage(longest);
    expect(jpegInfo(jpeg)).to.deep.equal({ width: 1240, height: 1754, components: 1 });
  });
});

describe('bench fixtures: generated dossier @slow', function () {
  this.timeout(180_000);
  const PAGES = 12;
  let dir: string;
  let d: SyntheticDossier;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-fixtures-'));
    d = await ensureSyntheticDossier({ dir, pages: PAGES, log: () => {} });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes one grayscale A4 JPEG per page, matching the manifest', async () => {
    expect(d.pageFiles).to.have.length(PAGES);
    expect(d.manifest.pages.map((p) => p.index)).to.deep.equal(Array.from({ length: PAGES }, (_, k) => k + 1));
    let total = 0;
    for (const [k, file] of d.pageFiles.entries()) {
      const data = await readFile(file);
      const rec = d.manifest.pages[k]!;
      expect(file.endsWith(`pages/${String(k + 1).padStart(5, '0')}.jpg`)).to.equal(true);
      expect(rec.sha256).to.equal(sha256(data));
      expect(rec.bytes).to.equal(data.length);
      expect(rec.lines).to.deep.equal(pageText(k + 1, PAGES));
      expect(jpegInfo(data)).to.deep.equal({ width: 1240, height: 1754, components: 1 });
      total += data.length;
    }
    expect(d.totalBytes).to.equal(total);
    const meanKB = total / PAGES / 1024;
    expect(meanKB).to.be.within(120, 400); // the 200–260 KB target holds over the full set; 12 pages vary more
  });

  it('renders the same bytes for the same index, and different pages differ', async () => {
    const again = await renderPage(5, { totalPages: PAGES });
    expect(sha256(again)).to.equal(d.manifest.pages[4]!.sha256);
    expect(sha256(await renderPage(5, { totalPages: PAGES }))).to.equal(sha256(again));
    expect(new Set(d.manifest.pages.map((p) => p.sha256)).size).to.equal(PAGES);
  });

  it('writes a STORED zip with the pages in order', async () => {
    const entries = await listZip(d.zipPath);
    expect(entries.map((e) => e.name)).to.deep.equal(Array.from({ length: PAGES }, (_, k) => `dossier/${String(k + 1).padStart(4, '0')}.jpg`));
    for (const [k, e] of entries.entries()) {
      const rec = d.manifest.pages[k]!;
      expect(e.method, e.name).to.equal(0); // STORED
      expect(e.flags & 0x8, `${e.name} uses a data descriptor`).to.equal(0);
      expect(e.size).to.equal((await stat(d.pageFiles[k]!)).size);
      expect(e.compressed).to.equal(e.size);
      expect(e.sha256).to.equal(rec.sha256);
    }
  });

  it('writes a PDF that pdf-lib loads, one A4 page per JPEG', async () => {
    const pdf = await PDFDocument.load(await readFile(d.pdfPath));
    expect(pdf.getPageCount()).to.equal(PAGES);
    for (const page of pdf.getPages()) {
      const { width, height } = page.getSize();
      expect(width).to.be.closeTo(595.28, 0.01);
      expect(height).to.be.closeTo(841.89, 0.01);
    }
    // The JPEG bytes are embedded verbatim.
    const raw = await readFile(d.pdfPath);
    const first = await readFile(d.pageFiles[0]!);
    expect(raw.indexOf(first)).to.be.greaterThan(0);
  });

  it('returns the cached set quickly the second time', async () => {
    const before = await stat(d.zipPath);
    const t = performance.now();
    const again = await ensureSyntheticDossier({ dir, pages: PAGES, log: () => {} });
    expect(performance.now() - t).to.be.below(1000);
    expect(again.manifest).to.deep.equal(d.manifest);
    expect((await stat(d.zipPath)).mtimeMs).to.equal(before.mtimeMs);
  });

  it('resumes a partial run: regenerates only what is missing', async () => {
    const pdfBefore = await stat(d.pdfPath);
    await rm(join(dir, 'complete.json'));
    await rm(d.pageFiles[6]!);
    await rm(d.zipPath);
    const lines: string[] = [];
    const again = await ensureSyntheticDossier({ dir, pages: PAGES, log: (l) => lines.push(l) });
    expect(lines.join('\n')).to.match(/1 rendered, 11 reused/);
    expect(again.manifest).to.deep.equal(d.manifest);
    expect((await listZip(again.zipPath)).map((e) => e.sha256)).to.deep.equal(d.manifest.pages.map((p) => p.sha256));
    expect((await stat(d.pdfPath)).mtimeMs).to.equal(pdfBefore.mtimeMs);
  });
});
