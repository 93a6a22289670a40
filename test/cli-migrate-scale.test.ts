/**
 * `dossier migrate` at archive scale: a generated archive of many tiny cases, the CLI killed with
 * SIGKILL at (seeded) random moments and re-run, at concurrency 1, 8 and 32. Whatever the kills,
 * every case exists once and holds its dossier sealed once; a re-run with nothing new sends
 * nothing; a changed file is noticed (by size and mtime, or with --rehash by content).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { testEnv } from './support/env.js';
import { dossierCli } from './support/cli.js';
import { caseNumber, makeSmallCaseArchive, markedJpeg } from '../scripts/bench/fixtures/small-case-archive.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';

/** A small deterministic PRNG (mulberry32): the kill moments vary, the test does not. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Summary {
  type: string;
  dossiers: { done: number; total: number; sent: number; alreadyThere: number; failed: number };
  cases: { done: number; total: number };
}

describe('dossier migrate at archive scale (CLI)', function () {
  // A thousands-of-cases run (MIGRATE_SCALE_CASES) takes tens of minutes on a loaded machine.
  this.timeout(testEnv.migrateScaleCases > 500 ? 7_200_000 : 600_000);
  let gw: TestGateway;
  let dir: string;
  let token: string;
  before(async () => {
    // One OCR thread: OCR waits for ingest anyway, and this suite does not look at text.
    gw = await startGateway({ OCR_WORKERS: '1' });
    dir = await tempDir('cli-migrate-scale-');
    token = await gw.token('archive-scale', 'clerk');
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const env = (state: string) => ({ DOSSIER_SERVER: gw.url, DOSSIER_TOKEN: token, DOSSIER_STATE_DIR: path.join(dir, state) });

  /** Dossiers of the cases whose number starts with `prefix`, as the database holds them. */
  async function held(prefix: string) {
    return gw.gateway.db.query<{ number: string; status: string; sha256: string | null }>(
      `SELECT c.number, d.status, d.sha256 FROM cases c JOIN dossiers d ON d.case_id = c.id
        WHERE c.agency_id = 'archive-scale' AND c.number LIKE $1 ORDER BY c.number`,
      [`${prefix}%`],
    );
  }

  async function casesHeld(prefix: string): Promise<number> {
    const rows = await gw.gateway.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE agency_id = 'archive-scale' AND number LIKE $1`, [`${prefix}%`]);
    return rows[0]!.n;
  }

  async function sealedInJournal(stateDir: string): Promise<number> {
    const file = (await fs.readdir(stateDir).catch(() => [] as string[])).find((f) => f.endsWith('.jsonl'));
    if (!file) return 0;
    const sealed = new Set<string>();
    for (const line of (await fs.readFile(path.join(stateDir, file), 'utf8')).split('\n')) {
      if (!line.includes('"status":"sealed"')) continue;
      try {
        sealed.add((JSON.parse(line) as { v: { item: string } }).v.item);
      } catch {
        // the torn tail of a killed write
      }
    }
    return sealed.size;
  }

  /** Runs the CLI, kills it with SIGKILL once `at` items are sealed (or it ends first). */
  async function runAndKill(archive: string, state: string, concurrency: number, at: number): Promise<void> {
    const run = dossierCli(['migrate', archive, '--concurrency', String(concurrency)], env(state));
    let ended = false;
    void run.done.then(() => (ended = true));
    await eventually(async () => (ended || (await sealedInJournal(path.join(dir, state))) >= at ? true : undefined), 300_000 + at * 1000, `${at} items sealed`);
    run.child.kill('SIGKILL');
    await run.done;
  }

  async function runToEnd(archive: string, state: string, args: string[] = []): Promise<{ report: { item: string; status: string; sha256: string; dossierId: string }[]; summary: Summary; err: string }> {
    const r = await dossierCli(['migrate', archive, '--json', ...args], env(state)).done;
    expect(r.code, r.err.slice(-2000)).to.equal(0);
    const lines = r.err.split('\n').filter((l) => l.startsWith('{'));
    return { report: JSON.parse(r.out), summary: JSON.parse(lines[lines.length - 1]!) as Summary, err: r.err };
  }

  /** Every case once, each with exactly one sealed dossier, the one whose bytes are in the archive. */
  async function expectExactlyOnce(root: string, prefix: string, cases: number): Promise<void> {
    expect(await casesHeld(prefix)).to.equal(cases);
    const rows = await held(prefix);
    const sealed = rows.filter((r) => r.status === 'sealed');
    // Others may only be uploads a kill abandoned before their URL was journalled: never sealed, never ingested.
    expect(rows.filter((r) => r.status !== 'sealed' && r.status !== 'receiving'), 'no dossier left processing or rejected').to.deep.equal([]);
    expect(sealed).to.have.length(cases);
    expect(new Set(sealed.map((r) => r.number)).size).to.equal(cases);
    for (const n of [1, Math.ceil(cases / 2), cases]) {
      const number = caseNumber(n, prefix);
      const folder = (await fs.readdir(root)).find((f) => f.startsWith(`${number} `))!;
      const sha = createHash('sha256').update(await fs.readFile(path.join(root, folder, 'cover.jpg'))).digest('hex');
      expect(sealed.find((r) => r.number === number)?.sha256, number).to.equal(sha);
    }
  }

  /** `kills` moments spread over the run (each within its own stretch of the cases, at random inside it). */
  async function killRepeatedly(root: string, state: string, concurrency: number, cases: number, kills: number, seed: number): Promise<void> {
    const next = random(seed);
    for (let k = 0; k < kills; k++) {
      const stretch = 0.8 / kills;
      await runAndKill(root, state, concurrency, Math.floor(cases * (0.05 + k * stretch + next() * stretch)));
    }
  }

  it(`${testEnv.migrateScaleCases} cases at concurrency 8, killed ${testEnv.migrateScaleKills} times at random moments: every case and dossier exactly once; a re-run sends nothing; a change is noticed`, async () => {
    const cases = testEnv.migrateScaleCases;
    const { root } = await makeSmallCaseArchive(path.join(dir, 'big'), { cases });
    await killRepeatedly(root, 'state-8', 8, cases, testEnv.migrateScaleKills, 18);
    const done = await runToEnd(root, 'state-8', ['--concurrency', '8']);
    expect(done.report).to.have.length(cases);
    expect(done.report.every((r) => r.status === 'sealed' || r.status === 'skipped'), done.err.slice(-2000)).to.equal(true);
    await expectExactlyOnce(root, 'A-', cases);

    // Nothing new: decided from the journal (path, size, mtime), nothing sent.
    const before = (await held('A-')).length;
    const again = await runToEnd(root, 'state-8');
    expect(again.summary.dossiers).to.include({ sent: 0, alreadyThere: cases, failed: 0 });
    expect(again.report.map((r) => r.dossierId)).to.deep.equal(done.report.map((r) => r.dossierId));
    expect((await held('A-')).length, 'no dossier created').to.equal(before);

    // A changed file is noticed by its size and mtime, and only that one is sent.
    const changed = path.join(root, (await fs.readdir(root)).find((f) => f.startsWith(`${caseNumber(7)} `))!, 'cover.jpg');
    await fs.writeFile(changed, markedJpeg(await jpegPage(7007, 48, 64), 'rescanned'));
    const third = await runToEnd(root, 'state-8');
    expect(third.summary.dossiers).to.include({ sent: 1, alreadyThere: cases - 1, failed: 0 });
    const row = third.report.find((r) => r.item.startsWith(`${caseNumber(7)} `))!;
    expect(row.sha256).to.equal(createHash('sha256').update(await fs.readFile(changed)).digest('hex'));
    expect((await held('A-')).length).to.equal(before + 1);

    // Same size and mtime, other bytes: only --rehash reads the file again, and then it is sent.
    const st = await fs.stat(changed);
    const bytes = await fs.readFile(changed);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await fs.writeFile(changed, bytes);
    await fs.utimes(changed, st.atimeMs / 1000, st.mtimeMs / 1000); // a Date would round the milliseconds
    expect((await runToEnd(root, 'state-8')).summary.dossiers.sent, 'unchanged stamp: not read').to.equal(0);
    const rehashed = await runToEnd(root, 'state-8', ['--rehash']);
    expect(rehashed.summary.dossiers).to.include({ sent: 1, failed: 0 });
    expect(rehashed.report.filter((r) => r.status === 'skipped')).to.have.length(cases - 1);
  });

  for (const concurrency of [1, 32]) {
    it(`${testEnv.migrateScaleSideCases} cases at concurrency ${concurrency}, killed ${testEnv.migrateScaleSideKills} time(s): every case and dossier exactly once`, async () => {
      const cases = testEnv.migrateScaleSideCases;
      const prefix = `C${concurrency}-`;
      const { root } = await makeSmallCaseArchive(path.join(dir, `c${concurrency}`), { cases, prefix });
      await killRepeatedly(root, `state-${concurrency}`, concurrency, cases, testEnv.migrateScaleSideKills, concurrency);
      const done = await runToEnd(root, `state-${concurrency}`, ['--concurrency', String(concurrency)]);
      expect(done.report.every((r) => r.status === 'sealed' || r.status === 'skipped')).to.equal(true);
      await expectExactlyOnce(root, prefix, cases);
    });
  }
});
