/**
 * Offline verification of a dossier export: the manifest's signature against a key the verifier
 * trusts (a JWKS it was given, or the export's own key only when its RFC 7638 thumbprint was pinned
 * out of band), every page's bytes against the manifest, the Merkle root, and the original when
 * the export carries it (the gateway leaves it out only on request, ?original=0; requireOriginal insists).
 * Nothing here trusts the export's contents before the signature is checked. The page texts under
 * text/ are derived after sealing and signed by nothing: they are counted, never vouched for, and
 * a text file that names no page of the manifest is a problem.
 *
 * Both suites: an EdDSA manifest must say `ed25519-sha256` (SHA-256 pages and tree), an SM2 one
 * `sm2-sm3` (SM3 pages, SM3 tree, each page's SHA-256 checked as well). This is the one function
 * `dossier verify` and `dossier download --verify` call.
 */
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose';
import { z } from 'zod';
import { DossierError } from '../errors.js';
import { pageMerkleRoot } from '../ingest/seal-dossier.js';
import { SM2_ALG } from '../signing/sm2.js';
import { SUITE_ALG, type SignatureSuite } from '../signing/suite.js';
import { verifyCompactJws } from '../signing/verify-jws.js';
import { JWKS_FILE, MANIFEST_FILE, PAGES_DIR, TEXT_DIR, originalPath, pagePath, textPageIndex } from './export-layout.js';
import { checkReceipts, type ReceiptSummary } from './verify-receipts.js';

export interface ExportSource {
  /** Every file path in the export, `/`-separated. */
  list(): Promise<string[]>;
  /** A small file's bytes (manifest, JWKS), or null when absent. */
  read(path: string): Promise<Buffer | null>;
  /** A file's SHA-256 and size, streamed (and its SM3 when `sm3`); null when absent. */
  digest(path: string, options?: { sm3?: boolean }): Promise<{ sha256: string; sm3?: string; size: number } | null>;
}

export type ProblemCode =
  | 'manifest_missing'
  | 'signature_invalid'
  | 'untrusted_key'
  | 'manifest_malformed'
  | 'page_missing'
  | 'page_mismatch'
  | 'page_unexpected'
  | 'text_unexpected'
  | 'root_mismatch'
  | 'original_missing'
  | 'original_mismatch'
  | 'receipt_invalid'
  | 'receipt_malformed'
  | 'receipt_mismatch';

