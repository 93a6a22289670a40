/**
 * Webhooks (issue 15): an agency's own system, a small HTTP server here on 127.0.0.1, receives
 * the webhooks of a transfer's life and verifies each signature with the `standardwebhooks`
 * package; it is down for a while and still gets every event exactly once, in order, when it is
 * back. Targets in private or loopback ranges are refused unless WEBHOOK_ALLOW_HOSTS names them.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { HttpWebhookSender, isPublicAddress } from '../storage/webhooks/http-webhook-sender.js';
import { retryDelayMs } from '../dossier/integration/webhook-delivery.js';
import { agenciesFile, sealedDossier, send } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

interface Delivery {
  id: string;
  body: { id: string; type: string; time: string; data: Record<string, unknown> };
}

/** An agency system: verifies every delivery, keeps them in arrival order; can go down and come back on its port. */
class AgencySystem {
  readonly deliveries: Delivery[] = [];
  readonly refused: string[] = [];
  private server: http.Server | null = null;
  port = 0;
  secret = '';

  async up(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const payload = Buffer.concat(chunks).toString('utf8');
        try {
          const body = new Webhook(this.secret).verify(payload, req.headers as Record<string, string>) as Delivery['body'];
          this.deliveries.push({ id: String(req.headers['webhook-id']), body });
          res.writeHead(204).end();
        } catch (err) {
          this.refused.push((err as Error).message);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

describe('webhooks: SSRF guard', () => {
  it('tells public unicast addresses from loopback, private, link-local, CGNAT and mapped ones', () => {
    for (const a of ['93.184.215.14', '2606:4700:4700::1111', '8.8.8.8']) expect(isPublicAddress(a), a).to.equal(true);
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '224.0.0.1', 'not-an-ip']) {
      expect(isPublicAddress(a), a).to.equal(false);
    }
  });

  it('refuses targets off the allow-list, bad schemes and credentials; allows what the list names', async () => {
    const strict = new HttpWebhookSender({ allowHosts: [], timeoutMs: 1000 });
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.7/', 'file:///etc/passwd', 'ftp://example.org/', 'http://user:pw@127.0.0.1/', 'not a url']) {
      const err = await strict.checkTarget(url).then(() => null, (e: { code?: string }) => e);
      expect(err?.code, url).to.equal('webhook_target_refused');
    }
    const allowing = new HttpWebhookSender({ allowHosts: ['127.0.0.1'], timeoutMs: 1000 });
    await allowing.checkTarget('http://127.0.0.1:9/hook');
    const other = await allowing.checkTarget('http://127.0.0.2:9/hook').then(() => null, (e: { code?: string }) => e);
    expect(other?.code).to.equal('webhook_target_refused');
  });

  it('backs off exponentially up to its ceiling', () => {
    const p = { retryBaseMs: 10_000, retryMaxMs: 3_600_000, disableAfterMs: 0 };
    expect([1, 2, 3, 4, 20].map((n) => retryDelayMs(n, p))).to.deep.equal([10_000, 20_000, 40_000, 80_000, 3_600_000]);
  });
});

