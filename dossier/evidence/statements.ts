/**
 * The signed evidence formats of CONTRACT.md: the page statement and the dossier manifest.
 * Payloads are canonical JSON (RFC 8785) so that any verifier re-serialising them gets the same
 * bytes; hashes are lowercase hex.
 */
import canonicalize from 'canonicalize';
import type { PageMediaType } from '../pages/types.js';
import type { Signer } from '../signing/signer.js';
import type { SignatureSuite } from '../signing/suite.js';

/** The default suite; a manifest names the one it was sealed under. */
export const SUITE = 'ed25519-sha256';

export interface PageStatement {
  readonly v: 1;
  readonly dossier: string;
  readonly case: string;
  readonly index: number;
  readonly sha256: string;
  /** Under the national suite only: the page's SM3, which its Merkle leaf is made of. */
  readonly sm3?: string;
  readonly size: number;
  readonly mediaType: PageMediaType;
}

export interface ManifestPage {
  readonly index: number;
  readonly sha256: string;
  /** Under the national suite only (sm2-sm3): the page's SM3. */
  readonly sm3?: string;
  readonly size: number;
  readonly mediaType: PageMediaType;
}

export interface Manifest {
  readonly v: 1;
  readonly suite: SignatureSuite;
  readonly dossier: string;
  readonly case: string;
  readonly sealedAt: string;
  readonly kid: string;
  readonly original: { readonly filename: string; readonly size: number; readonly sha256: string };
  readonly pageCount: number;
  readonly pages: readonly ManifestPage[];
  readonly merkleRoot: string;
}

/** The statement of page `index` (from 1) of a dossier: one builder wherever a statement is signed. */
export function pageStatement(
  d: { readonly dossier: string; readonly case: string },
  index: number,
  page: { readonly sha256: string; readonly sm3?: string | undefined; readonly size: number; readonly mediaType: PageMediaType },
): PageStatement {
  return { v: 1, dossier: d.dossier, case: d.case, index, sha256: page.sha256, ...(page.sm3 ? { sm3: page.sm3 } : {}), size: page.size, mediaType: page.mediaType };
}

export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalized');
  return Buffer.from(text, 'utf8');
}

/** JWS compact serialization over the canonical JSON of `payload`. */
export function signCanonical(signer: Signer, payload: unknown): Promise<string> {
  return signer.sign(canonicalBytes(payload));
}
