/**
 * The index of a PDF whose cross-reference data cannot be believed, rebuilt the way the
 * whole-file parse read every PDF: front to back, object header after object header, the later
 * definition of an object winning, stream contents skipped by their /Length, objects inside
 * object streams taken at the stream's place, /Root and /Encrypt from the last trailer (or
 * cross-reference stream) that names them, and, when /Root is not a catalog, the last catalog.
 * The file is read once in chunks; only offsets are kept.
 */
import { PDFDict, PDFName, PDFObjectParser, PDFRawStream, PDFRef, type PDFContext, type PDFObject } from 'pdf-lib';
import { readIndirectObject, type PdfBytes } from './indirect-object.js';
import type { IndexEntry, ObjectIndex } from './object-index.js';
import { objectStreamMembers } from './object-stream.js';

const CHUNK = 8 * 1024 * 1024;
/** Bytes after a header looked at for its dictionary (type, stream length). */
const LOOK = 4096;

const WS = '[\\0\\t\\n\\f\\r ]';
const HEADER = () => new RegExp(`(?<![0-9])(\\d{1,10})${WS}+(\\d{1,5})${WS}+obj(?![A-Za-z0-9])|(?<![A-Za-z])trailer(?![A-Za-z])`, 'g');

type Found = { at: number; num: number; gen: number; kind: 'object' | 'objstm' | 'xref' | 'catalog' } | { at: number; kind: 'trailer' };

export async function scanObjects(file: PdfBytes, ctx: PDFContext): Promise<ObjectIndex> {
  const found = await findHeaders(file);
  const bounds = found.map((f) => f.at);
  const endOf = (i: number) => (i + 1 < found.length ? found[i + 1]!.at : file.size);
  const entries = new Map<number, IndexEntry>();
  let root: PDFObject | undefined;
  let encrypt: PDFObject | undefined;
  let lastCatalog: number | undefined;
  for (const [i, f] of found.entries()) {
    if (f.kind === 'trailer') {
      const dict = await trailerAt(file, f.at, endOf(i), ctx);
      root = dict?.get(PDFName.of('Root')) ?? root;
      encrypt = dict?.get(PDFName.of('Encrypt')) ?? encrypt;
      continue;
    }
    if (f.kind === 'object' || f.kind === 'catalog') {
      entries.set(f.num, { type: 'offset', offset: f.at, gen: f.gen });
      if (f.kind === 'catalog') lastCatalog = f.num;
      continue;
    }
    const read = await readIndirectObject(file, f.at, endOf(i), ctx);
    if (!read || !(read.object instanceof PDFRawStream)) {
      entries.set(f.num, { type: 'offset', offset: f.at, gen: f.gen });
      continue;
    }
    const stream = read.object;
    if (f.kind === 'xref') {
      // As pdf-lib's cross-reference stream parser: the stream's dictionary is the trailer.
      root = stream.dict.get(PDFName.of('Root'));
      encrypt = stream.dict.get(PDFName.of('Encrypt'));
      continue;
    }
    entries.set(f.num, { type: 'offset', offset: f.at, gen: f.gen });
    const members = objectStreamMembers(stream);
    members?.forEach((num, index) => entries.set(num, { type: 'compressed', stream: f.num, index }));
  }
  entries.delete(0);
  if (lastCatalog !== undefined && !(await isCatalog(file, entries, bounds, root, ctx))) {
    const entry = entries.get(lastCatalog);
    root = PDFRef.of(lastCatalog, entry?.type === 'offset' ? entry.gen : 0);
  }
  return { entries, bounds, root, encrypt, how: 'scan' };
}

async function findHeaders(file: PdfBytes): Promise<Found[]> {
  const found: Found[] = [];
  let skipTo = 0;
  for (let chunkAt = 0; chunkAt < file.size; chunkAt += CHUNK) {
    // Each chunk is read with LOOK bytes more, so a header near its end is seen whole.
    const bytes = await file.access.readAt(chunkAt, CHUNK + LOOK);
    const text = bytes.toString('latin1');
    const header = HEADER();
    header.lastIndex = Math.max(0, skipTo - chunkAt);
    for (let m = header.exec(text); m && m.index < CHUNK; m = header.exec(text)) {
      const at = chunkAt + m.index;
      if (m[1] === undefined) {
        found.push({ at, kind: 'trailer' });
        continue;
      }
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + LOOK);
      const { kind, streamLength } = describe(after);
      found.push({ at, num: Number(m[1]), gen: Number(m[2]), kind });
      if (streamLength !== null) {
        skipTo = at + m[0].length + streamLength;
        if (skipTo - chunkAt >= CHUNK) break;
        header.lastIndex = skipTo - chunkAt;
      }
    }
  }
  return found;
}

/** The object's kind from its dictionary, and where its stream data ends when /Length is direct. */
function describe(text: string): { kind: 'object' | 'objstm' | 'xref' | 'catalog'; streamLength: number | null } {
  const endobj = text.indexOf('endobj');
  const after = endobj < 0 ? text : text.slice(0, endobj);
  const keyword = /(?<![A-Za-z])stream(\r\n|\n|\r)?/.exec(after);
  const dict = keyword ? after.slice(0, keyword.index) : after;
  const type = /\/Type[\0\t\n\f\r ]*\/(ObjStm|XRef|Catalog)(?![A-Za-z])/.exec(dict)?.[1];
  const kind = type === 'ObjStm' ? 'objstm' : type === 'XRef' ? 'xref' : type === 'Catalog' ? 'catalog' : 'object';
  const length = keyword ? /\/Length[\0\t\n\f\r ]+(\d+)(?![\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R)(?=[^\d])/.exec(dict) : null;
  return { kind, streamLength: keyword && length ? keyword.index + keyword[0].length + Number(length[1]) : null };
}

async function trailerAt(file: PdfBytes, at: number, end: number, ctx: PDFContext): Promise<PDFDict | null> {
  const bytes = await file.access.readAt(at + 7, Math.min(64 * 1024, Math.max(0, end - at - 7)));
  try {
    const dict = PDFObjectParser.forBytes(bytes, ctx).parseObject();
    return dict instanceof PDFDict ? dict : null;
  } catch {
    return null;
  }
}

async function isCatalog(file: PdfBytes, entries: Map<number, IndexEntry>, bounds: number[], root: PDFObject | undefined, ctx: PDFContext): Promise<boolean> {
  if (!(root instanceof PDFRef)) return root instanceof PDFDict && root.lookup(PDFName.of('Type')) === PDFName.of('Catalog');
  const entry = entries.get(root.objectNumber);
  // One inside an object stream is believed: only the whole-file parse could look cheaply.
  if (entry?.type !== 'offset' || entry.gen !== root.generationNumber) return entry?.type === 'compressed';
  const next = bounds.find((b) => b > entry.offset) ?? file.size;
  const read = await readIndirectObject(file, entry.offset, next, ctx);
  return read?.object instanceof PDFDict && read.object.lookup(PDFName.of('Type')) === PDFName.of('Catalog');
}
