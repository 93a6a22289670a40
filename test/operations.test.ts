/**
 * Operations: /healthz (alive), /readyz (database and blob store), and /metrics in the
 * Prometheus text format, answered to loopback, METRICS_ALLOW and METRICS_TOKEN only.
 */
import fs from 'node:fs/promises';
import { expect } from 'chai';
import { configFromEnv, ConfigError } from '../runtime/config.js';
import { AGENCIES, agenciesFile, sealedDossier } from './support/custody.js';
import { dossierCli } from './support/cli.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { startS3, type TestS3 } from './support/s3-server.js';

const TOKEN = 'scrape-token-0123456789abcdef';

/** A sample's value from the text format, by name and exact label set ('' for none). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('operations: health, readiness and metrics', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    dir = await tempDir('ops-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), METRICS_TOKEN: TOKEN, METRICS_ALLOW: '192.0.2.0/24' });
  });
  after(async () => {
    await gw?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz with the checks named', async () => {
    const alive = await gw.api('GET', '/healthz', null);
    expect(alive.status).to.equal(200);
    const ready = await gw.api('GET', '/readyz', null);
    expect(ready.status).to.equal(200);
    expect(ready.json).to.deep.equal({ ok: true, checks: { database: 'ok', blobs: 'ok' } });
  });

  it('counts what happened: dossiers, pages, bytes uploaded, requests, jobs, workers, the audit chain', async () => {
    const clerk = await gw.token(AGENCIES[0].id, 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OPS-1' })).json.id as string;
    const before = await (await fetch(`${gw.url}/metrics`)).text();
    const uploadedBefore = sample(before, 'dossier_upload_bytes_total') ?? 0;
    const d = await sealedDossier(gw, clerk, caseId, 7, 3);
    await gw.api('GET', `/api/dossiers/${d.id}`, clerk);
    const zipBytes = Number((await gw.api('GET', `/api/dossiers/${d.id}`, clerk)).json.bytes);

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'dossier_dossiers', 'status="sealed"')).to.equal(1);
    expect(sample(text, 'dossier_sealed_pages')).to.equal(3);
    expect(sample(text, 'dossier_upload_bytes_total')! - uploadedBefore).to.equal(zipBytes);
    expect(sample(text, 'dossier_http_request_duration_seconds_count', 'method="GET",route="/api/dossiers/:id",status="200"')).to.be.at.least(2);
    expect(sample(text, 'dossier_job_duration_seconds_count', 'kind="ingest",outcome="done"')).to.equal(1);
    expect(sample(text, 'dossier_workers', 'kind="ingest"')).to.equal(1);
    expect(sample(text, 'dossier_audit_chain_length')).to.be.greaterThan(0);
    expect(text).to.include('dossier_ocr_backlog_pages ');
    expect(text).to.include('dossier_ocr_worker_resident_bytes ');
    expect(text).to.include('dossier_jobs{');
    expect(text).to.include('dossier_process_resident_memory_bytes');
    // Raw paths (ids) never become label values.
    expect(text).to.not.include(d.id);
    expect(text).to.not.include(clerk);
    expect(text).to.not.include(TOKEN);
  });

  it('counts bytes served by route', async () => {
    const clerk = await gw.token(AGENCIES[0].id, 'clerk');
    const before = sample(await (await fetch(`${gw.url}/metrics`)).text(), 'dossier_served_bytes_total', 'route="/openapi.json"') ?? 0;
    const body = await (await fetch(`${gw.url}/openapi.json`, { headers: { authorization: `Bearer ${clerk}` } })).arrayBuffer();
    const after = sample(await (await fetch(`${gw.url}/metrics`)).text(), 'dossier_served_bytes_total', 'route="/openapi.json"')!;
    expect(after - before).to.be.greaterThan(body.byteLength);
  });

  it('refuses scrapes that came through a proxy or bear a wrong token; the configured token passes', async () => {
    const forwarded = await fetch(`${gw.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(forwarded.status).to.equal(404);
    const standard = await fetch(`${gw.url}/metrics`, { headers: { forwarded: 'for=203.0.113.9' } });
    expect(standard.status).to.equal(404);
    const wrong = await fetch(`${gw.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).to.equal(404);
    const right = await fetch(`${gw.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}` } });
    expect(right.status).to.equal(200);
    expect(await right.text()).to.include('dossier_dossiers');
  });

  it('checks METRICS_ALLOW and METRICS_TOKEN at start', () => {
    expect(() => configFromEnv({ METRICS_ALLOW: '10.0.0.0/8, not-an-address' })).to.throw(ConfigError, /METRICS_ALLOW/);
    expect(() => configFromEnv({ METRICS_TOKEN: 'short' })).to.throw(ConfigError, /METRICS_TOKEN/);
    expect(configFromEnv({ METRICS_ALLOW: '10.0.0.0/8,192.0.2.7,::1' }).metrics.allow).to.deep.equal(['10.0.0.0/8', '192.0.2.7', '::1']);
  });

  it('refuses an unknown job kind for `dossier worker --jobs`, naming the kinds there are', async () => {
    const run = dossierCli(['worker', '--jobs', 'ocr,nonsense'], { DATABASE_URL: 'postgres://127.0.0.1:1/none', DATA_DIR: dir });
    const result = await run.done;
    // Refused before any connection: the kinds are checked against the handlers first.
    expect(result.code).to.not.equal(0);
    expect(result.err).to.match(/unknown job kind nonsense; kinds: ingest, thumbnails, ocr/);
  });
});

describe('operations on S3: /readyz follows the blob store', function () {
  this.timeout(120_000);
  let s3: TestS3;
  let gw: TestGateway;
  before(async function () {
    s3 = await startS3();
    if (s3.kind !== 's3rver') this.skip();
    gw = await startGateway(s3.env());
  });
  after(async () => {
    await gw?.stop();
    await s3?.stop();
  });

  it('is 503 with Retry-After and the store named while the S3 server is down, ready again after', async () => {
    expect((await gw.api('GET', '/readyz', null)).status).to.equal(200);
    await s3.kill();
    const down = await gw.api('GET', '/readyz', null);
    expect(down.status).to.equal(503);
    expect(down.headers.get('retry-after')).to.equal('5');
    expect(down.json.checks.database).to.equal('ok');
    expect(down.json.checks.blobs).to.not.equal('ok');
    expect((await gw.api('GET', '/healthz', null)).status, 'alive all the same').to.equal(200);
    await s3.restart();
    await eventually(async () => ((await gw.api('GET', '/readyz', null)).status === 200 ? true : undefined), 60_000, 'ready again');
  });
});
