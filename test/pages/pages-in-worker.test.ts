/**
 * Page reading in pooled worker threads: dossiers one after another, a failed read in between,
 * reads at once; page statements signed in the thread under either suite.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { isDossierError } from '../../dossier/errors.js';
import { sha256Hex } from '../../dossier/hash.js';
import { workerPageSource } from '../../dossier/pages/pages-in-worker.js';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';
import { jpegPage, pdfDossier } from '../../scripts/bench/fixtures/small-dossiers.js';
import { canonicalBytes, pageStatement, signCanonical } from '../../dossier/evidence/statements.js';
import { verifyCompactJws } from '../../dossier/signing/verify-jws.js';
import { sm3Hex } from '../../dossier/digest.js';
import { FileKeyRing } from '../../storage/keys/file-keyring.js';
import { tempDir } from '../support/fixtures.js';

describe('pages in pooled worker threads', function () {
  this.timeout(120_000);
  let dir: string;
  const source = workerPageSource({ keep: 1 });
  before(async () => {
    dir = await tempDir('pages-in-worker-');
    await fs.writeFile(path.join(dir, 'a.pdf'), await pdfDossier(3));
    await fs.writeFile(path.join(dir, 'b.jpg'), await jpegPage(42));
    await fs.writeFile(path.join(dir, 'broken.pdf'), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(64, 0x41)]));
  });
  after(async () => {
    await source.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const read = async (name: string) => {
    const pages = [];
    for await (const p of source(path.join(dir, name), DEFAULT_LIMITS)) pages.push(p);
    return pages;
  };

  it('reads dossier after dossier, and after a failed read, with the right pages and hashes', async () => {
    const jpeg = await fs.readFile(path.join(dir, 'b.jpg'));
    for (let round = 0; round < 2; round++) {
      const pdf = await read('a.pdf');
      expect(pdf.map((p) => p.sha256)).to.deep.equal(pdf.map((p) => sha256Hex(p.bytes)));
      expect(pdf).to.have.length(3);
      const err = await read('broken.pdf').catch((e: unknown) => e);
      expect(isDossierError(err), String(err)).to.equal(true);
      const img = await read('b.jpg');
      expect(img.map((p) => p.sha256)).to.deep.equal([sha256Hex(jpeg)]);
    }
  });

  it('reads several dossiers at once (more than it keeps) and stops early on request', async () => {
    const all = await Promise.all(['a.pdf', 'b.jpg', 'a.pdf'].map(read));
    expect(all.map((pages) => pages.length)).to.deep.equal([3, 1, 3]);
    for await (const _ of source(path.join(dir, 'a.pdf'), DEFAULT_LIMITS)) break;
    expect(await read('a.pdf')).to.have.length(3);
  });

  for (const suite of ['ed25519-sha256', 'sm2-sm3'] as const) {
    it(`signs every page's statement in the thread under ${suite}, verifiable with the published key`, async () => {
      const ring = await FileKeyRing.open(path.join(dir, `keys-${suite}`), { create: true, suite });
      const signer = ring.current();
      const pages = [];
      for await (const p of source(path.join(dir, 'a.pdf'), DEFAULT_LIMITS, { sm3: suite === 'sm2-sm3', statements: { dossier: 'd-9', case: 'c-9', key: signer.portable!() } })) pages.push(p);
      expect(pages).to.have.length(3);
      for (const [i, p] of pages.entries()) {
        expect(p.statement).to.include({ index: i + 1, kid: signer.kid });
        const expected = pageStatement({ dossier: 'd-9', case: 'c-9' }, i + 1, { sha256: sha256Hex(p.bytes), sm3: suite === 'sm2-sm3' ? sm3Hex(p.bytes) : undefined, size: p.bytes.byteLength, mediaType: p.mediaType });
        const verified = await verifyCompactJws(p.statement!.jws, ring.publicJwks(), [signer.alg]);
        expect(Buffer.from(verified.payload).equals(canonicalBytes(expected)), `page ${i + 1}'s statement`).to.equal(true);
        // Ed25519 is deterministic: the thread's JWS is exactly the one this thread would make.
        if (suite === 'ed25519-sha256') expect(p.statement!.jws).to.equal(await signCanonical(signer, expected));
      }
      // The check can fail: another page's statement does not carry this page's payload.
      const other = await verifyCompactJws(pages[1]!.statement!.jws, ring.publicJwks(), [signer.alg]);
      expect(JSON.parse(Buffer.from(other.payload).toString()).index).to.equal(2);
    });
  }

  it('signs nothing unless asked', async () => {
    const pages = [];
    for await (const p of source(path.join(dir, 'b.jpg'), DEFAULT_LIMITS)) pages.push(p);
    expect(pages[0]!.statement).to.equal(undefined);
  });
});
