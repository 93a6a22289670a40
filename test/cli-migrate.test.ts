/** `dossier migrate`: a generated archive of mixed formats, killed mid-run, finished by a re-run. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { dossierCli } from './support/cli.js';
import { makeSampleArchive } from '../scripts/bench/fixtures/sample-archive.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';

/** Items the journal records as sealed (a torn last line, as a kill leaves it, is not counted). */
async function sealedInJournal(file: string): Promise<number> {
  const lines = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n');
  const sealed = new Set<string>();
  for (const line of lines) {
    try {
      const l = JSON.parse(line) as { t: string; v?: { item: string; status: string } };
      if (l.t === 'item' && l.v?.status === 'sealed') sealed.add(l.v.item);
    } catch {
      // not a whole line
    }
  }
  return sealed.size;
}

describe('dossier migrate (CLI)', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    gw = await startGateway();
    dir = await tempDir('cli-migrate-');
    env = { DOSSIER_SERVER: gw.url, DOSSIER_TOKEN: await gw.token('archive-1', 'clerk'), DOSSIER_STATE_DIR: path.join(dir, 'state') };
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('migrates 20 cases with concurrency 4; killed and re-run, every dossier sealed exactly once', async () => {
    const { root: archive, expected } = await makeSampleArchive(dir);
    const dry = await dossierCli(['migrate', archive, '--dry-run'], env).done;
    expect(dry.code, dry.err).to.equal(0);
    expect(dry.out.split('\n').filter(Boolean)).to.have.length(20);

    const first = dossierCli(['migrate', archive, '--concurrency', '4'], env);
    await eventually(async () => {
      const files = await fs.readdir(path.join(dir, 'state')).catch(() => [] as string[]);
      const journal = files.find((f) => /^migrate-[0-9a-f]+\.jsonl$/.test(f));
      if (!journal) return undefined;
      return (await sealedInJournal(path.join(dir, 'state', journal))) >= 6 ? true : undefined;
    }, 120_000, 'part of the archive migrated');
    first.child.kill('SIGKILL');
    await first.done;

    const second = await dossierCli(['migrate', archive, '--concurrency', '4', '--json'], env).done;
    expect(second.code, second.err).to.equal(0);
    const report = JSON.parse(second.out) as { case: string; status: string; dossierId: string }[];
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(report).to.have.length(total);
    expect(report.every((r) => r.status === 'sealed' || r.status === 'skipped')).to.equal(true);

    const token = env.DOSSIER_TOKEN!;
    const cases = (await gw.api('GET', '/api/cases?limit=100', token)).json.cases as { number: string; dossiers: { status: string; sha256: string }[] }[];
    expect(cases).to.have.length(20);
    for (const c of cases) {
      const sealed = c.dossiers.filter((d) => d.status === 'sealed');
      expect(sealed, c.number).to.have.length(expected.get(c.number)!);
      expect(new Set(sealed.map((d) => d.sha256)).size, `${c.number} duplicates`).to.equal(sealed.length);
    }
    const csv = await fs.readFile(path.join(dir, 'state', (await fs.readdir(path.join(dir, 'state'))).find((f) => f.endsWith('-report.csv'))!), 'utf8');
    expect(csv.split('\n')[0]).to.equal('case,item,status,pages,bytes,dossierId,sha256,error');

    // A third run sends nothing.
    const third = await dossierCli(['migrate', archive, '--json'], env).done;
    expect(third.code).to.equal(0);
    expect(JSON.parse(third.out).map((r: { dossierId: string }) => r.dossierId).sort()).to.deep.equal(report.map((r) => r.dossierId).sort());
  });

  it('follows a mapping file for other layouts, and dry-runs it', async () => {
    const other = path.join(dir, 'other');
    await fs.mkdir(path.join(other, 'scans', 'box 7'), { recursive: true });
    await fs.writeFile(path.join(other, 'scans', 'a.jpg'), await jpegPage(5001));
    await fs.writeFile(path.join(other, 'scans', 'box 7', '1.jpg'), await jpegPage(5002));
    const mapping = path.join(dir, 'mapping.json');
    await fs.writeFile(mapping, JSON.stringify([{ case: 'MAP-1', title: 'mapped', paths: ['scans/a.jpg', 'scans/box 7'] }]));
    const dry = await dossierCli(['migrate', other, '--mapping', mapping, '--dry-run'], env).done;
    expect(dry.out.trim()).to.equal('MAP-1 (mapped): a.jpg, box 7.zip');
    const run = await dossierCli(['migrate', other, '--mapping', mapping, '--json'], env).done;
    expect(run.code, run.err).to.equal(0);
    expect(JSON.parse(run.out).map((r: { status: string; pages: number }) => [r.status, r.pages])).to.deep.equal([['sealed', 1], ['sealed', 1]]);
    await fs.writeFile(mapping, JSON.stringify([{ case: 'MAP-2', paths: ['../../etc/passwd'] }]));
    expect((await dossierCli(['migrate', other, '--mapping', mapping], env).done).code).to.equal(1);
  });
});
