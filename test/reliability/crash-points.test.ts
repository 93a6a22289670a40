/**
 * Crash points: the gateway killed (SIGKILL, from inside, by a failpoint: dossier/failpoints.ts)
 * at each step of the commit path, or that step failed with an I/O error, during an upload, an
 * ingest, OCR, an export and a custody answer. After a restart on the same data either everything
 * of that step exists and verifies or nothing does and the work resumes: the dossier seals with
 * exactly the pages and the Merkle root an independent computation gives, every stored blob is
 * whole (its name is its content's SHA-256), `dossier check` verifies every dossier and the audit
 * chain, and each state change has exactly one audit event. A failed write is never reported as
 * a success: no dossier is sealed while its page writes fail.
 *
 * The embedded wiring here; the same points on PostgreSQL + S3 where PostgreSQL is reachable.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { ServerExitedError, spawnServer, tokenFor, type ServerProcess } from '../../scripts/support/server-process.js';
import { jpegPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { AGENCIES, agenciesFile } from '../support/custody.js';
import { dossierCli } from '../support/cli.js';
import { openOrSkip, postgresEngine, type EngineHandle } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/fixtures.js';
import { jsonApi, pgliteTemplate } from '../support/gateway.js';
import { referenceRoot } from '../support/independent-merkle.js';
import { startS3, type TestS3 } from '../support/s3-server.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { recordCase } from './results.js';

const PAGES = 30;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Fixture {
  readonly pages: Buffer[];
  readonly zip: string;
  readonly root: string;
}

/** A gateway process and the tokens of its agencies' people. */
interface Running {
  readonly server: ServerProcess;
  readonly api: ReturnType<typeof jsonApi>;
  readonly died: Promise<NodeJS.Signals | number | null>;
}

