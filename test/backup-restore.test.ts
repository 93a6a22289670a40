/**
 * `dossier backup` and `dossier restore` of the embedded default (issue 17): a backup taken
 * through the running gateway while an upload is in flight, restored into an empty data directory,
 * where every sealed dossier verifies (signature, pages, root, receipts) and the audit chain is
 * whole; the restored gateway serves and seals as before. A changed byte in a backup is named by
 * the restore's verification (exit 3); backups and restores never write over what is there.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { spawnServer, tokenFor, type ServerProcess } from '../scripts/support/server-process.js';
import { dossierCli } from './support/cli.js';
import { agenciesFile, sealedDossier, send } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { randomFile, tempDir } from './support/fixtures.js';
import { jsonApi } from './support/gateway.js';
import { tusUpload } from './support/tus.js';

describe('backup and restore of the embedded default', function () {
  this.timeout(300_000);
  let root: string;
  let server: ServerProcess | null = null;
  let agencies: string;
  const dossiers: { id: string; merkleRoot: string }[] = [];

  const env = (dataDir: string) => ({ DATA_DIR: dataDir, AGENCIES_FILE: agencies, OCR_WORKERS: '1', LOG_LEVEL: 'warn' });
  const cli = async (args: string[], dataDir: string) => dossierCli(args, env(dataDir)).done;

  before(async () => {
    root = await tempDir('backup-');
    agencies = await agenciesFile(root);
  });
  after(async () => {
    await server?.kill();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('backs up through the running gateway while an upload is in flight', async () => {
    const data = path.join(root, 'data');
    server = await spawnServer(env(data));
    const gw = { url: server.url, api: jsonApi(server.url) };
    const clerk = await tokenFor(data, 'police-1', 'clerk');
    const prosecutor = await tokenFor(data, 'procuratorate-1', 'prosecutor');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'BK-1' })).json.id as string;
    dossiers.push(await sealedDossier(gw, clerk, caseId, 71, 3), await sealedDossier(gw, clerk, caseId, 72, 2));
    const transfer = await send(gw, clerk, dossiers[0]!.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${transfer}/accept`, prosecutor, {})).status).to.equal(200);

    // An upload runs while the backup is taken: the backup neither waits for it nor breaks it.
    const big = await randomFile(root, 'inflight.bin', 32 * 1024 * 1024);
    let sent = 0;
    const inflight = tusUpload(server.url, big.path, { token: clerk, metadata: { filename: 'inflight.bin', caseId }, chunkSize: 1024 * 1024, onProgress: (s) => (sent = s) });
    await eventually(async () => (sent > 0 ? true : undefined), 60_000, 'the upload under way');

    const out = path.join(root, 'backup');
    const run = await cli(['backup', out, '--json'], data);
    expect(run.code, run.err).to.equal(0);
    expect(run.err).to.include('through the running gateway');
    const manifest = JSON.parse(run.out);
    expect(manifest.format).to.equal('dossier-backup/1');
    expect(manifest.blobs.count).to.be.greaterThan(5); // pages, originals, thumbnails
    expect(manifest.keys.some((k: string) => k.startsWith('evidence/')), JSON.stringify(manifest.keys)).to.equal(true);
    expect(await inflight.done, 'the upload finished after the backup').to.be.a('string');

    const again = await cli(['backup', out], data);
    expect(again.code, 'a backup never writes over another').to.not.equal(0);
    expect(again.err).to.include('is not empty');
    await server.kill('SIGTERM');
    server = null;
  });

  it('restores into an empty directory, verifies every sealed dossier and the chain, and the gateway carries on there', async () => {
    const restored = path.join(root, 'restored');
    const run = await cli(['restore', path.join(root, 'backup')], restored);
    expect(run.code, `${run.out}\n${run.err}`).to.equal(0);
    expect(run.out).to.match(/^VERIFIED: 2\/2 sealed dossiers, 5 pages; audit chain of \d+ events intact/);

    const twice = await cli(['restore', path.join(root, 'backup')], restored);
    expect(twice.code, 'a restore never writes over data').to.not.equal(0);
    expect(twice.err).to.include('is not empty');

    server = await spawnServer(env(restored));
    const gw = { url: server.url, api: jsonApi(server.url) };
    const clerk = await tokenFor(restored, 'police-1', 'clerk');
    for (const d of dossiers) {
      const got = (await gw.api('GET', `/api/dossiers/${d.id}`, clerk)).json;
      expect([got.status, got.merkleRoot]).to.deep.equal(['sealed', d.merkleRoot]);
    }
    const received = (await gw.api('GET', `/api/dossiers/${dossiers[0]!.id}`, await tokenFor(restored, 'procuratorate-1', 'prosecutor'))).status;
    expect(received, 'the custody it had: the procuratorate still sees what it accepted').to.equal(200);
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'BK-2' })).json.id as string;
    await sealedDossier(gw, clerk, caseId, 73, 1);
    expect((await gw.api('GET', '/api/audit/verify', await tokenFor(restored, 'police-1', 'auditor'))).json.ok, 'the chain goes on whole').to.equal(true);
    await server.kill('SIGTERM');
    server = null;
  });

  it('backs up a data directory no gateway runs on', async () => {
    const run = await cli(['backup', path.join(root, 'offline')], path.join(root, 'restored'));
    expect(run.code, run.err).to.equal(0);
    expect(run.err).to.include('no gateway running');
    const check = await cli(['restore', path.join(root, 'offline')], path.join(root, 'restored-offline'));
    expect(check.code, check.out + check.err).to.equal(0);
    expect(check.out).to.match(/^VERIFIED: 3\/3 sealed dossiers/);
  });

  it('names the dossier whose page changed in the backup (exit 3), and refuses a backup that did not finish', async () => {
    const copy = path.join(root, 'tampered');
    await fs.cp(path.join(root, 'backup'), copy, { recursive: true });
    const page = (await gwPageHash(path.join(root, 'restored'), dossiers[1]!.id))!;
    const blobFile = (h: string) => path.join(copy, 'blobs', 'sha256', h.slice(0, 2), h.slice(2, 4), h);
    // The page's own blob, or (a stored entry of its ZIP) its range of the kept upload.
    const within = (await fs.stat(blobFile(page.sha256)).then(() => null, () => page.range)) ?? { container: page.sha256, start: 0, size: null };
    const file = blobFile(within.container);
    const bytes = await fs.readFile(file);
    const at = within.start + ((within.size ?? bytes.length) >> 1);
    bytes[at] = bytes[at]! ^ 0x01;
    await fs.writeFile(file, bytes);
    const run = await cli(['restore', copy, '--json'], path.join(root, 'restored-tampered'));
    expect(run.code, run.err).to.equal(3);
    const report = JSON.parse(run.out);
    expect(report.failures.map((f: { dossier: string }) => f.dossier)).to.deep.equal([dossiers[1]!.id]);
    const codes = report.failures[0].problems.map((p: { code: string }) => p.code);
    expect(codes).to.include('page_mismatch');
    // A page kept inside the upload changes the upload too: nothing else may be reported.
    expect(codes.filter((c: string) => c !== 'page_mismatch')).to.deep.equal(within.size === null ? [] : ['original_mismatch']);

    await fs.rm(path.join(copy, 'backup.json'));
    const unfinished = await cli(['restore', copy], path.join(root, 'restored-unfinished'));
    expect(unfinished.code).to.not.equal(0);
    expect(unfinished.err).to.include('did not finish');
  });
});

/** The blob of a dossier's first page, and its range of the upload if kept so, read from a stopped data directory's database. */
async function gwPageHash(dataDir: string, dossierId: string): Promise<{ sha256: string; range: { container: string; start: number; size: number } | null } | null> {
  const { openPglite } = await import('../storage/db/pglite-database.js');
  const db = await openPglite(path.join(dataDir, 'db'));
  try {
    const rows = await db.query<{ sha256: string }>('SELECT sha256 FROM pages WHERE dossier_id = $1 ORDER BY index LIMIT 1', [dossierId]);
    if (!rows[0]) return null;
    const [r] = await db.query<{ container: string; start_at: string; size: string }>('SELECT container, start_at, size FROM blob_ranges WHERE sha256 = $1 ORDER BY container LIMIT 1', [rows[0].sha256]);
    return { sha256: rows[0].sha256, range: r ? { container: r.container, start: Number(r.start_at), size: Number(r.size) } : null };
  } finally {
    await db.close();
  }
}
