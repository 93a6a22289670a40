/**
 * The searchable PDF: the writer on generated pages (opened by pdf.js and pdf-lib, text found
 * where it was placed, Latin and Chinese, same bytes twice, flat memory over 1,000 pages), and
 * GET /api/dossiers/:id/export.pdf end to end with the real OCR pipeline.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { degrees, PDFDocument, PDFName, PDFRawStream, type PDFDict } from 'pdf-lib';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';
import { pino } from 'pino';
import sharp from 'sharp';
import { searchablePdf, type PdfPageInput } from '../dossier/evidence/searchable-pdf.js';
import type { WordsDocument } from '../dossier/ports/page-text.js';
import { jpegPage, pdfDossier, pngPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { headerScan, ocrFinished, textPdf, uniqueToken, uploadSealed, zipDossier } from './support/ocr-fixtures.js';

const standardFontDataUrl = path.join(path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + path.sep;

type Box = [number, number, number, number];
/** A words document with one line of words, each 40 × 12 units, left to right. */
function words(width: number, height: number, texts: string[], unit: 'px' | 'pt' = 'px'): WordsDocument {
  return { v: 1, unit, width, height, words: texts.map((text, i) => ({ text, confidence: 91, box: [10 + i * 50, 20, 40, 12] as Box })) };
}

/** A JP2 file's header boxes and a codestream's SIZ marker: all a reader needs short of decoding. */
function jp2(width: number, height: number): Buffer {
  const box = (type: string, content: Buffer) => {
    const b = Buffer.concat([Buffer.alloc(4), Buffer.from(type, 'latin1'), content]);
    b.writeUInt32BE(b.length, 0);
    return b;
  };
  const ihdr = Buffer.alloc(14);
  ihdr.writeUInt32BE(height, 0);
  ihdr.writeUInt32BE(width, 4);
  ihdr.writeUInt16BE(3, 8);
  ihdr.writeUInt8(7, 10);
  ihdr.writeUInt8(7, 11);
  const siz = Buffer.alloc(47);
  siz.writeUInt16BE(0xff51, 0);
  siz.writeUInt16BE(41, 2);
  siz.writeUInt32BE(width, 6);
  siz.writeUInt32BE(height, 10);
  siz.writeUInt16BE(1, 38);
  const codestream = Buffer.concat([Buffer.from([0xff, 0x4f]), siz, Buffer.from([0xff, 0xd9])]);
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
    box('ftyp', Buffer.from('jp2 \0\0\0\0jp2 ', 'latin1')),
    box('jp2h', Buffer.concat([box('ihdr', ihdr), box('colr', Buffer.from([1, 0, 0, 0, 0, 0, 16]))])),
    box('jp2c', codestream),
  ]);
}

async function pdfOf(pages: PdfPageInput[] | AsyncIterable<PdfPageInput>, id?: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of searchablePdf(Array.isArray(pages) ? toAsync(pages) : pages, { id, title: 'Dossier test' })) chunks.push(chunk);
  return Buffer.concat(chunks);
}
async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/**
 * Every cross-reference entry points at its object (pdf.js and pdf-lib both recover silently
 * from a broken xref, so they cannot tell). Classic table or xref stream; returns the object count.
 */
function checkXref(pdf: Buffer): number {
  const tail = pdf.subarray(pdf.length - 40).toString('latin1');
  const start = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(tail)![1]);
  const offsets: number[] = [];
  if (pdf.toString('latin1', start, start + 5) === 'xref\n') {
    const text = pdf.toString('latin1', start, pdf.length);
    for (const m of text.matchAll(/^(\d{10}) (\d{5}) ([nf])\r\n/gm)) if (m[3] === 'n') offsets.push(Number(m[1]));
  } else {
    const head = pdf.toString('latin1', start, start + 300);
    const length = Number(/\/Length (\d+)/.exec(head)![1]);
    const dataAt = start + head.indexOf('stream\n') + 7;
    const rows = zlib.inflateSync(pdf.subarray(dataAt, dataAt + length));
    for (let at = 7; at < rows.length; at += 7) if (rows[at] === 1) offsets.push(rows.readUIntBE(at + 1, 5));
  }
  offsets.forEach((offset, i) => expect(pdf.toString('latin1', offset, offset + 12).startsWith(`${i + 1} 0 obj\n`), `object ${i + 1} at ${offset}`).to.equal(true));
  return offsets.length;
}

