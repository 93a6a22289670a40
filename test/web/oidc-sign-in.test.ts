/**
 * A user signs in to the web application through the agency's OpenID provider in chromium: the
 * sign-in screen's provider button, the provider's own login and consent pages (oidc-provider on
 * 127.0.0.1), back to the gateway with the session cookie, and the application signed in as the
 * mapped user and agency. axe-core on the sign-in screen with the button; screenshots of each step.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { browserSuiteReady, expectAccessible, launchChromium, screenshot, watchPage } from '../support/browser.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';

describe('web application: sign-in through the OpenID provider (chromium)', function () {
  this.timeout(180_000);
  let idp: TestProvider;
  let gw: TestGateway;
  let browser: Browser;
  let dir: string;

  before(async function () {
    if (!browserSuiteReady(this)) return;
    idp = await startOidcProvider();
    dir = await tempDir('web-oidc-');
    const agencies = path.join(dir, 'agencies.json');
    await fs.writeFile(agencies, JSON.stringify([{ id: 'procuratorate-1', name: 'District procuratorate', kind: 'procuratorate' }]));
    gw = await startGateway({ AGENCIES_FILE: agencies, WORKERS: 'none', OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: 'gateway-web', OIDC_CLIENT_SECRET: 'web client secret', OIDC_SCOPES: 'openid dossier' });
    await idp.configure({
      clientId: 'gateway-web',
      clientSecret: 'web client secret',
      redirectUri: `${gw.url}/api/session/oidc/callback`,
      accounts: { 'judge-sun': { agency: 'procuratorate-1', roles: ['prosecutor'] } },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await idp?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('signs in with the provider and lands in the application as the mapped user', async () => {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(gw.url);
    const button = page.getByRole('link', { name: 'Sign in with the agency’s identity provider' });
    await button.waitFor();
    await expectAccessible(page, 'sign in with a provider');
    await screenshot(page, 'oidc-01-sign-in');
    await button.click();

    // The provider's own pages: login, then consent.
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.locator('input[name=login]').fill('judge-sun');
    await page.locator('input[name=password]').fill('anything');
    await screenshot(page, 'oidc-02-provider-login');
    await page.locator('button[type=submit]').click();
    const consent = page.locator('button[type=submit]', { hasText: 'Continue' });
    await consent.waitFor();
    await screenshot(page, 'oidc-03-provider-consent');
    await consent.click();

    await page.waitForURL((u) => u.origin === gw.url);
    await page.locator('header.top').waitFor();
    expect(await page.locator('header.top').textContent()).to.contain('judge-sun').and.contain('procuratorate-1');
    await screenshot(page, 'oidc-04-signed-in');
    const cookies = await context.cookies(gw.url);
    const session = cookies.find((c) => c.name === 'dossier_session');
    expect(session, 'session cookie').to.include({ httpOnly: true, sameSite: 'Strict' });
    expect(cookies.find((c) => c.name === 'dossier_oidc'), 'the journey cookie is spent').to.equal(undefined);
    expect(problems, 'CSP violations or page errors').to.deep.equal([]);
    await context.close();
  });
});
