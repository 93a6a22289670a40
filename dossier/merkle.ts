/**
 * RFC 6962 / RFC 9162 Merkle tree over a dossier's pages. Pure: no I/O, node:crypto only.
 *
 * leaf hash = H(0x00 ‖ data), node hash = H(0x01 ‖ left ‖ right), MTH([]) = H(""); a list of n > 1
 * leaves splits at k, the largest power of two smaller than n. In our use a leaf's data is the
 * page's 32-byte SHA-256 digest. Leaf indices are 0-based as in the RFCs: page n has leaf index n-1.
 *
 * The tree is built bottom-up, level by level (an unpaired last node moves up unchanged, which
 * gives exactly the RFC's split), so there is no recursion and proofs cost O(log n) on a built tree.
 * The hash is pluggable (`MerkleHasher`), e.g. for SM3 later; SHA-256 is the default.
 */
import { hash as oneShotHash } from 'node:crypto';

export interface MerkleHasher {
  /** Digest length in bytes. */
  readonly size: number;
  /** Digest of the concatenation of `parts`. */
  hash(parts: readonly Uint8Array[]): Buffer;
}

export interface MerkleOptions {
  readonly hasher?: MerkleHasher;
}

const scratch = Buffer.alloc(1 + 2 * 32);

/** SHA-256 through node:crypto's one-shot hash (the cheapest call per small input). */
export const sha256Hasher: MerkleHasher = {
  size: 32,
  hash(parts) {
    let len = 0;
    for (const p of parts) len += p.length;
    const buf = len <= scratch.length ? scratch.subarray(0, len) : Buffer.allocUnsafe(len);
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    return oneShotHash('sha256', buf, 'buffer');
  },
};

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);
const hasherOf = (opts?: MerkleOptions): MerkleHasher => opts?.hasher ?? sha256Hasher;

export function leafHash(data: Uint8Array, opts?: MerkleOptions): Buffer {
  return hasherOf(opts).hash([LEAF, data]);
}

export function nodeHash(left: Uint8Array, right: Uint8Array, opts?: MerkleOptions): Buffer {
  return hasherOf(opts).hash([NODE, left, right]);
}

/** MTH of the empty list: H(""). */
export function emptyRoot(opts?: MerkleOptions): Buffer {
  return hasherOf(opts).hash([]);
}

/**
 * All levels of the tree, each packed into one buffer (level 0 = the leaf hashes). With `keep` false
 * only the top level survives, which is all `merkleRoot` needs.
 */
function buildLevels(leafHashes: readonly Uint8Array[], h: MerkleHasher, keep: boolean): Buffer[] {
  const s = h.size;
  let cur = Buffer.allocUnsafe(leafHashes.length * s);
  leafHashes.forEach((leaf, i) => {
    if (!(leaf instanceof Uint8Array) || leaf.length !== s) throw new TypeError(`leaf hash ${i} is not ${s} bytes`);
    cur.set(leaf, i * s);
  });
  const levels = [cur];
  for (let count = leafHashes.length; count > 1; count = Math.ceil(count / 2)) {
    const next = Buffer.allocUnsafe(Math.ceil(count / 2) * s);
    let i = 0;
    for (; i + 1 < count; i += 2) next.set(h.hash([NODE, cur.subarray(i * s, (i + 2) * s)]), (i / 2) * s);
    if (i < count) cur.copy(next, (i / 2) * s, i * s, (i + 1) * s); // unpaired: moves up unchanged
    if (keep) levels.push(next);
    else levels[0] = next;
    cur = next;
  }
  return levels;
}

/** RFC 6962 Merkle Tree Hash of the leaf hashes (each `hasher.size` bytes). */
export function merkleRoot(leafHashes: readonly Uint8Array[], opts?: MerkleOptions): Buffer {
  const h = hasherOf(opts);
  if (leafHashes.length === 0) return h.hash([]);
  return Buffer.from(buildLevels(leafHashes, h, false)[0]!.subarray(0, h.size));
}

/** A built tree: build once, then serve any number of proofs in O(log n) each. */
export class MerkleTree {
  readonly size: number;
  readonly root: Buffer;
  private readonly levels: Buffer[];
  private readonly s: number;

  constructor(leafHashes: readonly Uint8Array[], opts?: MerkleOptions) {
    const h = hasherOf(opts);
    this.s = h.size;
    this.size = leafHashes.length;
    this.levels = buildLevels(leafHashes, h, true);
    this.root = this.size === 0 ? h.hash([]) : this.node(this.levels.length - 1, 0);
  }

  /** Node `i` of `level`: MTH of leaves [i·2^level, min((i+1)·2^level, size)). */
  private node(level: number, i: number): Buffer {
    return Buffer.from(this.levels[level]!.subarray(i * this.s, (i + 1) * this.s));
  }

  /** MTH(D[a:b]) for a range of the RFC's recursive split (a is a multiple of 2^⌈log2(b−a)⌉). */
  private range(a: number, b: number): Buffer {
    let level = 0;
    while (2 ** level < b - a) level++;
    return this.node(level, a / 2 ** level);
  }

