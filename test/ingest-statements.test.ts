/**
 * The per-dossier fixed cost on the gateway, counted: every SQL statement (and transaction) the
 * gateway sends while `dossier migrate` moves a few small cases (a cover JPEG and a 12-page PDF
 * each) in, divided by the dossiers sealed. On the embedded database every statement is CPU of the
 * gateway's main thread; this suite keeps the count from creeping back up.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { tempDir } from './support/fixtures.js';
import { testEnv } from './support/env.js';
import { dossierCli } from './support/cli.js';
import { makeSmallCaseArchive } from '../scripts/bench/fixtures/small-case-archive.js';

describe('statements per small dossier (embedded wiring)', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    // OCR and thumbnails are not what is counted: one OCR thread, and the jobs they run are counted apart.
    gw = await startGateway({ OCR_WORKERS: '1' });
    dir = await tempDir('ingest-statements-');
  });
  after(async () => {
    await gw.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a migrated small dossier costs at most 27 statements besides job claims', async () => {
    const cases = 4;
    const { root } = await makeSmallCaseArchive(dir, { cases, pdfPages: 12 });
    const token = await gw.token('statements', 'clerk');
    const seen = new Map<string, number>();
    let all = 0;
    let timed = 0;
    const stop = gw.gateway.watchStatements((sql) => {
      // The job loops' idle claims and the runner's heartbeat come with time, not with dossiers.
      if (/^\s*UPDATE jobs SET status = 'running'|^\s*UPDATE workers SET heartbeat_at/.test(sql)) timed++;
      else all++;
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 90);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    });
    const run = await dossierCli(['migrate', root, '--concurrency', '2'], { DOSSIER_SERVER: gw.url, DOSSIER_TOKEN: token, DOSSIER_STATE_DIR: path.join(dir, 'state') }).done;
    stop();
    expect(run.code, run.err).to.equal(0);
    const dossiers = cases * 2;
    const perDossier = all / dossiers;
    if (testEnv.showStatements) for (const [sql, n] of [...seen].sort((a, b) => b[1] - a[1])) console.log(`${(n / dossiers).toFixed(2).padStart(6)}  ${sql}`);
    console.log(`      ${perDossier.toFixed(1)} statements per dossier (${all} for ${dossiers}), besides ${(timed / dossiers).toFixed(1)} claims and heartbeats`);
    // 30.7 before the audit append, the page rows and the seal's trim were merged (issue 18).
    expect(perDossier).to.be.at.most(27);
  });
});
