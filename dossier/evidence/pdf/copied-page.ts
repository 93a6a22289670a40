/**
 * A stored PDF page (a one-page PDF written by pdf-lib at ingest) copied into the output file:
 * pdf-lib parses it, every object reachable from the page is given a fresh number in our file,
 * the references inside are rewritten to the new numbers, and the objects go out one by one,
 * stream contents as they are (never decoded or re-encoded). The parsed copy is thrown away.
 */
import zlib from 'node:zlib';
import { ParseSpeeds, PDFArray, PDFDict, PDFDocument, PDFName, PDFNull, PDFNumber, PDFPageLeaf, PDFRef, PDFStream, type PDFObject } from 'pdf-lib';
import { DossierError } from '../../errors.js';
import type { WordsDocument } from '../../ports/page-text.js';
import { invisibleTextOperators, TEXT_FONT_NAME, type CidEncoder } from './invisible-text.js';
import { num, type PdfFile } from './pdf-file.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * Writes the page's objects and returns the page object's number. With `words`, an invisible
 * text layer is added on top of what the page draws (its own content wrapped in q … Q so that a
 * graphics state it leaves behind cannot move our text).
 */
export async function* copiedPage(
  file: PdfFile,
  bytes: Buffer,
  parent: number,
  text: { font: number; cids: CidEncoder; words: WordsDocument | null },
  turn = 0,
): AsyncGenerator<Buffer, number> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  } catch (err) {
    throw new DossierError('corrupt_pdf', `a stored PDF page cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const page = doc.getPage(0);
  const leaf = page.node;
  for (const key of PDFPageLeaf.InheritableEntries) {
    const entry = PDFName.of(key);
    const value = leaf.getInheritableAttribute(entry);
    if (value && !leaf.get(entry)) leaf.set(entry, value);
  }
  leaf.delete(PDFName.of('Parent'));

  const shown = page.getRotation().angle;
  // The words were read on the page as shown (its own /Rotate); the turn OCR found comes on top.
  const layer = text.words ? textLayer(page.getCropBox(), shown, text.words, text.cids) : '';
  if (turn) leaf.set(PDFName.of('Rotate'), PDFNumber.of((((shown + turn) % 360) + 360) % 360));
  const fontHolder = layer ? fontDictionary(doc, leaf) : null;
  if (layer) {
    // Contents may be a reference to an array of streams: inline it, so streams can be added.
    const contents = leaf.lookup(PDFName.of('Contents'));
    if (contents instanceof PDFArray) leaf.set(PDFName.of('Contents'), contents);
  }

  // Every object the page reaches, in a fixed (breadth-first) order, each under a new number.
  const order: PDFRef[] = [page.ref];
  const renumbered = new Map<PDFRef, number>([[page.ref, file.allocate()]]);
  for (let i = 0; i < order.length; i++) {
    visitRefs(doc.context.lookup(order[i]!), (ref) => {
      if (!renumbered.has(ref) && doc.context.lookup(ref) !== undefined) {
        renumbered.set(ref, file.allocate());
        order.push(ref);
      }
    });
  }
  const done = new Set<PDFObject>();
  for (const ref of order) rewriteRefs(doc.context.lookup(ref)!, renumbered, done);

  leaf.set(PDFName.of('Parent'), PDFRef.of(parent));
  const extra: { num: number; data: Buffer }[] = [];
  if (layer && fontHolder) {
    fontHolder.dict.set(PDFName.of(fontHolder.name), PDFRef.of(text.font));
    const before = { num: file.allocate(), data: latin1('q\n') };
    const after = { num: file.allocate(), data: zlib.deflateSync(latin1(`Q\n${layer}`)) };
    const contents = leaf.get(PDFName.of('Contents'));
    const list = contents instanceof PDFArray ? contents.asArray() : contents ? [contents] : [];
    leaf.set(PDFName.of('Contents'), doc.context.obj([PDFRef.of(before.num), ...list, PDFRef.of(after.num)]));
    extra.push(before, after);
  }

  for (const ref of order) yield file.rawObject(renumbered.get(ref)!, serialise(doc.context.lookup(ref)!));
  for (const [i, e] of extra.entries()) yield* file.stream(e.num, i === 0 ? '' : ' /Filter /FlateDecode', e.data);
  return renumbered.get(page.ref)!;
}

/** The invisible words over the page as shown: crop box, turned by the page's /Rotate. */
function textLayer(box: { x: number; y: number; width: number; height: number }, rotate: number, words: WordsDocument, cids: CidEncoder): string {
  const turn = (((rotate % 360) + 360) % 360) as 0 | 90 | 180 | 270;
  const sideways = turn === 90 || turn === 270;
  const shown = { x: 0, y: 0, width: sideways ? box.height : box.width, height: sideways ? box.width : box.height };
  const ops = invisibleTextOperators(words, shown, cids);
  if (!ops) return '';
  // Maps the shown page (origin bottom-left) into the page's default user space.
  const { x, y, width: w, height: h } = box;
  const matrix = { 0: [1, 0, 0, 1, x, y], 90: [0, 1, -1, 0, x + w, y], 180: [-1, 0, 0, -1, x + w, y + h], 270: [0, -1, 1, 0, x, y + h] }[turn] ?? [1, 0, 0, 1, x, y];
  return `q ${matrix.map(num).join(' ')} cm\n${ops}Q\n`;
}

/** The page's font resource dictionary (created when absent) and a name free in it. */
function fontDictionary(doc: PDFDocument, leaf: PDFPageLeaf): { dict: PDFDict; name: string } {
  let resources = leaf.lookupMaybe(PDFName.of('Resources'), PDFDict);
  if (!resources) {
    resources = doc.context.obj({});
    leaf.set(PDFName.of('Resources'), resources);
  }
  let fonts = resources.lookupMaybe(PDFName.of('Font'), PDFDict);
  if (!fonts) {
    fonts = doc.context.obj({});
    resources.set(PDFName.of('Font'), fonts);
  }
  let name = TEXT_FONT_NAME;
  for (let i = 1; fonts.has(PDFName.of(name)); i++) name = `${TEXT_FONT_NAME}${i}`;
  return { dict: fonts, name };
}

function visitRefs(obj: PDFObject | undefined, see: (ref: PDFRef) => void): void {
  if (obj instanceof PDFRef) see(obj);
  else if (obj instanceof PDFStream) visitRefs(obj.dict, see);
  else if (obj instanceof PDFDict) for (const [, v] of obj.entries()) visitRefs(v, see);
  else if (obj instanceof PDFArray) for (const v of obj.asArray()) visitRefs(v, see);
}

/** Replaces every reference inside `obj` by its new number; references to nothing become null. */
function rewriteRefs(obj: PDFObject, renumbered: Map<PDFRef, number>, done: Set<PDFObject>): void {
  if (done.has(obj)) return;
  done.add(obj);
  const swap = (v: PDFObject): PDFObject => {
    if (v instanceof PDFRef) {
      const n = renumbered.get(v);
      return n === undefined ? PDFNull : PDFRef.of(n);
    }
    rewriteRefs(v, renumbered, done);
    return v;
  };
  if (obj instanceof PDFStream) rewriteRefs(obj.dict, renumbered, done);
  else if (obj instanceof PDFDict) for (const [k, v] of obj.entries()) obj.set(k, swap(v));
  else if (obj instanceof PDFArray) for (let i = 0; i < obj.size(); i++) obj.set(i, swap(obj.get(i)));
}

function serialise(obj: PDFObject): Buffer {
  if (!(obj instanceof PDFStream)) return latin1(obj.toString());
  // Contents copied with one memcpy; the dictionary keeps its /Length (the contents are unchanged).
  return Buffer.concat([latin1(`${obj.dict.toString()}\nstream\n`), obj.getContents(), latin1('\nendstream')]);
}