interface TextItem { str: string; transform: number[]; width: number }
async function openPdf(bytes: Buffer) {
  return pdfjs.getDocument({ data: new Uint8Array(bytes), standardFontDataUrl, verbosity: 0 }).promise;
}
async function pageTexts(bytes: Buffer): Promise<{ view: number[]; items: TextItem[]; text: string }[]> {
  const doc = await openPdf(bytes);
  try {
    const out = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const items = (await page.getTextContent()).items.filter((i): i is TextItem & typeof i => 'str' in i) as TextItem[];
      out.push({ view: page.view, items, text: items.map((i) => i.str).join(' ') });
    }
    return out;
  } finally {
    await doc.destroy();
  }
}

describe('searchable PDF writer', function () {
  this.timeout(120_000);
  let mixed: PdfPageInput[];
  let mixedPdf: Buffer;
  let scan150: Buffer;

  before(async () => {
    // A 1240 × 1754 page that says it was scanned at 150 dpi: an A4 page (595.2 × 841.92 pt).
    scan150 = await sharp(await jpegPage(9, 1240, 1754)).withDensity(150).jpeg().toBuffer();
    mixed = [
      { bytes: await jpegPage(1), mediaType: 'image/jpeg', words: words(160, 220, ['Witness', 'Kowalski']) },
      { bytes: await pngPage(2), mediaType: 'image/png', words: words(160, 220, ['起诉书', '被告人']) },
      { bytes: await pdfDossier(1), mediaType: 'application/pdf', words: words(595, 842, ['Stamped', 'Copy'], 'pt') },
      { bytes: await pdfDossier(1), mediaType: 'application/pdf', words: null },
      { bytes: scan150, mediaType: 'image/jpeg', words: words(1240, 1754, ['Exhibit', '𠮷田']) },
      { bytes: await jpegPage(6), mediaType: 'image/jpeg', words: null },
    ];
    mixedPdf = await pdfOf(mixed, Buffer.alloc(32, 0xab));
  });

  it('opens in pdf.js with every page at its size: image density, else 300 dpi; PDF pages as they were', async () => {
    const pages = await pageTexts(mixedPdf);
    expect(pages.map((p) => p.view.map((v) => Math.round(v * 100) / 100))).to.deep.equal([
      [0, 0, 38.4, 52.8], // 160 × 220 px declaring 72 dpi (a software default): 300 dpi
      [0, 0, 38.4, 52.8],
      [0, 0, 595, 842],
      [0, 0, 595, 842],
      [0, 0, 595.2, 841.92], // 1240 × 1754 px at its declared 150 dpi
      [0, 0, 38.4, 52.8],
    ]);
  });

  it('puts each page’s words on that page only, Latin, Chinese and beyond the BMP', async () => {
    const pages = await pageTexts(mixedPdf);
    const expected: [number, string[]][] = [
      [0, ['Witness', 'Kowalski']],
      [1, ['起诉书', '被告人']],
      [2, ['Statement of witness, page 1', 'Stamped', 'Copy']],
      [3, ['Statement of witness, page 1']],
      [4, ['Exhibit', '𠮷田']],
      [5, []],
    ];
    for (const [k, list] of expected) {
      expect(pages[k]!.items.map((i) => i.str).filter((s) => s.trim() !== '')).to.deep.equal(list, `page ${k + 1}`);
    }
  });

  it('places every word over its box: scaled to points, y flipped, stretched to the box width', async () => {
    const [first] = await pageTexts(mixedPdf);
    const scale = 72 / 300;
    for (const [i, item] of first!.items.filter((t) => t.str.trim() !== '').entries()) {
      const [left, top, width, height] = [10 + i * 50, 20, 40, 12];
      expect(item.transform[4]).to.be.closeTo(left * scale, 0.01);
      expect(item.transform[5]).to.be.closeTo(52.8 - (top + height) * scale, 0.01); // baseline at the box's bottom
      expect(item.width).to.be.closeTo(width * scale, 0.05);
    }
  });

  it('lays words over a turned PDF page (/Rotate 90) where they were seen on the page as shown', async () => {
    const src = await PDFDocument.create();
    src.addPage([595, 842]).setRotation(degrees(90));
    const shown = { v: 1 as const, unit: 'pt' as const, width: 842, height: 595, words: [{ text: 'Sideways', confidence: 90, box: [100, 50, 200, 20] as Box }] };
    const doc = await openPdf(await pdfOf([{ bytes: Buffer.from(await src.save()), mediaType: 'application/pdf', words: shown }]));
    const page = await doc.getPage(1);
    const viewport = page.getViewport({ scale: 1 });
    expect([viewport.width, viewport.height]).to.deep.equal([842, 595]);
    const [item] = (await page.getTextContent()).items as TextItem[];
    const [x, y] = viewport.convertToViewportPoint(item!.transform[4]!, item!.transform[5]!) as number[];
    expect(item!.str).to.equal('Sideways');
    expect(x).to.be.closeTo(100, 0.01);
    expect(y).to.be.closeTo(70, 0.01); // the baseline, at the bottom of the box, top-left origin
    await doc.destroy();
  });

  it('is a PDF pdf-lib reads, with the stored JPEG bytes embedded unchanged', async () => {
    const doc = await PDFDocument.load(mixedPdf, { updateMetadata: false });
    expect(doc.getPageCount()).to.equal(6);
    expect(doc.getPage(2).getSize()).to.deep.equal({ width: 595, height: 842 });
    const images = doc.context.enumerateIndirectObjects().map(([, o]) => o).filter((o): o is PDFRawStream => o instanceof PDFRawStream && o.dict.get(PDFName.of('Subtype')) === PDFName.of('Image'));
    const dct = images.filter((i) => i.dict.get(PDFName.of('Filter')) === PDFName.of('DCTDecode'));
    expect(dct.some((i) => Buffer.from(i.getContents()).equals(scan150))).to.equal(true);
    expect(dct.some((i) => Buffer.from(i.getContents()).equals(mixed[0]!.bytes as Buffer))).to.equal(true);
  });

  it('writes PNG pages losslessly: the deflated pixels are the PNG’s pixels', async () => {
    const png = await sharp({ create: { width: 37, height: 23, channels: 3, background: '#3a7' } })
      .composite([{ input: Buffer.from('<svg width="37" height="23"><circle cx="12" cy="11" r="8" fill="#e21"/></svg>') }])
      .png()
      .toBuffer();
    const doc = await PDFDocument.load(await pdfOf([{ bytes: png, mediaType: 'image/png', words: null }]));
    const image = doc.context.enumerateIndirectObjects().map(([, o]) => o).find((o): o is PDFRawStream => o instanceof PDFRawStream && (o.dict as PDFDict).get(PDFName.of('Subtype')) === PDFName.of('Image'))!;
    expect(image.dict.get(PDFName.of('Filter'))).to.equal(PDFName.of('FlateDecode'));
    expect(image.dict.get(PDFName.of('ColorSpace'))).to.equal(PDFName.of('DeviceRGB'));
    const pixels = zlib.inflateSync(image.getContents());
    expect(pixels.equals(await sharp(png).removeAlpha().raw().toBuffer())).to.equal(true);
  });

  it('keeps CMYK JPEGs as they are, with Adobe’s inverted values turned back', async () => {
    const cmyk = await sharp(await jpegPage(3)).toColourspace('cmyk').jpeg().toBuffer();
    const pdf = await pdfOf([{ bytes: cmyk, mediaType: 'image/jpeg', words: words(160, 220, ['cmyk']) }]);
    expect(pdf.includes(Buffer.from('/ColorSpace /DeviceCMYK /Decode [1 0 1 0 1 0 1 0] /Filter /DCTDecode'))).to.equal(true);
    expect((await pageTexts(pdf))[0]!.text).to.equal('cmyk');
  });

  it('embeds JPEG 2000 pages as they are (JPXDecode), sized at 300 dpi', async () => {
    const file = jp2(600, 900);
    const pdf = await pdfOf([{ bytes: file, mediaType: 'image/jp2', words: words(600, 900, ['jpx']) }]);
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPage(0).getSize()).to.deep.equal({ width: 144, height: 216 });
    const image = doc.context.enumerateIndirectObjects().map(([, o]) => o).find((o): o is PDFRawStream => o instanceof PDFRawStream && o.dict.get(PDFName.of('Filter')) === PDFName.of('JPXDecode'))!;
    expect(Buffer.from(image.getContents()).equals(file)).to.equal(true);
    expect((await pageTexts(pdf))[0]!.text).to.equal('jpx');
  });

  it('writes a cross-reference stream where classic xref offsets would run out (10 GB), readable alike', async () => {
    const chunks: Buffer[] = [];
    for await (const c of searchablePdf(toAsync(mixed), { xrefStreamFrom: 0 })) chunks.push(c);
    const pdf = Buffer.concat(chunks);
    expect(pdf.includes(Buffer.from('/Type /XRef'))).to.equal(true);
    expect(pdf.includes(Buffer.from('\nxref\n'))).to.equal(false);
    expect(checkXref(pdf)).to.equal(checkXref(mixedPdf) + 1); // the stream is an object itself
    expect((await pageTexts(pdf)).map((p) => p.text)).to.deep.equal((await pageTexts(mixedPdf)).map((p) => p.text));
    expect((await PDFDocument.load(pdf)).getPageCount()).to.equal(6);
  });

  it('gives the same bytes for the same pages, and takes its /ID from the caller', async () => {
    const again = await pdfOf(mixed, Buffer.alloc(32, 0xab));
    expect(again.equals(mixedPdf)).to.equal(true);
    expect(mixedPdf.includes(Buffer.from(`/ID [<${'ab'.repeat(16)}> <${'ab'.repeat(16)}>]`))).to.equal(true);
    const other = await pdfOf(mixed, Buffer.alloc(32, 0xcd));
    expect(other.equals(mixedPdf)).to.equal(false);
    expect(other.length).to.equal(mixedPdf.length);
  });

  it('stops with corrupt_image on a page that is not an image, before writing it', async () => {
    const pages = toAsync<PdfPageInput>([{ bytes: Buffer.from('not a jpeg at all'), mediaType: 'image/jpeg', words: null }]);
    const err = await pdfOf(pages).then(() => null, (e: unknown) => e);
    expect(err).to.include({ code: 'corrupt_image' });
  });

  it('keeps memory flat over 1,000 pages with text layers', async () => {
    const page = await sharp(await jpegPage(5, 1240, 1754)).jpeg({ quality: 95 }).toBuffer();
    const layer = words(1240, 1754, Array.from({ length: 300 }, (_, i) => `word${i}`));
    let rssAt100 = 0;
    let heapAt100 = 0;
    let peakRss = 0;
    let peakHeap = 0;
    async function* pages(): AsyncGenerator<PdfPageInput> {
      for (let i = 0; i < 1000; i++) {
        if (i % 50 === 0) {
          const m = process.memoryUsage();
          if (i === 100) [rssAt100, heapAt100] = [m.rss, m.heapUsed];
          if (i > 100) [peakRss, peakHeap] = [Math.max(peakRss, m.rss), Math.max(peakHeap, m.heapUsed)];
        }
        yield { bytes: page, mediaType: 'image/jpeg', words: layer };
      }
    }
    let bytes = 0;
    for await (const chunk of searchablePdf(pages())) bytes += chunk.length; // a counting sink
    expect(bytes).to.be.greaterThan(1000 * page.length);
    // The output is hundreds of MB; what is kept must not grow with it (generous bounds: GC timing varies).
    const mb = 1024 * 1024;
    expect((peakHeap - heapAt100) / mb).to.be.lessThan(64);
    expect((peakRss - rssAt100) / mb).to.be.lessThan(128);
  });
});

