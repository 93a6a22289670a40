/**
 * The viewer's page grid of a large dossier in Debian's chromium, structurally (its speed is
 * scripts/bench/web-grid.ts's to measure): the grid and its first screen of thumbnails show
 * while every page-list request is held back, so nothing waits for the records; the records
 * are then read one request at a time in pieces; the DOM holds a few screens of tiles at any
 * scroll position; a jump to the end asks for the thumbnails there and not those passed over;
 * a page of the last piece opens. The longest task while scrolling is printed, not asserted.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page, Route } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { jpegPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { browserSuiteReady, expectAccessible, launchChromium, screenshot, watchPage } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { idFromUrl, tusUpload } from '../support/tus.js';

const PASSWORD = 'correct horse battery staple';
/** Three pieces of the web application's page list (500 records a request). */
const PAGES = 1_100;
/** Tiles in the DOM stay a few screens' worth (8 columns × some 10 rows at 1280 × 900), never the dossier. */
const DOM_TILES_MAX = 200;

/** In the page: every thumbnail inside the grid's visible box has loaded (a function: the CSP forbids eval). */
const visibleThumbnailsLoaded = () => {
  const doc = (globalThis as any).document;
  const box = doc.querySelector('.grid-box')?.getBoundingClientRect();
  if (!box) return false;
  const inView = [...doc.querySelectorAll('li.tile')].filter((li: any) => {
    const r = li.getBoundingClientRect();
    return r.bottom > box.top && r.top < box.bottom;
  });
  return inView.length > 0 && inView.every((li: any) => {
    const img = li.querySelector('img.thumb');
    return img && img.complete && img.naturalWidth > 0;
  });
};

