/**
 * A gateway killed with SIGKILL in the middle of an ingest, then restarted on the same data
 * directory: it takes up its own unfinished ingest at once (not after the 60 s job lease), and
 * seals the same pages, hashes and Merkle root that an independent computation gives.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { spawnServer, tokenFor, type ServerProcess } from '../../scripts/support/server-process.js';
import { jpegPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/fixtures.js';
import { pgliteTemplate } from '../support/gateway.js';
import { referenceRoot } from '../support/independent-merkle.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { recordCase, recordFigures } from './results.js';

const PAGES = 1500;
const LEASE_SECONDS = 60;

describe('crash during ingest: a restarted gateway resumes at once @faults', function () {
  // Bounded by its waits; a machine shared by 8 sessions needs the room.
  this.timeout(900_000);
  let dataDir: string;
  let server: ServerProcess | null = null;
  before(async () => (dataDir = await tempDir('dossier-crash-ingest-')));
  after(async () => {
    await server?.kill();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it(`SIGKILL part-way through a ${PAGES}-page ZIP: after the restart the ingest goes on within seconds and seals correctly`, async () => {
    // Distinct pages: 300 drawn scans, each used several times with its own trailing comment bytes.
    const drawn = await Promise.all(Array.from({ length: 300 }, (_, i) => jpegPage(i + 1)));
    const pages = Array.from({ length: PAGES }, (_, i) => Buffer.concat([drawn[i % drawn.length]!, Buffer.from(`\n${i}`)]));
    const zip = await zipOf(path.join(dataDir, 'big.zip'), pages.map((data, i) => ({ name: `${String(i + 1).padStart(5, '0')}.jpg`, data })));
    const env = { DATA_DIR: path.join(dataDir, 'data'), OCR_WORKERS: '1' };
    // A migrated empty database to start from: the spawned gateway skips PGlite's initdb.
    await fs.cp(await pgliteTemplate(), path.join(env.DATA_DIR, 'db'), { recursive: true });
    server = await spawnServer(env, undefined, { startTimeoutMs: 120_000 });
    const clerk = await tokenFor(env.DATA_DIR, 'police-1', 'clerk');
    const api = async (route: string, init: RequestInit = {}) =>
      (await fetch(`${server!.url}${route}`, { ...init, headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json' } })).json() as Promise<any>;
    const caseId = (await api('/api/cases', { method: 'POST', body: JSON.stringify({ number: 'CRASH-INGEST-1' }) })).id;
    const id = idFromUrl(await tusUpload(server.url, zip, { token: clerk, metadata: { filename: 'big.zip', caseId } }).done);

    // Kill it once some pages are stored and many are not.
    const before = await eventually(async () => {
      const d = await api(`/api/dossiers/${id}`);
      if (d.status === 'sealed') throw new Error('sealed before it could be killed: make the dossier larger');
      return d.progress?.pages >= 50 ? d : undefined;
    }, 180_000, 'ingest under way');
    await server.kill('SIGKILL');
    server = null;
    const killedAt = before.progress.pages;

    const restarted = performance.now();
    // A busy machine may take a while to start the process: the resume is timed from its start.
    server = await spawnServer(env, undefined, { startTimeoutMs: 120_000 });
    const started = (performance.now() - restarted) / 1000;
    const resumed = await eventually(async () => {
      const d = await api(`/api/dossiers/${id}`);
      return d.status === 'sealed' || d.progress?.pages > killedAt ? d : undefined;
    }, 120_000, 'ingest resumed after the restart');
    // Timed from the moment the new process answers: its start-up is the machine's, the wait is ours.
    const resumeSeconds = (performance.now() - restarted) / 1000 - started;
    const sealed = await eventually(async () => {
      const d = await api(`/api/dossiers/${id}`);
      return d.status === 'sealed' || d.status === 'rejected' ? d : undefined;
    }, 240_000, 'sealed after the restart');
    const sealSeconds = (performance.now() - restarted) / 1000 - started;

    expect(sealed.status, JSON.stringify(sealed.error)).to.equal('sealed');
    expect(resumed).to.not.equal(undefined);
    // Promptly: well inside the lease a dead worker's job would otherwise wait out.
    expect(resumeSeconds, `resumed after ${resumeSeconds.toFixed(1)} s`).to.be.below(LEASE_SECONDS / 2);
    expect(sealed.pageCount).to.equal(PAGES);
    const expected = pages.map((p) => createHash('sha256').update(p).digest());
    expect(sealed.merkleRoot).to.equal(referenceRoot(expected).toString('hex'));
    const listed: any[] = [];
    for (let offset = 0; offset < PAGES; offset += 1000) listed.push(...(await api(`/api/dossiers/${id}/pages?limit=1000&offset=${offset}`)));
    expect(listed.map((p) => p.sha256)).to.deep.equal(expected.map((h) => h.toString('hex')));
    recordFigures('faults', { crashIngestPages: PAGES, crashKilledAtPage: killedAt, crashRestartSeconds: Math.round(started * 10) / 10, crashResumeSeconds: Math.round(resumeSeconds * 10) / 10, crashSealSeconds: Math.round(sealSeconds * 10) / 10 });
    recordCase('faults', `SIGKILL during ingest at page ${killedAt} of ${PAGES}; restart`, `resumed in ${resumeSeconds.toFixed(1)} s, sealed in ${sealSeconds.toFixed(1)} s, root equal`, sealSeconds * 1000);
  });
});
