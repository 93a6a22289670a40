/** `dossier upload`: the clerk's command, run as a process; killed mid-upload, re-run, resumed. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { dossierCli } from './support/cli.js';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { englishPage } from '../scripts/bench/fixtures/ocr-pages.js';
import { cer } from '../ocr/cer.js';
import { ccittG4Pdf, grayOf, scanToolsOrSkip } from './support/scan-encodings.js';
import { ocrFinished } from './support/ocr-fixtures.js';

describe('dossier upload (CLI)', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let dir: string;
  let env: Record<string, string>;
  let caseId: string;

  before(async () => {
    gw = await startGateway();
    dir = await tempDir('cli-upload-');
    const clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'CLI-1' })).json.id;
    env = { DOSSIER_SERVER: gw.url, DOSSIER_TOKEN: clerk, DOSSIER_STATE_DIR: path.join(dir, 'state') };
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('uploads, waits for the seal and prints JSON', async () => {
    const zip = await zipOf(path.join(dir, 'small.zip'), [{ name: '1.jpg', data: await jpegPage(1) }, { name: '2.jpg', data: await jpegPage(2) }]);
    const r = await dossierCli(['upload', zip, '--case', caseId, '--wait', '--json'], env).done;
    expect(r.code, r.err).to.equal(0);
    const result = JSON.parse(r.out);
    expect(result).to.include({ status: 'sealed', pageCount: 2 });
    // The transfer's time and the wait after it, for scripts that measure (scripts/bench/migrate-scale.ts).
    expect(result.uploadSeconds).to.be.a('number').and.be.above(0);
    expect(result.settledSeconds).to.be.a('number').and.be.at.least(0);
  });

  it('resumes after the process is killed, into the same dossier', async () => {
    // ~48 MB of pages in 1 MiB PATCHes: slow enough to be caught mid-way.
    const pages = await Promise.all(Array.from({ length: 8 }, (_, i) => jpegPage(i + 300, 2400, 3000)));
    const filler = await Promise.all(Array.from({ length: 8 }, async (_, i) => ({ name: `f${i}.bin`, data: Buffer.alloc(6 * 1024 * 1024, i) })));
    const zip = await zipOf(path.join(dir, 'big.zip'), [...pages.map((data, i) => ({ name: `${i + 1}.jpg`, data })), ...filler]);
    const first = dossierCli(['upload', zip, '--case', caseId, '--json', '--chunk-size', '1'], env);
    const id = await eventually(async () => {
      const state = await fs.readFile(path.join(dir, 'state', 'uploads.json'), 'utf8').catch(() => '');
      const m = /files\/([0-9a-f-]{36})/.exec(state);
      if (!m) return undefined;
      const d = (await gw.api('GET', `/api/dossiers/${m[1]}`, env.DOSSIER_TOKEN!)).json;
      return d.status === 'receiving' && d.received >= 4 * 1024 * 1024 ? m[1] : undefined;
    }, 60_000, 'upload under way');
    first.child.kill('SIGKILL');
    await first.done;
    const mid = (await gw.api('GET', `/api/dossiers/${id}`, env.DOSSIER_TOKEN!)).json;
    expect(mid.received).to.be.lessThan((await fs.stat(zip)).size);

    const second = await dossierCli(['upload', zip, '--case', caseId, '--json', '--wait'], env).done;
    expect(second.code, second.err).to.equal(0);
    expect(second.err).to.contain(`resuming upload ${id}`);
    const result = JSON.parse(second.out);
    expect(result).to.include({ dossier: id, status: 'sealed', pageCount: 8 });
  });

  it('uploads a CCITT G4 scan (what office scanners write) that ends read, searchable, with a thumbnail', async function () {
    if (!scanToolsOrSkip(this)) return;
    const page = await englishPage();
    const file = path.join(dir, 'scan-g4.pdf');
    await fs.writeFile(file, await ccittG4Pdf(await grayOf(page.image), dir, 150));
    const r = await dossierCli(['upload', file, '--case', caseId, '--wait', '--json'], env).done;
    expect(r.code, r.err).to.equal(0);
    const { dossier: id } = JSON.parse(r.out) as { dossier: string };
    const clerk = env.DOSSIER_TOKEN!;
    const d = await ocrFinished(gw, clerk, id);
    expect(d.progress.ocr).to.include({ done: 1, failed: 0 });
    const text = await (await fetch(`${gw.url}/api/dossiers/${id}/pages/1/text`, { headers: { authorization: `Bearer ${clerk}` } })).text();
    expect(cer(text, page.text)).to.be.at.most(0.03);
    const hits = (await gw.api('GET', `/api/search?q=${page.word}`, clerk)).json.hits as { dossierId: string }[];
    expect(hits.map((h) => h.dossierId)).to.include(id);
    const thumb = await eventually(async () => {
      const t = await fetch(`${gw.url}/api/dossiers/${id}/pages/1/thumbnail`, { headers: { authorization: `Bearer ${clerk}` } });
      return t.status === 200 ? Buffer.from(await t.arrayBuffer()) : undefined;
    }, 60_000, 'thumbnail');
    expect(thumb.subarray(0, 2).toString('hex')).to.equal('ffd8');
  });

  it('takes a case number as well as a case id', async () => {
    const zip = await zipOf(path.join(dir, 'by-number.zip'), [{ name: '1.jpg', data: await jpegPage(7) }]);
    const r = await dossierCli(['upload', zip, '--case', 'CLI-1', '--json'], env).done;
    expect(r.code, r.err).to.equal(0);
    const out = JSON.parse(r.out) as { dossier: string; case: string };
    expect(out.case).to.equal(caseId);
    expect((await gw.api('GET', `/api/dossiers/${out.dossier}`, env.DOSSIER_TOKEN!)).json.caseId).to.equal(caseId);
  });

  it('refuses an unknown case number without --create, and opens the case with it', async () => {
    const zip = await zipOf(path.join(dir, 'new-case.zip'), [{ name: '1.jpg', data: await jpegPage(8) }]);
    const refused = await dossierCli(['upload', zip, '--case', '2026-0417'], env).done;
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain('no case numbered 2026-0417').and.contain('--create');
    expect((await gw.api('GET', '/api/cases?number=2026-0417', env.DOSSIER_TOKEN!)).json.cases).to.have.length(0);

    const made = await dossierCli(['upload', zip, '--case', '2026-0417', '--create', '--case-title', 'Theft at the harbour', '--json'], env).done;
    expect(made.code, made.err).to.equal(0);
    expect(made.err).to.contain('opened case 2026-0417');
    const out = JSON.parse(made.out) as { dossier: string; case: string };
    const c = (await gw.api('GET', `/api/cases/${out.case}`, env.DOSSIER_TOKEN!)).json;
    expect(c).to.include({ number: '2026-0417', title: 'Theft at the harbour', agency: 'police-1' });
    expect(c.dossiers.map((d: { id: string }) => d.id)).to.deep.equal([out.dossier]);

    // Run again with --create: the case exists now, no second one.
    const zip2 = await zipOf(path.join(dir, 'new-case-2.zip'), [{ name: '1.jpg', data: await jpegPage(9) }]);
    const again = await dossierCli(['upload', zip2, '--case', '2026-0417', '--create', '--json'], env).done;
    expect(again.code, again.err).to.equal(0);
    expect(JSON.parse(again.out).case).to.equal(out.case);
    expect(again.err).not.to.contain('opened case');
  });

  it('usage errors exit 2', async () => {
    const r = await dossierCli(['upload', path.join(dir, 'nope.zip'), '--case', caseId], env).done;
    expect(r.code).to.equal(2);
    expect(r.err).to.contain('no such file');
  });
});