  /** The audit path PATH(index, D[size]) of RFC 6962 §2.1.1, leaf-side first. */
  inclusionProof(index: number): Buffer[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`leaf index ${index} is outside a tree of ${this.size} leaves`);
    }
    const path: Buffer[] = [];
    for (let level = 0, i = index; level < this.levels.length - 1; level++, i = Math.floor(i / 2)) {
      const sibling = i % 2 === 0 ? i + 1 : i - 1;
      if (sibling * this.s < this.levels[level]!.length) path.push(this.node(level, sibling));
    }
    return path;
  }

  /** PROOF(oldSize, D[size]) of RFC 6962 §2.1.2 (RFC 9162 §2.1.4.1); 0 < oldSize <= size. */
  consistencyProof(oldSize: number): Buffer[] {
    if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > this.size) {
      throw new RangeError(`old size ${oldSize} is outside 1..${this.size}`);
    }
    // SUBPROOF(m, D[a:b], whole) unrolled: each step appends one hash after the sub-result.
    const tail: Buffer[] = [];
    let m = oldSize, a = 0, b = this.size, whole = true;
    while (m !== b - a) {
      let k = 1;
      while (k * 2 < b - a) k *= 2;
      if (m <= k) { tail.push(this.range(a + k, b)); b = a + k; }
      else { tail.push(this.range(a, a + k)); a += k; m -= k; whole = false; }
    }
    return [...(whole ? [] : [this.range(a, b)]), ...tail.reverse()];
  }
}

export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, opts?: MerkleOptions): Buffer[] {
  return new MerkleTree(leafHashes, opts).inclusionProof(index);
}

export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number, opts?: MerkleOptions): Buffer[] {
  return new MerkleTree(leafHashes, opts).consistencyProof(oldSize);
}

export interface InclusionProof {
  /** 0-based leaf index: page n is index n-1. */
  readonly index: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isHash = (b: unknown, s: number): b is Uint8Array => b instanceof Uint8Array && b.length === s;
const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);
const same = (a: Uint8Array, b: unknown): boolean => b instanceof Uint8Array && view(a).equals(b);
const isPath = (p: unknown, s: number): p is Uint8Array[] => Array.isArray(p) && p.length <= 64 && p.every((x) => isHash(x, s));

/** RFC 9162 §2.1.3.2. Never throws: any malformed or non-matching input gives false. */
export function verifyInclusion(p: InclusionProof, opts?: MerkleOptions): boolean {
  try {
    const h = hasherOf(opts);
    const { index, treeSize, leafHash, proof, root } = p;
    if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
    if (!isHash(leafHash, h.size) || !isPath(proof, h.size)) return false;
    let fn = index, sn = treeSize - 1, r: Uint8Array = leafHash;
    for (const q of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = h.hash([NODE, q, r]);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = h.hash([NODE, r, q]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && same(r, root);
  } catch {
    return false;
  }
}

export interface ConsistencyCheck {
  readonly size1: number;
  readonly size2: number;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

/**
 * RFC 9162 §2.1.4.2 for 0 < size1 < size2; size1 = size2 needs an empty proof and equal roots.
 * size1 = 0 is refused: a consistency check from the empty tree proves nothing. Never throws.
 */
export function verifyConsistency(c: ConsistencyCheck, opts?: MerkleOptions): boolean {
  try {
    const h = hasherOf(opts);
    const { size1, size2, root1, root2, proof } = c;
    if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 > size2) return false;
    if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array) || !isPath(proof, h.size)) return false;
    if (size1 === size2) return proof.length === 0 && same(root1, root2);
    if (proof.length === 0) return false;
    let pow = 1;
    while (pow < size1) pow *= 2;
    const path = pow === size1 ? [root1, ...proof] : proof; // RFC 9162 step 2
    let fn = size1 - 1, sn = size2 - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    let fr: Uint8Array = path[0]!, sr: Uint8Array = path[0]!;
    for (const q of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = h.hash([NODE, q, fr]);
        sr = h.hash([NODE, q, sr]);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        sr = h.hash([NODE, sr, q]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && same(fr, root1) && same(sr, root2);
  } catch {
    return false;
  }
}

/** The HTTP shape of an inclusion proof; hashes are lowercase hex, `index` is 0-based (page n → n-1). */
export interface InclusionProofJson {
  index: number;
  treeSize: number;
  leafHash: string;
  path: string[];
  root: string;
}

const hex = (b: Uint8Array): string => view(b).toString('hex');

export function toProofJson(p: InclusionProof): InclusionProofJson {
  return { index: p.index, treeSize: p.treeSize, leafHash: hex(p.leafHash), path: p.proof.map(hex), root: hex(p.root) };
}

/** Parses untrusted JSON strictly (lowercase hex of `hasher.size` bytes); throws TypeError if malformed. */
export function fromProofJson(json: unknown, opts?: MerkleOptions): InclusionProof {
  const s = hasherOf(opts).size;
  const j = json as Partial<Record<keyof InclusionProofJson, unknown>> | null;
  const unhex = (v: unknown, what: string): Buffer => {
    if (typeof v !== 'string' || v.length !== 2 * s || !/^[0-9a-f]*$/.test(v)) throw new TypeError(`proof ${what} is not ${s} bytes of lowercase hex`);
    return Buffer.from(v, 'hex');
  };
  if (typeof j !== 'object' || j === null) throw new TypeError('proof is not an object');
  if (!isSize(j.index) || !isSize(j.treeSize)) throw new TypeError('proof index/treeSize are not non-negative integers');
  if (!Array.isArray(j.path) || j.path.length > 64) throw new TypeError('proof path is not an array of hashes');
  return { index: j.index, treeSize: j.treeSize, leafHash: unhex(j.leafHash, 'leafHash'), proof: j.path.map((x, i) => unhex(x, `path[${i}]`)), root: unhex(j.root, 'root') };
}
