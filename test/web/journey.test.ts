/**
 * The web application in a real browser (Debian's chromium through playwright-core) against the
 * gateway on loopback: a clerk signs in, creates a case, drops a scanned dossier on it, sees it
 * sealed with thumbnails and sends it; a prosecutor accepts it, searches a word only page 5
 * holds and lands on that page with the word marked; the verification panel passes, then names
 * the page whose stored bytes were changed on disk; a signed link opens without an account; the
 * screens again in zh-CN. axe-core runs on every screen; every step leaves a screenshot.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import type { Role } from '../../dossier/model.js';
import { defaultWebDir } from '../../server/web-app.js';
import { chromiumAvailable, expectAccessible, launchChromium, screenshot, watchPage } from '../support/browser.js';
import { AGENCIES } from '../support/custody.js';
import { testEnv } from '../support/env.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { headerScan, ocrFinished, uniqueToken, zipDossier } from '../support/ocr-fixtures.js';

const PASSWORD = 'correct horse battery staple';
const PAGES = 6;
const SEARCHED_PAGE = 5;

/** In the page: at least n thumbnails have loaded (a function, not a string: the CSP forbids eval). */
const thumbnailsShown = (n: number) => {
  const doc = (globalThis as any).document;
  return [...doc.querySelectorAll('img.thumb')].filter((i: any) => i.complete && i.naturalWidth > 0).length >= n;
};

