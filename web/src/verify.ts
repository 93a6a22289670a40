/**
 * Verification in the browser with WebCrypto, from nothing but the public API: the manifest's
 * Ed25519 signature against /.well-known/jwks.json, the SHA-256 of each page's bytes against the
 * signed manifest, and the Merkle root (RFC 6962: leaf = H(0x00 ‖ page digest), node = H(0x01 ‖ l ‖ r),
 * n > 1 split at the largest power of two below n) recomputed from the page digests.
 */
export interface ManifestPage {
  index: number;
  sha256: string;
}

export interface Manifest {
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

export async function checkManifest(jws: string, jwks: { keys: JsonWebKey[] & { kid?: string }[] }, dossierId: string): Promise<ManifestCheck> {
  const [h, p, s] = jws.trim().split('.');
  if (!h || !p || !s) return { ok: false, reason: 'signature' };
  const header = JSON.parse(new TextDecoder().decode(fromB64u(h))) as { alg?: string; kid?: string };
  if (header.alg !== 'EdDSA') return { ok: false, reason: 'unsupported' };
  const jwk = (jwks.keys as (JsonWebKey & { kid?: string })[]).find((k) => k.kid === header.kid && k.kty === 'OKP' && k.crv === 'Ed25519');
  if (!jwk) return { ok: false, reason: 'signature' };
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return { ok: false, reason: 'unsupported' };
  }
  const valid = await crypto.subtle.verify({ name: 'Ed25519' }, key, fromB64u(s), new TextEncoder().encode(`${h}.${p}`));
  if (!valid) return { ok: false, reason: 'signature' };
  const manifest = JSON.parse(new TextDecoder().decode(fromB64u(p))) as Manifest;
  if (manifest.dossier !== dossierId) return { ok: false, reason: 'dossier' };
  return { ok: true, manifest, kid: header.kid! };
}

async function treeHash(leaves: Uint8Array<ArrayBuffer>[]): Promise<Uint8Array<ArrayBuffer>> {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  const [l, r] = await Promise.all([treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k))]);
  const node = new Uint8Array(65);
  node[0] = 1;
  node.set(l, 1);
  node.set(r, 33);
  return sha256(node);
}

/** The RFC 6962 root over the manifest's page digests, lowercase hex. */
export async function merkleRoot(pages: readonly ManifestPage[]): Promise<string> {
  const leaves = await Promise.all(
    pages.map((p) => {
      const leaf = new Uint8Array(33);
      leaf.set(fromHex(p.sha256), 1);
      return sha256(leaf);
    }),
  );
  return hex(leaves.length ? await treeHash(leaves) : await sha256(new Uint8Array(0)));
}

/** Fetches page n's stored bytes (never from the cache) and compares their SHA-256 to the signed one. */
export async function pageMatches(dossierId: string, page: ManifestPage): Promise<boolean> {
  const res = await fetch(`/api/dossiers/${dossierId}/pages/${page.index}`, { cache: 'no-store', credentials: 'same-origin' });
  if (!res.ok) return false;
  return hex(await sha256(await res.arrayBuffer())) === page.sha256;
}

export async function loadManifest(dossierId: string): Promise<ManifestCheck> {
  const [jwks, jws] = await Promise.all([
    fetch('/.well-known/jwks.json', { cache: 'no-store' }).then((r) => r.json()),
    fetch(`/api/dossiers/${dossierId}/manifest`, { cache: 'no-store', credentials: 'same-origin' }).then((r) => r.text()),
  ]);
  return checkManifest(jws, jwks, dossierId);
}
