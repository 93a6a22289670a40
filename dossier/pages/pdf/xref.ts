/**
 * The cross-reference data of a PDF, from `startxref` back through every incremental update
 * (/Prev): classic tables, cross-reference streams and hybrid files (/XRefStm). The newest entry
 * for an object wins. Anything unsound (no startxref, an offset where no such object begins, a
 * loop of sections, an undecodable stream) gives null, and the caller scans the file instead.
 */
import { PDFArray, PDFDict, PDFName, PDFNumber, PDFObjectParser, PDFRawStream, decodePDFRawStream, type PDFContext, type PDFObject } from 'pdf-lib';
import { readIndirectObject, type PdfBytes } from './indirect-object.js';
import type { IndexEntry, ObjectIndex } from './object-index.js';

const TAIL = 64 * 1024;
/** The largest cross-reference section read (a table of 6 million objects). */
const MAX_SECTION = 128 * 1024 * 1024;
const MAX_SECTIONS = 10_000;

interface Section {
  readonly entries: [number, IndexEntry][];
  readonly trailer: PDFDict;
}

export async function readXref(file: PdfBytes, ctx: PDFContext): Promise<ObjectIndex | null> {
  try {
    return await read(file, ctx);
  } catch {
    return null;
  }
}

async function read(file: PdfBytes, ctx: PDFContext): Promise<ObjectIndex | null> {
  const tailAt = Math.max(0, file.size - TAIL);
  const tail = (await file.access.readAt(tailAt, file.size - tailAt)).toString('latin1');
  const start = /startxref[\0\t\n\f\r ]+(\d+)/.exec(tail.slice(tail.lastIndexOf('startxref')));
  if (!start) return null;

  const entries = new Map<number, IndexEntry>();
  const sectionStarts: number[] = [];
  let root: PDFObject | undefined;
  let encrypt: PDFObject | undefined;
  const pending = [Number(start[1])];
  const seen = new Set<number>();
  while (pending.length) {
    const at = pending.shift()!;
    if (seen.has(at) || seen.size >= MAX_SECTIONS || at >= file.size) return null;
    seen.add(at);
    sectionStarts.push(at);
    const section = await readSection(file, at, ctx);
    if (!section) return null;
    for (const [num, entry] of section.entries) if (!entries.has(num)) entries.set(num, entry);
    root ??= section.trailer.get(PDFName.of('Root'));
    encrypt ??= section.trailer.get(PDFName.of('Encrypt'));
    // A hybrid file's stream comes after its own table, before older updates.
    const stream = section.trailer.get(PDFName.of('XRefStm'));
    if (stream instanceof PDFNumber) pending.unshift(stream.asNumber());
    const prev = section.trailer.get(PDFName.of('Prev'));
    if (prev instanceof PDFNumber) pending.push(prev.asNumber());
  }
  entries.delete(0);
  const offsets: number[] = [];
  for (const entry of entries.values()) if (entry.type === 'offset') offsets.push(entry.offset);
  if (!(await headersMatch(file, entries))) return null;
  const bounds = [...new Set([...offsets, ...sectionStarts])].sort((a, b) => a - b);
  return { entries, bounds, root, encrypt, how: 'xref' };
}

async function readSection(file: PdfBytes, at: number, ctx: PDFContext): Promise<Section | null> {
  const head = await file.access.readAt(at, 64);
  if (/^[\0\t\n\f\r ]*xref/.test(head.toString('latin1'))) {
    for (let window = 64 * 1024; ; window *= 2) {
      const bytes = await file.access.readAt(at, Math.min(window, MAX_SECTION));
      const atEnd = at + bytes.length >= file.size || bytes.length >= MAX_SECTION;
      const table = classicTable(bytes, atEnd, ctx);
      if (table !== 'more') return table;
      if (atEnd) return null;
    }
  }
  const object = await readIndirectObject(file, at, Math.min(file.size, at + MAX_SECTION), ctx);
  if (!object || !(object.object instanceof PDFRawStream) || object.object.dict.lookup(PDFName.of('Type')) !== PDFName.of('XRef')) return null;
  return xrefStream(object.object);
}

/** A classic table and its trailer; 'more' when the window ends inside it. */
function classicTable(bytes: Buffer, atEnd: boolean, ctx: PDFContext): Section | null | 'more' {
  const text = bytes.toString('latin1');
  const ws = /[\0\t\n\f\r ]*/y;
  const skip = (p: number) => ((ws.lastIndex = p), ws.exec(text), ws.lastIndex);
  const nearEnd = (p: number) => !atEnd && p > text.length - 64;
  let p = skip(0) + 4; // "xref"
  const entries: [number, IndexEntry][] = [];
  const subsection = /(\d+)[\0\t\n\f\r ]+(\d+)/y;
  const entry = /[\0\t\n\f\r ]*(\d+)[\0\t\n\f\r ]+(\d+)[\0\t\n\f\r ]*([nf])/y;
  for (;;) {
    p = skip(p);
    if (text.startsWith('trailer', p)) {
      if (nearEnd(p + 4096)) return 'more';
      try {
        const trailer = PDFObjectParser.forBytes(bytes.subarray(p + 7), ctx).parseObject();
        return trailer instanceof PDFDict ? { entries, trailer } : null;
      } catch {
        return atEnd ? null : 'more';
      }
    }
    subsection.lastIndex = p;
    const sub = subsection.exec(text);
    if (!sub) return nearEnd(p) ? 'more' : null;
    if (nearEnd(subsection.lastIndex)) return 'more';
    p = subsection.lastIndex;
    const first = Number(sub[1]);
    const count = Number(sub[2]);
    for (let i = 0; i < count; i++) {
      entry.lastIndex = p;
      const e = entry.exec(text);
      if (!e) return nearEnd(p) ? 'more' : null;
      if (nearEnd(entry.lastIndex)) return 'more';
      p = entry.lastIndex;
      entries.push([first + i, e[3] === 'n' ? { type: 'offset', offset: Number(e[1]), gen: Number(e[2]) } : { type: 'free' }]);
    }
  }
}

