/**
 * RFC 6962 / RFC 9162 Merkle tree over a dossier's pages. Pure: no I/O, node:crypto only.
 *
 * leaf hash = H(0x00 ‖ data), node hash = H(0x01 ‖ left ‖ right), MTH([]) = H(""); a list of n > 1
 * leaves splits at k, the largest power of two smaller than n. In our use a leaf's data is the page's
 * 32-byte SHA-256 digest. Leaf indices are 0-based as in the RFCs: page n has leaf index n-1.
 *
 * The tree is built bottom-up, level by level (an unpaired last node moves up unchanged, which is
 * exactly the RFC's split): no recursion, n-1 node hashes. The hash is pluggable (`MerkleHasher`,
 * e.g. SM3 later); SHA-256 is the default.
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

const scratch: Buffer[] = []; // one reusable input buffer per small length (hashing is synchronous)

/** SHA-256 through node:crypto's one-shot hash, the cheapest call per small input. */
export const sha256Hasher: MerkleHasher = {
  size: 32,
  hash(parts) {
    let len = 0;
    for (const p of parts) len += p.length;
    if (len > 128) return oneShotHash('sha256', Buffer.concat(parts), 'buffer');
    const buf = (scratch[len] ??= Buffer.alloc(len));
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    return oneShotHash('sha256', buf, 'buffer');
  },
};

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);
const hasherOf = (opts?: MerkleOptions): MerkleHasher => opts?.hasher ?? sha256Hasher;
const half = (x: number): number => Math.floor(x / 2); // not >>: sizes may exceed 2^31

export const leafHash = (data: Uint8Array, opts?: MerkleOptions): Buffer => hasherOf(opts).hash([LEAF, data]);
export const nodeHash = (left: Uint8Array, right: Uint8Array, opts?: MerkleOptions): Buffer => hasherOf(opts).hash([NODE, left, right]);
/** MTH of the empty list: H(""). */
export const emptyRoot = (opts?: MerkleOptions): Buffer => hasherOf(opts).hash([]);

/** Builds bottom-up; `onLevel` sees every level (0 = the leaves). Returns the top level. */
function build(leafHashes: readonly Uint8Array[], h: MerkleHasher, onLevel?: (level: Uint8Array[]) => void): Uint8Array[] {
  leafHashes.forEach((leaf, i) => {
    if (!(leaf instanceof Uint8Array) || leaf.length !== h.size) throw new TypeError(`leaf hash ${i} is not ${h.size} bytes`);
  });
  let cur: Uint8Array[] = leafHashes.slice();
  onLevel?.(cur);
  while (cur.length > 1) {
    const next: Uint8Array[] = [];
    let i = 0;
    for (; i + 1 < cur.length; i += 2) next.push(h.hash([NODE, cur[i]!, cur[i + 1]!]));
    if (i < cur.length) next.push(cur[i]!);
    onLevel?.(next);
    cur = next;
  }
  return cur;
}

/** RFC 6962 Merkle Tree Hash of the leaf hashes (each `hasher.size` bytes long). */
export function merkleRoot(leafHashes: readonly Uint8Array[], opts?: MerkleOptions): Buffer {
  const h = hasherOf(opts);
  const top = build(leafHashes, h)[0];
  return top ? Buffer.from(top) : h.hash([]);
}

/** A built tree: build once (n-1 hashes), then any number of proofs at O(log n) each. */
export class MerkleTree {
  readonly size: number;
  readonly root: Buffer;
  private readonly levels: Buffer[] = []; // each level packed in one buffer: ~64 MB for 10^6 leaves
  private readonly s: number;

  constructor(leafHashes: readonly Uint8Array[], opts?: MerkleOptions) {
    const h = hasherOf(opts);
    this.s = h.size;
    this.size = leafHashes.length;
    build(leafHashes, h, (level) => {
      const packed = Buffer.allocUnsafe(level.length * h.size);
      level.forEach((x, i) => packed.set(x, i * h.size));
      this.levels.push(packed);
    });
    this.root = this.size === 0 ? h.hash([]) : this.node(this.levels.length - 1, 0);
  }

  /** Node `i` of `level` = MTH of leaves [i·2^level, min((i+1)·2^level, size)). */
  private node(level: number, i: number): Buffer {
    return Buffer.from(this.levels[level]!.subarray(i * this.s, (i + 1) * this.s));
  }

  /** MTH(D[a:b]) for a range met in the RFC's split (a is a multiple of 2^⌈log2(b−a)⌉). */
  private range(a: number, b: number): Buffer {
    let level = 0;
    while (2 ** level < b - a) level++;
    return this.node(level, a / 2 ** level);
  }

  /** The audit path PATH(index, D[size]) of RFC 6962 §2.1.1, leaf side first. */
  inclusionProof(index: number): Buffer[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`leaf index ${index} is outside a tree of ${this.size} leaves`);
    }
    const path: Buffer[] = [];
    for (let level = 0, i = index; level < this.levels.length - 1; level++, i = half(i)) {
      const sibling = i % 2 === 0 ? i + 1 : i - 1;
      if (sibling * this.s < this.levels[level]!.length) path.push(this.node(level, sibling));
    }
    return path;
  }

  /** PROOF(oldSize, D[size]) of RFC 6962 §2.1.2 (RFC 9162 §2.1.4.1), for 0 < oldSize <= size. */
  consistencyProof(oldSize: number): Buffer[] {
    if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > this.size) {
      throw new RangeError(`old size ${oldSize} is outside 1..${this.size}`);
    }
    // SUBPROOF(m, D[a:b], whole), unrolled: each step appends one hash after the sub-result.
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