describe('web page grid of a large dossier', function () {
  this.timeout(420_000);
  this.bail(true);
  let gw: TestGateway;
  let dataDir: string;
  let browser: Browser;
  let dossierId: string;
  const problems: string[] = [];

  before(async function () {
    if (!browserSuiteReady(this)) return;
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-web-grid-'));
    // Ingest with workers until every thumbnail is made, then serve without them: OCR of the
    // pages would only compete with the browser.
    gw = await startGateway({ DATA_DIR: dataDir, OCR_WORKERS: '1' });
    await gw.gateway.accounts.create({ userId: 'clerk-ko', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    const token = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', token, { number: '2026-0600', title: 'Many pages' })).json.id as string;
    const entries = await Promise.all(Array.from({ length: PAGES }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await jpegPage(i + 1) })));
    const zip = await zipOf(path.join(dataDir, 'pages.zip'), entries);
    dossierId = idFromUrl(await tusUpload(gw.url, zip, { token, metadata: { filename: 'pages.zip', caseId } }).done);
    await eventually(async () => {
      const d = (await gw.api('GET', `/api/dossiers/${dossierId}`, token)).json;
      if (d.status === 'rejected') throw new Error(`rejected: ${JSON.stringify(d.error)}`);
      return d.status === 'sealed' && d.progress.thumbnails >= PAGES ? d : undefined;
    }, 360_000, `${PAGES} pages sealed with thumbnails`);
    await gw.stop();
    gw = await startGateway({ DATA_DIR: dataDir, WORKERS: 'none' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'passed') expect(problems, 'CSP violations or page errors').to.deep.equal([]);
  });

  const signedInPage = async (locale: string): Promise<Page> => {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    expect((await context.request.post(`${gw.url}/api/session`, { data: { user: 'clerk-ko', password: PASSWORD } })).status()).to.equal(201);
    const page = await context.newPage();
    const seen = watchPage(page);
    page.on('close', () => problems.push(...seen));
    return page;
  };

  it('shows the grid and its first thumbnails before any page record, then reads the records one piece at a time', async () => {
    const page = await signedInPage('en-US');
    let holding = true;
    const held: Route[] = [];
    const listings: string[] = [];
    let inFlight = 0;
    let mostAtOnce = 0;
    const pass = async (route: Route) => {
      inFlight++;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      try {
        await route.fulfill({ response: await route.fetch() });
      } finally {
        inFlight--;
      }
    };
    await page.route(/\/api\/dossiers\/[^/]+\/pages\?/, (route) => {
      listings.push(new URL(route.request().url()).search);
      return holding ? void held.push(route) : pass(route);
    });
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.locator('li.tile').first().waitFor();
    expect(await page.locator('.grid-box').getAttribute('data-pages')).to.equal(String(PAGES));
    await page.waitForFunction(visibleThumbnailsLoaded, null, { timeout: 60_000 });
    // All of that with no page record: the contents' first listing (asked once the first screen
    // arrived) is held, and no other was asked for.
    await eventually(async () => (held.length > 0 ? true : undefined), 30_000, 'the contents asking for the first piece');
    expect(held.length).to.equal(1);
    expect(await page.locator('li.tile').count()).to.be.within(1, DOM_TILES_MAX);
    await page.locator('nav.toc[aria-busy=true]').waitFor();
    await screenshot(page, 'grid-01-before-records-en');

    holding = false;
    for (const route of held.splice(0)) void pass(route);
    // The contents, made from every page's name, once the pieces have come one after another.
    await page.locator('nav.toc:not([aria-busy])').getByText(`pages 1–${PAGES.toLocaleString('en')}`).waitFor({ timeout: 60_000 });
    expect(listings).to.deep.equal(['?offset=0&limit=500', '?offset=500&limit=500', '?offset=1000&limit=500']);
    expect(mostAtOnce).to.equal(1);
    await expectAccessible(page, 'viewer of a large dossier');
    await screenshot(page, 'grid-02-records-en');
    await page.context().close();
  });

  it('keeps a few screens of tiles in the DOM, asks only for the thumbnails shown, and opens a page of the last piece', async () => {
    const page = await signedInPage('zh-CN');
    const thumbnails = new Set<number>();
    page.on('request', (r) => {
      const m = /\/pages\/(\d+)\/thumbnail/.exec(r.url());
      if (m) thumbnails.add(Number(m[1]));
    });
    await page.goto(`${gw.url}/#/dossiers/${dossierId}`);
    await page.waitForFunction(visibleThumbnailsLoaded, null, { timeout: 60_000 });
    // A jump to the end: the pages passed over are never asked for.
    await page.locator('.grid-box').evaluate((box) => (box.scrollTop = box.scrollHeight));
    await page.locator(`li.tile button[data-page="${PAGES}"]`).waitFor();
    await page.waitForFunction(visibleThumbnailsLoaded, null, { timeout: 60_000 });
    expect(await page.locator('li.tile').count()).to.be.within(1, DOM_TILES_MAX);
    expect(thumbnails.has(PAGES)).to.equal(true);
    expect([...thumbnails].filter((n) => n > 200 && n < PAGES - 200)).to.deep.equal([]);
    await expectAccessible(page, 'grid at its end (zh-CN)');
    await screenshot(page, 'grid-03-end-zh');

    // Scrolled back to the top in half screens: the longest main-thread task, for the record.
    const longest = await page.locator('.grid-box').evaluate(async (box) => {
      const g = globalThis as any;
      let most = 0;
      const po = new g.PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) most = Math.max(most, e.duration);
      });
      po.observe({ type: 'longtask' });
      while (box.scrollTop > 0) {
        box.scrollTop -= box.clientHeight / 2;
        await new Promise((r) => g.requestAnimationFrame(r));
      }
      await new Promise((r) => setTimeout(r, 300));
      po.disconnect();
      return most;
    });
    console.log(`      longest task scrolling ${PAGES} pages back to the top: ${Math.round(longest)} ms (loaded machine; 0 = none over 50 ms)`);
    expect(await page.locator('li.tile').count()).to.be.within(1, DOM_TILES_MAX);

    await page.goto(`${gw.url}/#/dossiers/${dossierId}?page=${PAGES}`);
    await page.locator(`.page-view[data-page="${PAGES}"]`).waitFor();
    await screenshot(page, 'grid-04-last-page-zh');
    await page.context().close();
  });
});
