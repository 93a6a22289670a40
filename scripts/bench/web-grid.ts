/**
 * The web application's page grid in Debian's chromium: time from navigation to the first screen
 * of thumbnails of an N-page dossier, and the longest main-thread task (PerformanceObserver
 * `longtask`) while the grid is scrolled from top to bottom. Also the first-load script weight.
 *
 *   node --import tsx scripts/bench/web-grid.ts [--pages 400] [--runs 3] [--data DIR] [--drop 30]
 *   npm run bench -- --only web [--pages 5253]      (the same, after a build)
 *
 * The dossier is N generated 160×220 JPEG pages in one ZIP, ingested before measuring; the
 * gateway is then restarted without workers, so OCR does not compete with the browser.
 * `--data DIR` keeps the gateway's data there: a later run with the same DIR and --pages measures
 * again without ingesting again (5,253 pages take minutes).
 * `--drop N` (default 30, 0: none): then a folder of N A4 page scans dropped on a case page in
 * the browser, timed to sealed and to searchable (scripts/bench/web-drop.ts).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { issueToken } from '../../dossier/access/tokens.js';
import { configFromEnv } from '../../runtime/config.js';
import { compose } from '../../runtime/compose.js';
import { defaultWebDir } from '../../server/web-app.js';
import { jpegPage, zipOf } from './fixtures/small-dossiers.js';
import { api, fmt, pollUntil, upload } from './measure.js';
import { webDropRun, type WebDropRun } from './web-drop.js';

const { values: args } = parseArgs({ options: { pages: { type: 'string', default: '400' }, runs: { type: 'string', default: '3' }, data: { type: 'string' }, drop: { type: 'string', default: '30' } } });
const pages = Number(args.pages);
const runs = Number(args.runs);
const PASSWORD = 'benchmark passphrase';

async function gateway(dataDir: string, workers: 'in-process' | 'none') {
  // One OCR worker while ingesting: the thumbnails the grid needs, not the text, are waited for.
  const config = configFromEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dataDir, WORKERS: workers, OCR_WORKERS: '1' });
  const gw = await compose(config, { allDecoders: true }); // its fixtures are drawn with SVG here
  const address = await gw.start();
  return { gw, config, url: `http://127.0.0.1:${address.port}` };
}

async function firstLoadKb(): Promise<number> {
  const dir = defaultWebDir();
  if (!dir) throw new Error('the web application is not built: npm run build:web');
  const html = await fs.readFile(path.join(dir, 'index.html'), 'utf8');
  let bytes = 0;
  for (const m of html.matchAll(/<script[^>]*\bsrc="\/([^"]+)"/g)) bytes += gzipSync(await fs.readFile(path.join(dir, m[1]!)), { level: 9 }).length;
  return bytes / 1024;
}

/** Ingests the dossier with workers; its id. */
async function ingest(dataDir: string): Promise<string> {
  const { gw, config, url } = await gateway(dataDir, 'in-process');
  const pair = gw.issuerKeys.currentPair();
  const token = await issueToken({ issuer: config.auth.issuer, audience: config.auth.audience, key: pair.privateKey, kid: pair.kid, subject: 'bench', agency: 'police-1', roles: ['clerk'], ttlSeconds: 3600 });
  await gw.accounts.create({ userId: 'bench', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
  const c = await api<{ id: string }>(url, token, 'POST', '/api/cases', { number: 'BENCH-1', title: 'grid' });
  const entries = await Promise.all(Array.from({ length: pages }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await jpegPage(i) })));
  const zip = await zipOf(path.join(dataDir, 'grid.zip'), entries);
  const id = (await upload(url, token, zip, { filename: 'grid.zip', caseId: c.id })).split('/').pop()!;
  const done = await pollUntil(() => api<{ status: string; progress: { thumbnails: number } }>(url, token, 'GET', `/api/dossiers/${id}`), (d) => (d.status === 'sealed' && d.progress.thumbnails >= pages) || d.status === 'rejected', 500, 1800);
  if (done.value.status !== 'sealed') throw new Error(`the dossier was ${done.value.status}: ${JSON.stringify(done.value)}`);
  console.log(`ingest of ${pages} pages to sealed with every thumbnail: ${fmt(done.seconds)} s`);
  await fs.rm(zip);
  await gw.stop();
  return id;
}

