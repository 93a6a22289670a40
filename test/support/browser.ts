/**
 * Debian's chromium driven by playwright-core, for the web application's suite: launched with
 * the flags CI needs, a fresh profile per launch (Playwright makes one), screenshots of every
 * step under test-artifacts/web, axe-core checks, and the CSP violations a page reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { defaultWebDir } from '../../server/web-app.js';
import { testEnv } from './env.js';

export const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(root, 'test-artifacts', 'web');
const AXE = fs.readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

export const chromiumAvailable = () => fs.existsSync(CHROMIUM);

/**
 * For a browser suite's `before`: false (and the suite skipped, with a notice) without chromium;
 * mandatory under CI=true; the web application must be built.
 */
export function browserSuiteReady(ctx: Mocha.Context): boolean {
  if (!chromiumAvailable()) {
    if (testEnv.ci) throw new Error('/usr/bin/chromium is missing: .ci/run installs the chromium package');
    console.log('    (skipped: /usr/bin/chromium is not installed; apt-get install chromium)');
    ctx.skip();
    return false;
  }
  if (!defaultWebDir()) throw new Error('the web application is not built: npm run build:web');
  return true;
}

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `extraArgs`: e.g. a test certificate's SPKI pin (--ignore-certificate-errors-spki-list), which trusts that key only. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraArgs] });
}

/**
 * A browser whose profile (cookies, localStorage) is kept in `userDataDir`, a fresh folder the
 * suite made: closing it and launching again on the same folder is a person closing their
 * browser and opening it again later.
 */
export async function launchChromiumWithProfile(userDataDir: string, locale: string): Promise<BrowserContext> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, locale, viewport: { width: 1280, height: 900 } });
}

/** Collects what a page complained about: CSP violations and uncaught errors. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

/**
 * A fresh context in `locale` (1280×900), signed in with a local account's password; what the
 * page reports (CSP violations, page errors) joins `problems` when it closes.
 */
export async function signedInPage(browser: Browser, url: string, user: string, password: string, locale: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const seen = watchPage(page);
  page.on('close', () => problems.push(...seen));
  await page.goto(url);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.locator('form button[type=submit]').click();
  await page.locator('header.top').waitFor();
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * axe-core in the page (evaluated through the DevTools protocol, so the strict CSP needs no
 * exception): no serious or critical violation may remain.
 */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  await page.evaluate(`${AXE};0`);
  const violations = (await page.evaluate(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
  })()`)) as string[];
  expect(violations, `axe on ${screen}`).to.deep.equal([]);
}
