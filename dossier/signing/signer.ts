import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Sm2KeyPair } from './sm2.js';
import type { SignatureSuite } from './suite.js';

/** Public keys as published at /.well-known/jwks.json; each has `kid` and `alg`. */
export interface PublicJwks {
  readonly keys: readonly (JWK & { kid: string; alg: string; use: 'sig' })[];
}

/** Extra protected-header parameters a caller may set (a JWT's `typ`); `alg` and `kid` are the signer's. */
export interface ExtraHeader {
  readonly typ?: string;
}

/** Signs payloads as JWS compact serialization with the current key, in one suite's algorithm. */
export interface Signer {
  readonly alg: string;
  readonly suite: SignatureSuite;
  readonly kid: string;
  sign(payload: Uint8Array, header?: ExtraHeader): Promise<string>;
  /**
   * The key in a form another thread of this process can take (structured clone), so that page
   * statements are signed beside the page reader (portable-signer.ts). A method, never a field:
   * no serialisation of a signer (a log line, JSON) can carry the private key.
   */
  portable?(): PortableSigningKey;
}

/** A current signing key as it crosses to a worker thread of the same process (never further). */
export type PortableSigningKey =
  | { readonly suite: 'ed25519-sha256'; readonly kid: string; readonly privateKey: KeyObject }
  | { readonly suite: 'sm2-sm3'; readonly pair: Sm2KeyPair };

/**
 * The gateway's evidence keys: one current signer, and every public key ever used (current and
 * retired), so that old dossiers stay verifiable after a rotation. Private keys live outside the
 * database (storage/keys/file-keyring.ts).
 */
export interface KeyRing {
  current(): Signer;
  publicJwks(): PublicJwks;
}
