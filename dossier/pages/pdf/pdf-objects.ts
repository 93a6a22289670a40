/**
 * The objects of a PDF on disk, read by offset when a page needs them, into one pdf-lib context
 * that holds only those (and a bounded cache of the small ones that pages share: fonts,
 * resources). As the whole-file split did, every page, page-tree node and catalog is null in
 * that context: a link from one page to another then cannot drag the other page (and through
 * its /Parent every page) into the one-page PDF.
 */
import { PDFArray, PDFCatalog, PDFContext, PDFDict, PDFName, PDFNull, PDFPageLeaf, PDFPageTree, PDFRawStream, PDFRef, PDFStream, type PDFObject } from 'pdf-lib';
import { readIndirectObject, type PdfBytes } from './indirect-object.js';
import { extentEnd, type ObjectIndex } from './object-index.js';
import { decodeObjectStream, objectStreamObject, type DecodedObjectStream } from './object-stream.js';

/** Small shared objects kept between pages; anything larger is read again when needed. */
const CACHE_BYTES = 32 * 1024 * 1024;
// Fonts and resources are shared; a page's image (hundreds of KB) is not, and is never kept.
const CACHE_OBJECT = 64 * 1024;
const STREAM_CACHE_BYTES = 32 * 1024 * 1024;

const isPageLike = (o: PDFObject | undefined) => o instanceof PDFPageLeaf || o instanceof PDFPageTree || o instanceof PDFCatalog;

export class PdfObjects {
  readonly ctx = PDFContext.create();
  /** Refs in the context with the bytes they cost, oldest use first. */
  private readonly cached = new Map<PDFRef, number>();
  private cachedBytes = 0;
  private readonly nulled = new Set<PDFRef>();
  private readonly missing = new Set<PDFRef>();
  private readonly streams = new Map<number, DecodedObjectStream | null>();
  private streamBytes = 0;

  constructor(
    private readonly file: PdfBytes,
    readonly index: ObjectIndex,
  ) {}

  /** A fresh parse of the object, never cached (pages and tree nodes are changed by their reader). */
  async read(ref: PDFRef): Promise<PDFObject | undefined> {
    return (await this.readSized(ref))?.object;
  }

  /** The object as the copy sees it: page-like objects are null. */
  async load(ref: PDFRef): Promise<PDFObject | undefined> {
    if (this.nulled.has(ref)) return PDFNull;
    const size = this.cached.get(ref);
    if (size !== undefined) {
      this.cached.delete(ref);
      this.cached.set(ref, size);
      return this.ctx.lookup(ref);
    }
    if (this.missing.has(ref)) return undefined;
    const read = await this.readSized(ref);
    if (!read) {
      this.missing.add(ref);
      return undefined;
    }
    if (isPageLike(read.object)) {
      this.nullify(ref);
      return PDFNull;
    }
    this.ctx.assign(ref, read.object);
    this.cached.set(ref, read.size);
    this.cachedBytes += read.size;
    return read.object;
  }

  /** The value itself, or what the reference points at. */
  async resolve(value: PDFObject | undefined): Promise<PDFObject | undefined> {
    return value instanceof PDFRef ? this.load(value) : value;
  }

  /** Marks a page, tree node or catalog as null for the copy. */
  nullify(ref: PDFRef): void {
    this.nulled.add(ref);
    this.ctx.assign(ref, PDFNull);
  }

  /**
   * Loads every object reachable from `start`, leaving out the entries named in `except`. Level
   * by level, each level's reads at once: the disk's latency is paid once a level, not an object.
   */
  async gather(start: PDFDict, except: readonly string[] = []): Promise<void> {
    const skip = new Set(except.map((k) => PDFName.of(k)));
    const seen = new Set<PDFRef>();
    let level: PDFRef[] = [];
    for (const [key, value] of start.entries()) if (!skip.has(key)) refsIn(value, level);
    while (level.length) {
      const fresh = [...new Set(level)].filter((ref) => !seen.has(ref));
      for (const ref of fresh) seen.add(ref);
      const objects = await Promise.all(fresh.map((ref) => this.load(ref)));
      level = [];
      for (const object of objects) if (object !== undefined && object !== PDFNull) refsIn(object, level);
    }
  }

  /** Forgets the objects past the cache's bound, and every large one. */
  trim(): void {
    for (const [ref, size] of this.cached) {
      if (this.cachedBytes <= CACHE_BYTES && size <= CACHE_OBJECT) continue;
      this.cached.delete(ref);
      this.ctx.delete(ref);
      this.cachedBytes -= size;
    }
  }

  private async readSized(ref: PDFRef): Promise<{ object: PDFObject; size: number } | undefined> {
    const entry = this.index.entries.get(ref.objectNumber);
    if (!entry || entry.type === 'free') return undefined;
    if (entry.type === 'compressed') {
      if (ref.generationNumber !== 0) return undefined;
      const stream = await this.objectStream(entry.stream);
      if (!stream || stream.members[entry.index]?.num !== ref.objectNumber) return undefined;
      const object = objectStreamObject(stream, entry.index, this.ctx);
      return object === undefined ? undefined : { object, size: 256 };
    }
    if (entry.gen !== ref.generationNumber) return undefined;
    const read = await readIndirectObject(this.file, entry.offset, extentEnd(this.index, entry.offset, this.file.size), this.ctx);
    if (!read || read.num !== ref.objectNumber) return undefined;
    // The whole-file parse never kept object and cross-reference streams as objects.
    if (read.object instanceof PDFRawStream) {
      const type = read.object.dict.lookup(PDFName.of('Type'));
      if (type === PDFName.of('ObjStm') || type === PDFName.of('XRef')) return undefined;
    }
    return read;
  }

  /** Decodes of object streams under way: objects of one stream are loaded at once (gather). */
  private readonly decoding = new Map<number, Promise<DecodedObjectStream | null>>();

  private objectStream(num: number): Promise<DecodedObjectStream | null> {
    let pending = this.decoding.get(num);
    if (!pending) {
      pending = this.decodeObjectStream(num).finally(() => this.decoding.delete(num));
      this.decoding.set(num, pending);
    }
    return pending;
  }

  private async decodeObjectStream(num: number): Promise<DecodedObjectStream | null> {
    if (this.streams.has(num)) {
      const hit = this.streams.get(num)!;
      this.streams.delete(num);
      this.streams.set(num, hit);
      return hit;
    }
    const entry = this.index.entries.get(num);
    let decoded: DecodedObjectStream | null = null;
    if (entry?.type === 'offset') {
      const read = await readIndirectObject(this.file, entry.offset, extentEnd(this.index, entry.offset, this.file.size), this.ctx);
      if (read?.object instanceof PDFRawStream && read.object.dict.lookup(PDFName.of('Type')) === PDFName.of('ObjStm')) decoded = decodeObjectStream(read.object);
    }
    this.streams.set(num, decoded);
    this.streamBytes += decoded?.data.length ?? 0;
    for (const [n, s] of this.streams) {
      if (this.streamBytes <= STREAM_CACHE_BYTES || n === num) break;
      this.streams.delete(n);
      this.streamBytes -= s?.data.length ?? 0;
    }
    return decoded;
  }
}

export function refsIn(object: PDFObject, into: PDFRef[]): void {
  if (object instanceof PDFRef) into.push(object);
  else if (object instanceof PDFStream) refsIn(object.dict, into);
  else if (object instanceof PDFDict) for (const [, v] of object.entries()) refsIn(v, into);
  else if (object instanceof PDFArray) for (const v of object.asArray()) refsIn(v, into);
}