describe('web application in chromium', function () {
  this.timeout(240_000);
  this.bail(true); // one journey: a later step needs the earlier ones
  let gw: TestGateway;
  let browser: Browser;
  let zip: Buffer;
  const problems: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      if (testEnv.ci) throw new Error('/usr/bin/chromium is missing: .ci/run installs the chromium package');
      console.log('    (skipped: /usr/bin/chromium is not installed; apt-get install chromium)');
      return this.skip();
    }
    if (!defaultWebDir()) throw new Error('the web application is not built: npm run build:web');
    gw = await startGateway({ OCR_WORKERS: '2' });
    const admin = await gw.token('admin-0', 'admin');
    for (const a of AGENCIES) expect((await gw.api('POST', '/api/agencies', admin, a)).status).to.equal(201);
    const account = async (userId: string, agency: string, roles: Role[]) =>
      gw.gateway.accounts.create({ userId, agency, roles, passwordHash: await hashPassword(PASSWORD) }, new Date());
    await account('clerk-li', 'police-1', ['clerk']);
    await account('prosecutor-wang', 'procuratorate-1', ['prosecutor']);
    await account('auditor-zhao', 'police-1', ['auditor']);
    const dir = await tempDir('web-journey-');
    const pages = await Promise.all(Array.from({ length: PAGES }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await headerScan(i + 1, PAGES) })));
    zip = await zipDossier(dir, 'scans.zip', pages);
    await fs.rm(dir, { recursive: true, force: true });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'passed') expect(problems, 'CSP violations or page errors').to.deep.equal([]);
  });

  const newPage = async (locale: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const seen = watchPage(page);
    page.on('close', () => problems.push(...seen));
    return { context, page };
  };

  const signIn = async (page: Page, user: string, shot: string) => {
    await page.goto(gw.url);
    await page.locator('input[name=user]').waitFor();
    await expectAccessible(page, 'sign in');
    await screenshot(page, shot);
    await page.fill('input[name=user]', user);
    await page.fill('input[name=password]', PASSWORD);
    await page.locator('form button[type=submit]').click();
    await page.locator('header.top').waitFor();
  };

  /** Drops the file on Uppy's Dashboard as a person does: a drop event carrying a File. */
  const dropFile = async (page: Page, name: string, bytes: Buffer) => {
    const target = page.locator('.uppy-Dashboard-inner');
    await target.waitFor();
    const dataTransfer = await page.evaluateHandle(`(() => {
      const bin = atob(${JSON.stringify(bytes.toString('base64'))});
      const file = new File([Uint8Array.from(bin, (c) => c.charCodeAt(0))], ${JSON.stringify(name)}, { type: 'application/zip' });
      const dt = new DataTransfer();
      dt.items.add(file);
      return dt;
    })()`);
    await target.dispatchEvent('dragenter', { dataTransfer });
    await target.dispatchEvent('dragover', { dataTransfer });
    await target.dispatchEvent('drop', { dataTransfer });
  };

  let caseId = '';
  let dossierId = '';

  it('a clerk signs in, creates a case, drops a dossier, sees it sealed with thumbnails, and sends it', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'clerk-li', '01-sign-in-en');
    await expectAccessible(page, 'cases');
    await page.fill('input[name=number]', '2026-0417');
    await page.fill('input[name=title]', 'Burglary at No. 5 Garden Road');
    await page.getByRole('button', { name: 'Create case' }).click();
    await page.getByRole('heading', { name: 'Case 2026-0417' }).waitFor();
    caseId = /#\/cases\/([^?]+)/.exec(page.url())![1]!;
    await dropFile(page, 'scans.zip', zip);
    await screenshot(page, '02-case-uploading-en');
    const row = page.locator('li.dossier-row[data-status=sealed]');
    await row.waitFor({ timeout: 120_000 });
    dossierId = (await row.getAttribute('data-dossier'))!;
    await expectAccessible(page, 'case page');
    await screenshot(page, '03-case-sealed-en');

    await row.getByRole('link', { name: 'Open' }).click();
    await page.locator('.grid-box').waitFor();
    await page.waitForFunction(thumbnailsShown, PAGES, { timeout: 60_000 });
    await expectAccessible(page, 'viewer grid');
    await screenshot(page, '04-viewer-grid-en');

    await page.goto(`${gw.url}/#/cases/${caseId}`);
    const send = page.locator('form[aria-label=Send]');
    await send.locator('select[name=toAgency]').selectOption('procuratorate-1');
    await send.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Sent by police-1 to procuratorate-1').waitFor();
    await screenshot(page, '05-case-sent-en');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=user]').waitFor();
    await context.close();
  });

  it('a prosecutor accepts it, searches a word of page 5 and lands there with the word marked', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'prosecutor-wang', '06-sign-in-prosecutor-en');
    await page.getByRole('link', { name: 'Transfers' }).click();
    const row = page.locator('tr[data-transfer]');
    await row.waitFor();
    await expectAccessible(page, 'transfers');
    await screenshot(page, '07-inbox-en');
    await row.locator('input').first().fill('PROC-2026-88');
    await row.getByRole('button', { name: 'Accept' }).click();
    await page.locator('tr[data-transfer] .badge-accepted').waitFor();

    const word = uniqueToken(SEARCHED_PAGE);
    await ocrFinished(gw, await gw.token('procuratorate-1', 'prosecutor'), dossierId);
    await page.getByRole('link', { name: 'Search' }).click();
    await page.fill('input[name=q]', word);
    await page.locator('form[role=search] button').click();
    const hit = page.locator('ol.hits a').first();
    await hit.waitFor();
    await expect(await page.locator('ol.hits mark').first().textContent()).to.equal(word);
    await expectAccessible(page, 'search');
    await screenshot(page, '08-search-en');
    await hit.click();
    await page.locator(`.page-view[data-page="${SEARCHED_PAGE}"]`).waitFor();
    await page.locator('.page-text mark').first().waitFor();
    expect(await page.locator('.page-text mark').first().textContent()).to.equal(word);
    await page.locator('[data-page-match=true]').waitFor();
    await expectAccessible(page, 'page view');
    await screenshot(page, '09-page-view-en');
    // Keyboard paging.
    await page.keyboard.press('ArrowRight');
    await page.locator(`.page-view[data-page="${SEARCHED_PAGE + 1}"]`).waitFor();
    await context.close();
  });

  it('the verification panel passes, then names the page changed on disk', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'prosecutor-wang', '10-sign-in-again-en');
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.getByRole('button', { name: 'Verify every page' }).click();
    await page.locator('[data-verify=ok]').waitFor();
    expect(await page.locator('[data-verify=ok]').textContent()).to.match(new RegExp(`all ${PAGES} pages match`));
    await screenshot(page, '11-verified-en');

    const pages = (await gw.api('GET', `/api/dossiers/${dossierId}/pages`, await gw.token('police-1', 'clerk'))).json as { sha256: string }[];
    const sha = pages[2]!.sha256;
    const file = path.join(gw.dataDir, 'blobs', 'sha256', sha.slice(0, 2), sha.slice(2, 4), sha);
    const bytes = await fs.readFile(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    await fs.writeFile(file, bytes);

    await page.getByRole('button', { name: 'Verify every page' }).click();
    await page.locator('[data-verify=failed]').waitFor();
    const failed = await page.locator('[data-verify=failed]').textContent();
    expect(failed).to.include('Page 3 does not match');
    expect(failed).not.to.match(/Page [1245]\b/);
    await expectAccessible(page, 'verification failed');
    await screenshot(page, '12-verify-failed-en');
    await context.close();
  });

  it('a signed link opens in a fresh context without an account and downloads', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'prosecutor-wang', '13-sign-in-links-en');
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.locator('input.link-url').inputValue();
    expect(url).to.match(/\/d\/[A-Za-z0-9._~-]+$/);
    await screenshot(page, '14-link-created-en');
    await context.close();

    const receiver = await newPage('en-US');
    await receiver.page.goto(url);
    await receiver.page.getByRole('heading', { name: 'A sealed dossier was sent to you' }).waitFor();
    await receiver.page.getByText(`${PAGES} pages`).waitFor();
    await expectAccessible(receiver.page, 'link landing');
    await screenshot(receiver.page, '15-link-landing-en');
    const [download] = await Promise.all([receiver.page.waitForEvent('download'), receiver.page.getByRole('link', { name: /Download the whole dossier/ }).click()]);
    const saved = await download.path();
    const head = (await fs.readFile(saved)).subarray(0, 4);
    expect(head.toString('latin1')).to.equal('PK\x03\x04');
    // One page, too (a link that is not single-use).
    await receiver.page.locator('input[type=number]').fill('2');
    const [one] = await Promise.all([receiver.page.waitForEvent('download'), receiver.page.getByRole('link', { name: 'Download one page' }).click()]);
    const pages = (await gw.api('GET', `/api/dossiers/${dossierId}/pages`, await gw.token('police-1', 'clerk'))).json as { sha256: string }[];
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(await fs.readFile(await one.path())).digest('hex')).to.equal(pages[1]!.sha256);
    await receiver.context.close();
  });

  it('shows the same screens in zh-CN, chosen from the browser', async () => {
    const { context, page } = await newPage('zh-CN');
    await page.goto(gw.url);
    await page.getByRole('heading', { name: '登录电子卷宗流转平台' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).to.equal('zh-CN');
    await signIn(page, 'prosecutor-wang', '16-sign-in-zh');
    await page.getByRole('heading', { name: '案件' }).waitFor();
    await expectAccessible(page, 'cases zh-CN');
    await screenshot(page, '17-cases-zh');
    await page.goto(`${gw.url}/#/cases/${caseId}`);
    await page.getByRole('heading', { name: '流转时间线' }).first().waitFor();
    await expectAccessible(page, 'case zh-CN');
    await screenshot(page, '18-case-zh');
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.locator('img.thumb').first().waitFor();
    await expectAccessible(page, 'viewer zh-CN');
    await screenshot(page, '19-viewer-zh');
    await page.goto(`${gw.url}/#/dossiers/${dossierId}?page=${SEARCHED_PAGE}&q=${encodeURIComponent(uniqueToken(SEARCHED_PAGE))}`);
    await page.getByText('识别文字').waitFor();
    await expectAccessible(page, 'page view zh-CN');
    await screenshot(page, '20-page-view-zh');
    await page.goto(`${gw.url}/#/transfers`);
    await page.getByRole('tab', { name: '收件箱' }).waitFor();
    await expectAccessible(page, 'transfers zh-CN');
    await screenshot(page, '21-transfers-zh');
    // Switching back to English is one choice away.
    await page.locator('header select').selectOption('en');
    await page.getByRole('tab', { name: 'Inbox' }).waitFor();
    await page.locator('header select').selectOption('zh-CN');
    await page.getByRole('button', { name: '退出登录' }).click();
    // An auditor of the police sees the case's audit events.
    await signIn(page, 'auditor-zhao', '22-sign-in-auditor-zh');
    await page.goto(`${gw.url}/#/cases/${caseId}`);
    await page.getByRole('heading', { name: '审计日志' }).waitFor();
    await page.locator('td code', { hasText: 'transfer.send' }).first().waitFor();
    await expectAccessible(page, 'audit events zh-CN');
    await screenshot(page, '23-case-audit-zh');
    await context.close();
  });
});
