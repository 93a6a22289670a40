/**
 * Offline verification of a dossier export: the manifest's signature against a key the verifier
 * trusts (a JWKS it was given, or the export's own key only when its RFC 7638 thumbprint was pinned
 * out of band), every page's bytes against the manifest, the Merkle root, and the original when
 * the export carries it (the gateway adds it on request, ?original=1; requireOriginal insists).
 * Nothing here trusts the export's contents before the signature is checked. The page texts under
 * text/ are derived after sealing and signed by nothing: they are counted, never vouched for, and
 * a text file that names no page of the manifest is a problem.
 */
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { DossierError } from '../errors.js';
import { pageMerkleRoot } from '../ingest/seal-dossier.js';
import { JWKS_FILE, MANIFEST_FILE, PAGES_DIR, TEXT_DIR, originalPath, pagePath, textPageIndex } from './export-layout.js';
import { checkReceipts, type ReceiptSummary } from './verify-receipts.js';

export interface ExportSource {
  /** Every file path in the export, `/`-separated. */
  list(): Promise<string[]>;
  /** A small file's bytes (manifest, JWKS), or null when absent. */
  read(path: string): Promise<Buffer | null>;
  /** A file's SHA-256 and size, streamed; null when absent. */
  digest(path: string): Promise<{ sha256: string; size: number } | null>;
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
  suite: z.literal('ed25519-sha256'),
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
      size: z.number().int().min(0),
      mediaType: z.enum(['image/jpeg', 'image/png', 'image/tiff', 'image/jp2', 'image/webp', 'application/pdf']),
    }),
  ),
  merkleRoot: hex64,
});

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
    ok: problems.length === 0, keySource, kid: null, dossier: null, case: null, sealedAt: null,
    pageCount: 0, pagesVerified: 0, merkleRoot: null, receipts: [], unsignedTexts: 0, original: null, problems, ...extra,
  });

  const jws = (await source.read(MANIFEST_FILE))?.toString('ascii').trim();
  if (!jws) return (problems.push({ code: 'manifest_missing', message: `${MANIFEST_FILE} is missing` }), report());

  const keys = trust.jwks ?? (await pinnedExportKey(source, trust.pinnedKey!, problems));
  if (!keys) return report();
  let manifest: z.infer<typeof manifestSchema>;
  let kid: string | null = null;
  try {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: ['EdDSA'] });
    kid = protectedHeader.kid ?? null;
    const parsed = manifestSchema.safeParse(JSON.parse(Buffer.from(payload).toString('utf8')));
    if (!parsed.success) return (problems.push({ code: 'manifest_malformed', message: `manifest: ${parsed.error.issues[0]?.message}` }), report({ kid }));
    manifest = parsed.data;
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
    const got = await source.digest(path);
    if (!got) problems.push({ code: 'page_missing', message: `page ${p.index} (${path}) is missing`, page: p.index, path });
    else if (got.sha256 !== p.sha256 || got.size !== p.size) {
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
  const root = pageMerkleRoot(manifest.pages.map((p) => p.sha256));
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
    receipts, unsignedTexts, original, kid, dossier: manifest.dossier, case: manifest.case, sealedAt: manifest.sealedAt,
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
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') continue;
    const bare = { kty: 'OKP', crv: 'Ed25519', x: k.x };
    if ((await calculateJwkThumbprint(bare)) === thumbprint) return { keys: [{ ...bare, kid: thumbprint, alg: 'EdDSA', use: 'sig' }] };
  }
  problems.push({ code: 'untrusted_key', message: `the export's ${JWKS_FILE} has no key with thumbprint ${thumbprint}` });
  return null;
}
