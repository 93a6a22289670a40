/**
 * Names from outside shown inertly (issue 17's hostile inputs, through the web application): file
 * names, ZIP folder and page names and a case title holding markup, script, a right-to-left
 * override, Chinese and emoji. In a real browser, in en and zh-CN: no script runs, no markup is
 * made, the text reads exactly as sent (Chinese and emoji as they are), and the bidirectional
 * override is shown as a visible code point instead of reversing what follows it.
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { jpegPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { browserSuiteReady, expectAccessible, launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { idFromUrl, tusUpload } from '../support/tus.js';

const PASSWORD = 'correct horse battery staple';
const RLO = '\u202E';
/** Each payload sets a flag of its own if it ever runs. */
// No "/" in a file name (the gateway refuses paths), hence script tags left open.
const FILE_NAME = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script' 询问笔录 📄 statement${RLO}fdp.exe.zip`;
const TITLE = `<script>window.__pwned='title'</script> 盗窃案 🚓 <b>bold</b>`;
const FOLDER = `<svg onload="window.__pwned='svg'">卷一`;
const PAGE_NAMES = [`${FOLDER}/<script>window.__pwned='page'第1页.jpg`, `${FOLDER}/页${RLO}2gpj.jpg`, `${FOLDER}/😀 emoji 3.jpg`];
const shownRlo = '⟨U+202E⟩';

describe('web application: hostile names shown inertly', function () {
  this.timeout(240_000);
  let gw: TestGateway;
  let browser: Browser;
  let caseId = '';
  let dossierId = '';
  const problems: string[] = [];

  before(async function () {
    if (!browserSuiteReady(this)) return;
    gw = await startGateway({ OCR_WORKERS: '1' });
    await gw.gateway.accounts.create({ userId: 'clerk-wu', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    const clerk = await gw.token('police-1', 'clerk');
    const created = await gw.api('POST', '/api/cases', clerk, { number: 'INERT-1', title: TITLE });
    expect(created.status, JSON.stringify(created.json)).to.equal(201);
    caseId = created.json.id;
    const dir = await tempDir('inert-names-');
    const zip = await zipOf(path.join(dir, 'names.zip'), await Promise.all(PAGE_NAMES.map(async (name, i) => ({ name, data: await jpegPage(700 + i) }))));
    dossierId = idFromUrl(await tusUpload(gw.url, zip, { token: clerk, metadata: { filename: FILE_NAME, caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${dossierId}`, clerk)).json?.status === 'sealed' ? true : undefined), 120_000, 'the seal');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });
  afterEach(() => expect(problems, 'CSP violations or page errors').to.deep.equal([]));

  async function signedIn(locale: string): Promise<Page> {
    const page = await signedInPage(browser, gw.url, 'clerk-wu', PASSWORD, locale, problems);
    // From here on (the names are shown only after the sign-in), any dialog is a payload that ran.
    page.on('dialog', (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    return page;
  }

  /** Nothing of the payloads ran or became an element. */
  async function expectInert(page: Page): Promise<void> {
    expect(await page.evaluate(() => (globalThis as any).__pwned ?? null), 'a payload ran').to.equal(null);
    const made = await page.evaluate(() => {
      const doc = (globalThis as any).document;
      return [...doc.querySelectorAll('main script, main img[src="x"], main svg[onload], main b')].length;
    });
    expect(made, 'elements made from a name').to.equal(0);
    const text = await page.locator('main').innerText();
    expect(text, 'no raw right-to-left override reaches the screen').to.not.include(RLO);
  }

  for (const locale of ['en-US', 'zh-CN']) {
    it(`${locale}: the case page and the viewer show every name as text, exactly, and run nothing`, async () => {
      const page = await signedIn(locale);
      await page.goto(`${gw.url}/#/cases/${caseId}`);
      const name = FILE_NAME.replace(RLO, shownRlo);
      await page.getByText(name, { exact: true }).waitFor();
      await page.getByText(TITLE, { exact: false }).first().waitFor();
      await expectInert(page);
      await expectAccessible(page, `case page with hostile names (${locale})`);
      await screenshot(page, `50-hostile-names-case-${locale === 'zh-CN' ? 'zh' : 'en'}`);

      await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
      const folder = page.locator('[data-toc-folder]').first();
      await folder.waitFor();
      expect(await folder.getAttribute('data-toc-folder')).to.equal(FOLDER);
      await folder.locator('summary').click();
      for (const shownName of ["<script>window.__pwned='page'第1页.jpg", `页${shownRlo}2gpj.jpg`, '😀 emoji 3.jpg']) {
        await folder.getByText(shownName, { exact: true }).waitFor();
      }
      await page.getByRole('heading', { level: 1 }).getByText(name, { exact: false }).waitFor();
      await expectInert(page);
      await expectAccessible(page, `viewer with hostile names (${locale})`);
      await screenshot(page, `51-hostile-names-viewer-${locale === 'zh-CN' ? 'zh' : 'en'}`);
      await page.context().close();
    });
  }
});
