/**
 * The scale-out wiring: a gateway on PostgreSQL that runs no jobs (WORKERS=none) and `dossier
 * worker` processes beside it. One worker is SIGKILLed in the middle of OCR; another takes over,
 * and every page ends done exactly once: no page lost, none recorded twice, no failure counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import { openOrSkip, postgresEngine, type EngineHandle } from './support/databases.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { headerScan, uniqueToken, zipDossier, type DossierJson } from './support/ocr-fixtures.js';
import { idFromUrl, tusUpload } from './support/tus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = 12;

interface Worker {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/dossier.ts'), 'worker'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      // A graceful stop closes the engine (its temp files); give it a while, then insist.
      const timer = signal === 'SIGKILL' ? null : setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      if (timer) clearTimeout(timer);
    },
  };
}

describe('OCR workers on PostgreSQL: a worker killed mid-OCR loses no page', function () {
  this.timeout(400_000);
  let db: EngineHandle;
  let gw: TestGateway;
  let dir: string;
  const workers: Worker[] = [];

  before(async function () {
    db = await openOrSkip(this, postgresEngine());
    dir = await tempDir('ocr-kill-');
    gw = await startGateway({ DATABASE_URL: db.url!, WORKERS: 'none' });
  });
  after(async () => {
    for (const w of workers) await w.kill('SIGTERM');
    await gw?.stop();
    await db?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('SIGKILL during a batch, a second worker finishes it: every page done once', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OCR-KILL' })).json.id;
    const files = await Promise.all(Array.from({ length: PAGES }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await headerScan(i + 1, PAGES) })));
    const zip = await zipDossier(dir, 'kill.zip', files);
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'kill.zip', caseId } }).done);
    // The worker shares the gateway's database and data directory (blobs, staged uploads, keys).
    const env = { DATABASE_URL: db.url!, DATA_DIR: gw.dataDir, OCR_WORKERS: '1', OCR_LANGS: 'eng', WORKER_STOP_GRACE: '2s' };
    const get = async () => (await gw.api('GET', `/api/dossiers/${id}`, clerk)).json as DossierJson;

    const first = startWorker(env);
    workers.push(first);
    await eventually(async () => {
      if (first.child.exitCode !== null) throw new Error(`worker exited: ${first.output()}`);
      const o = (await get()).progress.ocr;
      return o && o.done >= 1 ? o : undefined;
    }, 240_000, 'the first page OCRed');
    await first.kill();
    const killedAt = Date.now();
    const atKill = (await get()).progress.ocr!;
    const client = new pg.Client({ connectionString: db.url! });
    await client.connect();
    // The batch the killed worker held, and when its lease would have let another take it.
    const [held] = (await client.query(`SELECT id, locked_by, locked_until FROM jobs WHERE kind = 'ocr' AND status = 'running'`)).rows;
    expect(held, 'a batch was running at the kill').to.exist;
    expect(atKill.done, 'killed before the end').to.be.lessThan(PAGES);

    // Nothing runs now: a page not yet done says so.
    const pending = (await gw.api('GET', `/api/dossiers/${id}/pages`, clerk)).json as { index: number; ocr: { status: string } }[];
    const waiting = pending.find((p) => p.ocr.status === 'queued')!;
    const text = await gw.api('GET', `/api/dossiers/${id}/pages/${waiting.index}/text`, clerk);
    expect(text.status).to.equal(409);
    expect(text.json.error.code).to.equal('ocr_pending');

    // The killed worker stops beating; the second worker takes its batch over within seconds,
    // while the batch's 60 s lease still runs.
    const second = startWorker(env);
    workers.push(second);
    const takenAt = await eventually(async () => {
      const [row] = (await client.query(`SELECT locked_by, now() AS at FROM jobs WHERE id = $1`, [held.id])).rows;
      return row.locked_by !== held.locked_by ? row.at as Date : undefined;
    }, 120_000, 'the batch taken over');
    expect(takenAt.getTime(), 'taken over before the lease ended').to.be.lessThan(new Date(held.locked_until).getTime());
    console.log(`      (the batch was taken over ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill, the second worker's start included)`);
    const d = await eventually(async () => {
      if (second.child.exitCode !== null) throw new Error(`worker exited: ${second.output()}`);
      const now = await get();
      return now.progress.ocr!.done + now.progress.ocr!.failed === PAGES ? now : undefined;
    }, 300_000, 'every page OCRed');
    expect(d.progress.ocr).to.deep.equal({ done: PAGES, failed: 0, total: PAGES });

    try {
      const rows = (await client.query(`SELECT index, status, attempts FROM page_text WHERE dossier_id = $1 ORDER BY index`, [id])).rows;
      expect(rows.map((r) => [r.index, r.status, r.attempts])).to.deep.equal(Array.from({ length: PAGES }, (_, i) => [i + 1, 'done', 0]));
      const indexed = (await client.query(`SELECT count(*)::int AS n FROM page_search WHERE dossier_id = $1`, [id])).rows[0].n;
      expect(indexed).to.equal(PAGES);
    } finally {
      await client.end();
    }
    // Each page is found by its own token, once.
    for (const n of [1, Math.ceil(PAGES / 2), PAGES]) {
      const hits = (await gw.api('GET', `/api/search?q=${encodeURIComponent(uniqueToken(n))}`, clerk)).json.hits as { page: number }[];
      expect(hits.map((h) => h.page), uniqueToken(n)).to.deep.equal([n]);
    }
  });
});
