import type { JWK } from 'jose';

/** Public keys as published at /.well-known/jwks.json; each has `kid` and `alg`. */
export interface PublicJwks {
  readonly keys: readonly (JWK & { kid: string; alg: string; use: 'sig' })[];
}

/** Signs payloads as JWS compact serialization with the current key. */
export interface Signer {
  readonly alg: string;
  readonly kid: string;
  sign(payload: Uint8Array): Promise<string>;
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
