/**
 * dossier/merkle.ts against a naive RFC 6962 reference, known answers of the RFC 6962 test tree,
 * the transparency-dev/merkle vectors (MERKLE_VECTORS_DIR) and exhaustive bit flips.
 */
import { createHash, getHashes, hash as oneShotHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import {
  MerkleTree, consistencyProof, emptyRoot, fromProofJson, inclusionProof, leafHash, merkleRoot, nodeHash,
  sha256Hasher, toProofJson, verifyConsistency, verifyInclusion, type MerkleHasher,
} from '../dossier/merkle.js';
import { testEnv } from './support/env.js';

// ---------------------------------------------------------------------------------------------
// Reference: RFC 6962 §2.1 written out literally (recursive, slow, shares no code with the module).
// D is the list of leaf *inputs*; the module is fed their leaf hashes.
const H = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const largestPow2Below = (n: number): number => 2 ** Math.floor(Math.log2(n - 1)); // n > 1
function MTH(D: Buffer[]): Buffer {
  if (D.length === 0) return H();
  if (D.length === 1) return H(Buffer.from([0x00]), D[0]!);
  const k = largestPow2Below(D.length);
  return H(Buffer.from([0x01]), MTH(D.slice(0, k)), MTH(D.slice(k)));
}
function PATH(m: number, D: Buffer[]): Buffer[] {
  if (D.length === 1) return [];
  const k = largestPow2Below(D.length);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}
function SUBPROOF(m: number, D: Buffer[], b: boolean): Buffer[] {
  if (m === D.length) return b ? [] : [MTH(D)];
  const k = largestPow2Below(D.length);
  return m <= k
    ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))]
    : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}
const PROOF = (m: number, D: Buffer[]): Buffer[] => SUBPROOF(m, D, true);

