/**
 * The web application's upload, in the browser: a clerk's folder of N generated A4 page scans
 * dropped on a case page, timed from the drop to the dossier's row showing it sealed (live, by
 * Server-Sent Events), and to every page's text recognised. A fresh gateway with its workers
 * in-process, as `npm start` runs; one OCR worker per core.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../dossier/access/passwords.js';
import { configFromEnv } from '../../runtime/config.js';
import { compose } from '../../runtime/compose.js';
import { dropFolderAndFile } from '../support/browser-drop.js';
import { jpegPage } from './fixtures/small-dossiers.js';

const PASSWORD = 'benchmark passphrase';

export interface WebDropRun {
  readonly folderBytes: number;
  readonly sealedMs: number;
  readonly searchableMs: number;
}

export async function webDropRun(browser: Browser, pages: number): Promise<WebDropRun> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-bench-drop-'));
  const config = configFromEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
  const gw = await compose(config, { allDecoders: true }); // its fixtures are drawn with SVG here
  try {
    const url = `http://127.0.0.1:${(await gw.start()).port}`;
    await gw.accounts.create({ userId: 'clerk', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    const folder = await Promise.all(Array.from({ length: pages }, async (_, i) => ({ path: `volume-1/${i + 1}.jpg`, data: await jpegPage(i + 1, 1240, 1754) })));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    if ((await context.request.post(`${url}/api/session`, { data: { user: 'clerk', password: PASSWORD } })).status() !== 201) throw new Error('sign-in failed');
    const made = await context.request.post(`${url}/api/cases`, {
      data: { number: 'BENCH-DROP', title: 'drop' },
      headers: { 'X-CSRF-Token': ((await (await context.request.get(`${url}/api/session`)).json()) as { csrfToken: string }).csrfToken },
    });
    if (made.status() !== 201) throw new Error(`case: ${made.status()}`);
    const caseId = ((await made.json()) as { id: string }).id;
    const page = await context.newPage();
    await page.goto(`${url}/#/cases/${caseId}`);
    await page.locator('.uppy-Dashboard-inner').waitFor();
    const dropped = Date.now();
    await dropFolderAndFile(page, 'scans', folder);
    const row = page.locator('li.dossier-row[data-status=sealed]');
    await row.waitFor({ timeout: 600_000 });
    const sealedMs = Date.now() - dropped;
    // Every page's text: the row's OCR count reaches the page count (the same live stream).
    await row.getByText(`${pages} / ${pages}`).waitFor({ timeout: 1_800_000 });
    const searchableMs = Date.now() - dropped;
    await context.close();
    return { folderBytes: folder.reduce((n, f) => n + f.data.length, 0), sealedMs, searchableMs };
  } finally {
    await gw.stop();
    await fs.rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
}