const dataDir = args.data ? path.resolve(args.data) : await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-bench-web-'));
const marker = path.join(dataDir, `web-grid-${pages}.json`);
try {
  await fs.mkdir(dataDir, { recursive: true });
  // 1. Ingest the dossier (or find the one a run with the same --data and --pages ingested).
  const kept = await fs.readFile(marker, 'utf8').then((t) => JSON.parse(t) as { id: string }, () => null);
  const id = kept?.id ?? (await ingest(dataDir));
  if (args.data) await fs.writeFile(marker, JSON.stringify({ id }));
  // 2. Measure without workers.
  const { gw, url } = await gateway(dataDir, 'none');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const rows: { gridMs: number; shownMs: number; loadTaskMs: number; contentsMs: number; listings: number; longestTaskMs: number; tiles: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const signIn = await context.request.post(`${url}/api/session`, { data: { user: 'bench', password: PASSWORD } });
    if (signIn.status() !== 201) throw new Error(`sign-in: ${signIn.status()}`);
    const page = await context.newPage();
    // The longest task from the first script on (an init script: the page's CSP does not apply).
    await page.addInitScript(() => {
      const g = globalThis as any;
      g.__longestTask = 0;
      new g.PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) g.__longestTask = Math.max(g.__longestTask, e.duration);
      }).observe({ type: 'longtask' });
    });
    await page.goto(`${url}/#/dossiers/${id}`);
    await page.waitForFunction(() => (globalThis as any).document.querySelector('li.tile') !== null, null, { timeout: 60_000, polling: 'raf' });
    const gridMs = await page.evaluate(() => performance.now());
    // Shown: every tile in view has its thumbnail decoded.
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document;
      const box = doc.querySelector('.grid-box');
      if (!box) return false;
      const visible = [...doc.querySelectorAll('img.thumb')].filter((i: any) => i.getBoundingClientRect().top < box.getBoundingClientRect().bottom);
      return visible.length > 0 && visible.every((i: any) => i.complete && i.naturalWidth > 0);
    }, null, { timeout: 60_000, polling: 'raf' });
    const shownMs = await page.evaluate(() => performance.now());
    const loadTaskMs = await page.evaluate(() => (globalThis as any).__longestTask as number);
    // The contents: every page's name read (in the background since the grid no longer waits).
    await page.locator('nav.toc:not([aria-busy])').waitFor({ timeout: 120_000 });
    const contentsMs = await page.evaluate(() => performance.now());
    const listings = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => /\/pages\?/.test(e.name)).length);
    const tiles = await page.locator('li.tile').count();
    const longestTaskMs = await page.evaluate(async () => {
      const g = globalThis as any;
      let longest = 0;
      const po = new g.PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
      });
      po.observe({ type: 'longtask' });
      const box = g.document.querySelector('.grid-box');
      while (box.scrollTop + box.clientHeight < box.scrollHeight - 1) {
        box.scrollTop += box.clientHeight / 2;
        await new Promise((r) => g.requestAnimationFrame(r));
      }
      await new Promise((r) => setTimeout(r, 500));
      po.disconnect();
      return longest;
    });
    rows.push({ gridMs, shownMs, loadTaskMs, contentsMs, listings, longestTaskMs, tiles });
    await context.close();
  }
  await gw.stop();
  const drops: WebDropRun[] = [];
  for (let run = 0; Number(args.drop) > 0 && run < runs; run++) drops.push(await webDropRun(browser, Number(args.drop)));
  await browser.close();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\n| measure (${pages}-page dossier, chromium ${runs} runs, shared 2-core machine) | median | all runs |`);
  console.log('|---|---:|---|');
  const line = (what: string, values: number[], unit = 'ms') => console.log(`| ${what} | ${fmt(median(values), 0)} ${unit} | ${values.map((v) => fmt(v, 0)).join(', ')} |`);
  line(`navigation → grid of ${pages} tiles laid out`, rows.map((r) => r.gridMs));
  line('navigation → first screen of thumbnails shown', rows.map((r) => r.shownMs));
  line('longest task from navigation to shown (0 = none over 50 ms)', rows.map((r) => r.loadTaskMs));
  line('navigation → contents made from every page name', rows.map((r) => r.contentsMs));
  line('page-list requests', rows.map((r) => r.listings), '');
  line('longest task while scrolling top to bottom (0 = none over 50 ms)', rows.map((r) => r.longestTaskMs));
  console.log(`| tiles in the DOM (of ${pages} pages) | ${median(rows.map((r) => r.tiles))} | |`);
  console.log(`| first-load script, gzipped | ${fmt(await firstLoadKb())} KB | |`);
  if (drops.length) {
    const mbs = fmt(drops[0]!.folderBytes / 1e6, 1);
    line(`drop of a ${args.drop}-page folder (${mbs} MB) on a case page → sealed, shown live`, drops.map((d) => d.sealedMs));
    line('drop → every page\'s text recognised (searchable)', drops.map((d) => d.searchableMs));
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  if (!args.data) await fs.rm(dataDir, { recursive: true, force: true, maxRetries: 5 }).catch((err) => console.error(`could not remove ${dataDir}: ${(err as Error).message}`));
}
