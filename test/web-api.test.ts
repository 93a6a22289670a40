/**
 * The HTTP routes the web application's new screens stand on, through real clients: a dossier's
 * progress as Server-Sent Events (the `eventsource` package) from upload to sealed and
 * searchable, access-checked like the dossier; the links of a dossier listed with their uses,
 * their state and a URL that still works; local accounts managed by an agency's admin.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import { jpegPage, zipOf } from '../scripts/bench/fixtures/small-dossiers.js';
import { agenciesWithCommittee, sealedDossier } from './support/custody.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { idFromUrl, tusUpload } from './support/tus.js';

interface Progress {
  status: string;
  pageCount: number | null;
  progress: { pages: number; ocr: { done: number; failed: number; total: number } | null };
}

/** Every event of a progress stream until the server ends it (or `ms` pass). */
function progressEvents(gw: TestGateway, token: string, id: string, ms = 120_000): Promise<{ type: string; data: Progress }[]> {
  return new Promise((resolve, reject) => {
    const seen: { type: string; data: Progress }[] = [];
    const source = new EventSource(`${gw.url}/api/dossiers/${id}/progress`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, Authorization: `Bearer ${token}` } }),
    });
    const timer = setTimeout(() => (source.close(), reject(new Error(`no done event in ${ms} ms: ${JSON.stringify(seen.map((e) => e.type))}`))), ms);
    source.addEventListener('progress', (e) => seen.push({ type: 'progress', data: JSON.parse(e.data) }));
    source.addEventListener('done', (e) => {
      seen.push({ type: 'done', data: JSON.parse(e.data) });
      clearTimeout(timer);
      source.close();
      resolve(seen);
    });
    source.onerror = (e) => {
      if (e.code !== undefined && e.code >= 400) {
        clearTimeout(timer);
        source.close();
        reject(Object.assign(new Error(`stream refused: ${e.code}`), { status: e.code }));
      }
    };
  });
}

