/**
 * The pages of a PDF in order, from its catalog's page tree, as pdf-lib's getPages() walks it
 * (depth first through /Kids, a leaf listed twice counted twice), but with the guards pdf-lib
 * lacks: a tree that loops is damaged, and the walk stops as soon as the dossier has too many.
 * Only the references of the pages are kept, and the tree's inner nodes (few), which a page
 * inherits its /Resources, /MediaBox, /CropBox and /Rotate from.
 */
import { PDFArray, PDFCatalog, PDFName, PDFNull, PDFPageLeaf, PDFPageTree, PDFRef, type PDFObject } from 'pdf-lib';
import type { PdfObjects } from './pdf-objects.js';

export class DamagedPdf extends Error {}

export interface PageTree {
  readonly catalog: PDFCatalog;
  readonly pages: readonly PDFRef[];
  /** Inner nodes by reference, for what pages inherit. */
  readonly nodes: ReadonlyMap<PDFRef, PDFPageTree>;
}

/** `tooMany(n)` is called when the walk passes `max` pages; it throws. */
export async function readPageTree(objects: PdfObjects, catalog: PDFCatalog, max: number, tooMany: (n: number) => never): Promise<PageTree> {
  const pages: PDFRef[] = [];
  const nodes = new Map<PDFRef, PDFPageTree>();
  const rootValue = catalog.get(PDFName.of('Pages'));
  const root = rootValue instanceof PDFRef ? await objects.read(rootValue) : rootValue;
  if (!(root instanceof PDFPageTree)) throw new DamagedPdf('the catalog has no page tree');
  if (rootValue instanceof PDFRef) nodes.set(rootValue, root);

  // A tree whose nodes list each other many times over (no loop, but exponentially many paths).
  let visits = 0;
  const maxVisits = 4 * max + 10_000;
  const walk = async (node: PDFPageTree, path: Set<PDFObject>): Promise<void> => {
    if (++visits > maxVisits) throw new DamagedPdf('the page tree has far more nodes than pages');
    const kids = await objects.resolve(node.get(PDFName.of('Kids')));
    if (!(kids instanceof PDFArray)) throw new DamagedPdf('a page-tree node has no /Kids');
    for (const kidValue of kids.asArray()) {
      const kid = kidValue instanceof PDFRef ? (nodes.get(kidValue) ?? (await objects.read(kidValue))) : kidValue;
      if (kid instanceof PDFPageTree) {
        if (path.has(kid) || (kidValue instanceof PDFRef && path.has(kidValue))) throw new DamagedPdf('the page tree loops');
        if (kidValue instanceof PDFRef) nodes.set(kidValue, kid);
        await walk(kid, new Set([...path, kid, kidValue]));
      } else if (kid instanceof PDFPageLeaf) {
        if (!(kidValue instanceof PDFRef)) throw new DamagedPdf('a page is not an indirect object');
        pages.push(kidValue);
        if (pages.length > max) tooMany(pages.length);
      }
    }
  };
  await walk(root, new Set<PDFObject>(rootValue instanceof PDFRef ? [root, rootValue] : [root]));
  return { catalog, pages, nodes };
}

/**
 * The page and its ancestors through /Parent, nearest first, as pdf-lib ascends them (where a
 * /Parent that is not a page-tree node is an error, and a loop, which pdf-lib would follow until
 * its stack overflows, is damage too).
 */
export async function ancestry(objects: PdfObjects, tree: PageTree, leaf: PDFPageLeaf): Promise<(PDFPageLeaf | PDFPageTree)[]> {
  const chain: (PDFPageLeaf | PDFPageTree)[] = [leaf];
  const seen = new Set<PDFRef>();
  for (let node: PDFPageLeaf | PDFPageTree = leaf; ; ) {
    const parentValue = node.get(PDFName.of('Parent'));
    if (parentValue === undefined || parentValue === PDFNull) return chain;
    let parent: PDFObject | undefined = parentValue;
    if (parentValue instanceof PDFRef) {
      if (seen.has(parentValue)) throw new DamagedPdf('the page tree loops through /Parent');
      seen.add(parentValue);
      parent = tree.nodes.get(parentValue) ?? (await objects.read(parentValue));
    }
    if (parent === undefined || parent === PDFNull) return chain;
    if (!(parent instanceof PDFPageTree)) throw new DamagedPdf('a page\'s /Parent is not a page-tree node');
    if (chain.length > 10_000) throw new DamagedPdf('the page tree is too deep');
    chain.push(parent);
    node = parent;
  }
}

/** Moves what the page inherits into it, as the whole-file split did before copying. */
export function inheritInto(leaf: PDFPageLeaf, chain: readonly (PDFPageLeaf | PDFPageTree)[]): void {
  for (const key of PDFPageLeaf.InheritableEntries) {
    const entry = PDFName.of(key);
    let value: PDFObject | undefined;
    for (const node of chain) {
      value = node.get(entry);
      if (value) break;
    }
    if (value && !leaf.get(entry)) leaf.set(entry, value);
  }
}
