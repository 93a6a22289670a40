/**
 * Password hashing for local accounts: scrypt (memory-hard, in Node's crypto, no native addon).
 * Stored as `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<key b64url>` so parameters can grow later
 * while old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// 2^15 × 8 × 128 B = 32 MiB per hash: the cost OWASP's cheat sheet gives as scrypt's minimum.
const DEFAULT = { logN: 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULT.logN, DEFAULT.r, DEFAULT.p);
  return ['scrypt', DEFAULT.logN, DEFAULT.r, DEFAULT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** False for a wrong password or a hash this code does not recognise; constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  const key = await derive(password, Buffer.from(m[4]!, 'base64url'), logN, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password: verified against when the user does not exist, so both take as long. */
export const decoyHash = hashPassword(randomBytes(16).toString('hex'));

/** What a new password must be: long enough, not absurdly long (scrypt reads it all). */
export function passwordProblem(password: string): string | null {
  if ([...password].length < 12) return 'a password needs at least 12 characters';
  if (Buffer.byteLength(password) > 1024) return 'a password may have at most 1024 bytes';
  return null;
}
