/** The export ZIP and its offline verification: what a court clerk does before filing a download. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { CompactSign, generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';
import { textPath } from '../dossier/evidence/export-layout.js';
import { verifyExport } from '../dossier/evidence/verify-export.js';
import { openExport } from '../scripts/support/export-source.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { dossierCli } from './support/cli.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { ocrFinished } from './support/ocr-fixtures.js';
import { pythonZipTest, unzipTest } from './support/zip-readers.js';

const cli = (...args: string[]) => dossierCli(args).done;

describe('export and offline verification', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;
  /** The export with the original upload (the default, CONTRACT.md): the tampering tests change it. */
  let exportZip: string;
  /** The lean export (?original=0): pages, texts, manifest, no original. */
  let leanZip: string;
  let dossierId: string;
  let clerkToken: string;
  let jwksFile: string;
  let kid: string;
  /** The pages whose OCR was done at export, each with the text the API serves for it. */
  let texts: Map<number, string>;

  before(async () => {
    gw = await startGateway();
    dir = await tempDir('export-');
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'EXP-1' })).json.id;
    const zip = await zipOf(path.join(dir, 'scan.zip'), await Promise.all([1, 2, 3, 4, 5].map(async (n) => ({ name: `${n}.jpg`, data: await jpegPage(n + 40) }))));
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'scan.zip', caseId } }).done);
    kid = (await eventually(async () => {
      const d = (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json;
      return d.status === 'sealed' ? d : undefined;
    }, 60_000, 'sealed')).kid;
    // The export carries the text of each page whose OCR is done: wait for all, so that the layout is known.
    await ocrFinished(gw, clerk, id, 100_000);
    const pages = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { index: number; ocr: { status: string } }[];
    texts = new Map();
    for (const p of pages.filter((x) => x.ocr.status === 'done')) {
      const text = await fetch(`${gw.url}/api/dossiers/${id}/pages/${p.index}/text`, { headers: { authorization: `Bearer ${clerk}` } });
      texts.set(p.index, await text.text());
    }
    [dossierId, clerkToken] = [id, clerk];
    const res = await fetch(`${gw.url}/api/dossiers/${id}/export`, { headers: { authorization: `Bearer ${clerk}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/zip');
    exportZip = path.join(dir, 'export.zip');
    await fs.writeFile(exportZip, Buffer.from(await res.arrayBuffer()));
    const lean = await fetch(`${gw.url}/api/dossiers/${id}/export?original=0`, { headers: { authorization: `Bearer ${clerk}` } });
    expect(lean.status).to.equal(200);
    leanZip = path.join(dir, 'lean.zip');
    await fs.writeFile(leanZip, Buffer.from(await lean.arrayBuffer()));
    jwksFile = path.join(dir, 'jwks.json');
    await fs.writeFile(jwksFile, await (await fetch(`${gw.url}/.well-known/jwks.json`)).text());
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Unpacks the export into a fresh directory for tampering. */
  async function unpacked(): Promise<string> {
    const out = await fs.mkdtemp(path.join(dir, 'x-'));
    const src = await openExport(exportZip);
    for (const p of await src.list()) {
      await fs.mkdir(path.dirname(path.join(out, p)), { recursive: true });
      await fs.writeFile(path.join(out, p), (await src.read(p))!);
    }
    await src.close();
    return out;
  }
  const check = async (where: string, trust: Parameters<typeof verifyExport>[1]) => {
    const src = await openExport(where);
    try {
      return await verifyExport(src, trust);
    } finally {
      await src.close();
    }
  };
  const jwks = async () => JSON.parse(await fs.readFile(jwksFile, 'utf8'));

  it('leaves the original out with ?original=0: smaller by its size, verified all the same, refused only when it is required', async () => {
    const src = await openExport(leanZip);
    const names = (await src.list()).sort();
    await src.close();
    expect(names.filter((n) => n.startsWith('original/'))).to.deep.equal([]);
    expect(names).to.include.members(['manifest.jws', 'jwks.json', 'pages/0001.jpg', 'pages/0005.jpg']);
    const [full, lean] = [(await fs.stat(exportZip)).size, (await fs.stat(leanZip)).size];
    const original = (await fs.stat(path.join(dir, 'scan.zip'))).size;
    // The original's bytes, its entry headers and its central-directory record: nothing else differs.
    expect(full - lean).to.be.within(original, original + 300);
    const r = await check(leanZip, { jwks: await jwks() });
    expect(r.problems).to.deep.equal([]);
    expect(r).to.include({ ok: true, pagesVerified: 5, original: 'absent' });
    expect(await check(exportZip, { jwks: await jwks() })).to.include({ ok: true, original: 'verified' });
    const required = await check(leanZip, { jwks: await jwks(), requireOriginal: true });
    expect(required.problems.map((p) => p.code)).to.deep.equal(['original_missing']);
    const cliLean = await cli('verify', leanZip, '--jwks', jwksFile);
    expect(cliLean.code, cliLean.err).to.equal(0);
    expect(cliLean.out).to.contain('original upload: not in this export');
    expect((await cli('verify', leanZip, '--jwks', jwksFile, '--require-original')).code).to.equal(3);
    const bad = await fetch(`${gw.url}/api/dossiers/${dossierId}/export?original=yes`, { headers: { authorization: `Bearer ${clerkToken}` } });
    expect(bad.status).to.equal(400);
  });

  it('holds the layout of CONTRACT.md by default, text/NNNN.txt for each OCR\'d page included', async () => {
    const src = await openExport(exportZip);
    const names = (await src.list()).sort();
    expect(texts.size, 'pages OCR\'d').to.be.greaterThan(0);
    const textNames = [...texts.keys()].map((n) => textPath(n));
    expect(names).to.deep.equal(
      ['jwks.json', 'manifest.jws', 'original/scan.zip', 'pages/0001.jpg', 'pages/0002.jpg', 'pages/0003.jpg', 'pages/0004.jpg', 'pages/0005.jpg', ...textNames].sort(),
    );
    for (const [n, text] of texts) expect((await src.read(textPath(n)))!.toString('utf8'), `page ${n}`).to.equal(text);
    await src.close();
  });

  it('is a ZIP that Python\'s zipfile and Info-ZIP unzip test clean', async () => {
    await pythonZipTest(exportZip);
    await unzipTest(exportZip);
  });

  it('verifies with the JWKS given, or with the export key pinned by thumbprint', async () => {
    for (const trust of [{ jwks: await jwks() }, { pinnedKey: kid }]) {
      const r = await check(exportZip, trust);
      expect(r.problems).to.deep.equal([]);
      expect(r).to.include({ ok: true, pageCount: 5, pagesVerified: 5, unsignedTexts: texts.size, kid });
    }
  });

  it('the CLI: exit 0 verified, 3 not verified, 2 without a trusted key', async () => {
    const ok = await cli('verify', exportZip, '--jwks', jwksFile);
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.out).to.match(/^VERIFIED/);
    expect(ok.out).to.contain(`page texts (text/) ${texts.size}: OCR derived after sealing, not signed, not verified`);
    const json = await cli('verify', exportZip, '--key', kid, '--json');
    expect(JSON.parse(json.out)).to.include({ ok: true, pagesVerified: 5, unsignedTexts: texts.size });
    const tampered = await unpacked();
    await fs.appendFile(path.join(tampered, 'pages/0002.jpg'), Buffer.from([0]));
    const bad = await cli('verify', tampered, '--jwks', jwksFile);
    expect(bad.code).to.equal(3);
    expect(bad.out).to.contain('page_mismatch');
    expect((await cli('verify', exportZip)).code).to.equal(2);
  });

  it('catches a flipped byte in a page', async () => {
    const d = await unpacked();
    const file = path.join(d, 'pages/0003.jpg');
    const bytes = await fs.readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x01, bytes.length >> 1);
    await fs.writeFile(file, bytes);
    const r = await check(d, { jwks: await jwks() });
    expect(r.ok).to.equal(false);
    expect(r.problems.map((p) => [p.code, p.page])).to.deep.equal([['page_mismatch', 3]]);
  });

  it('catches two pages swapped', async () => {
    const d = await unpacked();
    const [a, b] = [path.join(d, 'pages/0001.jpg'), path.join(d, 'pages/0002.jpg')];
    const [ba, bb] = [await fs.readFile(a), await fs.readFile(b)];
    await fs.writeFile(a, bb);
    await fs.writeFile(b, ba);
    const r = await check(d, { jwks: await jwks() });
    expect(r.problems.map((p) => p.page)).to.deep.equal([1, 2]);
  });

  it('catches a page removed and a page added', async () => {
    const d = await unpacked();
    await fs.rm(path.join(d, 'pages/0005.jpg'));
    await fs.writeFile(path.join(d, 'pages/0006.jpg'), await jpegPage(99));
    const r = await check(d, { jwks: await jwks() });
    expect(r.problems.map((p) => p.code).sort()).to.deep.equal(['page_missing', 'page_unexpected']);
  });

  it('catches a manifest re-signed by another key, and a JWKS substituted in the export', async () => {
    const d = await unpacked();
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(publicKey);
    const evilKid = await calculateJwkThumbprint(jwk);
    const payload = Buffer.from((await fs.readFile(path.join(d, 'manifest.jws'), 'utf8')).split('.')[1]!, 'base64url');
    const forged = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: evilKid }).sign(privateKey);
    await fs.writeFile(path.join(d, 'manifest.jws'), forged);
    await fs.writeFile(path.join(d, 'jwks.json'), JSON.stringify({ keys: [{ ...jwk, kid: evilKid, alg: 'EdDSA', use: 'sig' }] }));
    expect((await check(d, { jwks: await jwks() })).problems.map((p) => p.code)).to.deep.equal(['signature_invalid']);
    expect((await check(d, { pinnedKey: kid })).problems.map((p) => p.code)).to.deep.equal(['untrusted_key']);
  });

  it('page texts are not signed: a changed one still verifies, one that names no page is a problem, none stands in for a page', async () => {
    const d = await unpacked();
    const [first] = texts.keys();
    await fs.writeFile(path.join(d, textPath(first!)), 'anything at all');
    const changed = await check(d, { jwks: await jwks() });
    expect(changed.problems).to.deep.equal([]);
    expect(changed).to.include({ ok: true, unsignedTexts: texts.size });

    await fs.writeFile(path.join(d, 'text/0006.txt'), 'a sixth page?');
    await fs.writeFile(path.join(d, 'text/notes.txt'), 'no page');
    await fs.writeFile(path.join(d, 'text/00001.txt'), 'page 1 spelt twice');
    await fs.rm(path.join(d, `pages/000${first}.jpg`));
    const r = await check(d, { jwks: await jwks() });
    expect(r.ok).to.equal(false);
    expect(r.problems.map((p) => [p.code, p.path]).sort()).to.deep.equal([
      ['page_missing', `pages/000${first}.jpg`],
      ['text_unexpected', 'text/00001.txt'],
      ['text_unexpected', 'text/0006.txt'],
      ['text_unexpected', 'text/notes.txt'],
    ]);
    expect(r).to.include({ pagesVerified: 4, unsignedTexts: texts.size });
  });

  it('catches a changed original', async () => {
    const d = await unpacked();
    await fs.appendFile(path.join(d, 'original/scan.zip'), 'x');
    expect((await check(d, { jwks: await jwks() })).problems.map((p) => p.code)).to.deep.equal(['original_mismatch']);
  });
});