/** Page-like leaf inputs: 32-byte SHA-256 digests of fake pages. */
const pages = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => H(Buffer.from(`page ${i + 1}`)));
const hexes = (bs: readonly Uint8Array[]): string[] => bs.map((b) => Buffer.from(b).toString('hex'));
const flipped = (b: Uint8Array, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('merkle', () => {
  describe('against the naive RFC 6962 reference, n = 1..70', () => {
    it('MTH of the empty list is SHA-256("")', () => {
      expect(merkleRoot([]).equals(MTH([]))).to.equal(true);
      expect(new MerkleTree([]).root.equals(MTH([]))).to.equal(true);
      expect(emptyRoot().toString('hex')).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });

    for (let n = 1; n <= 70; n++) {
      it(`n = ${n}: root, every inclusion proof, every consistency proof`, () => {
        const D = pages(n);
        const leaves = D.map((d) => leafHash(d));
        const root = MTH(D);
        expect(merkleRoot(leaves).toString('hex')).to.equal(root.toString('hex'));
        const tree = new MerkleTree(leaves);
        expect(tree.root.equals(root)).to.equal(true);
        for (let i = 0; i < n; i++) {
          const want = hexes(PATH(i, D));
          expect(hexes(inclusionProof(leaves, i)), `PATH(${i}, D[${n}])`).to.deep.equal(want);
          const proof = tree.inclusionProof(i);
          expect(hexes(proof)).to.deep.equal(want);
          const p = { index: i, treeSize: n, leafHash: leaves[i]!, proof, root };
          expect(verifyInclusion(p), `verify ${i}/${n}`).to.equal(true);
          if (proof.length > 0) expect(verifyInclusion({ ...p, proof: proof.slice(0, -1) })).to.equal(false);
          expect(verifyInclusion({ ...p, proof: [...proof, root] })).to.equal(false);
          // Too long even when the root is forged to match the extra step.
          expect(verifyInclusion({ ...p, proof: [...proof, root], root: nodeHash(root, root) })).to.equal(false);
          expect(verifyInclusion({ ...p, proof: [leaves[i]!, ...proof] })).to.equal(false);
          expect(verifyInclusion({ ...p, index: n })).to.equal(false);
        }
        for (let m = 1; m <= n; m++) {
          const want = hexes(PROOF(m, D));
          expect(hexes(consistencyProof(leaves, m)), `PROOF(${m}, D[${n}])`).to.deep.equal(want);
          const proof = tree.consistencyProof(m);
          expect(hexes(proof)).to.deep.equal(want);
          const c = { size1: m, size2: n, root1: MTH(D.slice(0, m)), root2: root, proof };
          expect(verifyConsistency(c), `consistency ${m} -> ${n}`).to.equal(true);
          expect(verifyConsistency({ ...c, proof: [...proof, root] })).to.equal(false);
          const [x1, x2] = [nodeHash(root, c.root1), nodeHash(root, root)];
          if (m < n) expect(verifyConsistency({ ...c, proof: [...proof, root], root1: x1, root2: x2 })).to.equal(false);
          expect(verifyConsistency({ ...c, proof: [c.root1, ...proof] })).to.equal(false);
          if (m < n) expect(verifyConsistency({ ...c, proof: proof.slice(0, -1) })).to.equal(false);
          if (m < n) expect(verifyConsistency({ ...c, proof: proof.slice(1) })).to.equal(false);
        }
      });
    }
  });

  describe('known answers: the RFC 6962 test tree of Certificate Transparency', () => {
    // Leaf inputs, roots and node hashes as in transparency-dev/merkle testonly/constants.go and
    // cmd/proofgen/main.go (the same tree as certificate-transparency's merkle_tree_test.cc).
    const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
      .map((h) => Buffer.from(h, 'hex'));
    const leaves = inputs.map((d) => leafHash(d));
    const roots = [
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const leafHashes = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
      '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
    ];

    it('leaf hashes and the roots of every prefix 0..8', () => {
      expect(hexes(leaves)).to.deep.equal(leafHashes);
      for (let n = 0; n <= 8; n++) expect(merkleRoot(leaves.slice(0, n)).toString('hex'), `size ${n}`).to.equal(roots[n]);
      expect(nodeHash(leaves[0]!, leaves[1]!).toString('hex')).to.equal(roots[2]);
    });

    it('inclusion proofs', () => {
      const cases: [number, number, string[]][] = [
        [0, 1, []],
        [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
        [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
        [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
        [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
      ];
      for (const [index, size, path] of cases) {
        expect(hexes(inclusionProof(leaves.slice(0, size), index)), `${index}/${size}`).to.deep.equal(path);
        const proof = path.map((h) => Buffer.from(h, 'hex'));
        expect(verifyInclusion({ index, treeSize: size, leafHash: leaves[index]!, proof, root: Buffer.from(roots[size]!, 'hex') })).to.equal(true);
      }
    });

    it('consistency proofs', () => {
      const cases: [number, number, string[]][] = [
        [1, 1, []],
        [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
        [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
        [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
        [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
      ];
      for (const [size1, size2, path] of cases) {
        expect(hexes(consistencyProof(leaves.slice(0, size2), size1)), `${size1} -> ${size2}`).to.deep.equal(path);
        const proof = path.map((h) => Buffer.from(h, 'hex'));
        const [root1, root2] = [roots[size1]!, roots[size2]!].map((h) => Buffer.from(h, 'hex')) as [Buffer, Buffer];
        expect(verifyConsistency({ size1, size2, root1, root2, proof })).to.equal(true);
      }
    });
  });

  describe('transparency-dev/merkle vectors (MERKLE_VECTORS_DIR)', function () {
    const dir = testEnv.merkleVectorsDir;
    before(function () {
      if (!dir) {
        console.log('    [merkle] MERKLE_VECTORS_DIR is unset: skipping the transparency-dev/merkle vectors');
        this.skip();
      }
    });
    if (!dir) {
      it('verifies every vector file', () => {});
      return;
    }
    const b64 = (s: unknown): Buffer => Buffer.from(String(s ?? ''), 'base64');
    const proofOf = (p: unknown): Buffer[] => (p == null ? [] : (p as unknown[]).map(b64));
    const list = (sub: string): string[] => {
      try {
        return readdirSync(join(dir, sub), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, sub, f));
      } catch {
        return [];
      }
    };
    const files = { inclusion: list('inclusion'), consistency: list('consistency') };

    it('has files of both kinds, happy and failing', () => {
      for (const [kind, fs] of Object.entries(files)) {
        const want = fs.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { wantErr: unknown }).wantErr);
        expect(want, `${kind} files in ${dir}`).to.include(true).and.to.include(false);
        expect(want.every((w) => typeof w === 'boolean'), `${kind}: every file states wantErr`).to.equal(true);
      }
    });

    for (const [kind, fs] of Object.entries(files)) {
      describe(kind, () => {
        for (const file of fs) {
          const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
          it(`${relative(dir, file)}: ${String(v.desc)} → ${v.wantErr ? 'rejected' : 'accepted'}`, () => {
            const ok = kind === 'inclusion'
              ? verifyInclusion({ index: v.leafIdx as number, treeSize: v.treeSize as number, leafHash: b64(v.leafHash), proof: proofOf(v.proof), root: b64(v.root) })
              : verifyConsistency({ size1: v.size1 as number, size2: v.size2 as number, root1: b64(v.root1), root2: b64(v.root2), proof: proofOf(v.proof) });
            expect(ok).to.equal(!v.wantErr);
          });
        }
      });
    }
  });

  describe('tampering', () => {
    // Every bit of every hash: all positions for n <= 9, edges and middle above.
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33, 70];
    const pick = (n: number): number[] => (n <= 9 ? [...Array(n).keys()] : [...new Set([0, 1, n >> 1, n - 2, n - 1])]);

    it('flipping any bit of any inclusion proof element, the leaf hash or the root fails', () => {
      for (const n of sizes) {
        const leaves = pages(n).map((d) => leafHash(d));
        const tree = new MerkleTree(leaves);
        for (const index of pick(n)) {
          const p = { index, treeSize: n, leafHash: leaves[index]!, proof: tree.inclusionProof(index), root: tree.root };
          expect(verifyInclusion(p)).to.equal(true);
          for (let bit = 0; bit < 256; bit++) {
            expect(verifyInclusion({ ...p, leafHash: flipped(p.leafHash, bit) })).to.equal(false);
            expect(verifyInclusion({ ...p, root: flipped(p.root, bit) })).to.equal(false);
            p.proof.forEach((el, j) => {
              const proof = p.proof.map((x, k) => (k === j ? flipped(el, bit) : x));
              expect(verifyInclusion({ ...p, proof }), `n=${n} i=${index} el=${j} bit=${bit}`).to.equal(false);
            });
          }
        }
      }
    });

    it('flipping any bit of any consistency proof element or either root fails', () => {
      for (const n of sizes) {
        const leaves = pages(n).map((d) => leafHash(d));
        const tree = new MerkleTree(leaves);
        for (const m of pick(n).map((i) => i + 1)) {
          const c = { size1: m, size2: n, root1: merkleRoot(leaves.slice(0, m)), root2: tree.root, proof: tree.consistencyProof(m) };
          expect(verifyConsistency(c)).to.equal(true);
          for (let bit = 0; bit < 256; bit++) {
            expect(verifyConsistency({ ...c, root1: flipped(c.root1, bit) })).to.equal(false);
            expect(verifyConsistency({ ...c, root2: flipped(c.root2, bit) })).to.equal(false);
            c.proof.forEach((el, j) => {
              const proof = c.proof.map((x, k) => (k === j ? flipped(el, bit) : x));
              expect(verifyConsistency({ ...c, proof }), `${m} -> ${n} el=${j} bit=${bit}`).to.equal(false);
            });
          }
        }
      }
    });

    it('malformed input gives false and never throws', () => {
      const leaves = pages(5).map((d) => leafHash(d));
      const tree = new MerkleTree(leaves);
      const p = { index: 2, treeSize: 5, leafHash: leaves[2]!, proof: tree.inclusionProof(2), root: tree.root };
      const bad: unknown[] = [
        { ...p, index: 5 }, { ...p, index: 6 }, { ...p, index: -1 }, { ...p, index: 1.5 }, { ...p, index: NaN },
        { ...p, index: '2' }, { ...p, treeSize: 0 }, { ...p, treeSize: 2 ** 53 }, { ...p, treeSize: Infinity },
        { ...p, proof: [] }, { ...p, proof: [...p.proof, p.root] }, { ...p, proof: p.proof.slice(1) },
        { ...p, proof: null }, { ...p, proof: [null] }, { ...p, proof: [p.proof[0]!.subarray(1), ...p.proof.slice(1)] },
        { ...p, leafHash: Buffer.alloc(0) }, { ...p, leafHash: 'x' }, { ...p, root: null }, { ...p, root: p.root.subarray(0, 31) },
        { ...p, proof: Array(100).fill(p.root) }, null, undefined, {},
      ];
      for (const b of bad) expect(verifyInclusion(b as never), JSON.stringify(b)).to.equal(false);
      const c = { size1: 3, size2: 5, root1: merkleRoot(leaves.slice(0, 3)), root2: tree.root, proof: tree.consistencyProof(3) };
      expect(verifyConsistency(c)).to.equal(true);
      const badC: unknown[] = [
        { ...c, size1: 0 }, { ...c, size1: 6 }, { ...c, size2: 4 }, { ...c, size1: -3 }, { ...c, size1: 0.5 },
        { ...c, proof: [] }, { ...c, proof: null }, { ...c, proof: [null] }, { ...c, root1: null }, { ...c, proof: [...c.proof, c.root2] },
        { ...c, size1: 5, proof: [] }, null, {},
      ];
      for (const b of badC) expect(verifyConsistency(b as never), JSON.stringify(b)).to.equal(false);
    });

    it('builders refuse bad arguments', () => {
      const leaves = pages(4).map((d) => leafHash(d));
      expect(() => merkleRoot([Buffer.alloc(31)])).to.throw(TypeError);
      for (const i of [-1, 4, 1.5, NaN]) expect(() => inclusionProof(leaves, i)).to.throw(RangeError);
      for (const m of [0, 5, -1, 2.5]) expect(() => consistencyProof(leaves, m)).to.throw(RangeError);
      expect(() => inclusionProof([], 0)).to.throw(RangeError);
    });
  });

  describe('JSON proof shape', () => {
    it('round-trips; index stays 0-based (page n has leaf index n-1)', () => {
      const leaves = pages(7).map((d) => leafHash(d));
      const tree = new MerkleTree(leaves);
      const page = 6;
      const p = { index: page - 1, treeSize: 7, leafHash: leaves[page - 1]!, proof: tree.inclusionProof(page - 1), root: tree.root };
      const json = toProofJson(p);
      expect(json.index).to.equal(5);
      expect(json.path).to.have.length(3);
      for (const h of [json.leafHash, json.root, ...json.path]) expect(h).to.match(/^[0-9a-f]{64}$/);
      const back = fromProofJson(JSON.parse(JSON.stringify(json)));
      expect(verifyInclusion(back)).to.equal(true);
      expect(toProofJson(back)).to.deep.equal(json);
    });

    it('rejects malformed JSON', () => {
      const json = toProofJson({ index: 0, treeSize: 2, leafHash: Buffer.alloc(32, 0x1a), proof: [Buffer.alloc(32, 0x2b)], root: Buffer.alloc(32, 0x3c) });
      const bad: unknown[] = [
        null, 'x', [], { ...json, index: -1 }, { ...json, index: '0' }, { ...json, treeSize: 1.5 }, { ...json, path: 'ab' },
        { ...json, path: [json.path[0]!.toUpperCase()] }, { ...json, path: [json.path[0], 7] }, { ...json, root: json.root.slice(2) }, { ...json, leafHash: `${json.root.slice(2)}zz` },
        { ...json, root: undefined },
      ];
      for (const b of bad) expect(() => fromProofJson(b), JSON.stringify(b)).to.throw(TypeError);
    });
  });

  describe('pluggable hash', () => {
    const alg = getHashes().includes('sm3') ? 'sm3' : 'sha3-256';
    const other: MerkleHasher = { size: 32, hash: (parts) => createHash(alg).update(Buffer.concat(parts)).digest() };

    it(`builds and verifies with ${alg}; the SHA-256 proofs do not verify there`, () => {
      if (alg === 'sm3') expect(oneShotHash('sm3', 'abc')).to.equal('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
      const D = pages(11);
      const leaves = D.map((d) => leafHash(d, { hasher: other }));
      const tree = new MerkleTree(leaves, { hasher: other });
      expect(tree.root.equals(merkleRoot(D.map((d) => leafHash(d))))).to.equal(false);
      expect(merkleRoot(leaves, { hasher: other }).equals(tree.root)).to.equal(true);
      expect(tree.root.equals(nodeHash(merkleRoot(leaves.slice(0, 8), { hasher: other }), merkleRoot(leaves.slice(8), { hasher: other }), { hasher: other }))).to.equal(true);
      for (let i = 0; i < 11; i++) {
        const p = { index: i, treeSize: 11, leafHash: leaves[i]!, proof: tree.inclusionProof(i), root: tree.root };
        expect(verifyInclusion(p, { hasher: other })).to.equal(true);
        expect(verifyInclusion(p, { hasher: sha256Hasher })).to.equal(false);
      }
      const c = { size1: 6, size2: 11, root1: merkleRoot(leaves.slice(0, 6), { hasher: other }), root2: tree.root, proof: tree.consistencyProof(6) };
      expect(verifyConsistency(c, { hasher: other })).to.equal(true);
      expect(verifyConsistency(c)).to.equal(false);
    });
  });

  describe('scale', () => {
    it('300,000 leaves: root, split, proofs and consistency agree', () => {
      const all = randomBytes(32 * 300_000);
      const leaves = Array.from({ length: 300_000 }, (_, i) => all.subarray(32 * i, 32 * i + 32));
      let t = performance.now();
      const root = merkleRoot(leaves);
      const ms = performance.now() - t;
      // The RFC's top split: 300,000 = 262,144 + 37,856.
      const left = merkleRoot(leaves.slice(0, 262_144));
      expect(root.equals(nodeHash(left, merkleRoot(leaves.slice(262_144))))).to.equal(true);
      t = performance.now();
      const tree = new MerkleTree(leaves);
      const treeMs = performance.now() - t;
      expect(tree.root.equals(root)).to.equal(true);
      for (const index of [0, 1, 262_143, 262_144, 299_998, 299_999]) {
        const proof = tree.inclusionProof(index);
        expect(verifyInclusion({ index, treeSize: 300_000, leafHash: leaves[index]!, proof, root })).to.equal(true);
      }
      const proof = tree.consistencyProof(262_144);
      expect(verifyConsistency({ size1: 262_144, size2: 300_000, root1: left, root2: root, proof })).to.equal(true);
      console.log(`    [merkle] 300,000 leaves: merkleRoot ${ms.toFixed(0)} ms, MerkleTree ${treeMs.toFixed(0)} ms`);
    });
  });
});
