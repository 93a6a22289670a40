/**
 * The digest a suite uses for pages and the Merkle tree: SHA-256 by default, SM3 (GB/T 32905) in
 * the national suite. Both from node:crypto (OpenSSL has SM3). Page records keep SHA-256 in
 * every suite: blobs are content-addressed by it.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { MerkleHasher } from './merkle.js';
import { sha256Hasher } from './merkle.js';
import type { SignatureSuite } from './signing/suite.js';

/** SHA-256 and size of bytes as they stream, in one pass; SM3 too when asked (a national-suite page). */
export async function streamDigests(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, sm3 = false): Promise<{ sha256: string; sm3?: string; size: number }> {
  const sha = createHash('sha256');
  const sm = sm3 ? createHash('sm3') : null;
  let size = 0;
  for await (const c of chunks) {
    sha.update(c);
    sm?.update(c);
    size += c.byteLength;
  }
  return { sha256: sha.digest('hex'), ...(sm ? { sm3: sm.digest('hex') } : {}), size };
}

export function sm3Hex(bytes: Uint8Array): string {
  return createHash('sm3').update(bytes).digest('hex');
}

/** SM3 through the one-shot hash, as sha256Hasher does for SHA-256. */
export const sm3Hasher: MerkleHasher = {
  size: 32,
  hash: (parts) => oneShotHash('sm3', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer'),
};

/** The Merkle hasher of a suite. */
export const suiteHasher = (suite: SignatureSuite): MerkleHasher => (suite === 'sm2-sm3' ? sm3Hasher : sha256Hasher);
