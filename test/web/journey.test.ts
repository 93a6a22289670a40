/**
 * The web application in a real browser (Debian's chromium through playwright-core) against the
 * gateway on loopback: a clerk signs in, creates a case, drops a folder of 30 scanned pages and a
 * PDF on it at once, pauses and resumes the upload, watches both sealed live (Server-Sent
 * Events) with thumbnails, and sends the folder's dossier; a prosecutor accepts it, searches a
 * word only page 17 holds and lands on that page with the word marked; the verification panel
 * passes, then names the page whose stored bytes were changed on disk; a signed link opens
 * without an account and downloads, and the links list counts its uses; an admin registers an
 * agency, sets a stage's deadline and adds an account; the committee's supervisor reads the
 * supervision page; the screens again in zh-CN. axe-core runs on every screen; every step leaves
 * a screenshot.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import type { Role } from '../../dossier/model.js';
import { browserSuiteReady, expectAccessible, launchChromium, screenshot, watchPage } from '../support/browser.js';
import { dropFolderAndFile } from '../../scripts/support/browser-drop.js';
import { AGENCIES, COMMITTEE } from '../support/custody.js';
import { eventually } from '../support/eventually.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { headerScan, ocrFinished, textPdf, uniqueToken } from '../support/ocr-fixtures.js';
import { pageOnDisk } from '../support/page-on-disk.js';

const PASSWORD = 'correct horse battery staple';
const PAGES = 30;
const SEARCHED_PAGE = 17;
/** The folder's layout: two volumes, so natural order (page-2 before page-10) and the contents show. */
const pagePath = (n: number) => `volume-${n <= 15 ? 1 : 2}/page-${n}.jpg`;
/** Upload bandwidth while the folder is sent, so that a pause lands mid-upload (bytes a second). */
const THROTTLE = 96 * 1024;

/** In the page: at least n thumbnails have loaded (a function, not a string: the CSP forbids eval). */
const thumbnailsShown = (n: number) => {
  const doc = (globalThis as any).document;
  return [...doc.querySelectorAll('img.thumb')].filter((i: any) => i.complete && i.naturalWidth > 0).length >= n;
};

