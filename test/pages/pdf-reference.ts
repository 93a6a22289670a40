/**
 * The PDF split as it was before pages were read by offset: the whole file parsed by pdf-lib in
 * memory, inherited attributes moved into every page, every page, tree node and catalog nulled,
 * each page copied alone and saved. The offset reader must write exactly these bytes (sealed
 * evidence made by the old reader stays what a new ingest of the same file makes).
 */
import { ParseSpeeds, PDFCatalog, PDFDocument, PDFName, PDFNull, PDFPageLeaf, PDFPageTree } from 'pdf-lib';

export async function wholeFilePages(bytes: Buffer): Promise<Buffer[]> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest, ignoreEncryption: true });
  const pages = doc.getPages();
  for (const page of pages) {
    for (const key of PDFPageLeaf.InheritableEntries) {
      const entry = PDFName.of(key);
      const value = page.node.getInheritableAttribute(entry);
      if (value && !page.node.get(entry)) page.node.set(entry, value);
    }
  }
  for (const [ref, object] of doc.context.enumerateIndirectObjects()) {
    if (object instanceof PDFPageLeaf || object instanceof PDFPageTree || object instanceof PDFCatalog) doc.context.assign(ref, PDFNull);
  }
  const out: Buffer[] = [];
  for (let i = 0; i < pages.length; i++) {
    const single = await PDFDocument.create({ updateMetadata: false });
    const [copy] = await single.copyPages(doc, [i]);
    single.addPage(copy!);
    out.push(Buffer.from(await single.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false })));
  }
  return out;
}
