/** Sealing: the Merkle root over every page and the signed manifest that names them all. */
import type { PageRecord } from '../model.js';
import type { SealRecord } from '../ports/repositories.js';
import type { KeyRing } from '../signing/signer.js';
import { SUITE_ALG, type SignatureSuite } from '../signing/suite.js';
import { suiteHasher } from '../digest.js';
import { DossierError } from '../errors.js';
import { leafHash, merkleRoot } from '../merkle.js';
import { signCanonical, type Manifest } from '../evidence/statements.js';

export interface SealInput {
  readonly dossier: string;
  readonly caseId: string;
  readonly original: Manifest['original'];
  readonly pages: readonly PageRecord[];
}

/**
 * RFC 6962 leaves: each page's 32-byte digest is the leaf data. Default suite: SHA-256 digests and
 * tree; national suite: SM3 digests (the pages' `sm3`) and an SM3 tree of the same structure.
 */
export function pageMerkleRoot(pageDigests: readonly string[], suite: SignatureSuite = 'ed25519-sha256'): string {
  const opts = { hasher: suiteHasher(suite) };
  return merkleRoot(pageDigests.map((h) => leafHash(Buffer.from(h, 'hex'), opts)), opts).toString('hex');
}

/** The suite a sealed manifest was signed under, read from its protected header's `alg`. */
export function manifestSuite(manifestJws: string): SignatureSuite {
  const head = JSON.parse(Buffer.from(manifestJws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string };
  return head.alg === SUITE_ALG['sm2-sm3'] ? 'sm2-sm3' : 'ed25519-sha256';
}

/** The digests a suite's tree is built over; an sm2-sm3 page without its SM3 cannot be sealed. */
export function treeDigests(pages: readonly { index: number; sha256: string; sm3?: string | null }[], suite: SignatureSuite): string[] {
  if (suite === 'ed25519-sha256') return pages.map((p) => p.sha256);
  return pages.map((p) => {
    if (!p.sm3) throw new DossierError('internal', `page ${p.index} has no SM3 digest: it was not read under the sm2-sm3 suite`);
    return p.sm3;
  });
}

/**
 * The Merkle root and the signed manifest, ready to be stored with `dossiers.seal`. Signing is kept
 * apart from storing so that it happens outside the seal's transaction (PGlite holds its one
 * connection for the whole of a transaction).
 */
export async function signSeal(keys: KeyRing, input: SealInput): Promise<SealRecord> {
  const signer = keys.current();
  const sealedAt = new Date();
  const root = pageMerkleRoot(treeDigests(input.pages, signer.suite), signer.suite);
  const sm3 = signer.suite === 'sm2-sm3';
  const manifest: Manifest = {
    v: 1,
    suite: signer.suite,
    dossier: input.dossier,
    case: input.caseId,
    sealedAt: sealedAt.toISOString(),
    kid: signer.kid,
    original: input.original,
    pageCount: input.pages.length,
    pages: input.pages.map((p) => ({ index: p.index, sha256: p.sha256, ...(sm3 ? { sm3: p.sm3! } : {}), size: p.size, mediaType: p.mediaType })),
    merkleRoot: root,
  };
  const manifestJws = await signCanonical(signer, manifest);
  return { merkleRoot: root, manifestJws, kid: signer.kid, sealedAt, pageCount: input.pages.length };
}