function xrefStream(stream: PDFRawStream): Section | null {
  const dict = stream.dict;
  const w = dict.lookup(PDFName.of('W'));
  if (!(w instanceof PDFArray) || w.size() !== 3) return null;
  const widths = [0, 1, 2].map((i) => w.lookup(i, PDFNumber).asNumber());
  const size = dict.lookup(PDFName.of('Size'), PDFNumber).asNumber();
  const index = dict.lookup(PDFName.of('Index'));
  const ranges: number[] = index instanceof PDFArray ? index.asArray().map((_, i) => index.lookup(i, PDFNumber).asNumber()) : [0, size];
  const data = unpredict(Buffer.from(decodePDFRawStream(stream).decode()), dict, widths[0]! + widths[1]! + widths[2]!);
  if (!data) return null;
  const row = widths[0]! + widths[1]! + widths[2]!;
  const field = (at: number, width: number) => {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[at + i]!;
    return v;
  };
  const entries: [number, IndexEntry][] = [];
  let at = 0;
  for (let r = 0; r + 1 < ranges.length; r += 2) {
    for (let i = 0; i < ranges[r + 1]!; i++, at += row) {
      if (at + row > data.length) return null;
      const type = widths[0] === 0 ? 1 : field(at, widths[0]!);
      const a = field(at + widths[0]!, widths[1]!);
      const b = field(at + widths[0]! + widths[1]!, widths[2]!);
      const num = ranges[r]! + i;
      if (type === 0) entries.push([num, { type: 'free' }]);
      else if (type === 1) entries.push([num, { type: 'offset', offset: a, gen: b }]);
      else if (type === 2) entries.push([num, { type: 'compressed', stream: a, index: b }]);
    }
  }
  return { entries, trailer: dict };
}

/** Undoes a PNG predictor (what cross-reference streams use); the data as it is without one. */
function unpredict(data: Buffer, dict: PDFDict, columns: number): Buffer | null {
  const parms = dict.lookup(PDFName.of('DecodeParms'));
  const params = parms instanceof PDFDict ? parms : parms instanceof PDFArray ? parms.lookup(0) : undefined;
  const predictor = params instanceof PDFDict ? params.lookup(PDFName.of('Predictor')) : undefined;
  if (!(predictor instanceof PDFNumber) || predictor.asNumber() < 10) return predictor instanceof PDFNumber && predictor.asNumber() === 2 ? null : data;
  const declared = (params as PDFDict).lookup(PDFName.of('Columns'));
  const width = declared instanceof PDFNumber ? declared.asNumber() : columns;
  const out = Buffer.alloc(Math.floor(data.length / (width + 1)) * width);
  const prior = Buffer.alloc(width);
  for (let r = 0, i = 0, o = 0; i + width < data.length + 1 && o < out.length; r++, i += width + 1, o += width) {
    const tag = data[i]!;
    for (let c = 0; c < width; c++) {
      const raw = data[i + 1 + c]!;
      const left = c > 0 ? out[o + c - 1]! : 0;
      const up = prior[c]!;
      const upLeft = c > 0 ? prior[c - 1]! : 0;
      let v: number;
      if (tag === 0) v = raw;
      else if (tag === 1) v = raw + left;
      else if (tag === 2) v = raw + up;
      else if (tag === 3) v = raw + ((left + up) >> 1);
      else if (tag === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        v = raw + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
      } else return null;
      out[o + c] = v & 0xff;
    }
    out.copy(prior, 0, o, o + width);
  }
  return out;
}

/** Every offset of the table points at its own object's header: else the table is not believed. */
async function headersMatch(file: PdfBytes, entries: ReadonlyMap<number, IndexEntry>): Promise<boolean> {
  const wanted = [...entries].flatMap(([num, e]) => (e.type === 'offset' ? [{ num, gen: e.gen, offset: e.offset }] : [])).sort((a, b) => a.offset - b.offset);
  const WINDOW = 64 * 1024;
  let windowAt = -1;
  let window: Buffer = Buffer.alloc(0);
  const header = /^[\0\t\n\f\r ]*(\d+)[\0\t\n\f\r ]+(\d+)[\0\t\n\f\r ]+obj/;
  for (const [i, w] of wanted.entries()) {
    if (w.offset >= file.size) return false;
    if (windowAt < 0 || w.offset + 48 > windowAt + window.length) {
      // A window over the next headers where they are close (small objects), else this one alone.
      const next = wanted[i + 1]?.offset ?? Infinity;
      windowAt = w.offset;
      window = await file.access.readAt(w.offset, next - w.offset < WINDOW / 2 ? WINDOW : 48);
    }
    const at = w.offset - windowAt;
    const m = header.exec(window.toString('latin1', at, at + 48));
    if (!m || Number(m[1]) !== w.num || Number(m[2]) !== w.gen) return false;
  }
  return true;
}