export interface Problem {
  readonly code: ProblemCode;
  readonly message: string;
  readonly page?: number;
  readonly path?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly keySource: 'trusted-jwks' | 'pinned-export-key';
  readonly kid: string | null;
  /** The suite the manifest was sealed under (null when it could not be read). */
  readonly suite: SignatureSuite | null;
  readonly dossier: string | null;
  readonly case: string | null;
  readonly sealedAt: string | null;
  readonly pageCount: number;
  readonly pagesVerified: number;
  readonly merkleRoot: string | null;
  /** The custody receipts found under receipts/, each checked against the trusted keys and this dossier. */
  readonly receipts: readonly ReceiptSummary[];
  /**
   * Page texts under text/ (text/0001.txt …): OCR derived after sealing, not covered by the
   * signature, so counted and not verified. They neither stand in for a page nor change any verdict.
   */
  readonly unsignedTexts: number;
  /**
   * The original upload: in the export and matching the manifest, absent (an export without it:
   * the signed pages are the evidence), or different (a problem, original_mismatch).
   */
  readonly original: 'verified' | 'absent' | 'mismatch' | null;
  readonly problems: readonly Problem[];
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const manifestSchema = z.object({
  v: z.literal(1),
  suite: z.enum(['ed25519-sha256', 'sm2-sm3']),
  dossier: z.string(),
  case: z.string(),
  sealedAt: z.string(),
  kid: z.string(),
  original: z.object({ filename: z.string(), size: z.number().int().min(0), sha256: hex64 }),
  pageCount: z.number().int().min(1),
  pages: z.array(
    z.object({
      index: z.number().int().min(1),
      sha256: hex64,
      sm3: hex64.optional(),
      size: z.number().int().min(0),
      mediaType: z.enum(['image/jpeg', 'image/png', 'image/tiff', 'image/jp2', 'image/webp', 'application/pdf']),
    }),
  ),
  merkleRoot: hex64,
}).refine((m) => m.pages.every((p) => (m.suite === 'sm2-sm3') === (p.sm3 !== undefined)), 'a page has sm3 exactly when the suite is sm2-sm3');

export interface TrustOptions {
  /** Keys trusted out of band (the gateway's /.well-known/jwks.json, saved or fetched). */
  readonly jwks?: JSONWebKeySet;
  /** Or: the RFC 7638 thumbprint of the one key in the export's jwks.json to trust. */
  readonly pinnedKey?: string;
  /** An export without the original upload is a problem (original_missing); default: accepted. */
  readonly requireOriginal?: boolean;
}

export async function verifyExport(source: ExportSource, trust: TrustOptions): Promise<VerifyReport> {
  if (!trust.jwks && !trust.pinnedKey) {
    throw new DossierError('bad_request', 'no trusted key: give a JWKS (--jwks) or pin the thumbprint of the export key (--key)');
  }
  const keySource = trust.jwks ? 'trusted-jwks' : 'pinned-export-key';
  const problems: Problem[] = [];
  const report = (extra: Partial<VerifyReport> = {}): VerifyReport => ({
    ok: problems.length === 0, keySource, kid: null, suite: null, dossier: null, case: null, sealedAt: null,
    pageCount: 0, pagesVerified: 0, merkleRoot: null, receipts: [], unsignedTexts: 0, original: null, problems, ...extra,
  });

  // latin1, not ascii: Node's ascii decoding drops each byte's high bit, so 0xE5 read as 'e' and a
  // changed byte went unnoticed (found by the tamper suite); every byte now reaches the JWS check.
  const jws = (await source.read(MANIFEST_FILE))?.toString('latin1').trim();
  if (!jws) return (problems.push({ code: 'manifest_missing', message: `${MANIFEST_FILE} is missing` }), report());

  const keys = trust.jwks ?? (await pinnedExportKey(source, trust.pinnedKey!, problems));
  if (!keys) return report();
  let manifest: z.infer<typeof manifestSchema>;
  let kid: string | null = null;
  try {
    const { payload, protectedHeader } = await verifyCompactJws(jws, keys, Object.values(SUITE_ALG));
    kid = protectedHeader.kid ?? null;
    const parsed = manifestSchema.safeParse(JSON.parse(Buffer.from(payload).toString('utf8')));
    if (!parsed.success) return (problems.push({ code: 'manifest_malformed', message: `manifest: ${parsed.error.issues[0]?.message}` }), report({ kid }));
    manifest = parsed.data;
    // The signature's algorithm and the suite the manifest names must agree: no SHA-256 tree under an SM2 seal.
    if (SUITE_ALG[manifest.suite] !== protectedHeader.alg) {
      problems.push({ code: 'manifest_malformed', message: `the manifest names suite ${manifest.suite} but is signed with ${protectedHeader.alg}` });
      return report({ kid });
    }
  } catch {
    problems.push({ code: 'signature_invalid', message: 'the manifest signature does not verify with any trusted key' });
    return report();
  }

  const expected = new Set<string>();
  let pagesVerified = 0;
  manifest.pages.forEach((p, i) => {
    if (p.index !== i + 1) problems.push({ code: 'manifest_malformed', message: `manifest page ${i + 1} is numbered ${p.index}`, page: i + 1 });
  });
  if (manifest.pageCount !== manifest.pages.length) {
    problems.push({ code: 'manifest_malformed', message: `manifest says ${manifest.pageCount} pages and lists ${manifest.pages.length}` });
  }
  for (const p of manifest.pages) {
    const path = pagePath(p.index, p.mediaType);
    expected.add(path);
    const got = await source.digest(path, { sm3: p.sm3 !== undefined });
    if (!got) problems.push({ code: 'page_missing', message: `page ${p.index} (${path}) is missing`, page: p.index, path });
    else if (got.sha256 !== p.sha256 || got.size !== p.size || got.sm3 !== p.sm3) {
      problems.push({ code: 'page_mismatch', message: `page ${p.index} (${path}) differs from the sealed page`, page: p.index, path });
    } else pagesVerified++;
  }
  let unsignedTexts = 0;
  for (const path of await source.list()) {
    if (path.endsWith('/')) continue;
    if (path.startsWith(`${PAGES_DIR}/`) && !expected.has(path)) {
      problems.push({ code: 'page_unexpected', message: `${path} is not a page of the sealed dossier`, path });
    } else if (path.startsWith(`${TEXT_DIR}/`)) {
      const page = textPageIndex(path);
      if (page !== null && page <= manifest.pages.length) unsignedTexts++;
      else problems.push({ code: 'text_unexpected', message: `${path} is not the text of a page of the sealed dossier (${TEXT_DIR}/NNNN.txt)`, path });
    }
  }
  const root = pageMerkleRoot(manifest.pages.map((p) => p.sm3 ?? p.sha256), manifest.suite);
  if (root !== manifest.merkleRoot) problems.push({ code: 'root_mismatch', message: 'the Merkle root recomputed from the manifest differs from the signed root' });
  const originalFile = originalPath(manifest.original.filename);
  const got = await source.digest(originalFile);
  let original: VerifyReport['original'] = 'verified';
  if (!got) {
    original = 'absent';
    if (trust.requireOriginal) problems.push({ code: 'original_missing', message: `the original upload (${originalFile}) is missing`, path: originalFile });
  } else if (got.sha256 !== manifest.original.sha256 || got.size !== manifest.original.size) {
    original = 'mismatch';
    problems.push({ code: 'original_mismatch', message: `the original upload (${originalFile}) differs from the sealed one`, path: originalFile });
  }
  const receipts = await checkReceipts(source, keys, manifest, problems);
  return report({
    receipts, unsignedTexts, original, kid, suite: manifest.suite, dossier: manifest.dossier, case: manifest.case, sealedAt: manifest.sealedAt,
    pageCount: manifest.pages.length, pagesVerified, merkleRoot: manifest.merkleRoot,
  });
}

/** The export's own key, accepted only if its thumbprint is the one pinned out of band. */
async function pinnedExportKey(source: ExportSource, thumbprint: string, problems: Problem[]): Promise<JSONWebKeySet | null> {
  const raw = await source.read(JWKS_FILE);
  let keys: JSONWebKeySet['keys'] = [];
  try {
    keys = (JSON.parse(raw?.toString('utf8') ?? '{}') as JSONWebKeySet).keys ?? [];
  } catch {
    keys = [];
  }
  for (const k of keys) {
    const bare = bareKey(k);
    if (bare && (await calculateJwkThumbprint(bare.jwk)) === thumbprint) return { keys: [{ ...bare.jwk, kid: thumbprint, alg: bare.alg, use: 'sig' }] };
  }
  problems.push({ code: 'untrusted_key', message: `the export's ${JWKS_FILE} has no key with thumbprint ${thumbprint}` });
  return null;
}

/** The public members of an Ed25519 or SM2 JWK (what RFC 7638 hashes), with its JWS alg. */
function bareKey(k: JWK): { jwk: JWK; alg: string } | null {
  if (k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string') return { jwk: { kty: 'OKP', crv: 'Ed25519', x: k.x }, alg: 'EdDSA' };
  if (k.kty === 'EC' && k.crv === 'SM2' && typeof k.x === 'string' && typeof k.y === 'string') return { jwk: { crv: 'SM2', kty: 'EC', x: k.x, y: k.y }, alg: SM2_ALG };
  return null;
}
