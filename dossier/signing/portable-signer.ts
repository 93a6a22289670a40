/**
 * The signer of a key that crossed to another thread (Signer.portable): built by the suite's own
 * function, so its JWS is the one the original signer makes (Ed25519 byte for byte; SM2 draws a
 * fresh random nonce for every signature either way).
 */
import { ed25519Signer } from './ed25519.js';
import type { PortableSigningKey, Signer } from './signer.js';
import { sm2Signer } from './sm2.js';

export function portableSigner(key: PortableSigningKey): Signer {
  if (key.suite === 'sm2-sm3') return sm2Signer(key.pair);
  return ed25519Signer(key);
}
