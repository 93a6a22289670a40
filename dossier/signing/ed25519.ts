import crypto, { type KeyObject } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, type JWK } from 'jose';
import type { Signer } from './signer.js';

export const ED25519_ALG = 'EdDSA';

export interface Ed25519KeyPair {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK & { kid: string; alg: string; use: 'sig' };
}

export async function generateEd25519(): Promise<{ pair: Ed25519KeyPair; privateJwk: JWK }> {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { pair: await ed25519FromPrivateJwk(privateJwk), privateJwk };
}

/** kid = RFC 7638 thumbprint of the public JWK. */
export async function ed25519FromPrivateJwk(privateJwk: JWK): Promise<Ed25519KeyPair> {
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || !privateJwk.d || !privateJwk.x) {
    throw new Error('not an Ed25519 private JWK');
  }
  const bare = { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x };
  const kid = await calculateJwkThumbprint(bare, 'sha256');
  const privateKey = crypto.createPrivateKey({ key: privateJwk as crypto.JsonWebKey, format: 'jwk' });
  return { kid, privateKey, publicJwk: { ...bare, kid, alg: ED25519_ALG, use: 'sig' } };
}

export function ed25519Signer(pair: Pick<Ed25519KeyPair, 'kid' | 'privateKey'>): Signer {
  return {
    alg: ED25519_ALG,
    suite: 'ed25519-sha256',
    kid: pair.kid,
    sign: (payload, header) => new CompactSign(payload).setProtectedHeader({ ...header, alg: ED25519_ALG, kid: pair.kid }).sign(pair.privateKey),
    portable: () => ({ suite: 'ed25519-sha256', kid: pair.kid, privateKey: pair.privateKey }),
  };
}