describe('web application in chromium', function () {
  // Generous: the 30 pages' OCR on a busy shared machine; a quiet one needs a fraction.
  this.timeout(420_000);
  this.bail(true); // one journey: a later step needs the earlier ones
  let gw: TestGateway;
  let browser: Browser;
  let folder: { path: string; data: Buffer }[];
  let pdf: Buffer;
  const problems: string[] = [];
  const figures: string[] = [];

  before(async function () {
    if (!browserSuiteReady(this)) return;
    gw = await startGateway({ OCR_WORKERS: '2' });
    const admin = await gw.token('admin-0', 'admin');
    for (const a of AGENCIES) expect((await gw.api('POST', '/api/agencies', admin, a)).status).to.equal(201);
    const account = async (userId: string, agency: string, roles: Role[]) =>
      gw.gateway.accounts.create({ userId, agency, roles, passwordHash: await hashPassword(PASSWORD) }, new Date());
    await account('clerk-li', 'police-1', ['clerk']);
    await account('prosecutor-wang', 'procuratorate-1', ['prosecutor']);
    await account('auditor-zhao', 'police-1', ['auditor']);
    await account('admin-sun', 'police-1', ['admin']);
    // Page images in a shuffled order: the folder's order must come from the names, not the drop.
    folder = await Promise.all(Array.from({ length: PAGES }, async (_, i) => ({ path: pagePath(i + 1), data: await headerScan(i + 1, PAGES) })));
    folder.sort((a, b) => (a.data[200]! ^ 0x5a) - (b.data[200]! ^ 0x5a));
    pdf = await textPdf(['Witness statement of Zhang San, page one', 'Witness statement, page two']);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    if (figures.length) console.log(`      figures (measured on a loaded machine):\n${figures.map((f) => `        ${f}`).join('\n')}`);
  });
  let lastPage: Page | null = null;
  afterEach(async function () {
    // A failed step leaves a picture of where it stood.
    if (this.currentTest?.state === 'failed' && lastPage && !lastPage.isClosed()) await screenshot(lastPage, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    if (this.currentTest?.state === 'passed') expect(problems, 'CSP violations or page errors').to.deep.equal([]);
  });

  const newPage = async (locale: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    lastPage = page;
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

  /** The case's dossier of that file name as the API has it (null while it does not exist yet). */
  const dossierNamed = async (caseId: string, filename: string) => {
    const clerk = await gw.token('police-1', 'clerk');
    const c = (await gw.api('GET', `/api/cases/${caseId}`, clerk)).json as { dossiers: { id: string; filename: string }[] };
    const found = c.dossiers.find((d) => d.filename === filename);
    // The dossier itself: its `received` is the tus offset while it is receiving.
    return found ? ((await gw.api('GET', `/api/dossiers/${found.id}`, clerk)).json as { id: string; status: string; received?: number; bytes: number | null }) : null;
  };

  let caseId = '';
  let dossierId = '';
  let pdfDossierId = '';

  it('a clerk drops a 30-page folder and a PDF on a new case, pauses, resumes, sees both sealed with thumbnails, and sends the folder', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'clerk-li', '01-sign-in-en');
    await expectAccessible(page, 'cases');
    await page.fill('input[name=number]', '2026-0417');
    await page.fill('input[name=title]', 'Burglary at No. 5 Garden Road');
    await page.getByRole('button', { name: 'Create case' }).click();
    await page.getByRole('heading', { name: 'Case 2026-0417' }).waitFor();
    caseId = /#\/cases\/([^?]+)/.exec(page.url())![1]!;
    // Slow uploads down, so that the pause below lands in the middle of the folder's upload.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: THROTTLE });
    const dropped = Date.now();
    await dropFolderAndFile(page, 'scans-2026-0417', folder, { name: 'statement.pdf', data: pdf, type: 'application/pdf' });
    // Two uploads at once: the folder as one ZIP, the PDF as itself.
    await page.locator('.uppy-Dashboard-Item').nth(1).waitFor();
    const names = await page.locator('.uppy-Dashboard-Item-name').allTextContents();
    expect(names.join('|')).to.include('scans-2026-0417.zip').and.include('statement.pdf');
    const partial = await eventually(async () => {
      const d = await dossierNamed(caseId, 'scans-2026-0417.zip');
      return d && d.received && d.received > 0 ? d : undefined;
    }, 60_000, 'the folder upload under way');
    await screenshot(page, '02-case-uploading-en');
    await page.getByRole('button', { name: 'Pause', exact: false }).first().click();
    await page.getByRole('button', { name: /Resume/ }).first().waitFor();
    // Paused: the server's offset stops short of the end and stays there.
    const settledOffset = async () => {
      const a = (await dossierNamed(caseId, 'scans-2026-0417.zip'))!.received!;
      await new Promise((r) => setTimeout(r, 1500));
      const b = (await dossierNamed(caseId, 'scans-2026-0417.zip'))!.received!;
      return a === b ? a : undefined;
    };
    const pausedAt = await eventually(settledOffset, 30_000, 'the paused upload standing still');
    expect(pausedAt).to.be.below(partial.bytes!);
    await screenshot(page, '02b-case-paused-en');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.getByRole('button', { name: /Resume/ }).first().click();
    // Sealed and searchable, shown live (the page is never reloaded).
    const row = page.locator('li.dossier-row', { hasText: 'scans-2026-0417.zip' });
    await row.and(page.locator('[data-status=sealed]')).waitFor({ timeout: 180_000 });
    figures.push(`drop of the ${PAGES}-page folder to sealed: ${((Date.now() - dropped) / 1000).toFixed(1)} s (upload throttled to ${THROTTLE / 1024} KB/s until resumed)`);
    dossierId = (await row.getAttribute('data-dossier'))!;
    // One dossier from the folder, its pages in natural order of their paths.
    const listed = (await gw.api('GET', `/api/dossiers/${dossierId}/pages?limit=100`, await gw.token('police-1', 'clerk'))).json as { source: string }[];
    expect(listed.map((p) => p.source)).to.deep.equal(Array.from({ length: PAGES }, (_, i) => pagePath(i + 1)));
    const pdfRow = page.locator('li.dossier-row', { hasText: 'statement.pdf' });
    await pdfRow.and(page.locator('[data-status=sealed]')).waitFor({ timeout: 120_000 });
    pdfDossierId = (await pdfRow.getAttribute('data-dossier'))!;
    await expectAccessible(page, 'case page');
    await screenshot(page, '03-case-sealed-en');

    await row.getByRole('link', { name: 'Open' }).click();
    await page.locator('.grid-box').waitFor();
    await page.waitForFunction(thumbnailsShown, 12, { timeout: 60_000 });
    // The contents: the folder's two volumes with their page ranges.
    await page.locator('[data-toc-folder=volume-2]').getByText('pages 16–30').waitFor();
    await page.locator('[data-toc-folder=volume-2] summary').click();
    await page.locator('a[data-toc-page="16"]').waitFor();
    await expectAccessible(page, 'viewer grid');
    await screenshot(page, '04-viewer-grid-en');
    // A PDF dossier shows thumbnails too: the server's page renderer draws them.
    await page.goto(`${gw.url}/#/dossiers/${pdfDossierId}`);
    await page.waitForFunction(thumbnailsShown, 2, { timeout: 60_000 });
    await screenshot(page, '04b-viewer-pdf-en');

    await page.goto(`${gw.url}/#/cases/${caseId}`);
    const send = page.locator(`li.dossier-row[data-dossier="${dossierId}"] form[aria-label=Send]`);
    await send.locator('select[name=toAgency]').selectOption('procuratorate-1');
    await send.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Sent by police-1 to procuratorate-1').waitFor();
    await screenshot(page, '05-case-sent-en');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=user]').waitFor();
    await context.close();
  });

  it('a prosecutor accepts it, searches a word of page 17 and lands there with the word marked', async () => {
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
    await ocrFinished(gw, await gw.token('procuratorate-1', 'prosecutor'), dossierId, 400_000);
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
    // The page's own blob, or (a stored entry of its ZIP) its range of the kept upload.
    const where = (await pageOnDisk(gw, sha))!;
    const file = where.file;
    const bytes = await fs.readFile(file);
    const at = where.start + Math.floor(where.size / 2);
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

    // Back with the prosecutor: the list counts the two uses; revoking ends the link.
    const again = await newPage('en-US');
    await signIn(again.page, 'prosecutor-wang', '15b-sign-in-links-again-en');
    await again.page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    const listed = again.page.locator('li[data-link]').first();
    await listed.locator('.link-uses', { hasText: 'Used 2 times' }).waitFor();
    expect(await listed.locator('input.link-url').inputValue()).to.equal(url);
    await expectAccessible(again.page, 'links list');
    await screenshot(again.page, '15c-links-listed-en');
    await listed.getByRole('button', { name: 'Revoke' }).click();
    await again.page.locator('li[data-link][data-state=revoked]').waitFor();
    expect((await fetch(url)).status).to.equal(410);
    await again.context.close();
  });

  it('an admin registers an agency, sets a stage’s deadline and adds an account', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'admin-sun', '24-sign-in-admin-en');
    await page.getByRole('link', { name: 'Administration' }).click();
    const agencies = page.locator('form[aria-label="Register agency"]');
    await agencies.locator('input[name=id]').fill(COMMITTEE.id);
    await agencies.locator('input[name=name]').fill(COMMITTEE.name);
    await agencies.locator('select[name=kind]').selectOption(COMMITTEE.kind);
    await agencies.getByRole('button', { name: 'Register agency' }).click();
    await page.locator(`tr[data-agency="${COMMITTEE.id}"]`).waitFor();
    // A two-second deadline for the review of arrest: a transfer sent at it is soon overdue.
    const stage = page.locator('li[data-stage=arrest-review] form');
    await stage.locator('input[name=deadline]').fill('PT2S');
    await stage.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Stage arrest-review saved.').waitFor();
    const add = page.locator('form[aria-label="Add account"]');
    await add.locator('input[name=user]').fill('supervisor-chen');
    await add.locator('input[value=supervisor]').check();
    await add.locator('input[name=password]').fill(PASSWORD);
    await add.getByRole('button', { name: 'Add account' }).click();
    await page.locator('tr[data-account=supervisor-chen]').waitFor();
    await page.locator('tr[data-account=supervisor-chen]').getByRole('button', { name: 'Disable' }).click();
    await page.locator('tr[data-account=supervisor-chen]', { hasText: 'Disabled' }).waitFor();
    await expectAccessible(page, 'administration');
    await screenshot(page, '25-admin-en');
    await context.close();
    const accounts = (await gw.api('GET', '/api/accounts', await gw.token('police-1', 'admin'))).json.accounts as { user: string; disabled: boolean }[];
    expect(accounts.find((a) => a.user === 'supervisor-chen')).to.include({ disabled: true });
    // The committee's own supervisor (an account of the committee, made as `dossier user add` does).
    await gw.gateway.accounts.create({ userId: 'supervisor-gao', agency: COMMITTEE.id, roles: ['supervisor'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    // The PDF dossier sent at the two-second stage: pending, soon overdue.
    const sent = await gw.api('POST', `/api/dossiers/${pdfDossierId}/transfers`, await gw.token('police-1', 'clerk'), { toAgency: 'court-1', stage: 'arrest-review' });
    expect(sent.status).to.equal(201);
  });

  it('the committee’s supervisor reads transfers per week, time to accept and the overdue list', async () => {
    const { context, page } = await newPage('en-US');
    await signIn(page, 'supervisor-gao', '26-sign-in-supervisor-en');
    await page.getByRole('heading', { name: 'Transfers per week by outcome' }).waitFor();
    // This week: the folder's dossier (accepted) and the PDF (pending).
    const week = page.locator('table.weekly tbody tr').last();
    await week.locator('td').first().getByText('2', { exact: true }).waitFor();
    await page.locator('table.by-stage tr[data-stage=arrest-review]').waitFor();
    const late = page.locator('tr[data-clock=overdue]');
    await eventually(async () => {
      if (await late.count()) return true;
      await page.reload();
      await page.locator('table.overdue, .supervision p').first().waitFor();
      return undefined;
    }, 30_000, 'the overdue row');
    expect(await late.first().textContent()).to.match(/2026-0417.*late/);
    // No content routes for a supervisor: no case, transfer or search screens offered.
    expect(await page.getByRole('link', { name: 'Cases' }).count()).to.equal(0);
    await expectAccessible(page, 'supervision');
    await screenshot(page, '27-supervision-en');
    await context.close();
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
    await page.getByRole('button', { name: '退出登录' }).click();
    // The supervision and administration screens in Chinese.
    await signIn(page, 'supervisor-gao', '28-sign-in-supervisor-zh');
    await page.getByRole('heading', { name: '每周移送及结果' }).waitFor();
    await page.locator('tr[data-clock=overdue]', { hasText: '超期' }).first().waitFor();
    await expectAccessible(page, 'supervision zh-CN');
    await screenshot(page, '29-supervision-zh');
    await page.getByRole('button', { name: '退出登录' }).click();
    await signIn(page, 'admin-sun', '30-sign-in-admin-zh');
    await page.goto(`${gw.url}/#/admin`);
    await page.getByRole('heading', { name: '办理阶段及期限' }).waitFor();
    await page.locator('tr[data-account=supervisor-chen]', { hasText: '已停用' }).waitFor();
    await expectAccessible(page, 'administration zh-CN');
    await screenshot(page, '31-admin-zh');
    await context.close();
  });
});
