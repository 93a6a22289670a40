/**
 * The browser's verification panel on a dossier sealed under the national suite: SM2 and SM3 run
 * in JavaScript (WebCrypto has neither), loaded lazily only for such a manifest. The panel passes,
 * then names the page whose stored bytes were changed on disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { browserSuiteReady, launchChromium, screenshot, watchPage } from '../support/browser.js';
import { agenciesFile, sealedDossier } from '../support/custody.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { pageOnDisk } from '../support/page-on-disk.js';

const PASSWORD = 'correct horse battery staple';
const PAGES = 4;

describe('web verification panel, national suite (SM2 / SM3)', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let browser: Browser;
  let dir: string;
  let dossierId: string;

  before(async function () {
    if (!browserSuiteReady(this)) return;
    dir = await tempDir('web-sm2-');
    gw = await startGateway({ SIGNATURE_SUITE: 'sm2-sm3', AGENCIES_FILE: await agenciesFile(dir) });
    await gw.gateway.accounts.create({ userId: 'clerk-sm', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'SM2-WEB-1' })).json.id;
    dossierId = (await sealedDossier(gw, clerk, caseId, 41, PAGES)).id;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('passes with SM2 and SM3 loaded lazily, then names the page changed on disk', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    const scripts: string[] = [];
    page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname));
    await page.goto(gw.url);
    await page.fill('input[name=user]', 'clerk-sm');
    await page.fill('input[name=password]', PASSWORD);
    await page.locator('form button[type=submit]').click();
    await page.locator('header.top').waitFor();
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.getByRole('button', { name: 'Verify every page' }).waitFor();
    expect(scripts.some((s) => s.includes('verify-sm2')), 'the SM2 code is not loaded before it is needed').to.equal(false);
    await page.getByRole('button', { name: 'Verify every page' }).click();
    await page.locator('[data-verify=ok]').waitFor();
    expect(await page.locator('[data-verify=ok]').textContent()).to.match(new RegExp(`all ${PAGES} pages match`));
    expect(scripts.some((s) => s.includes('verify-sm2'))).to.equal(true);
    await screenshot(page, 'sm2-verified-en');

    const pages = (await gw.api('GET', `/api/dossiers/${dossierId}/pages`, await gw.token('police-1', 'clerk'))).json as { sha256: string; sm3: string }[];
    expect(pages[1]!.sm3).to.match(/^[0-9a-f]{64}$/);
    const sha = pages[1]!.sha256;
    const where = (await pageOnDisk(gw, sha))!;
    const file = where.file;
    const bytes = await fs.readFile(file);
    bytes[where.start + (where.size >> 1)]! ^= 0x01;
    await fs.writeFile(file, bytes);
    await page.getByRole('button', { name: 'Verify every page' }).click();
    await page.locator('[data-verify=failed]').waitFor();
    const failed = await page.locator('[data-verify=failed]').textContent();
    expect(failed).to.include('Page 2 does not match');
    expect(failed).not.to.match(/Page [134]\b/);
    await context.close();
    expect(problems, 'CSP violations or page errors').to.deep.equal([]);
  });
});
