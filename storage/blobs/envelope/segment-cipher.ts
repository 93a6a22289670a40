/**
 * The authenticated ciphers of blobs at rest, one segment at a time. AES-256-GCM is the default;
 * the national suite's SM4 has no GCM in Node's OpenSSL, so it runs as SM4-CTR with an HMAC-SM3
 * tag over the nonce, the associated data and the ciphertext (encrypt-then-MAC), cut to 16 bytes
 * like GCM's so both share one layout. Keys are 32 bytes either way; SM4's cipher and MAC keys are
 * derived from them with HKDF-SM3.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const CIPHERS = ['aes-256-gcm', 'sm4-ctr-hmac-sm3'] as const;
export type CipherName = (typeof CIPHERS)[number];

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export interface SegmentCipher {
  readonly name: CipherName;
  /** The ciphertext followed by its 16-byte tag. */
  seal(key: Buffer, nonce: Buffer, aad: Buffer, plain: Uint8Array): Buffer;
  /** The same, written into `out` at `at` (plain.byteLength + TAG_BYTES bytes): no buffer of its own to join. */
  sealInto(key: Buffer, nonce: Buffer, aad: Buffer, plain: Uint8Array, out: Buffer, at: number): void;
  /** The plaintext, or null when the tag does not match (other key, altered bytes). */
  open(key: Buffer, nonce: Buffer, aad: Buffer, sealed: Uint8Array): Buffer | null;
}

/** A stream mode's output (all of it from `update`; `final` empty) copied to `out`: its length. */
function copyOut(body: Buffer, last: Buffer, out: Buffer, at: number): number {
  out.set(body, at);
  if (last.byteLength) out.set(last, at + body.byteLength);
  return body.byteLength + last.byteLength;
}

/** `sealInto` over a buffer of exactly the sealed size. */
function sealWhole(this: SegmentCipher, key: Buffer, nonce: Buffer, aad: Buffer, plain: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plain.byteLength + TAG_BYTES);
  this.sealInto(key, nonce, aad, plain, out, 0);
  return out;
}

const aesGcm: SegmentCipher = {
  name: 'aes-256-gcm',
  seal: sealWhole,
  sealInto(key, nonce, aad, plain, out, at) {
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    c.setAAD(aad);
    const n = copyOut(c.update(plain), c.final(), out, at);
    out.set(c.getAuthTag(), at + n);
  },
  open(key, nonce, aad, sealed) {
    if (sealed.byteLength < TAG_BYTES) return null;
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
    const body = d.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES));
    try {
      return Buffer.concat([body, d.final()]);
    } catch {
      return null;
    }
  },
};

/** SM4 key and MAC key of one 32-byte key, memoised for the hot path (one derivation per blob key). */
const sm4Keys = new WeakMap<Buffer, { enc: Buffer; mac: Buffer }>();
function sm4KeysOf(key: Buffer): { enc: Buffer; mac: Buffer } {
  let k = sm4Keys.get(key);
  if (!k) {
    const okm = Buffer.from(hkdfSync('sm3', key, Buffer.alloc(0), 'dossier sm4-ctr-hmac-sm3 v1', 16 + 32));
    k = { enc: okm.subarray(0, 16), mac: okm.subarray(16) };
    sm4Keys.set(key, k);
  }
  return k;
}

function sm4Tag(mac: Buffer, nonce: Buffer, aad: Buffer, ct: Uint8Array): Buffer {
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.byteLength), 0);
  lengths.writeBigUInt64BE(BigInt(ct.byteLength), 8);
  return createHmac('sm3', mac).update(nonce).update(lengths).update(aad).update(ct).digest().subarray(0, TAG_BYTES);
}

/** CTR counter block: the 12-byte nonce, then a 32-bit block counter from 0 (64 GiB a nonce). */
const counterBlock = (nonce: Buffer) => Buffer.concat([nonce, Buffer.alloc(4)]);

const sm4CtrHmacSm3: SegmentCipher = {
  name: 'sm4-ctr-hmac-sm3',
  seal: sealWhole,
  sealInto(key, nonce, aad, plain, out, at) {
    const { enc, mac } = sm4KeysOf(key);
    const c = createCipheriv('sm4-ctr', enc, counterBlock(nonce));
    const n = copyOut(c.update(plain), c.final(), out, at);
    out.set(sm4Tag(mac, nonce, aad, out.subarray(at, at + n)), at + n);
  },
  open(key, nonce, aad, sealed) {
    if (sealed.byteLength < TAG_BYTES) return null;
    const { enc, mac } = sm4KeysOf(key);
    const ct = sealed.subarray(0, sealed.byteLength - TAG_BYTES);
    const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
    if (!timingSafeEqual(sm4Tag(mac, nonce, aad, ct), tag)) return null;
    const d = createDecipheriv('sm4-ctr', enc, counterBlock(nonce));
    return Buffer.concat([d.update(ct), d.final()]);
  },
};

export function segmentCipher(name: CipherName): SegmentCipher {
  return name === 'aes-256-gcm' ? aesGcm : sm4CtrHmacSm3;
}
