/**
 * Resumption after the browser was closed, in Debian's chromium with a profile kept on disk: a
 * clerk drops a folder of page images on a case, the browser is closed in the middle of the
 * upload (no pause: the PATCH breaks off), the same profile is opened again later, the case
 * page names the unfinished upload, the clerk drops the same folder again, the page says the
 * earlier upload continues, and it does: the server receives only the bytes it did not have
 * (its own byte counter, and the first PATCH's offset), no second upload is created, and the
 * one dossier seals with every page as dropped.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { hashPassword } from '../../dossier/access/passwords.js';
import { browserSuiteReady, expectAccessible, launchChromiumWithProfile, screenshot, watchPage } from '../support/browser.js';
import { dropFolderAndFile, type DroppedFile } from '../../scripts/support/browser-drop.js';
import { eventually } from '../support/eventually.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const PASSWORD = 'correct horse battery staple';
const FOLDER = 'scans-2026-0533';
const PAGES = 12;
/** The upload takes about this long at the throttled speed, so the close lands in its middle. */
const UPLOAD_SECONDS = 24;

interface DossierJson {
  id: string;
  status: string;
  received?: number;
  bytes: number | null;
}

describe('web upload resumes after the browser was closed', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  /** The browser reaches the gateway through a link whose upload speed the test sets. */
  let link: TcpProxy;
  let origin: string;
  let profile: string;
  let context: BrowserContext | null = null;
  let folder: DroppedFile[];
  let caseId: string;

  before(async function () {
    if (!browserSuiteReady(this)) return;
    gw = await startGateway({ OCR_WORKERS: '1' });
    link = await startTcpProxy('127.0.0.1', Number(new URL(gw.url).port));
    origin = `http://127.0.0.1:${link.port}`;
    await gw.gateway.accounts.create({ userId: 'clerk-ma', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
    caseId = (await gw.api('POST', '/api/cases', await gw.token('police-1', 'clerk'), { number: '2026-0533', title: 'Fraud' })).json.id;
    // Grainy scans (noise does not compress: a few MB to send), in two volumes.
    const scan = () => sharp({ create: { width: 620, height: 877, channels: 3, background: '#eee', noise: { type: 'gaussian', mean: 200, sigma: 40 } } }).jpeg({ quality: 85 }).toBuffer();
    folder = await Promise.all(Array.from({ length: PAGES }, async (_, i) => ({ path: `volume-${i < 6 ? 1 : 2}/${i + 1}.jpg`, data: await scan() })));
    profile = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-chromium-profile-'));
  });
  after(async () => {
    await context?.close();
    await link?.close();
    await gw?.stop();
    if (profile) await fs.rm(profile, { recursive: true, force: true });
  });

  const clerkApi = async (route: string) => (await gw.api('GET', route, await gw.token('police-1', 'clerk'))).json;
  const dossiers = async () => ((await clerkApi(`/api/cases/${caseId}`)) as { dossiers: DossierJson[] }).dossiers;
  const dossier = async (id: string) => (await clerkApi(`/api/dossiers/${id}`)) as DossierJson;
  /** Bytes the gateway accepted in tus PATCH requests so far (its Prometheus counter). */
  const bytesAccepted = async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return Number(/^dossier_upload_bytes_total (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  /** The case page, signed in (the session cookie may or may not have outlived the browser). */
  const openCase = async (page: Page) => {
    await page.goto(`${origin}/#/cases/${caseId}`);
    await page.locator('header.top, input[name=user]').first().waitFor();
    if (await page.locator('input[name=user]').count()) {
      await page.fill('input[name=user]', 'clerk-ma');
      await page.fill('input[name=password]', PASSWORD);
      await page.locator('form button[type=submit]').click();
    }
    await page.getByRole('heading', { name: /2026-0533/ }).waitFor();
  };

  it('continues from the server’s offset when the same folder is dropped after the browser was reopened, and seals', async () => {
    // The first visit: the upload is throttled, and the browser closed while it runs.
    context = await launchChromiumWithProfile(profile, 'en-US');
    let page = context.pages()[0] ?? (await context.newPage());
    const problems = watchPage(page);
    await openCase(page);
    const folderBytes = folder.reduce((n, f) => n + f.data.length, 0);
    link.throttle(Math.ceil(folderBytes / UPLOAD_SECONDS));
    await dropFolderAndFile(page, FOLDER, folder);
    const sent = (part: number) => async () => {
      const d = (await dossiers())[0];
      return d && d.bytes && (await dossier(d.id)).received! > d.bytes * part ? d : undefined;
    };
    await eventually(sent(0), 120_000, 'the folder upload under way');
    await screenshot(page, 'resume-01-uploading-en');
    const partial = await eventually(sent(0.15), 120_000, 'the folder upload a good part under way');
    await context.close(); // the whole browser: its request breaks off mid-body
    context = null;
    // What the browser had handed to its socket but the slow link had not carried is lost with it.
    link.cut();
    link.restore();
    link.throttle(null);
    expect(problems, 'CSP violations or page errors').to.deep.equal([]);

    // What the server holds once the broken request has ended: an offset that stands still.
    const settled = async () => {
      const a = (await dossier(partial.id)).received!;
      const sent = await bytesAccepted();
      await new Promise((r) => setTimeout(r, 1500));
      const b = (await dossier(partial.id)).received!;
      return a === b && sent === (await bytesAccepted()) ? { offset: a, sent } : undefined;
    };
    const atClose = await eventually(settled, 60_000, 'the broken upload standing still');
    expect(atClose.offset).to.be.above(0).and.below(partial.bytes!);

    // Reopened later, in Chinese: the case names the unfinished upload.
    context = await launchChromiumWithProfile(profile, 'zh-CN');
    page = context.pages()[0] ?? (await context.newPage());
    const problemsAgain = watchPage(page);
    const tus: { method: string; offset: string | undefined }[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/files')) tus.push({ method: r.method(), offset: r.headers()['upload-offset'] });
    });
    await openCase(page);
    const unfinished = page.locator(`[data-unfinished-file="${FOLDER}.zip"]`);
    await unfinished.waitFor();
    expect(await unfinished.textContent()).to.include(`${FOLDER}.zip`).and.include('已接收');
    await expectAccessible(page, 'case with an unfinished upload (zh-CN)');
    await screenshot(page, 'resume-02-unfinished-zh');

    await dropFolderAndFile(page, FOLDER, folder);
    const resumed = page.locator(`[data-resumed="${FOLDER}.zip"]`);
    await resumed.waitFor({ timeout: 60_000 });
    expect(await resumed.textContent()).to.include('不再重复发送');
    await screenshot(page, 'resume-03-resumed-zh');
    const row = page.locator(`li.dossier-row[data-dossier="${partial.id}"]`);
    await row.and(page.locator('[data-status=sealed]')).waitFor({ timeout: 180_000 });
    await expectAccessible(page, 'case with the resumed upload sealed (zh-CN)');
    await screenshot(page, 'resume-04-sealed-zh');

    // One dossier, the one begun before the close; no new upload was created.
    expect((await dossiers()).map((d) => d.id)).to.deep.equal([partial.id]);
    expect(tus.filter((r) => r.method === 'POST')).to.deep.equal([]);
    // Only what the server did not hold was sent, starting at its offset.
    expect(tus.find((r) => r.method === 'PATCH')?.offset).to.equal(String(atClose.offset));
    expect((await bytesAccepted()) - atClose.sent).to.equal(partial.bytes! - atClose.offset);
    // And the pages are the folder's, in natural order: the two halves joined up exactly.
    const pages = (await clerkApi(`/api/dossiers/${partial.id}/pages?limit=100`)) as { sha256: string; source: string }[];
    expect(pages.map((p) => p.source)).to.deep.equal(folder.map((f) => f.path));
    expect(pages.map((p) => p.sha256)).to.deep.equal(folder.map((f) => createHash('sha256').update(f.data).digest('hex')));
    expect(problemsAgain, 'CSP violations or page errors').to.deep.equal([]);
  });
});
