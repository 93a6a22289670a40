/**
 * Single sign-on against a real OpenID provider (oidc-provider on 127.0.0.1): the whole
 * authorization code journey with PKCE, state and nonce, followed hop by hop by a real HTTP
 * client that does the provider's login and consent itself; the refusals (wrong state, a code
 * used twice, a nonce that does not match, a browser that did not start the journey, an agency
 * or role the gateway does not know); and an agency system's client-credentials access token
 * from the same provider accepted as a bearer token.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from './support/gateway.js';
import { startOidcProvider, type TestProvider } from './support/oidc-provider.js';
import { CookieClient, formOf, type Hop } from './support/cookie-client.js';
import { tempDir } from './support/fixtures.js';

const CALLBACK = '/api/session/oidc/callback';

describe('OpenID Connect sign-in and identity-provider tokens', function () {
  this.timeout(60_000);
  let idp: TestProvider;
  let gw: TestGateway;
  let dir: string;

  before(async function () {
    this.timeout(180_000); // a gateway's first start on a loaded machine
    idp = await startOidcProvider();
    dir = await tempDir('oidc-');
    const agenciesFile = path.join(dir, 'agencies.json');
    await fs.writeFile(agenciesFile, JSON.stringify([
      { id: 'police-1', name: 'City police', kind: 'police' },
      { id: 'proc-1', name: 'District procuratorate', kind: 'procuratorate' },
    ]));
    gw = await startGateway({
      AGENCIES_FILE: agenciesFile,
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: 'dossier-gateway',
      OIDC_CLIENT_SECRET: 'the gateway client secret',
      OIDC_SCOPES: 'openid dossier',
      // The provider's own names for them: the mapping is configured, not assumed.
      OIDC_CLAIM_USER: 'preferred_username',
      OIDC_CLAIM_AGENCY: 'org',
      OIDC_CLAIM_ROLES: 'groups',
      // Its access tokens are trusted as bearer tokens too.
      AUTH_JWKS_URL: `${idp.issuer}/jwks`,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: 'dossier-gateway',
    });
    await idp.configure({
      clientId: 'dossier-gateway',
      clientSecret: 'the gateway client secret',
      redirectUri: `${gw.url}${CALLBACK}`,
      accounts: {
        wang: { preferred_username: 'wang.li', org: 'police-1', groups: ['clerk'] },
        zhao: { preferred_username: 'zhao.min', org: 'proc-1', groups: ['prosecutor', 'judge'] },
        stranger: { preferred_username: 'x.stranger', org: 'nowhere', groups: ['clerk'] },
        janitor: { preferred_username: 'j.doe', org: 'police-1', groups: ['janitor'] },
        roleless: { preferred_username: 'no.role', org: 'police-1' },
      },
      machineClients: [
        { clientId: 'police-records-system', clientSecret: 'machine secret', tokenClaims: { agency: 'police-1', roles: ['clerk'] } },
        { clientId: 'unmapped-system', clientSecret: 'machine secret 2', tokenClaims: {} },
      ],
    });
  });
  after(async () => {
    await gw?.stop();
    await idp?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const isCallback = (u: string) => u.startsWith(`${gw.url}${CALLBACK}`);

  /** From the gateway's start route through the provider's login and consent, up to (not into) the callback. */
  async function toCallback(client: CookieClient, account: string, tamper: (authUrl: URL) => URL = (u) => u): Promise<string> {
    const start = await client.request(`${gw.url}/api/session/oidc?return=/cases`);
    expect(start.status).to.equal(302);
    const auth = new URL(start.location!);
    expect(auth.origin).to.equal(idp.issuer);
    expect(auth.searchParams.get('code_challenge_method')).to.equal('S256');
    for (const p of ['code_challenge', 'state', 'nonce']) expect(auth.searchParams.get(p)).to.have.length.greaterThan(20);
    let hops: Hop[] = await client.follow(tamper(auth).href, isCallback);
    for (let step = 0; step < 4; step++) {
      const last = hops.at(-1)!;
      if (last.location && isCallback(last.location)) return last.location;
      expect(last.status, last.body.slice(0, 300)).to.equal(200);
      const form = formOf(last.body, last.url);
      const fields = form.fields.prompt === 'login' ? { ...form.fields, login: account, password: 'any' } : form.fields;
      hops = await client.follow(form.action, isCallback, { form: fields });
    }
    throw new Error('the provider never sent the browser back');
  }

  async function session(client: CookieClient) {
    const cookie = client.cookie(gw.url, 'dossier_session');
    const res = await fetch(`${gw.url}/api/session`, { headers: cookie ? { cookie: `dossier_session=${cookie}` } : {} });
    return { status: res.status, json: (await res.json()) as { user: string; agency: string; roles: string[]; csrfToken: string } };
  }

  it('tells the sign-in screen that the identity provider is offered', async () => {
    const r = await gw.api('GET', '/api/session/methods', null);
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.include({ local: true });
    expect(r.json.oidc.start).to.equal('/api/session/oidc');
  });

  it('signs a user in through the provider; the gateway keeps the session', async () => {
    const browser = new CookieClient();
    const callback = await toCallback(browser, 'zhao');
    const back = await browser.request(callback);
    expect(back.status, back.body).to.equal(303);
    expect(back.location).to.equal(`${gw.url}/cases`);
    const s = await session(browser);
    expect(s.status).to.equal(200);
    expect(s.json).to.include({ user: 'zhao.min', agency: 'proc-1' });
    expect(s.json.roles).to.deep.equal(['prosecutor', 'judge']);

    // The session acts like a local one: CSRF-checked writes, the agency's view, sign-out on the server.
    const cookie = `dossier_session=${browser.cookie(gw.url, 'dossier_session')}`;
    const noCsrf = await fetch(`${gw.url}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(noCsrf.status).to.equal(403);
    const cases = await fetch(`${gw.url}/api/cases`, { headers: { cookie } });
    expect(cases.status).to.equal(200);
    const out = await fetch(`${gw.url}/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': s.json.csrfToken } });
    expect(out.status).to.equal(204);
    expect((await fetch(`${gw.url}/api/cases`, { headers: { cookie } })).status).to.equal(401);

    const audit = await gw.gateway.db.query<{ details: { via?: string; issuer?: string; roles?: string[] } }>(`SELECT details FROM audit_events WHERE action = 'session.start' AND actor = 'zhao.min'`);
    expect(audit).to.have.length(1);
    expect(audit[0]!.details).to.deep.include({ via: 'oidc', issuer: idp.issuer, roles: ['prosecutor', 'judge'] });
  });

  it('refuses a callback with another state', async () => {
    const browser = new CookieClient();
    const callback = new URL(await toCallback(browser, 'wang'));
    callback.searchParams.set('state', 'x'.repeat(43));
    const r = await browser.request(callback.href);
    expect(r.status).to.equal(401);
    expect(JSON.parse(r.body).error.code).to.equal('sign_in_failed');
    expect((await session(browser)).status).to.equal(401);
  });

  it('refuses a replayed callback, and the same code under a new state', async () => {
    const browser = new CookieClient();
    const callback = await toCallback(browser, 'wang');
    expect((await browser.request(callback)).status).to.equal(303);
    const replay = await browser.request(callback);
    expect(replay.status).to.equal(401);
    expect(JSON.parse(replay.body).error.message).to.contain('already used');

    // A fresh journey's state with the old code: the provider itself refuses the used code.
    const start = await browser.request(`${gw.url}/api/session/oidc`);
    const state = new URL(start.location!).searchParams.get('state')!;
    const reused = new URL(callback);
    reused.searchParams.set('state', state);
    const r = await browser.request(reused.href);
    expect(r.status).to.equal(401);
    expect(JSON.parse(r.body).error).to.include({ code: 'sign_in_failed' });
    expect(JSON.parse(r.body).error.message).to.contain('invalid_grant');
  });

  it('refuses an ID token whose nonce is not the one the journey sent', async () => {
    const browser = new CookieClient();
    const callback = await toCallback(browser, 'wang', (u) => {
      const t = new URL(u);
      t.searchParams.set('nonce', 'n'.repeat(43));
      return t;
    });
    const r = await browser.request(callback);
    expect(r.status).to.equal(401);
    expect(JSON.parse(r.body).error.code).to.equal('sign_in_failed');
    expect(JSON.parse(r.body).error.message, r.body).to.contain("nonce");
    expect((await session(browser)).status).to.equal(401);
  });

  it('refuses a callback in a browser that did not start the journey (login CSRF)', async () => {
    const attacker = new CookieClient();
    const callback = await toCallback(attacker, 'wang');
    const victim = new CookieClient();
    const r = await victim.request(callback);
    expect(r.status).to.equal(401);
    expect(JSON.parse(r.body).error.message).to.contain('another browser');
    expect(victim.cookie(gw.url, 'dossier_session')).to.equal(undefined);
  });

  for (const [account, words] of [['stranger', 'agency "nowhere"'], ['janitor', 'role "janitor"'], ['roleless', 'no "groups" claim']] as const) {
    it(`refuses ${account}: ${words} (no default role)`, async () => {
      const browser = new CookieClient();
      const r = await browser.request(await toCallback(browser, account));
      expect(r.status).to.equal(403);
      const e = JSON.parse(r.body).error;
      expect(e.code).to.equal('identity_refused');
      expect(e.message).to.contain(words);
      expect(browser.cookie(gw.url, 'dossier_session')).to.equal(undefined);
    });
  }

  describe('an agency system with the client-credentials grant at its identity provider', () => {
    async function clientCredentials(clientId: string, secret: string, resource = 'urn:dossier:gateway') {
      const res = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'dossier' }),
      });
      const json = (await res.json()) as { access_token: string; token_type: string };
      expect(res.status, JSON.stringify(json)).to.equal(200);
      return json.access_token;
    }

    it('is accepted as its agency and role, checked against the issuer’s JWKS', async () => {
      const token = await clientCredentials('police-records-system', 'machine secret');
      const who = await gw.api('GET', '/api/session', token);
      expect(who.status).to.equal(200);
      expect(who.json).to.deep.equal({ user: 'police-records-system', agency: 'police-1', roles: ['clerk'] });
      const made = await gw.api('POST', '/api/cases', token, { number: 'SYS-1', title: 'from the records system' });
      expect(made.status).to.equal(201);
      expect(made.json.agency).to.equal('police-1');
    });

    it('is refused without agency and role claims, or altered', async () => {
      const unmapped = await clientCredentials('unmapped-system', 'machine secret 2');
      expect((await gw.api('GET', '/api/cases', unmapped)).status).to.equal(401);
      const good = await clientCredentials('police-records-system', 'machine secret');
      const [h, p, s] = good.split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
      const forged = [h, Buffer.from(JSON.stringify({ ...payload, agency: 'proc-1' })).toString('base64url'), s].join('.');
      expect((await gw.api('GET', '/api/cases', forged)).status).to.equal(401);
    });
  });
});