describe('webhooks: delivery to an agency system', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: TestGateway;
  const system = new AgencySystem();

  before(async () => {
    dir = await tempDir('webhooks-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE: '1s', WEBHOOK_RETRY_MAX: '2s' });
    await system.up();
  });
  after(async () => {
    await system.down();
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('registers a subscription (admin only), answers the secret once, refuses a private target off the list', async () => {
    const admin = await gw.token('procuratorate-1', 'admin');
    expect((await gw.api('POST', '/api/webhooks', await gw.token('procuratorate-1', 'prosecutor'), { url: `http://127.0.0.1:${system.port}/`, events: ['transfer.received'] })).status).to.equal(403);
    const refused = await gw.api('POST', '/api/webhooks', admin, { url: 'http://192.168.0.10/hook', events: ['transfer.received'] });
    expect([refused.status, refused.json.error.code]).to.deep.equal([422, 'webhook_target_refused']);
    const bad = await gw.api('POST', '/api/webhooks', admin, { url: `http://127.0.0.1:${system.port}/`, events: ['page.read'] });
    expect(bad.status).to.equal(400);
  });

  it('delivers a transfer’s whole life signed, in order and exactly once, though the system was down for a while', async () => {
    const admin = await gw.token('procuratorate-1', 'admin');
    const created = await gw.api('POST', '/api/webhooks', admin, { url: `http://127.0.0.1:${system.port}/dossiers`, events: ['transfer.received', 'transfer.returned', 'transfer.accepted', 'transfer.overdue', 'link.used'] });
    expect(created.status, JSON.stringify(created.json)).to.equal(201);
    expect(created.json.secret).to.match(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    system.secret = created.json.secret;
    const hook = created.json.id as string;
    const listed = (await gw.api('GET', '/api/webhooks', admin)).json.webhooks;
    expect(listed.map((w: { id: string }) => w.id)).to.deep.equal([hook]);
    expect(listed[0]).to.not.have.property('secret');

    const police = await gw.token('police-1', 'clerk');
    const prosecutor = await gw.token('procuratorate-1', 'prosecutor');
    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'WH-1' })).json.id;
    const d = await sealedDossier(gw, police, caseId, 91, 2);
    const first = await send(gw, police, d.id, 'procuratorate-1', 'prosecution');
    await eventually(async () => (system.deliveries.length === 1 ? true : undefined), 30_000, 'the first delivery');
    // Idle (its cursor is at the delivered event): going down now cuts no request in flight.
    await eventually(async () => ((await gw.api('GET', `/api/webhooks/${hook}`, admin)).json.deliveredUpTo === system.deliveries[0]!.body.id ? true : undefined), 10_000, 'cursor moved');
    await system.down();

    expect((await gw.api('POST', `/api/transfers/${first}/return`, prosecutor, { reason: 'no inventory list' })).status).to.equal(200);
    const second = await send(gw, police, d.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${second}/accept`, prosecutor, {})).status).to.equal(200);
    const failing = await eventually(async () => {
      const w = (await gw.api('GET', `/api/webhooks/${hook}`, admin)).json;
      return w.failures >= 2 ? w : undefined;
    }, 30_000, 'failed attempts while the system is down');
    expect(failing.status).to.equal('active');
    expect(failing.lastErrors[0].error).to.match(/ECONNREFUSED|connect/i);

    await system.up();
    await eventually(async () => (system.deliveries.length >= 4 ? true : undefined), 30_000, 'every event after the system came back');
    // Settle: a duplicate, if any, would arrive with the retry that follows.
    await eventually(async () => ((await gw.api('GET', `/api/webhooks/${hook}`, admin)).json.failures === 0 ? true : undefined), 10_000, 'failures cleared');

    expect(system.refused).to.deep.equal([]);
    expect(system.deliveries.map((x) => [x.body.type, x.body.data.transferId])).to.deep.equal([
      ['transfer.received', first], ['transfer.returned', first], ['transfer.received', second], ['transfer.accepted', second],
    ]);
    expect(new Set(system.deliveries.map((x) => x.id)).size).to.equal(4);
    // The bodies are the feed's events, in the feed's order.
    const feed = (await gw.api('GET', '/api/events', prosecutor)).json.events;
    expect(system.deliveries.map((x) => x.body)).to.deep.equal(feed);
    expect(system.deliveries.map((x) => x.id)).to.deep.equal(feed.map((e: { id: string }) => `msg_${e.id}`));
  });

  it('redelivers from an earlier event on request (same webhook-id, for the receiver to de-duplicate); deletes; another agency gets 404', async () => {
    const admin = await gw.token('procuratorate-1', 'admin');
    const hook = (await gw.api('GET', '/api/webhooks', admin)).json.webhooks[0].id as string;
    const firstId = system.deliveries[0]!.body.id;
    const again = await gw.api('POST', `/api/webhooks/${hook}/redeliver`, admin, { from: Number(firstId) });
    expect(again.status, JSON.stringify(again.json)).to.equal(200);
    await eventually(async () => (system.deliveries.length >= 8 ? true : undefined), 30_000, 'the redelivery');
    expect(system.deliveries.slice(4).map((x) => x.id)).to.deep.equal(system.deliveries.slice(0, 4).map((x) => x.id));

    expect((await gw.api('DELETE', `/api/webhooks/${hook}`, await gw.token('police-1', 'admin'))).status).to.equal(404);
    expect((await gw.api('DELETE', `/api/webhooks/${hook}`, admin)).status).to.equal(204);
    expect((await gw.api('GET', '/api/webhooks', admin)).json.webhooks).to.deep.equal([]);
  });
});

describe('webhooks: a subscription that keeps failing', function () {
  this.timeout(180_000);
  let dir: string;
  let gw: TestGateway;
  let redirector: http.Server;
  let redirected = 0;
  const system = new AgencySystem();

  before(async () => {
    dir = await tempDir('webhooks-disable-');
    // Days in production (WEBHOOK_DISABLE_AFTER defaults to 3 days); seconds here.
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE: '1s', WEBHOOK_RETRY_MAX: '1s', WEBHOOK_DISABLE_AFTER: '4s' });
    // A target that answers every delivery with a redirect to the real system.
    redirector = http.createServer((req, res) => {
      redirected++;
      req.resume();
      res.writeHead(307, { location: `http://127.0.0.1:${system.port}/` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    await system.up();
  });
  after(async () => {
    await system.down();
    await new Promise((resolve) => redirector?.close(resolve));
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('follows no redirect, is disabled after failing for the configured time with its last errors shown, and a redeliver re-enables it', async () => {
    const admin = await gw.token('procuratorate-1', 'admin');
    const created = await gw.api('POST', '/api/webhooks', admin, { url: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`, events: ['transfer.received'] });
    expect(created.status, JSON.stringify(created.json)).to.equal(201);
    system.secret = created.json.secret;
    const hook = created.json.id as string;

    const police = await gw.token('police-1', 'clerk');
    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'WH-DISABLE' })).json.id;
    const d = await sealedDossier(gw, police, caseId, 93, 1);
    const transfer = await send(gw, police, d.id, 'procuratorate-1', 'prosecution');

    const disabled = await eventually(async () => {
      const w = (await gw.api('GET', `/api/webhooks/${hook}`, admin)).json;
      return w.status === 'disabled' ? w : undefined;
    }, 60_000, 'the subscription disabled');
    expect(disabled.disabledAt, 'when it was disabled').to.be.a('string');
    expect(disabled.failures).to.be.greaterThan(1);
    expect(disabled.lastErrors.length).to.be.greaterThan(0);
    expect(disabled.lastErrors[0].error).to.match(/HTTP 307: redirects are not followed/);
    expect(system.deliveries, 'the redirect was not followed').to.deep.equal([]);
    expect((await gw.api('GET', '/api/webhooks', admin)).json.webhooks[0].status, 'the admin sees it in the list').to.equal('disabled');

    // Disabled means no more attempts.
    const attempts = redirected;
    await new Promise((r) => setTimeout(r, 2500));
    expect(redirected, 'no attempt while disabled').to.equal(attempts);

    // The agency fixes its endpoint (it now answers 204 itself) and the admin redelivers.
    redirector.removeAllListeners('request');
    redirector.on('request', (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    const again = await gw.api('POST', `/api/webhooks/${hook}/redeliver`, admin, {});
    expect(again.status, JSON.stringify(again.json)).to.equal(200);
    const active = await eventually(async () => {
      const w = (await gw.api('GET', `/api/webhooks/${hook}`, admin)).json;
      return w.status === 'active' && w.failures === 0 && w.deliveredUpTo ? w : undefined;
    }, 30_000, 'active and delivered after the redeliver');
    expect(active.disabledAt).to.equal(null);
    const feed = (await gw.api('GET', '/api/events', await gw.token('procuratorate-1', 'prosecutor'))).json.events;
    expect(feed.map((e: { type: string; data: { transferId: string } }) => [e.type, e.data.transferId])).to.deep.include(['transfer.received', transfer]);
  });
});
