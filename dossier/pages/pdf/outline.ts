/**
 * A PDF's outline (its bookmarks): titles, nested as in the file, each with the page it opens
 * (1-based within the PDF; null where the target is not one of its pages). Targets are explicit
 * destinations, named ones (the catalog's /Dests or its /Names tree) and GoTo actions. Bounded
 * against hostile files (loops, millions of entries); a damaged outline is no outline, never a
 * reason to refuse the dossier.
 */
import { PDFArray, PDFDict, PDFHexString, PDFName, PDFNumber, PDFRef, PDFString, type PDFCatalog, type PDFObject } from 'pdf-lib';
import type { OutlineEntry } from '../types.js';
import type { PdfObjects } from './pdf-objects.js';

const MAX_ENTRIES = 10_000;
const MAX_DEPTH = 32;
const MAX_TITLE = 300;
const MAX_NAMES = 100_000;

export async function readOutline(objects: PdfObjects, catalog: PDFCatalog, pages: readonly PDFRef[]): Promise<OutlineEntry[]> {
  try {
    const outlines = await objects.resolve(catalog.get(PDFName.of('Outlines')));
    if (!(outlines instanceof PDFDict)) return [];
    const pageOf = new Map<PDFRef, number>();
    pages.forEach((ref, i) => pageOf.has(ref) || pageOf.set(ref, i + 1));
    const reader = new OutlineReader(objects, catalog, pageOf);
    return await reader.items(outlines.get(PDFName.of('First')), 0);
  } catch {
    return [];
  }
}

class OutlineReader {
  private count = 0;
  private readonly seen = new Set<PDFObject>();
  private names: Map<string, PDFObject> | null = null;

  constructor(
    private readonly objects: PdfObjects,
    private readonly catalog: PDFCatalog,
    private readonly pageOf: ReadonlyMap<PDFRef, number>,
  ) {}

  async items(first: PDFObject | undefined, depth: number): Promise<OutlineEntry[]> {
    const list: OutlineEntry[] = [];
    for (let value = first; value !== undefined && this.count < MAX_ENTRIES; ) {
      if (this.seen.has(value)) break; // a /Next or /First that loops
      this.seen.add(value);
      const item = await this.objects.resolve(value);
      if (!(item instanceof PDFDict)) break;
      this.count++;
      const children = depth + 1 < MAX_DEPTH ? await this.items(item.get(PDFName.of('First')), depth + 1) : [];
      list.push({ title: await this.title(item), page: await this.target(item), children });
      value = item.get(PDFName.of('Next'));
    }
    return list;
  }

  private async title(item: PDFDict): Promise<string> {
    const title = await this.objects.resolve(item.get(PDFName.of('Title')));
    const text = title instanceof PDFString || title instanceof PDFHexString ? title.decodeText() : '';
    // eslint-disable-next-line no-control-regex
    return text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim().slice(0, MAX_TITLE);
  }

  private async target(item: PDFDict): Promise<number | null> {
    let dest = await this.objects.resolve(item.get(PDFName.of('Dest')));
    if (dest === undefined) {
      const action = await this.objects.resolve(item.get(PDFName.of('A')));
      if (action instanceof PDFDict && (await this.objects.resolve(action.get(PDFName.of('S')))) === PDFName.of('GoTo')) dest = await this.objects.resolve(action.get(PDFName.of('D')));
    }
    return this.page(dest, 0);
  }

  private async page(dest: PDFObject | undefined, hops: number): Promise<number | null> {
    if (hops > 4 || dest === undefined) return null;
    if (dest instanceof PDFArray) {
      const first = dest.get(0);
      if (first instanceof PDFRef) return this.pageOf.get(first) ?? null;
      // Some writers put a page index where a page reference belongs.
      if (first instanceof PDFNumber && Number.isInteger(first.asNumber()) && first.asNumber() >= 0 && first.asNumber() < this.pageOf.size) return first.asNumber() + 1;
      return null;
    }
    if (dest instanceof PDFDict) return this.page(await this.objects.resolve(dest.get(PDFName.of('D'))), hops + 1);
    const name = dest instanceof PDFName ? dest.decodeText() : dest instanceof PDFString || dest instanceof PDFHexString ? dest.decodeText() : null;
    if (name === null) return null;
    return this.page(await this.objects.resolve((await this.namedDestinations()).get(name)), hops + 1);
  }

  /** Named destinations: the old /Dests dictionary and the /Names → /Dests name tree. */
  private async namedDestinations(): Promise<Map<string, PDFObject>> {
    if (this.names) return this.names;
    const names = new Map<string, PDFObject>();
    this.names = names;
    const dests = await this.objects.resolve(this.catalog.get(PDFName.of('Dests')));
    if (dests instanceof PDFDict) for (const [key, value] of dests.entries()) names.set(key.decodeText(), value);
    const tree = await this.objects.resolve(this.catalog.get(PDFName.of('Names')));
    const root = tree instanceof PDFDict ? await this.objects.resolve(tree.get(PDFName.of('Dests'))) : undefined;
    const seen = new Set<PDFObject>();
    const pending: PDFObject[] = root ? [root] : [];
    while (pending.length && names.size < MAX_NAMES) {
      const node = pending.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      if (!(node instanceof PDFDict)) continue;
      const leaf = await this.objects.resolve(node.get(PDFName.of('Names')));
      if (leaf instanceof PDFArray) {
        for (let i = 0; i + 1 < leaf.size(); i += 2) {
          const key = await this.objects.resolve(leaf.get(i));
          if (key instanceof PDFString || key instanceof PDFHexString) names.set(key.decodeText(), leaf.get(i + 1));
        }
      }
      const kids = await this.objects.resolve(node.get(PDFName.of('Kids')));
      if (kids instanceof PDFArray) for (const kid of kids.asArray()) pending.push((await this.objects.resolve(kid)) ?? kid);
    }
    return names;
  }
}
