/**
 * The national suite in the browser, which WebCrypto lacks: SM2 signature checks and SM3 digests
 * in JavaScript (sm-crypto-v2 on @noble/curves). Loaded only for a manifest signed with SM2, so
 * the first load of the application does not carry it.
 */
import { sm2, sm3 } from 'sm-crypto-v2';

const SM2_DISTID = '1234567812345678';
const N = BigInt('0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123');

const fromB64u = (s: string): Uint8Array => {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
};
const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** SM2 with SM3 and the default identifier over `input`, the signature r ‖ s; false on anything malformed. */
export function verifySm2(jwk: { x?: string; y?: string }, input: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (!jwk.x || !jwk.y || signature.length !== 64) return false;
    const [x, y] = [fromB64u(jwk.x), fromB64u(jwk.y)];
    if (x.length !== 32 || y.length !== 32) return false;
    const pub = `04${hex(x)}${hex(y)}`;
    if (!sm2.verifyPublicKey(pub)) return false;
    const sig = hex(signature);
    const [r, s] = [BigInt(`0x${sig.slice(0, 64)}`), BigInt(`0x${sig.slice(64)}`)];
    if (r < 1n || r >= N || s < 1n || s >= N) return false;
    return sm2.doVerifySignature(input, sig, pub, { hash: true, der: false, userId: SM2_DISTID });
  } catch {
    return false;
  }
}

export const sm3Bytes = (b: Uint8Array): Uint8Array => fromHex(sm3(b));