describe('GET /api/dossiers/:id/export.pdf', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  let clerk: string;
  let id: string;
  let caseId: string;
  const logLines: string[] = [];

  before(async () => {
    dir = await tempDir('export-pdf-');
    gw = await startGateway({ OCR_WORKERS: '1', OCR_LANGS: 'eng' }, { logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }) });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'PDF-1', title: 'searchable' })).json.id;
    const files = [
      { name: '1.jpg', data: await headerScan(1, 3) },
      { name: '2.jpg', data: await headerScan(2, 3) },
      { name: '3.pdf', data: await textPdf([`Born digital ${uniqueToken(3)}`]) },
    ];
    id = await uploadSealed(gw, clerk, caseId, 'mixed.zip', await zipDossier(dir, 'mixed.zip', files));
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const get = (token: string) => fetch(`${gw.url}/api/dossiers/${id}/export.pdf`, { headers: { authorization: `Bearer ${token}` } });

  it('streams the dossier as a PDF whose text finds each page’s unique word on that page', async () => {
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.deep.include({ done: 3, failed: 0 });
    const res = await get(clerk);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/pdf');
    expect(res.headers.get('content-disposition')).to.include(`dossier-${id}.pdf`);
    expect(res.headers.get('x-ocr-pages')).to.equal('3/3');
    const pdf = Buffer.from(await res.arrayBuffer());
    const pages = await pageTexts(pdf);
    expect(pages).to.have.length(3);
    for (const k of [1, 2, 3]) {
      pages.forEach((p, i) => expect(p.text.includes(uniqueToken(k)), `token of page ${k} on page ${i + 1}`).to.equal(i + 1 === k));
    }
    // The text-layer PDF page keeps its own text and gets no second copy of it.
    expect(pages[2]!.text.split(uniqueToken(3)).length - 1).to.equal(1);
    // Same dossier, same text: same bytes.
    expect(Buffer.from(await (await get(clerk)).arrayBuffer()).equals(pdf)).to.equal(true);
  });

  it('records the export in the audit chain', async function () {
    await get(clerk).then((r) => r.arrayBuffer());
    const r = await gw.api('GET', '/api/audit?limit=1000', await gw.token('police-1', 'auditor'));
    if (r.status === 404 && r.json?.error?.message === 'no such route') this.skip(); // the audit API arrives with its own issue
    const exports = (r.json.events as { action: string; target: { id: string }; details: unknown }[]).filter((e) => e.action === 'dossier.export' && e.target.id === id);
    expect(exports.map((e) => e.details)).to.deep.include({ format: 'pdf' });
  });

  it('answers another agency 404 and a supervisor 404', async () => {
    const other = await get(await gw.token('police-2', 'prosecutor'));
    expect(other.status).to.equal(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).to.equal('not_found');
    // The supervisor role never reaches content: 404, as for what does not exist (server/supervisor-guard.ts).
    const supervisor = await get(await gw.token('police-1', 'supervisor'));
    expect(supervisor.status).to.equal(404);
  });

  it('stops cleanly when the client goes away mid-stream', async () => {
    // 30 pages of 1.5 MB noise: far more than socket buffers hold, so the writer is still at work.
    const noise = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => ({
        name: `${i + 1}.jpg`,
        data: await sharp({ create: { width: 1240, height: 1754, channels: 3, background: '#fff', noise: { type: 'gaussian', mean: 128 + i, sigma: 60 } } }).jpeg({ quality: 95 }).toBuffer(),
      })),
    );
    const big = await uploadSealed(gw, clerk, caseId, 'noise.zip', await zipDossier(dir, 'noise.zip', noise));
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/api/dossiers/${big}/export.pdf`, { headers: { authorization: `Bearer ${clerk}` }, signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).subarray(0, 8).toString('latin1')).to.equal('%PDF-1.7');
    abort.abort();
    await reader.cancel().catch(() => {});
    await eventually(async () => (logLines.some((l) => l.includes('searchable PDF export aborted by the client') && l.includes(big)) ? true : undefined), 30_000, 'the abort logged');
    expect(logLines.filter((l) => l.includes('"level":50'))).to.deep.equal([]); // no error logged
    // The gateway goes on serving.
    expect((await get(clerk)).status).to.equal(200);
  });
});