describe('crash points: SIGKILL or an I/O error at each step of the commit path @faults', function () {
  this.timeout(300_000);
  let work: string;
  let fixture: Fixture;
  let agencies: string;
  let server: ServerProcess | null = null;

  before(async () => {
    work = await tempDir('dossier-crash-points-');
    agencies = await agenciesFile(work);
    // Distinct pages (12 KB of their own after the image's end), so every page is a blob of its
    // own and the upload takes several PATCHes.
    const drawn = await Promise.all(Array.from({ length: 6 }, (_, i) => jpegPage(i + 1)));
    const pages = Array.from({ length: PAGES }, (_, i) => Buffer.concat([drawn[i % drawn.length]!, Buffer.from(`\ncrash-point page ${i}\n`), randomBytes(12 * 1024)]));
    const zip = await zipOf(path.join(work, 'scan.zip'), pages.map((data, i) => ({ name: `${String(i + 1).padStart(3, '0')}.jpg`, data })));
    console.log(`      fixture: ${PAGES} pages, ZIP of ${(await fs.stat(zip)).size} bytes`);
    fixture = { pages, zip, root: referenceRoot(pages.map((p) => createHash('sha256').update(p).digest())).toString('hex') };
  });
  afterEach(async () => {
    await server?.kill();
    server = null;
  });
  after(async () => fs.rm(work, { recursive: true, force: true }));

  /** A fresh embedded data directory (a migrated empty database copied in: no initdb). */
  async function embedded(name: string): Promise<Record<string, string>> {
    const dataDir = path.join(work, name);
    await fs.cp(await pgliteTemplate(), path.join(dataDir, 'db'), { recursive: true });
    return { DATA_DIR: dataDir, AGENCIES_FILE: agencies, OCR_WORKERS: '1' };
  }

  /** On `after`'s port when given: a restarted gateway answers where its clients left it. */
  async function start(env: Record<string, string>, failpoints?: string, after?: Running): Promise<Running> {
    const port = after ? Number(new URL(after.server.url).port) : undefined;
    const s = await spawnServer({ ...env, ...(failpoints ? { FAILPOINTS: failpoints } : {}) }, port, { startTimeoutMs: 120_000 });
    server = s;
    const died = new Promise<NodeJS.Signals | number | null>((resolve) => s.child.once('exit', (code, signal) => resolve(signal ?? code)));
    return { server: s, api: jsonApi(s.url), died };
  }

  async function tokens(env: Record<string, string>) {
    const dataDir = env.DATA_DIR!;
    return {
      clerk: await tokenFor(dataDir, 'police-1', 'clerk'),
      auditor: await tokenFor(dataDir, 'police-1', 'auditor'),
      prosecutor: await tokenFor(dataDir, 'procuratorate-1', 'prosecutor'),
    };
  }

  /**
   * The process must die of the failpoint's SIGKILL, not of anything else, within the bound.
   * Answers where it struck (the innermost frames the failpoint wrote to stderr).
   */
  async function killedByFailpoint(run: Running, what: string): Promise<string> {
    const timeout = new Promise<'alive'>((r) => setTimeout(() => r('alive'), 90_000).unref());
    const end = await Promise.race([run.died, timeout]);
    expect(end, `${what}: the gateway should have been killed by its failpoint\n${run.server.output().slice(-2000)}`).to.equal('SIGKILL');
    server = null;
    const line = run.server.output().split('\n').find((l) => l.startsWith('{"failpoint"'));
    expect(line, 'the failpoint says where it struck').to.be.a('string');
    const at = (JSON.parse(line!) as { at: string }).at;
    // "at [async] fn (file:///…/name.js:12:3)" or "at file:///…/name.js:12:3": the function, else the file and line.
    const frame = (f: string) => {
      const m = /at (?:async )?(?:([\w.$<>]+) \()?.*?([\w-]+)\.[jt]s:(\d+)/.exec(f);
      return m ? (m[1] && m[1] !== '<anonymous>' ? m[1] : `${m[2]}:${m[3]}`) : null;
    };
    return at.split(' < ').map(frame).filter((f) => f && f !== 'failpoint').slice(0, 2).join(' < ');
  }

  async function openCase(run: Running, token: string, number: string): Promise<string> {
    const res = await run.api('POST', '/api/cases', token, { number, title: 'crash point' });
    expect(res.status, JSON.stringify(res.json)).to.equal(201);
    return res.json.id as string;
  }

  async function waitSealed(run: Running, token: string, id: string, ms = 120_000): Promise<any> {
    return eventually(async () => {
      const d = (await run.api('GET', `/api/dossiers/${id}`, token)).json;
      if (d?.status === 'rejected') throw new Error(`dossier rejected: ${JSON.stringify(d.error)}`);
      return d?.status === 'sealed' ? d : undefined;
    }, ms, `dossier ${id} sealed`);
  }

  /** The upload, from its first byte or resumed at the offset the gateway tells. */
  async function uploadAll(run: Running, token: string, caseId: string, uploadUrl?: string): Promise<string> {
    return idFromUrl(await tusUpload(run.server.url, fixture.zip, { token, metadata: { filename: 'scan.zip', caseId }, chunkSize: 256 * 1024, ...(uploadUrl ? { uploadUrl } : {}) }).done);
  }

  /** Exactly what the independent computation says: pages, their hashes in order, the root. */
  async function expectSealedRight(run: Running, token: string, id: string): Promise<void> {
    const d = await waitSealed(run, token, id);
    expect(d.pageCount).to.equal(PAGES);
    expect(d.merkleRoot).to.equal(fixture.root);
    const listed = (await run.api('GET', `/api/dossiers/${id}/pages?limit=1000`, token)).json as any[];
    expect(listed.map((p) => p.sha256)).to.deep.equal(fixture.pages.map(sha));
  }

  /** Audit events of the clerk's agency with this action on this target. */
  async function auditCount(run: Running, auditor: string, action: string, targetId: string): Promise<number> {
    let after = 0;
    let n = 0;
    for (;;) {
      const page = (await run.api('GET', `/api/audit?after=${after}&limit=1000`, auditor)).json;
      for (const e of page.events as any[]) if (e.action === action && e.target?.id === targetId) n++;
      if (page.next === null || page.next === undefined) return n;
      after = page.next;
    }
  }

  /** Every blob under sha256/ is whole: its name is its content's hash (no torn or half-renamed blob). */
  async function expectBlobsWhole(dataDir: string): Promise<number> {
    const root = path.join(dataDir, 'blobs', 'sha256');
    let count = 0;
    for (const a of await fs.readdir(root).catch(() => [])) {
      for (const b of await fs.readdir(path.join(root, a))) {
        for (const name of await fs.readdir(path.join(root, a, b))) {
          expect(sha(await fs.readFile(path.join(root, a, b, name))), `blob ${name}`).to.equal(name);
          count++;
        }
      }
    }
    return count;
  }

  /** `dossier check` over the stopped gateway's data: every dossier and the audit chain verify. */
  async function expectCheckPasses(env: Record<string, string>, dossiers: number): Promise<string> {
    await server?.kill('SIGTERM');
    server = null;
    const r = await dossierCli(['check'], { ...env, LOG_LEVEL: 'warn' }).done;
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.out).to.match(new RegExp(`VERIFIED: ${dossiers}/${dossiers} sealed dossiers`));
    return r.out.trim().split('\n').at(-1)!;
  }

  /**
   * Kill during the upload and the ingest after it at `rule`; restart, resume the upload where
   * the gateway says, and expect the right seal, one seal event, whole blobs (filesystem store)
   * and a clean check.
   */
  async function killDuringUpload(env: Record<string, string>, rule: string, wiring: string): Promise<void> {
    const t0 = performance.now();
    const armed = await start(env, rule);
    const t = await tokens(env);
    const caseId = await openCase(armed, t.clerk, `CP-${rule}`);
    let url: string | undefined;
    // Small PATCHes: the kill lands inside the upload for the upload's own failpoints.
    const first = tusUpload(armed.server.url, fixture.zip, { token: t.clerk, metadata: { filename: 'scan.zip', caseId }, chunkSize: 48 * 1024, onUrl: (u) => (url = u) });
    const firstEnd = first.done.then(() => 'finished', () => 'cut');
    const struck = await killedByFailpoint(armed, rule);
    const uploaded = await firstEnd;

    const run = await start(env, undefined, armed);
    expect(url, 'the upload was created before the kill').to.be.a('string');
    const id = uploaded === 'finished' ? idFromUrl(url!) : await uploadAll(run, t.clerk, caseId, url);
    await expectSealedRight(run, t.clerk, id);
    expect(await auditCount(run, t.auditor, 'dossier.sealed', id)).to.equal(1);
    const blobs = env.DATABASE_URL ? null : await expectBlobsWhole(env.DATA_DIR!);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', `${wiring}: ${rule} during upload + ingest (struck in ${struck}); restart, resume`, `upload ${uploaded}, sealed root equal, 1 seal event${blobs === null ? '' : `, ${blobs} blobs whole`}; ${check}`, performance.now() - t0);
  }

  for (const rule of ['blob.write=kill@12', 'blob.fsync=kill@12', 'blob.rename=kill@12', 'upload.write=kill@3', 'audit.append=kill@2', 'audit.append=kill@3', 'db.commit=kill@2', 'db.commit=kill@5']) {
    it(`${rule}: after the restart the upload resumes and the dossier seals exactly once, right`, async () => {
      await killDuringUpload(await embedded(rule.replace(/[^a-z0-9]+/gi, '-')), rule, 'embedded');
    });
  }

  it('ocr.commit=kill@3: after the restart OCR goes on and every page is read exactly once', async () => {
    const t0 = performance.now();
    const env = await embedded('ocr-commit');
    const armed = await start(env, 'ocr.commit=kill@3');
    const t = await tokens(env);
    const caseId = await openCase(armed, t.clerk, 'CP-OCR');
    const id = await uploadAll(armed, t.clerk, caseId);
    await killedByFailpoint(armed, 'ocr.commit');
    const run = await start(env, undefined, armed);
    await expectSealedRight(run, t.clerk, id);
    const done = await eventually(async () => {
      const d = (await run.api('GET', `/api/dossiers/${id}`, t.clerk)).json;
      return d.progress.ocr && d.progress.ocr.done + d.progress.ocr.failed === PAGES ? d.progress.ocr : undefined;
    }, 240_000, 'every page read after the restart');
    expect(done).to.include({ failed: 0, total: PAGES });
    expect(await auditCount(run, t.auditor, 'dossier.searchable', id)).to.equal(1);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', 'ocr.commit=kill@3 (the 3rd page text about to be recorded); restart', `${done.done}/${PAGES} pages read once, 1 searchable event; ${check}`, performance.now() - t0);
  });

  it('export.entry=kill@10: a receiver\'s `dossier download` cut by the kill resumes after the restart and verifies', async () => {
    const t0 = performance.now();
    const env = await embedded('export-entry');
    const armed = await start(env, 'export.entry=kill@10');
    const t = await tokens(env);
    const caseId = await openCase(armed, t.clerk, 'CP-EXPORT');
    const id = await uploadAll(armed, t.clerk, caseId);
    await expectSealedRight(armed, t.clerk, id);
    const link = await armed.api('POST', `/api/dossiers/${id}/links`, t.clerk, { ttl: '1h' });
    expect(link.status, JSON.stringify(link.json)).to.equal(201);
    const out = path.join(work, 'received');
    const jwks = path.join(work, 'jwks.json');
    await fs.writeFile(jwks, await (await fetch(`${armed.server.url}/.well-known/jwks.json`)).text());
    const cut = await dossierCli(['download', link.json.url, '--out', out, '--retries', '0'], { LOG_LEVEL: 'warn' }).done;
    await killedByFailpoint(armed, 'export.entry');
    expect(cut.code, 'the cut download fails').to.not.equal(0);
    await start(env, undefined, armed);
    const resumed = await dossierCli(['download', link.json.url, '--out', out, '--verify', '--jwks', jwks], { LOG_LEVEL: 'warn' }).done;
    expect(resumed.code, resumed.out + resumed.err).to.equal(0);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', 'export.entry=kill@10 during a signed-link download; restart; dossier download again', `resumed and verified (exit 0); ${check}`, performance.now() - t0);
  });

  it('answer.transfer=kill@2: an acceptance committed but never answered is there after the restart, once, and is not given twice', async () => {
    const t0 = performance.now();
    const env = await embedded('answer-transfer');
    const armed = await start(env, 'answer.transfer=kill@2');
    const t = await tokens(env);
    const caseId = await openCase(armed, t.clerk, 'CP-TRANSFER');
    const id = await uploadAll(armed, t.clerk, caseId);
    await expectSealedRight(armed, t.clerk, id);
    const sent = await armed.api('POST', `/api/dossiers/${id}/transfers`, t.clerk, { toAgency: AGENCIES[1].id, stage: 'arrest-review' });
    expect(sent.status, JSON.stringify(sent.json)).to.equal(201);
    const accept = armed.api('POST', `/api/transfers/${sent.json.id}/accept`, t.prosecutor, { caseNumber: 'PROC-CP-1' }).then((r) => `answered ${r.status} ${JSON.stringify(r.json)}`, () => 'no answer');
    await killedByFailpoint(armed, 'answer.transfer');
    expect(await accept).to.equal('no answer');
    const run = await start(env, undefined, armed);
    const transfer = (await run.api('GET', `/api/transfers/${sent.json.id}`, t.prosecutor)).json;
    expect(transfer.status).to.equal('accepted');
    expect(transfer.receipt, 'the receipt committed with the acceptance').to.be.a('string');
    const again = await run.api('POST', `/api/transfers/${sent.json.id}/accept`, t.prosecutor, { caseNumber: 'PROC-CP-1' });
    expect(again.status).to.equal(409);
    const procAuditor = await tokenFor(env.DATA_DIR!, 'procuratorate-1', 'auditor');
    expect(await auditCount(run, procAuditor, 'transfer.accept', sent.json.id)).to.equal(1);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', 'answer.transfer=kill@2 (acceptance committed, answer not sent); restart', `accepted once with its receipt, a second accept 409, 1 audit event; ${check}`, performance.now() - t0);
  });

  it('blob.fsync=error on every page: the failure is never reported as a seal; after the fault the same upload seals', async () => {
    const t0 = performance.now();
    const env = await embedded('fsync-error');
    const armed = await start(env, 'blob.fsync=error@1-1000000');
    const t = await tokens(env);
    const caseId = await openCase(armed, t.clerk, 'CP-FSYNC');
    const upload = await tusUpload(armed.server.url, fixture.zip, { token: t.clerk, metadata: { filename: 'scan.zip', caseId }, chunkSize: 256 * 1024 }).done.then((u) => ({ url: u }), (err: Error) => ({ err }));
    // However the failure surfaces (the upload's last PATCH or the ingest after it), nothing is sealed.
    let id: string | null = 'url' in upload ? idFromUrl(upload.url) : null;
    const seen = new Set<string>();
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const listed = (await armed.api('GET', `/api/cases/${caseId}`, t.clerk)).json as any;
      for (const d of (listed?.dossiers ?? []) as any[]) {
        id ??= d.id;
        seen.add(d.status);
        expect(d.status, 'a dossier whose page writes all fail').to.not.equal('sealed');
        expect(d.pageCount ?? null).to.equal(null);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await armed.server.kill('SIGTERM');
    server = null;
    const run = await start(env, undefined, armed);
    expect(id, `the upload exists (${'err' in upload ? upload.err.message : 'finished'})`).to.be.a('string');
    const d = (await run.api('GET', `/api/dossiers/${id}`, t.clerk)).json;
    if (d.status === 'receiving') await uploadAll(run, t.clerk, caseId, `${run.server.url}/files/${id}`);
    await expectSealedRight(run, t.clerk, id!);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', 'blob.fsync=error on every write for 15 s', `never sealed (states seen: ${[...seen].join(', ') || 'none listed'}); after the fault: sealed, root equal; ${check}`, performance.now() - t0);
  });

  it('blob.fsync=error@5 and upload.write=error@4 once: the request fails, the retry succeeds, nothing lost', async () => {
    const t0 = performance.now();
    const env = await embedded('transient-errors');
    const run = await start(env, 'blob.fsync=error@5,upload.write=error@4');
    const t = await tokens(env);
    const caseId = await openCase(run, t.clerk, 'CP-TRANSIENT');
    let url: string | undefined;
    const first = await tusUpload(run.server.url, fixture.zip, { token: t.clerk, metadata: { filename: 'scan.zip', caseId }, chunkSize: 48 * 1024, onUrl: (u) => (url = u) }).done.then(() => 'finished', (err: Error) => err.message);
    expect(first, 'the PATCH whose write failed is answered as a failure').to.not.equal('finished');
    const head = await fetch(url!, { method: 'HEAD', headers: { authorization: `Bearer ${t.clerk}`, 'tus-resumable': '1.0.0' } });
    const kept = Number(head.headers.get('upload-offset'));
    expect(kept).to.be.lessThan((await fs.stat(fixture.zip)).size);
    const id = await uploadAll(run, t.clerk, caseId, url);
    await expectSealedRight(run, t.clerk, id);
    expect(await auditCount(run, t.auditor, 'dossier.sealed', id)).to.equal(1);
    await expectBlobsWhole(env.DATA_DIR!);
    const check = await expectCheckPasses(env, 1);
    recordCase('faults', 'blob.fsync=error@5 + upload.write=error@4 (one failed page sync, one failed PATCH write)', `PATCH failed (${first.slice(0, 60)}), HEAD ${kept}, resumed; sealed root equal; ${check}`, performance.now() - t0);
  });

  describe('on PostgreSQL + S3', () => {
    const databases: EngineHandle[] = [];
    let s3: TestS3;
    before(async function () {
      databases.push(await openOrSkip(this, postgresEngine()));
      s3 = await startS3();
    });
    after(async () => {
      await s3?.stop();
      for (const d of databases) await d.dispose();
    });

    /** A schema of its own in the machine's PostgreSQL, the shared bucket (content-addressed). */
    async function scaleOut(name: string): Promise<Record<string, string>> {
      const handle = await postgresEngine().open();
      databases.push(handle);
      const url = handle.url!;
      return { DATA_DIR: path.join(work, `so-${name}`), DATABASE_URL: url, AGENCIES_FILE: agencies, OCR_WORKERS: '1', ...s3.env() };
    }

    for (const rule of ['s3.put=kill@12', 'db.commit=kill@3', 'audit.append=kill@3']) {
      it(`${rule}: after the restart the dossier seals exactly once, right, and \`dossier check\` passes`, async () => {
        await killDuringUpload(await scaleOut(rule), rule, 'PostgreSQL + S3');
      });
    }

    it('s3.put=error@3-6: the failed puts fail the ingest, which is retried; sealed once, right', async () => {
      const t0 = performance.now();
      const env = await scaleOut('s3-put-error');
      const run = await start(env, 's3.put=error@3-6');
      const t = await tokens(env);
      const caseId = await openCase(run, t.clerk, 'CP-SO-PUT');
      const id = await uploadAll(run, t.clerk, caseId).catch(async () => {
        // The last PATCH may carry the failure; the upload is whole all the same once resumed.
        return uploadAll(run, t.clerk, caseId);
      });
      await expectSealedRight(run, t.clerk, id);
      expect(await auditCount(run, t.auditor, 'dossier.sealed', id)).to.equal(1);
      const check = await expectCheckPasses(env, 1);
      recordCase('faults', 'PostgreSQL + S3: s3.put=error@3-6 (four failed puts)', `retried, sealed root equal, 1 seal event; ${check}`, performance.now() - t0);
    });
  });

  it('a FAILPOINTS value that names no failpoint stops the start with an error that says so', async () => {
    const env = await embedded('bad-rule');
    const err = await spawnServer({ ...env, FAILPOINTS: 'blob.fsnyc=kill' }, undefined, { startTimeoutMs: 60_000 }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(ServerExitedError);
    expect((err as ServerExitedError).output).to.match(/FAILPOINTS: "blob\.fsnyc=kill": no failpoint blob\.fsnyc/);
  });
});
