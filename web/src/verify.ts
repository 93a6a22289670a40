/**
 * Verification in the browser with WebCrypto, from nothing but the public API: the manifest's
 * Ed25519 signature against /.well-known/jwks.json, the SHA-256 of each page's bytes against the
 * signed manifest, and the Merkle root (RFC 6962: leaf = H(0x00 ‖ page digest), node = H(0x01 ‖ l ‖ r),
 * n > 1 split at the largest power of two below n) recomputed from the page digests.
 * A manifest of the national suite (alg SM2, suite sm2-sm3) is checked the same way with SM2 and
 * SM3 in JavaScript (verify-sm2.ts), fetched only then.
 */
export interface ManifestPage {
  index: number;
  sha256: string;
  /** National suite only. */
  sm3?: string;
}

export type Suite = 'ed25519-sha256' | 'sm2-sm3';

export interface Manifest {
  suite: Suite;
  dossier: string;
  kid: string;
  pageCount: number;
  pages: ManifestPage[];
  merkleRoot: string;
}

export type ManifestCheck =
  | { ok: true; manifest: Manifest; kid: string }
  | { ok: false; reason: 'signature' | 'unsupported' | 'dossier' };

const fromB64u = (s: string): Uint8Array<ArrayBuffer> => {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
};
const hex = (b: ArrayBuffer | Uint8Array): string => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): Uint8Array<ArrayBuffer> => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const sha256 = async (b: BufferSource): Promise<Uint8Array<ArrayBuffer>> => new Uint8Array(await crypto.subtle.digest('SHA-256', b));

const sm2Module = () => import('./verify-sm2.js');

export async function checkManifest(jws: string, jwks: { keys: JsonWebKey[] & { kid?: string }[] }, dossierId: string): Promise<ManifestCheck> {
  const [h, p, s] = jws.trim().split('.');
  if (!h || !p || !s) return { ok: false, reason: 'signature' };
  const header = JSON.parse(new TextDecoder().decode(fromB64u(h))) as { alg?: string; kid?: string };
  const keys = jwks.keys as (JsonWebKey & { kid?: string })[];
  const input = new TextEncoder().encode(`${h}.${p}`);
  let valid: boolean;
  if (header.alg === 'EdDSA') {
    const jwk = keys.find((k) => k.kid === header.kid && k.kty === 'OKP' && k.crv === 'Ed25519');
    if (!jwk) return { ok: false, reason: 'signature' };
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
    } catch {
      return { ok: false, reason: 'unsupported' };
    }
    valid = await crypto.subtle.verify({ name: 'Ed25519' }, key, fromB64u(s), input);
  } else if (header.alg === 'SM2') {
    const jwk = keys.find((k) => k.kid === header.kid && k.kty === 'EC' && k.crv === 'SM2');
    if (!jwk) return { ok: false, reason: 'signature' };
    valid = (await sm2Module()).verifySm2(jwk, input, fromB64u(s));
  } else {
    return { ok: false, reason: 'unsupported' };
  }
  if (!valid) return { ok: false, reason: 'signature' };
  const manifest = JSON.parse(new TextDecoder().decode(fromB64u(p))) as Manifest;
  if (manifest.dossier !== dossierId) return { ok: false, reason: 'dossier' };
  // The suite the manifest names must be the one it is signed with.
  if ((manifest.suite === 'sm2-sm3') !== (header.alg === 'SM2')) return { ok: false, reason: 'signature' };
  return { ok: true, manifest, kid: header.kid! };
}

type Hash = (b: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>>;
const hashOf = async (suite: Suite): Promise<Hash> => {
  if (suite !== 'sm2-sm3') return sha256;
  const { sm3Bytes } = await sm2Module();
  return async (b) => new Uint8Array(sm3Bytes(b));
};

async function treeHash(leaves: Uint8Array<ArrayBuffer>[], h: Hash): Promise<Uint8Array<ArrayBuffer>> {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  const [l, r] = await Promise.all([treeHash(leaves.slice(0, k), h), treeHash(leaves.slice(k), h)]);
  const node = new Uint8Array(65);
  node[0] = 1;
  node.set(l, 1);
  node.set(r, 33);
  return h(node);
}

/** The page digest the suite's tree is built over. */
const treeDigest = (p: ManifestPage, suite: Suite): string => (suite === 'sm2-sm3' ? p.sm3 ?? '' : p.sha256);

/** The RFC 6962 root over the manifest's page digests (SHA-256, or SM3 for the national suite), lowercase hex. */
export async function merkleRoot(pages: readonly ManifestPage[], suite: Suite = 'ed25519-sha256'): Promise<string> {
  const h = await hashOf(suite);
  const leaves = await Promise.all(
    pages.map((p) => {
      const leaf = new Uint8Array(33);
      leaf.set(fromHex(treeDigest(p, suite)).subarray(0, 32), 1);
      return h(leaf);
    }),
  );
  return hex(leaves.length ? await treeHash(leaves, h) : await h(new Uint8Array(0)));
}

/** Fetches page n's stored bytes (never from the cache) and compares their digests to the signed ones. */
export async function pageMatches(dossierId: string, page: ManifestPage, suite: Suite = 'ed25519-sha256'): Promise<boolean> {
  const res = await fetch(`/api/dossiers/${dossierId}/pages/${page.index}`, { cache: 'no-store', credentials: 'same-origin' });
  if (!res.ok) return false;
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (hex(await sha256(bytes)) !== page.sha256) return false;
  return suite !== 'sm2-sm3' || hex(await (await hashOf(suite))(bytes)) === page.sm3;
}

export async function loadManifest(dossierId: string): Promise<ManifestCheck> {
  const [jwks, jws] = await Promise.all([
    fetch('/.well-known/jwks.json', { cache: 'no-store' }).then((r) => r.json()),
    fetch(`/api/dossiers/${dossierId}/manifest`, { cache: 'no-store', credentials: 'same-origin' }).then((r) => r.text()),
  ]);
  return checkManifest(jws, jwks, dossierId);
}
