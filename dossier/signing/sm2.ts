/**
 * SM2 signatures (GB/T 32918) in the JWS form of CONTRACT.md: `alg: "SM2"`, SM2 with SM3 over the
 * ASCII signing input and the default distinguishing identifier 1234567812345678, the signature
 * the 64 bytes r ‖ s. Node's crypto cannot make or use SM2 keys, so the curve arithmetic is
 * sm-crypto-v2's (on @noble/curves); the JWS framing is ours because jose knows no SM2.
 * Public JWK: `{ kty: "EC", crv: "SM2", x, y }`, kid its RFC 7638 thumbprint.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { sm2 } from 'sm-crypto-v2';
import type { Signer } from './signer.js';

export const SM2_ALG = 'SM2';
export const SM2_DISTID = '1234567812345678';
/** The order n of the SM2 curve: r and s must lie in [1, n-1]. */
const SM2_N = BigInt('0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123');

export interface Sm2KeyPair {
  readonly kid: string;
  /** The private scalar d, 64 hex digits. */
  readonly privateHex: string;
  /** The uncompressed public point 04 ‖ x ‖ y, hex. */
  readonly publicHex: string;
  readonly publicJwk: JWK & { kid: string; alg: string; use: 'sig' };
}

const b64u = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');
const coordHex = (v: unknown): string | null => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(v)) return null;
  const bytes = Buffer.from(v, 'base64url');
  return bytes.length === 32 ? bytes.toString('hex') : null;
};

export async function generateSm2(): Promise<{ pair: Sm2KeyPair; privateJwk: JWK }> {
  const { privateKey } = sm2.generateKeyPairHex();
  const d = privateKey.padStart(64, '0');
  const pub = sm2.getPublicKeyFromPrivateKey(d);
  const privateJwk: JWK = { kty: 'EC', crv: 'SM2', x: b64u(pub.slice(2, 66)), y: b64u(pub.slice(66)), d: b64u(d) };
  return { pair: await sm2FromPrivateJwk(privateJwk), privateJwk };
}

/** Checks that d, x and y belong together; kid = RFC 7638 thumbprint of the public JWK. */
export async function sm2FromPrivateJwk(privateJwk: JWK): Promise<Sm2KeyPair> {
  const x = coordHex(privateJwk.x), y = coordHex(privateJwk.y), d = coordHex(privateJwk.d);
  if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'SM2' || !x || !y || !d) throw new Error('not an SM2 private JWK');
  const publicHex = `04${x}${y}`;
  if (sm2.getPublicKeyFromPrivateKey(d) !== publicHex) throw new Error('SM2 private JWK: d does not match x, y');
  const bare = { crv: 'SM2', kty: 'EC', x: privateJwk.x!, y: privateJwk.y! };
  const kid = await calculateJwkThumbprint(bare, 'sha256');
  return { kid, privateHex: d, publicHex, publicJwk: { ...bare, kid, alg: SM2_ALG, use: 'sig' } };
}

/** The uncompressed point of a public SM2 JWK, or null when the JWK is not one (or off the curve). */
export function sm2PublicHex(jwk: JWK): string | null {
  const x = coordHex(jwk.x), y = coordHex(jwk.y);
  if (jwk.kty !== 'EC' || jwk.crv !== 'SM2' || !x || !y) return null;
  const hex = `04${x}${y}`;
  return sm2.verifyPublicKey(hex) ? hex : null;
}

/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ G ‖ P) of GB/T 32918.2, one per key (the library's, cached). */
const zCache = new Map<string, Uint8Array>();
function zOf(publicHex: string): Uint8Array {
  let z = zCache.get(publicHex);
  if (!z) {
    z = sm2.getZ(publicHex.slice(2), SM2_DISTID);
    if (zCache.size > 1000) zCache.clear();
    zCache.set(publicHex, z);
  }
  return z;
}

/**
 * e = SM3(Z_A ‖ M), the digest SM2 signs, through node:crypto's SM3: the library would hash in
 * JavaScript, over a hex copy of the message (seconds for a 5,000-page manifest).
 */
const digestE = (publicHex: string, message: Uint8Array): Buffer => createHash('sm3').update(zOf(publicHex)).update(message).digest();

/** SM2-with-SM3 signature (r ‖ s, 64 bytes) over `message` with the default identifier. */
export function sm2SignRaw(pair: Sm2KeyPair, message: Uint8Array): Buffer {
  const sig = sm2.doSignature(digestE(pair.publicHex, message), pair.privateHex, { hash: false, der: false });
  return Buffer.from(sig, 'hex');
}

/** Never throws: a malformed signature or key gives false. */
export function sm2VerifyRaw(publicHex: string, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (signature.length !== 64) return false;
    const hex = Buffer.from(signature).toString('hex');
    const r = BigInt(`0x${hex.slice(0, 64)}`), s = BigInt(`0x${hex.slice(64)}`);
    if (r < 1n || r >= SM2_N || s < 1n || s >= SM2_N) return false;
    return sm2.doVerifySignature(digestE(publicHex, message), hex, publicHex, { hash: false, der: false });
  } catch {
    return false;
  }
}

/** JWS compact serialization: BASE64URL(header) . BASE64URL(payload) . BASE64URL(r ‖ s). */
export function sm2Signer(pair: Sm2KeyPair): Signer {
  return {
    alg: SM2_ALG,
    suite: 'sm2-sm3',
    kid: pair.kid,
    async sign(payload, header) {
      const head = Buffer.from(JSON.stringify({ ...header, alg: SM2_ALG, kid: pair.kid })).toString('base64url');
      const input = `${head}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${sm2SignRaw(pair, Buffer.from(input, 'ascii')).toString('base64url')}`;
    },
    portable: () => ({ suite: 'sm2-sm3', pair }),
  };
}