describe('web application routes: progress stream, link list, accounts', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;

  before(async () => {
    dir = await tempDir('web-api-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesWithCommittee(dir), OCR_WORKERS: '1' });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'WEB-1' })).json.id;
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('streams a dossier’s progress from processing to sealed and searchable, then ends', async () => {
    const zip = await zipOf(path.join(dir, 'live.zip'), await Promise.all([1, 2, 3, 4].map(async (i) => ({ name: `${i}.jpg`, data: await jpegPage(700 + i) }))));
    const id = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: 'live.zip', caseId } }).done);
    const events = await progressEvents(gw, clerk, id);
    const last = events[events.length - 1]!;
    expect(last.type).to.equal('done');
    expect(last.data.status).to.equal('sealed');
    expect(last.data.progress.ocr).to.include({ total: 4 });
    expect(last.data.progress.ocr!.done + last.data.progress.ocr!.failed).to.equal(4);
    // Only changes are sent: no two progress events alike; states never go back.
    const bodies = events.filter((e) => e.type === 'progress').map((e) => JSON.stringify(e.data));
    expect(new Set(bodies).size).to.equal(bodies.length);
    const order = ['receiving', 'processing', 'sealed'];
    const states = events.map((e) => order.indexOf(e.data.status));
    expect(states).to.deep.equal([...states].sort((a, b) => a - b));
    // A settled dossier: one progress event and the done, at once.
    const again = await progressEvents(gw, clerk, id, 20_000);
    expect(again.map((e) => e.type)).to.deep.equal(['progress', 'done']);
  });

  it('refuses the progress stream as the dossier: 404 to another agency and to a supervisor, 401 without a token', async () => {
    const d = await sealedDossier(gw, clerk, caseId, 71, 1);
    for (const token of [await gw.token('court-1', 'judge'), await gw.token('committee-1', 'supervisor')]) {
      const err = await progressEvents(gw, token, d.id, 20_000).then(() => null, (e: Error & { status?: number }) => e);
      expect(err?.status).to.equal(404);
    }
    const res = await fetch(`${gw.url}/api/dossiers/${d.id}/progress`);
    expect(res.status).to.equal(401);
  });

  it('lists a dossier’s links with their uses and state, and a listed URL downloads', async () => {
    const d = await sealedDossier(gw, clerk, caseId, 72, 2);
    const many = (await gw.api('POST', `/api/dossiers/${d.id}/links`, clerk, { ttl: '1h' })).json;
    const once = (await gw.api('POST', `/api/dossiers/${d.id}/links`, clerk, { singleUse: true })).json;
    const gone = (await gw.api('POST', `/api/dossiers/${d.id}/links`, clerk, {})).json;
    expect((await gw.api('DELETE', `/api/links/${gone.id}`, clerk)).status).to.equal(204);
    for (const url of [many.url, many.url, once.url]) expect((await fetch(`${url}/pages/1`)).status).to.equal(200);

    const listed = (await gw.api('GET', `/api/dossiers/${d.id}/links`, clerk)).json.links as Record<string, any>[];
    const byId = new Map(listed.map((l) => [l.id, l]));
    expect(listed.map((l) => l.id)).to.have.members([many.id, once.id, gone.id]);
    expect(byId.get(many.id)).to.include({ state: 'active', uses: 2, singleUse: false, url: many.url });
    expect(byId.get(many.id)!.firstUsedAt).to.be.a('string');
    expect(byId.get(once.id)).to.include({ state: 'used', uses: 1, url: null });
    expect(byId.get(gone.id)).to.include({ state: 'revoked', uses: 0, url: null });
    // The listed URL is the issued one, and it works.
    expect((await fetch(`${byId.get(many.id)!.url}/pages/2`)).status).to.equal(200);
    // Another agency's links are not listed to it, nor the dossier it does not see.
    expect((await gw.api('GET', `/api/dossiers/${d.id}/links`, await gw.token('court-1', 'judge'))).status).to.equal(404);
  });

  it('an agency’s admin adds, disables, enables and resets local accounts of that agency only', async () => {
    const admin = await gw.token('police-1', 'admin');
    const password = 'a long enough password';
    const made = await gw.api('POST', '/api/accounts', admin, { user: 'clerk-new', roles: ['clerk'], password });
    expect(made.status).to.equal(201);
    expect(made.json).to.include({ user: 'clerk-new', agency: 'police-1', disabled: false });
    expect(JSON.stringify(made.json)).not.to.include(password);
    expect((await gw.api('POST', '/api/accounts', admin, { user: 'clerk-new', roles: ['clerk'], password })).status).to.equal(409);
    expect((await gw.api('POST', '/api/accounts', admin, { user: 'weak', roles: ['clerk'], password: 'short' })).status).to.equal(400);

    const signIn = async (pw: string) => fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'clerk-new', password: pw }) });
    const first = await signIn(password);
    expect(first.status).to.equal(201);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const whoAmI = () => fetch(`${gw.url}/api/session`, { headers: { Cookie: cookie } }).then((r) => r.status);
    expect(await whoAmI()).to.equal(200);

    expect((await gw.api('PATCH', '/api/accounts/clerk-new', admin, { disabled: true })).json).to.include({ disabled: true });
    expect(await whoAmI()).to.equal(401); // its session ended
    expect((await signIn(password)).status).to.equal(403); // a disabled account may not sign in
    expect((await gw.api('PATCH', '/api/accounts/clerk-new', admin, { disabled: false, password: 'another long password' })).json).to.include({ disabled: false });
    expect((await signIn(password)).status).to.equal(401);
    expect((await signIn('another long password')).status).to.equal(201);

    // Another agency's admin: the account does not exist to them; a clerk may not manage accounts.
    const courtAdmin = await gw.token('court-1', 'admin');
    expect((await gw.api('PATCH', '/api/accounts/clerk-new', courtAdmin, { disabled: true })).status).to.equal(404);
    expect(((await gw.api('GET', '/api/accounts', courtAdmin)).json.accounts as { user: string }[]).map((a) => a.user)).not.to.include('clerk-new');
    expect((await gw.api('GET', '/api/accounts', clerk)).status).to.equal(403);
    const audit = await gw.gateway.db.query<{ action: string }>(`SELECT action FROM audit_events WHERE action LIKE 'account.%' ORDER BY seq`);
    expect(audit.map((a) => a.action)).to.deep.equal(['account.create', 'account.update', 'account.update']);
  });
});
