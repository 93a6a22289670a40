/**
 * How the gateway serves the web application: the strict Content-Security-Policy and the other
 * security headers, a year's caching for hashed assets but revalidation of index.html, and the
 * signed link's landing page for browsers while every other client still gets the export ZIP.
 */
import { expect } from 'chai';
import { defaultWebDir } from '../../server/web-app.js';
import { sealedDossier } from '../support/custody.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

describe('web application serving', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  before(async () => {
    if (!defaultWebDir()) throw new Error('the web application is not built: npm run build:web');
    gw = await startGateway({ WORKERS: 'in-process' });
  });
  after(() => gw?.stop());

  it('serves index.html at / with a CSP that allows no inline script or style', async () => {
    const res = await fetch(`${gw.url}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
    expect(directives.get('script-src')).to.deep.equal(["'self'"]);
    expect(directives.get('style-src')).to.deep.equal(["'self'"]);
    expect(directives.get('object-src')).to.deep.equal(["'none'"]);
    expect(directives.get('frame-ancestors')).to.deep.equal(["'none'"]);
    expect(csp).not.to.match(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(res.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
    expect(res.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
    const html = await res.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${gw.url}${asset}`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).to.match(/javascript/);
    // The API answers JSON as before, with the same headers on top.
    const api = await fetch(`${gw.url}/api/cases`);
    expect(api.status).to.equal(401);
    expect(api.headers.get('x-content-type-options')).to.equal('nosniff');
    expect((await fetch(`${gw.url}/assets/nothing-here.js`)).status).to.equal(404);
  });

  it('gives a browser the link landing page and everyone else the ZIP; the info does not spend a single-use link', async () => {
    const clerk = await gw.token('police-1', 'clerk');
    const c = await gw.api('POST', '/api/cases', clerk, { number: 'W-1', title: 'landing' });
    const d = await sealedDossier(gw, clerk, c.json.id, 7, 2);
    const made = await gw.api('POST', `/api/dossiers/${d.id}/links`, clerk, { singleUse: true });
    expect(made.status).to.equal(201);
    const url = made.json.url as string;

    const page = await fetch(url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('referrer-policy')).to.equal('no-referrer');
    const info = await fetch(`${url}/info`);
    expect(info.status).to.equal(200);
    const body = (await info.json()) as any;
    expect(body.case).to.deep.equal({ number: 'W-1', title: 'landing' });
    expect(body.dossier).to.include({ id: d.id, pageCount: 2, merkleRoot: d.merkleRoot });
    expect(body.singleUse).to.equal(true);

    const zip = await fetch(`${url}?download=1`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(zip.status).to.equal(200);
    expect(zip.headers.get('content-type')).to.equal('application/zip');
    expect(Buffer.from(await zip.arrayBuffer()).subarray(0, 2).toString('latin1')).to.equal('PK');
    // Spent now: a second download and the info both refuse it.
    expect((await fetch(url)).status).to.equal(410);
    expect((await fetch(`${url}/info`)).status).to.equal(410);
  });

  it('the landing page of a forged link says it is invalid (the info answers 401)', async () => {
    const res = await fetch(`${gw.url}/d/not.a.token/info`);
    expect(res.status).to.equal(401);
    expect(((await res.json()) as any).error.code).to.equal('invalid_link');
  });
});
