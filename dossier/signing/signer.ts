import type { JWK } from 'jose';
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
}

/**
 * The gateway's evidence keys: one current signer, and every public key ever used (current and
 * retired), so that old dossiers stay verifiable after a rotation. Private keys live outside the
 * database (storage/keys/file-keyring.ts).
 */
export interface KeyRing {
  current(): Signer;
  publicJwks(): PublicJwks;
}
