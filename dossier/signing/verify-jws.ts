/**
 * Verifies a compact JWS of either suite against trusted public keys. EdDSA goes to jose; SM2,
 * which jose does not know, is checked here with the same strictness: the algorithm must be one
 * the caller allows, the key is the trusted one named by `kid` (never a key the token carries),
 * no `crit` or unencoded payloads, canonical base64url everywhere.
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type CompactJWSHeaderParameters, type JSONWebKeySet, type JWK } from 'jose';
import { SM2_ALG, sm2PublicHex, sm2VerifyRaw } from './sm2.js';

export interface VerifiedJws {
  readonly payload: Uint8Array;
  readonly protectedHeader: CompactJWSHeaderParameters;
}

export class JwsInvalid extends Error {
  readonly code = 'jws_invalid';
}

const B64U = /^[A-Za-z0-9_-]*$/;
/** base64url without padding, refused when it does not round-trip (no second spelling of a signature). */
function strictB64u(part: string, what: string): Buffer {
  if (!B64U.test(part)) throw new JwsInvalid(`${what} is not base64url`);
  const bytes = Buffer.from(part, 'base64url');
  if (bytes.toString('base64url') !== part) throw new JwsInvalid(`${what} is not canonical base64url`);
  return bytes;
}

/** Throws JwsInvalid (or jose's errors for EdDSA) unless `jws` verifies with a trusted key. */
export async function verifyCompactJws(jws: string, jwks: { readonly keys: readonly JWK[] }, algorithms: readonly string[]): Promise<VerifiedJws> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(jws).alg;
  } catch {
    throw new JwsInvalid('not a compact JWS');
  }
  if (typeof alg !== 'string' || !algorithms.includes(alg)) throw new JwsInvalid(`algorithm ${String(alg)} is not allowed here`);
  if (alg !== SM2_ALG) {
    // jose decodes base64url leniently: the last character of a signature has spare bits, so
    // several spellings of one signature verified (found by the tamper suite). One spelling only.
    const parts = jws.split('.');
    if (parts.length !== 3) throw new JwsInvalid('not a compact JWS');
    parts.forEach((part, i) => strictB64u(part, ['header', 'payload', 'signature'][i]!));
    return compactVerify(jws, createLocalJWKSet({ keys: [...jwks.keys] } as JSONWebKeySet), { algorithms: [alg] });
  }
  return verifySm2(jws, jwks.keys);
}

function verifySm2(jws: string, keys: readonly JWK[]): VerifiedJws {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsInvalid('not a compact JWS');
  const [head, body, sig] = parts as [string, string, string];
  let header: CompactJWSHeaderParameters;
  try {
    header = JSON.parse(strictB64u(head, 'header').toString('utf8')) as CompactJWSHeaderParameters;
  } catch (err) {
    throw err instanceof JwsInvalid ? err : new JwsInvalid('the protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JwsInvalid('the protected header is not an object');
  if ('crit' in header || 'b64' in header || 'jwk' in header || 'jku' in header || 'x5c' in header) {
    throw new JwsInvalid('the protected header asks for something this verifier does not do');
  }
  if (typeof header.kid !== 'string') throw new JwsInvalid('an SM2 JWS must name its key (kid)');
  const payload = strictB64u(body, 'payload');
  const signature = strictB64u(sig, 'signature');
  const input = Buffer.from(`${head}.${body}`, 'ascii');
  for (const k of keys) {
    if (k.kid !== header.kid || (k.alg !== undefined && k.alg !== SM2_ALG)) continue;
    const pub = sm2PublicHex(k);
    if (pub && sm2VerifyRaw(pub, input, signature)) return { payload, protectedHeader: header };
  }
  throw new JwsInvalid('the signature does not verify with any trusted key');
}