export const inclusionProof = (leafHashes: readonly Uint8Array[], index: number, opts?: MerkleOptions): Buffer[] =>
  new MerkleTree(leafHashes, opts).inclusionProof(index);

export const consistencyProof = (leafHashes: readonly Uint8Array[], oldSize: number, opts?: MerkleOptions): Buffer[] =>
  new MerkleTree(leafHashes, opts).consistencyProof(oldSize);

export interface InclusionProof {
  /** 0-based leaf index: page n has index n-1. */
  readonly index: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

export interface ConsistencyCheck {
  readonly size1: number;
  readonly size2: number;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isHash = (b: unknown, s: number): b is Uint8Array => b instanceof Uint8Array && b.length === s;
const isPath = (p: unknown, s: number): p is Uint8Array[] => Array.isArray(p) && p.length <= 64 && p.every((x) => isHash(x, s));
const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);
const same = (a: Uint8Array, b: unknown): boolean => b instanceof Uint8Array && view(a).equals(b);

/** RFC 9162 §2.1.3.2. Never throws: malformed or non-matching input gives false. */
export function verifyInclusion(p: InclusionProof, opts?: MerkleOptions): boolean {
  try {
    const h = hasherOf(opts);
    const { index, treeSize, leafHash, proof, root } = p;
    if (!isSize(index) || !isSize(treeSize) || index >= treeSize || !isHash(leafHash, h.size) || !isPath(proof, h.size)) return false;
    let fn = index, sn = treeSize - 1, r: Uint8Array = leafHash;
    for (const q of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = h.hash([NODE, q, r]);
        while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        r = h.hash([NODE, r, q]);
      }
      fn = half(fn); sn = half(sn);
    }
    return sn === 0 && same(r, root);
  } catch {
    return false;
  }
}

/**
 * RFC 9162 §2.1.4.2 for 0 < size1 < size2; size1 = size2 needs an empty proof and equal roots. size1 = 0
 * is refused (a check from the empty tree proves nothing), as transparency-dev/merkle does. Never throws.
 */
export function verifyConsistency(c: ConsistencyCheck, opts?: MerkleOptions): boolean {
  try {
    const h = hasherOf(opts);
    const { size1, size2, root1, root2, proof } = c;
    if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 > size2 || !isPath(proof, h.size)) return false;
    if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return false;
    if (size1 === size2) return proof.length === 0 && same(root1, root2);
    if (proof.length === 0) return false;
    let pow = 1;
    while (pow < size1) pow *= 2;
    const path = pow === size1 ? [root1, ...proof] : proof;
    let fn = size1 - 1, sn = size2 - 1;
    while (fn % 2 === 1) { fn = half(fn); sn = half(sn); }
    let fr: Uint8Array = path[0]!, sr: Uint8Array = path[0]!;
    for (const q of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = h.hash([NODE, q, fr]);
        sr = h.hash([NODE, q, sr]);
        while (fn % 2 === 0 && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        sr = h.hash([NODE, sr, q]);
      }
      fn = half(fn); sn = half(sn);
    }
    return sn === 0 && same(fr, root1) && same(sr, root2);
  } catch {
    return false;
  }
}

/** The HTTP shape of an inclusion proof: hashes in lowercase hex; `index` 0-based (page n → n-1). */
export interface InclusionProofJson {
  index: number;
  treeSize: number;
  leafHash: string;
  path: string[];
  root: string;
}

const hex = (b: Uint8Array): string => view(b).toString('hex');

export const toProofJson = (p: InclusionProof): InclusionProofJson =>
  ({ index: p.index, treeSize: p.treeSize, leafHash: hex(p.leafHash), path: p.proof.map(hex), root: hex(p.root) });

/** Parses untrusted JSON strictly (hashes: lowercase hex of `hasher.size` bytes); TypeError if malformed. */
export function fromProofJson(json: unknown, opts?: MerkleOptions): InclusionProof {
  const s = hasherOf(opts).size;
  const unhex = (v: unknown, what: string): Buffer => {
    if (typeof v !== 'string' || v.length !== 2 * s || !/^[0-9a-f]*$/.test(v)) throw new TypeError(`proof ${what} is not ${s} bytes of lowercase hex`);
    return Buffer.from(v, 'hex');
  };
  if (typeof json !== 'object' || json === null) throw new TypeError('proof is not an object');
  const j = json as Partial<Record<keyof InclusionProofJson, unknown>>;
  if (!isSize(j.index) || !isSize(j.treeSize)) throw new TypeError('proof index and treeSize must be non-negative integers');
  if (!Array.isArray(j.path) || j.path.length > 64) throw new TypeError('proof path is not an array of hashes');
  const path: unknown[] = j.path;
  return { index: j.index, treeSize: j.treeSize, leafHash: unhex(j.leafHash, 'leafHash'), proof: path.map((x, i) => unhex(x, `path[${i}]`)), root: unhex(j.root, 'root') };
}
