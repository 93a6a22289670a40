/**
 * Browser sessions of local accounts: sign-in, the cookie's attributes, no session fixation, CSRF on state-changing
 * requests, the same access rules as a bearer token, lockout after failures, idle and absolute
 * expiry, sign-out ending the session on the server, and the `dossier user` CLI.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { hashPassword, passwordProblem, verifyPassword } from '../dossier/access/passwords.js';
import { resumeSession } from '../dossier/access/sign-in.js';
import type { Role } from '../dossier/model.js';
import { SqlSessionRepository } from '../storage/db/account-repository.js';
import { dossierCli } from './support/cli.js';
import { startGateway, type TestGateway } from './support/gateway.js';

const PASSWORD = 'correct horse battery staple';

interface Signed {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: any;
}

async function signInAs(gw: TestGateway, user: string, password = PASSWORD): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  return { status: res.status, json: await res.json().catch(() => null), headers: res.headers };
}

async function session(gw: TestGateway, user: string): Promise<Signed> {
  const res = await signInAs(gw, user);
  expect(res.status, JSON.stringify(res.json)).to.equal(201);
  const setCookie = res.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, csrf: res.json.csrfToken, setCookie, body: res.json };
}

const body = async (res: Response): Promise<any> => res.json();

const call = (gw: TestGateway, method: string, route: string, s: { cookie: string; csrf?: string }, body?: unknown) =>
  fetch(`${gw.url}${route}`, {
    method,
    headers: { cookie: s.cookie, ...(s.csrf ? { 'x-csrf-token': s.csrf } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('browser sessions', function () {
  let gw: TestGateway;
  const addAccount = async (userId: string, agency: string, roles: Role[]) =>
    gw.gateway.accounts.create({ userId, agency, roles, passwordHash: await hashPassword(PASSWORD) }, new Date());

  before(async () => {
    gw = await startGateway({ WORKERS: 'none' });
    await addAccount('clerk-a', 'police-1', ['clerk']);
    await addAccount('prosecutor-b', 'procuratorate-1', ['prosecutor']);
    await addAccount('locked-c', 'police-1', ['clerk']);
    await addAccount('disabled-d', 'police-1', ['clerk']);
  });
  after(() => gw.stop());

  it('signs in with an httpOnly, SameSite=Strict cookie that reaches the API', async () => {
    const s = await session(gw, 'clerk-a');
    expect(s.setCookie).to.match(/^dossier_session=[A-Za-z0-9_-]{43};/);
    expect(s.setCookie).to.match(/HttpOnly/i).and.match(/SameSite=Strict/i).and.match(/Path=\//).and.match(/Max-Age=43200/);
    expect(s.setCookie).not.to.match(/Secure/i); // plain HTTP: a Secure cookie would never come back
    expect(s.body).to.include({ user: 'clerk-a', agency: 'police-1' });
    expect(s.body.roles).to.deep.equal(['clerk']);
    const res = await call(gw, 'GET', '/api/session', s);
    expect(res.status).to.equal(200);
    expect((await body(res)).csrfToken).to.equal(s.csrf);
    expect((await call(gw, 'GET', '/api/cases', s)).status).to.equal(200);
  });

  it('gives a fresh session at every sign-in: a session id planted beforehand (fixation) or one already signed in is never adopted', async () => {
    const planted = `dossier_session=${'A'.repeat(43)}`;
    const before = await session(gw, 'clerk-a');
    // Sign in with the planted cookie, then again with a live one: each answer sets an id of its own.
    for (const sent of [planted, before.cookie]) {
      const res = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: sent }, body: JSON.stringify({ user: 'clerk-a', password: PASSWORD }) });
      expect(res.status).to.equal(201);
      const issued = res.headers.get('set-cookie')!.split(';')[0]!;
      expect(issued).to.not.equal(sent);
      expect(issued).to.not.equal(planted);
      expect((await call(gw, 'GET', '/api/cases', { cookie: issued })).status).to.equal(200);
    }
    // The planted id authenticates nothing, before or after the victim signed in with it.
    expect((await call(gw, 'GET', '/api/cases', { cookie: planted })).status).to.equal(401);
  });

  it('refuses a state-changing request without the session’s CSRF token', async () => {
    const s = await session(gw, 'clerk-a');
    const none = await call(gw, 'POST', '/api/cases', { cookie: s.cookie }, { number: 'S-1', title: 't' });
    expect(none.status).to.equal(403);
    expect((await body(none)).error.code).to.equal('csrf_failed');
    const other = await session(gw, 'clerk-a');
    const wrong = await call(gw, 'POST', '/api/cases', { cookie: s.cookie, csrf: other.csrf }, { number: 'S-1', title: 't' });
    expect(wrong.status).to.equal(403);
    const ok = await call(gw, 'POST', '/api/cases', s, { number: 'S-1', title: 't' });
    expect(ok.status).to.equal(201);
    expect((await body(ok)).agency).to.equal('police-1');
    // tus too: creating an upload is state-changing.
    const tus = await fetch(`${gw.url}/files/`, { method: 'POST', headers: { cookie: s.cookie, 'tus-resumable': '1.0.0', 'upload-length': '10' } });
    expect(tus.status).to.equal(403);
  });

  it('applies the same access rules as a bearer token', async () => {
    const clerk = await session(gw, 'clerk-a');
    const made = await body(await call(gw, 'POST', '/api/cases', clerk, { number: 'S-2', title: 'visible to police only' }));
    const prosecutor = await session(gw, 'prosecutor-b');
    expect((await call(gw, 'GET', `/api/cases/${made.id}`, prosecutor)).status).to.equal(404);
    const forbidden = await call(gw, 'POST', '/api/cases', prosecutor, { number: 'S-3', title: 't' });
    expect(forbidden.status).to.equal(403);
    expect((await body(forbidden)).error.code).to.equal('forbidden');
    // A bearer token alone still works, and needs no CSRF token.
    const bearer = await gw.api('POST', '/api/cases', await gw.token('police-1', 'clerk'), { number: 'S-4', title: 't' });
    expect(bearer.status).to.equal(201);
  });

  it('answers a wrong password and an unknown user alike, and locks after five failures', async () => {
    const wrong = await signInAs(gw, 'locked-c', 'not the password');
    const unknown = await signInAs(gw, 'nobody', 'not the password');
    expect([wrong.status, unknown.status]).to.deep.equal([401, 401]);
    expect(wrong.json).to.deep.equal(unknown.json);
    expect(wrong.json.error.code).to.equal('invalid_credentials');
    for (let i = 0; i < 4; i++) expect((await signInAs(gw, 'locked-c', 'still wrong')).status).to.equal(401);
    const locked = await signInAs(gw, 'locked-c'); // the right password, but locked now
    expect(locked.status).to.equal(429);
    expect(locked.json.error.code).to.equal('too_many_attempts');
    expect(Number(locked.headers.get('retry-after'))).to.be.within(1, 30);
    // A reset clears the lock.
    await gw.gateway.accounts.setPassword('locked-c', await hashPassword(PASSWORD), new Date());
    expect((await signInAs(gw, 'locked-c')).status).to.equal(201);
  });

  it('signs out on the server: the old cookie no longer works', async () => {
    const s = await session(gw, 'clerk-a');
    expect((await call(gw, 'DELETE', '/api/session', { cookie: s.cookie })).status).to.equal(403);
    const out = await call(gw, 'DELETE', '/api/session', s);
    expect(out.status).to.equal(204);
    expect(out.headers.get('set-cookie')).to.match(/^dossier_session=;.*Max-Age=0/i);
    const after = await call(gw, 'GET', '/api/cases', s);
    expect(after.status).to.equal(401);
    expect((await body(after)).error.code).to.equal('unauthenticated');
  });

  it('ends a session after the idle time and after the absolute lifetime', async () => {
    const s = await session(gw, 'clerk-a');
    const secret = s.cookie.split('=')[1]!;
    const deps = { accounts: gw.gateway.accounts, sessions: new SqlSessionRepository(gw.gateway.db), policy: { idleSeconds: 1800, absoluteSeconds: 43200 } };
    const at = (seconds: number) => new Date(Date.now() + seconds * 1000);
    expect(await resumeSession(deps, secret, at(29 * 60))).to.not.equal(null); // used again: idle clock restarts
    expect(await resumeSession(deps, secret, at(58 * 60))).to.not.equal(null);
    expect(await resumeSession(deps, secret, at(58 * 60 + 31 * 60))).to.equal(null); // idle too long
    const busy = { ...deps, policy: { idleSeconds: 7 * 86400, absoluteSeconds: 43200 } };
    expect(await resumeSession(busy, secret, at(11 * 3600))).to.not.equal(null);
    expect(await resumeSession(busy, secret, at(12 * 3600 + 5))).to.equal(null); // past the absolute expiry
  });

  it('a disabled account’s sessions stop and it cannot sign in', async () => {
    const s = await session(gw, 'disabled-d');
    await gw.gateway.accounts.setDisabled('disabled-d', true, new Date());
    expect((await call(gw, 'GET', '/api/cases', s)).status).to.equal(401);
    const again = await signInAs(gw, 'disabled-d');
    expect(again.status).to.equal(403);
  });
});

describe('browser sessions behind HTTPS', () => {
  it('marks the cookie Secure with the __Host- prefix when PUBLIC_URL is https', async () => {
    const gw = await startGateway({ WORKERS: 'none', PUBLIC_URL: 'https://dossiers.example' });
    try {
      await gw.gateway.accounts.create({ userId: 'clerk-s', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
      const s = await session(gw, 'clerk-s');
      expect(s.setCookie).to.match(/^__Host-dossier_session=/).and.match(/; Secure/i);
      expect((await call(gw, 'GET', '/api/cases', s)).status).to.equal(200);
    } finally {
      await gw.stop();
    }
  });
});

describe('passwords', () => {
  it('refuses short passwords and verifies only the right one', async () => {
    expect(passwordProblem('short')).to.match(/12 characters/);
    expect(passwordProblem(PASSWORD)).to.equal(null);
    const hash = await hashPassword(PASSWORD);
    expect(hash).to.match(/^scrypt\$15\$8\$1\$/);
    expect(await verifyPassword(PASSWORD, hash)).to.equal(true);
    expect(await verifyPassword(`${PASSWORD}!`, hash)).to.equal(false);
    expect(await verifyPassword(PASSWORD, 'md5$abc')).to.equal(false);
  });
});

describe('dossier user (CLI)', function () {
  this.timeout(120_000);
  it('adds, lists, resets and disables accounts that then sign in (or not)', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-users-'));
    try {
      await (await startGateway({ WORKERS: 'none', DATA_DIR: dataDir })).stop(); // a migrated database
      const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
      const run = async (args: string[], stdin?: string) => {
        const r = dossierCli(args, env);
        r.child.stdin!.end(stdin ?? '');
        return r.done;
      };
      const added = await run(['user', 'add', '--agency', 'police-9', '--user', 'clerk-9', '--role', 'clerk', '--password-stdin', '--json'], `${PASSWORD}\n`);
      expect(added.code, added.err).to.equal(0);
      expect(JSON.parse(added.out)).to.deep.equal({ user: 'clerk-9', agency: 'police-9', roles: ['clerk'] });
      const reset = await run(['user', 'reset', '--user', 'clerk-9', '--password-stdin'], 'a brand new passphrase\n');
      expect(reset.code, reset.err).to.equal(0);

      const gw = await startGateway({ WORKERS: 'none', DATA_DIR: dataDir });
      try {
        expect((await signInAs(gw, 'clerk-9')).status).to.equal(401); // the old password
        expect((await signInAs(gw, 'clerk-9', 'a brand new passphrase')).status).to.equal(201);
      } finally {
        await gw.stop();
      }
      const disabled = await run(['user', 'disable', '--user', 'clerk-9']);
      expect(disabled.code, disabled.err).to.equal(0);
      expect(disabled.out).to.match(/1 session\(s\) ended/);
      const listed = await run(['user', 'list', '--json']);
      expect(JSON.parse(listed.out)).to.deep.equal([{ user: 'clerk-9', agency: 'police-9', roles: ['clerk'], disabled: true, locked: false }]);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
