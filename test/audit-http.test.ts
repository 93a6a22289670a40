/**
 * The audit chain through the real gateway: the pipeline and the evidence routes record events,
 * auditors read only what their agency may see (another agency's case is 404, like a missing one),
 * other roles are refused, and `dossier audit verify` finds a row edited in the database.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { openPglite } from '../storage/db/pglite-database.js';
import { dossierCli } from './support/cli.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { idFromUrl, tusUpload } from './support/tus.js';

interface EventJson {
  seq: number;
  actor: string;
  agency: string;
  action: string;
  target: { type: string; id: string };
  caseId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

describe('audit over HTTP and the CLI', function () {
  this.timeout(120_000);
  let dataDir: string;
  let gw: TestGateway;
  let clerk1: string;
  let auditor1: string;
  let auditor2: string;
  let caseA: string;
  let caseB: string;
  let dossier: string;
  let stopped = false;

  const events = async (token: string, query = ''): Promise<{ status: number; events: EventJson[]; next: number | null; json: any }> => {
    const res = await gw.api('GET', `/api/audit${query}`, token);
    return { status: res.status, events: res.json?.events ?? [], next: res.json?.next ?? null, json: res.json };
  };

  before(async () => {
    dataDir = await tempDir('dossier-audit-gw-');
    // A checkpoint every five events: the suite's few events get some.
    gw = await startGateway({ DATA_DIR: dataDir, AUDIT_CHECKPOINT_EVERY: '5' });
    clerk1 = await gw.token('police-1', 'clerk', { user: 'clerk-7' });
    const clerk2 = await gw.token('police-2', 'clerk', { user: 'clerk-9' });
    auditor1 = await gw.token('police-1', 'auditor', { user: 'auditor-1' });
    auditor2 = await gw.token('police-2', 'auditor', { user: 'auditor-2' });
    caseA = (await gw.api('POST', '/api/cases', clerk1, { number: 'AUD-A' })).json.id;
    caseB = (await gw.api('POST', '/api/cases', clerk2, { number: 'AUD-B' })).json.id;
    dossier = idFromUrl(await tusUpload(gw.url, await jpegPage(3), { token: clerk1, metadata: { filename: 'p.jpg', caseId: caseA } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${dossier}`, clerk1)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed');
  });
  after(async () => {
    if (!stopped) await gw?.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('records the case, the upload and the seal of the pipeline', async () => {
    const { status, events: list } = await events(auditor1, `?caseId=${caseA}`);
    expect(status).to.equal(200);
    const actions = list.map((e) => e.action);
    expect(actions.slice(0, 3)).to.deep.equal(['case.create', 'dossier.upload', 'dossier.sealed']);
    expect(list[0]).to.include({ actor: 'clerk-7', agency: 'police-1', caseId: caseA });
    expect(list[1]!.target).to.deep.equal({ type: 'dossier', id: dossier });
    expect(list[2]).to.include({ actor: 'system' });
    expect(list[2]!.details).to.include({ pages: 1 });
  });

  it('records a rejection by the workers', async () => {
    const id = idFromUrl(await tusUpload(gw.url, Buffer.from('plain text is not a dossier\n'.repeat(20)), { token: clerk1, metadata: { filename: 'x.txt', caseId: caseA } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk1)).json.status === 'rejected' ? true : undefined), 60_000, 'rejected');
    const list = (await events(auditor1, `?caseId=${caseA}&limit=1000`)).events.filter((e) => e.target.id === id);
    expect(list.map((e) => e.action)).to.deep.equal(['dossier.upload', 'dossier.rejected']);
    expect(list[1]).to.deep.include({ actor: 'system', agency: 'police-1', details: { code: 'unsupported_format' } });
  });

  it('records every read of evidence: page, proof, manifest, export', async () => {
    const before = (await events(auditor1, `?caseId=${caseA}&limit=1000`)).events.length;
    expect((await gw.api('GET', `/api/dossiers/${dossier}/pages/1`, clerk1)).status).to.equal(200);
    expect((await gw.api('GET', `/api/dossiers/${dossier}/pages/1/proof`, clerk1)).status).to.equal(200);
    expect((await gw.api('GET', `/api/dossiers/${dossier}/manifest`, clerk1)).status).to.equal(200);
    expect((await gw.api('GET', `/api/dossiers/${dossier}/export`, clerk1)).status).to.equal(200);
    // A refused read records nothing: the page does not exist.
    expect((await gw.api('GET', `/api/dossiers/${dossier}/pages/2`, clerk1)).status).to.equal(404);
    // The clerk's reads: the workers go on meanwhile (thumbnails, OCR) and record their own events.
    const added = (await events(auditor1, `?caseId=${caseA}&limit=1000`)).events.slice(before).filter((e) => e.actor === 'clerk-7');
    expect(added.map((e) => e.action)).to.deep.equal(['page.read', 'proof.read', 'manifest.read', 'dossier.export']);
    expect(added[0]).to.deep.include({ actor: 'clerk-7', agency: 'police-1', caseId: caseA, target: { type: 'page', id: `${dossier}/1` } });
    expect(added[3]!.target).to.deep.equal({ type: 'dossier', id: dossier });
  });

  it('records a thumbnail read like a page read, once the thumbnail exists', async () => {
    // Polling records nothing: a thumbnail not made yet is a 404, refused before any record.
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${dossier}/pages/1/thumbnail`, clerk1)).status === 200 ? true : undefined), 60_000, 'thumbnail');
    const list = (await events(auditor1, `?caseId=${caseA}&limit=1000`)).events;
    expect(list.filter((e) => e.action === 'thumbnail.read').map((e) => e.target.id)).to.deep.equal([`${dossier}/1`]);
  });

  it('shows an auditor only the cases its agency sees; another agency’s case is 404 like a missing one', async () => {
    const own = await events(auditor1, '?limit=1000');
    expect(own.events.some((e) => e.caseId === caseA)).to.equal(true);
    expect(own.events.some((e) => e.caseId === caseB)).to.equal(false);
    const other = await events(auditor2, '?limit=1000');
    expect(other.events.map((e) => e.caseId)).to.deep.equal([caseB]);

    const foreign = await events(auditor1, `?caseId=${caseB}`);
    const missing = await events(auditor1, `?caseId=${randomUUID()}`);
    expect(foreign.status).to.equal(404);
    expect(missing.status).to.equal(404);
    expect(foreign.json.error.code).to.equal(missing.json.error.code);
    expect((await events(auditor1, '?caseId=not-a-uuid')).status).to.equal(404);
  });

  it('pages with after/next in seq order', async () => {
    const all = (await events(auditor1, '?limit=1000')).events;
    const first = await events(auditor1, '?limit=2');
    expect(first.events.map((e) => e.seq)).to.deep.equal(all.slice(0, 2).map((e) => e.seq));
    expect(first.next).to.equal(all[1]!.seq);
    const second = await events(auditor1, `?limit=1000&after=${first.next}`);
    expect(second.events.map((e) => e.seq)).to.deep.equal(all.slice(2).map((e) => e.seq));
    expect(second.next).to.equal(null);
    expect((await events(auditor1, '?limit=0')).status).to.equal(400);
  });

  it('refuses roles that may not read the log (403; the supervisor 404), and lets the supervisor only verify', async () => {
    expect((await gw.api('GET', '/api/audit', clerk1)).status).to.equal(403);
    expect((await gw.api('GET', '/api/audit/verify', clerk1)).status).to.equal(403);
    const supervisor = await gw.token('committee', 'supervisor');
    // The supervisor reaches only supervision metadata: the log itself is 404 (server/supervisor-guard.ts).
    expect((await gw.api('GET', '/api/audit', supervisor)).status).to.equal(404);
    const verified = await gw.api('GET', '/api/audit/verify', supervisor);
    expect(verified.status).to.equal(200);
    expect(verified.json.ok).to.equal(true);
    expect(verified.json.checked).to.be.at.least(8);
    expect((await gw.api('GET', '/api/audit', null)).status).to.equal(401);
  });

  it('`dossier audit verify` exits 0 on the intact chain, 3 once the tail was cut below a kept anchor, 3 once a row was edited', async () => {
    const total = (await gw.api('GET', '/api/audit/verify', auditor1)).json.checked as number;
    expect((await gw.api('GET', '/api/audit/checkpoint', clerk1)).status).to.equal(403);
    const latest = await gw.api('GET', '/api/audit/checkpoint', auditor1);
    expect(latest.status).to.equal(200);
    expect(latest.json.seq).to.be.a('number').and.be.at.least(5);
    const anchor = path.join(dataDir, 'anchor.json');
    await fs.writeFile(anchor, JSON.stringify(latest.json));
    await gw.stop(); // the embedded database belongs to one process
    stopped = true;
    const env = { DATA_DIR: dataDir, DATABASE_URL: '' };
    // Background jobs (thumbnails, OCR) may still have appended events after `total` was read:
    // the CLI checks every event the stopped gateway left, at least those the API counted.
    const counted = await openPglite(path.join(dataDir, 'db'));
    const [row] = await counted.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    await counted.close();
    const events = row!.n;
    expect(events).to.be.at.least(total);
    const ok = await dossierCli(['audit', 'verify', '--json', '--anchor', anchor], env).done;
    expect(ok.code, ok.err).to.equal(0);
    expect(JSON.parse(ok.out)).to.deep.equal({ ok: true, checked: events });
    const notAnchor = path.join(dataDir, 'not-an-anchor.txt');
    await fs.writeFile(notAnchor, 'hello');
    expect((await dossierCli(['audit', 'verify', '--anchor', notAnchor], env).done).code).to.equal(2);

    // Whoever can write the database cuts the tail with its checkpoints and resets the head: the
    // database alone still looks whole; the anchor kept outside does not.
    const db = await openPglite(path.join(dataDir, 'db'));
    const cut = latest.json.seq as number;
    const [kept] = await db.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [cut - 1]);
    await db.query('DELETE FROM audit_events WHERE seq >= $1', [cut]);
    await db.query('DELETE FROM audit_checkpoints WHERE seq >= $1', [cut]);
    await db.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [cut - 1, kept!.hash]);
    await db.close();
    expect((await dossierCli(['audit', 'verify'], env).done).code).to.equal(0);
    const anchored = await dossierCli(['audit', 'verify', '--json', '--anchor', anchor], env).done;
    expect(anchored.code, anchored.err).to.equal(3);
    expect(JSON.parse(anchored.out)).to.include({ ok: false, firstBadSeq: cut });

    const db2 = await openPglite(path.join(dataDir, 'db'));
    await db2.query(`UPDATE audit_events SET actor = 'nobody' WHERE seq = 2`);
    await db2.close();
    const broken = await dossierCli(['audit', 'verify', '--json'], env).done;
    expect(broken.code, broken.err).to.equal(3);
    expect(JSON.parse(broken.out)).to.include({ ok: false, checked: 1, firstBadSeq: 2 });
    const brokenText = await dossierCli(['audit', 'verify'], env).done;
    expect(brokenText.code).to.equal(3);
    expect(brokenText.out).to.match(/NOT VERIFIED: audit chain broken at seq 2/);
  });
});
