/** Sealing: the Merkle root over every page and the signed manifest that names them all. */
import type { PageRecord } from '../model.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { KeyRing } from '../signing/signer.js';
import type { Tx } from '../ports/transactions.js';
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

export async function sealDossier(
  deps: { dossiers: DossierRepository; keys: KeyRing },
  input: SealInput,
  within?: Tx,
): Promise<{ merkleRoot: string; manifestJws: string }> {
  const signer = deps.keys.current();
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
  await deps.dossiers.seal(input.dossier, { merkleRoot: root, manifestJws, kid: signer.kid, sealedAt, pageCount: input.pages.length }, within);
  return { merkleRoot: root, manifestJws };
}
