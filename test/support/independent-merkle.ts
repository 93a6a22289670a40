/**
 * An independent RFC 6962 inclusion-proof check, written from the RFC text for the tests: it
 * shares no code with dossier/merkle.ts, so a bug there cannot hide itself here.
 */
import { createHash } from 'node:crypto';

const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** MTH(D[n]) straight from RFC 6962 §2.1, recursively. */
export function referenceRoot(leafData: Buffer[]): Buffer {
  if (leafData.length === 0) return h();
  if (leafData.length === 1) return h(Buffer.from([0]), leafData[0]!);
  let k = 1;
  while (k * 2 < leafData.length) k *= 2;
  return h(Buffer.from([1]), referenceRoot(leafData.slice(0, k)), referenceRoot(leafData.slice(k)));
}

/** RFC 9162 §2.1.3.2: recompute the root from the leaf hash and its audit path. */
export function checkInclusion(index: number, size: number, leaf: Buffer, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = h(Buffer.from([1]), p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) ((fn >>= 1), (sn >>= 1));
    } else {
      r = h(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}
