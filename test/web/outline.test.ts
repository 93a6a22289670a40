/**
 * The viewer's contents show a PDF's outline (issue 12: "a table of contents from the dossier's
 * own structure … a PDF's outline"): the bookmarks nested as in the PDF, each a link to its page,
 * a bookmark with no target plain text, in en and zh-CN (axe-core on both, a screenshot of each).
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { browserSuiteReady, expectAccessible, launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { outlinedPdf } from '../pages/pdf-shapes.js';

const PASSWORD = 'correct horse battery staple';

/** In the page: every thumbnail of the grid has loaded (as the journey suite waits before axe). */
const thumbnailsShown = (n: number) => {
  const doc = (globalThis as any).document;
  return [...doc.querySelectorAll('img.thumb')].filter((i: any) => i.complete && i.naturalWidth > 0).length >= n;
};

describe('web application: a PDF outline as the contents', function () {
  this.timeout(240_000);
  let gw: TestGateway;
  let browser: Browser;
  let dossierId = '';
  const problems: string[] = [];

  before(async function () {
    if (!browserSuiteReady(this)) return;
    gw = await startGateway({ OCR_WORKERS: '1' });
    await gw.gateway.accounts.create({ userId: 'clerk-li', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    const clerk = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OUTLINE-W', title: 'bookmarks' })).json.id;
    dossierId = idFromUrl(await tusUpload(gw.url, await outlinedPdf(), { token: clerk, metadata: { filename: 'record.pdf', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${dossierId}`, clerk)).json?.status === 'sealed' ? true : undefined), 120_000, 'the seal');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });
  afterEach(() => expect(problems, 'CSP violations or page errors').to.deep.equal([]));

  async function viewer(locale: string): Promise<Page> {
    const page = await signedInPage(browser, gw.url, 'clerk-li', PASSWORD, locale, problems);
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.locator('[data-toc-outline]').waitFor();
    await page.waitForFunction(thumbnailsShown, 6, { timeout: 120_000 });
    return page;
  }

  /** Each bookmark as the page shows it: title, the page its link opens (null: plain text), depth. */
  const bookmarks = (page: Page) =>
    page.locator('[data-toc-bookmark]').evaluateAll((items) =>
      items.map((li) => {
        let depth = 0;
        for (let p = li.parentElement; p && !p.hasAttribute('data-toc-outline'); p = p.parentElement) if (p.tagName === 'LI') depth++;
        const a = li.querySelector(':scope > a');
        return { title: li.getAttribute('data-toc-bookmark'), page: a ? Number(a.getAttribute('data-toc-page')) : null, depth };
      }),
    );

  it('en: the bookmarks, nested, each going to its page', async () => {
    const page = await viewer('en-US');
    expect(await bookmarks(page)).to.deep.equal([
      { title: 'Part 1: Statements', page: 1, depth: 0 },
      { title: 'Witness statement', page: 2, depth: 1 },
      { title: '询问笔录', page: 3, depth: 1 },
      { title: 'Part 2: Evidence', page: 4, depth: 0 },
      { title: 'Photographs', page: 5, depth: 1 },
      { title: 'Scene', page: 6, depth: 2 },
      { title: 'Notes', page: null, depth: 0 },
    ]);
    await page.getByRole('heading', { name: 'Bookmarks' }).waitFor();
    await expectAccessible(page, 'viewer with bookmarks');
    await screenshot(page, '40-viewer-bookmarks-en');
    // A bookmark opens its page.
    await page.locator('[data-toc-outline] a[data-toc-page="6"]').click();
    await page.waitForURL(/page=6/);
    await page.locator('[data-toc-outline]').waitFor();
    await screenshot(page, '41-bookmark-opened-en');
    await page.context().close();
  });

  it('zh-CN: the same bookmarks under 书签', async () => {
    const page = await viewer('zh-CN');
    await page.getByRole('heading', { name: '书签' }).waitFor();
    expect((await bookmarks(page)).map((b) => b.title)).to.include('询问笔录');
    await page.locator('[data-toc-bookmark="Scene"]').getByText('第 6 页').waitFor();
    await expectAccessible(page, 'viewer with bookmarks (zh-CN)');
    await screenshot(page, '42-viewer-bookmarks-zh');
    await page.context().close();
  });
});
