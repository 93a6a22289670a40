/** Sealing: the Merkle root over every page and the signed manifest that names them all. */
import type { PageRecord } from '../model.js';
import type { SealRecord } from '../ports/repositories.js';
import type { KeyRing } from '../signing/signer.js';
import { leafHash, merkleRoot } from '../merkle.js';
import { SUITE, signCanonical, type Manifest } from '../evidence/statements.js';

export interface SealInput {
  readonly dossier: string;
  readonly caseId: string;
  readonly original: Manifest['original'];
  readonly pages: readonly PageRecord[];
}

/** RFC 6962 leaves: each page's 32-byte SHA-256 digest is the leaf data. */
export function pageMerkleRoot(pageSha256s: readonly string[]): string {
  return merkleRoot(pageSha256s.map((h) => leafHash(Buffer.from(h, 'hex')))).toString('hex');
}

/**
 * The Merkle root and the signed manifest, ready to be stored with `dossiers.seal`. Signing is kept
 * apart from storing so that it happens outside the seal's transaction (PGlite holds its one
 * connection for the whole of a transaction).
 */
export async function signSeal(keys: KeyRing, input: SealInput): Promise<SealRecord> {
  const signer = keys.current();
  const sealedAt = new Date();
  const root = pageMerkleRoot(input.pages.map((p) => p.sha256));
  const manifest: Manifest = {
    v: 1,
    suite: SUITE,
    dossier: input.dossier,
    case: input.caseId,
    sealedAt: sealedAt.toISOString(),
    kid: signer.kid,
    original: input.original,
    pageCount: input.pages.length,
    pages: input.pages.map((p) => ({ index: p.index, sha256: p.sha256, size: p.size, mediaType: p.mediaType })),
    merkleRoot: root,
  };
  const manifestJws = await signCanonical(signer, manifest);
  return { merkleRoot: root, manifestJws, kid: signer.kid, sealedAt, pageCount: input.pages.length };
}
