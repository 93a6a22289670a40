/**
 * The nothing-new re-run of `dossier migrate`, decided from the journal alone: with the gateway
 * stopped (its URL refusing every connection) a re-run over an unchanged archive still finishes,
 * sends nothing and neither appends to nor rewrites the journal; a file whose mtime or size
 * changed is not decided from the journal (it needs the server, so it fails here), and
 * `--rehash` reads and asks about every file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { dossierCli } from './support/cli.js';
import { caseNumber, makeSmallCaseArchive } from '../scripts/bench/fixtures/small-case-archive.js';

interface Summary {
  dossiers: { done: number; total: number; sent: number; alreadyThere: number; failed: number };
  phases?: Record<string, { count: number }>;
}

describe('dossier migrate: the re-run decides from the journal (CLI)', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('migrate-rerun-');
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('without contacting the server; a changed mtime or size is noticed; --rehash re-reads', async () => {
    const cases = 6;
    const { root } = await makeSmallCaseArchive(dir, { cases });
    const gw = await startGateway({ OCR_WORKERS: '1' });
    const env = { DOSSIER_SERVER: gw.url, DOSSIER_TOKEN: await gw.token('rerun', 'clerk'), DOSSIER_STATE_DIR: path.join(dir, 'state') };
    const run = (extra: string[] = []) =>
      dossierCli(['migrate', root, '--json', ...extra], env).done.then((r) => {
        const lines = r.err.split('\n').filter((l) => l.startsWith('{'));
        return { ...r, summary: JSON.parse(lines[lines.length - 1] ?? '{}') as Summary, report: JSON.parse(r.out || '[]') as { item: string; status: string; error: string | null }[] };
      });
    let first;
    try {
      first = await run();
      expect(first.code, first.err.slice(-2000)).to.equal(0);
      expect(first.summary.dossiers).to.include({ sent: cases, failed: 0 });
    } finally {
      await gw.stop();
    }
    const journal = path.join(env.DOSSIER_STATE_DIR, (await fs.readdir(env.DOSSIER_STATE_DIR)).find((f) => f.endsWith('.jsonl'))!);
    const stamp = async () => {
      const st = await fs.stat(journal);
      return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    };

    // The server is gone: only the journal can answer, and it does, for every item. (This first
    // re-run compacts the journal once: the run left an "uploaded" line before each "sealed" one.)
    expect((await run()).code).to.equal(0);
    const before = await stamp();
    const again = await run();
    expect(again.code, again.err.slice(-2000)).to.equal(0);
    expect(again.summary.dossiers).to.include({ done: cases, sent: 0, alreadyThere: cases, failed: 0 });
    expect(again.summary.phases ?? {}, 'no phase ran: nothing hashed, nothing asked').to.deep.equal({});
    expect(again.report.map((r) => r.status)).to.deep.equal(first.report.map((r) => r.status));
    expect(await stamp(), 'the journal neither appended to nor rewritten').to.deep.equal(before);

    // A new mtime (same bytes) and a new size: those two are looked at again (and fail, the server being gone).
    const folder = async (n: number) => path.join(root, (await fs.readdir(root)).find((f) => f.startsWith(`${caseNumber(n)} `))!);
    const touched = path.join(await folder(2), 'cover.jpg');
    const st = await fs.stat(touched);
    await fs.utimes(touched, st.atimeMs / 1000, st.mtimeMs / 1000 + 60);
    await fs.appendFile(path.join(await folder(5), 'cover.jpg'), Buffer.from([0]));
    const changed = await run();
    expect(changed.code).to.equal(1);
    expect(changed.summary.dossiers).to.include({ alreadyThere: cases - 2, failed: 2, sent: 0 });
    expect(changed.report.filter((r) => r.status === 'failed').map((r) => r.item.split(' ')[0]).sort()).to.deep.equal([caseNumber(2), caseNumber(5)]);

    // --rehash: every file is read and hashed again, and so every item needs the server.
    const rehashed = await run(['--rehash']);
    expect(rehashed.code).to.equal(1);
    expect(rehashed.summary.dossiers).to.include({ failed: cases, alreadyThere: 0 });
  });
});
