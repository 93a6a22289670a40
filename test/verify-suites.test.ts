/**
 * verifyExport (what `dossier verify` and `dossier download --verify` call) on exports of either
 * suite, built here on disk: an SM2 manifest verifies by its SM3 pages and SM3 tree; one that
 * names the other suite, or whose page SM3 is not the page's, is refused.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { JWKS_FILE, MANIFEST_FILE, originalPath, pagePath } from '../dossier/evidence/export-layout.js';
import { signCanonical, type Manifest } from '../dossier/evidence/statements.js';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { pageMerkleRoot, signSeal } from '../dossier/ingest/seal-dossier.js';
import type { PageRecord } from '../dossier/model.js';
import { SIGNATURE_SUITES, type SignatureSuite } from '../dossier/signing/suite.js';
import { openExport } from '../scripts/support/export-source.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { tempDir } from './support/fixtures.js';

const digest = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('hex');

describe('offline verification of either suite', () => {
  let dir: string;
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  /** An unpacked export of three pages sealed under `suite`; `edit` may rewrite the manifest before signing. */
  async function exportOf(suite: SignatureSuite, edit?: (m: Manifest) => Manifest): Promise<{ where: string; ring: FileKeyRing }> {
    dir = await tempDir(`verify-${suite}-`);
    const ring = await FileKeyRing.open(path.join(dir, 'keys'), { create: true, suite });
    const where = path.join(dir, 'export');
    const original = Buffer.from('the upload as received');
    const pages: PageRecord[] = [];
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(`scanned page ${index} `.repeat(50 * index));
      await fs.mkdir(path.join(where, 'pages'), { recursive: true });
      await fs.writeFile(path.join(where, pagePath(index, 'image/jpeg')), bytes);
      pages.push({ dossierId: 'd-9', index, sha256: digest('sha256', bytes), sm3: suite === 'sm2-sm3' ? digest('sm3', bytes) : null, size: bytes.length,
        mediaType: 'image/jpeg', width: 1, height: 1, sourceName: `${index}.jpg`, signature: '', thumbnailSha256: null });
    }
    await fs.mkdir(path.dirname(path.join(where, originalPath('scan.zip'))), { recursive: true });
    await fs.writeFile(path.join(where, originalPath('scan.zip')), original);
    const input = { dossier: 'd-9', caseId: 'c-9', original: { filename: 'scan.zip', size: original.length, sha256: digest('sha256', original) }, pages };
    let jws = (await signSeal(ring, input)).manifestJws;
    if (edit) jws = await signCanonical(ring.current(), edit(JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString())));
    await fs.writeFile(path.join(where, MANIFEST_FILE), jws);
    await fs.writeFile(path.join(where, JWKS_FILE), JSON.stringify(ring.publicJwks()));
    return { where, ring };
  }
  const check = async (where: string, ring: FileKeyRing) => {
    const src = await openExport(where);
    try {
      return await verifyExport(src, { jwks: ring.publicJwks() as never });
    } finally {
      await src.close();
    }
  };

  for (const suite of SIGNATURE_SUITES) {
    it(`verifies an export sealed under ${suite}, with the JWKS or the pinned export key`, async () => {
      const { where, ring } = await exportOf(suite);
      const report = await check(where, ring);
      expect(report.problems).to.deep.equal([]);
      expect(report).to.include({ ok: true, suite, pagesVerified: 3 });
      const src = await openExport(where);
      try {
        expect((await verifyExport(src, { pinnedKey: ring.current().kid })).ok).to.equal(true);
      } finally {
        await src.close();
      }
    });
  }

  it('the SM2 tree is SM3 over the pages’ SM3: not the SHA-256 tree', async () => {
    const { where, ring } = await exportOf('sm2-sm3');
    const report = await check(where, ring);
    const manifest = JSON.parse(Buffer.from((await fs.readFile(path.join(where, MANIFEST_FILE), 'utf8')).split('.')[1]!, 'base64url').toString()) as Manifest;
    expect(report.merkleRoot).to.equal(pageMerkleRoot(manifest.pages.map((p) => p.sm3!), 'sm2-sm3'));
    expect(report.merkleRoot).not.to.equal(pageMerkleRoot(manifest.pages.map((p) => p.sha256)));
  });

  it('refuses an SM2 manifest that names the default suite', async () => {
    const { where, ring } = await exportOf('sm2-sm3', (m) => ({ ...m, suite: 'ed25519-sha256', pages: m.pages.map(({ sm3: _, ...p }) => p) }));
    const report = await check(where, ring);
    expect(report.ok).to.equal(false);
    expect(report.problems.map((p) => p.code)).to.deep.equal(['manifest_malformed']);
  });

  it('refuses an SM2 manifest whose page SM3 is not the page’s (the SHA-256 alone does not pass it)', async () => {
    const { where, ring } = await exportOf('sm2-sm3', (m) => ({ ...m, pages: m.pages.map((p) => (p.index === 2 ? { ...p, sm3: 'ab'.repeat(32) } : p)) }));
    const report = await check(where, ring);
    expect(report.problems.map((p) => [p.code, p.page])).to.deep.include(['page_mismatch', 2]);
  });

  it('refuses an SM2 manifest with a page missing its SM3', async () => {
    const { where, ring } = await exportOf('sm2-sm3', (m) => ({ ...m, pages: m.pages.map(({ sm3, ...p }) => (p.index === 3 ? p : { ...p, sm3 })) }));
    expect((await check(where, ring)).problems.map((p) => p.code)).to.deep.equal(['manifest_malformed']);
  });
});
