/**
 * Outbound webhook calls. The target is checked before every use (SSRF): http or https only, no
 * credentials in the URL, and every address its host resolves to must be public unicast unless
 * the host or address is on WEBHOOK_ALLOW_HOSTS; the connection then goes to the very address
 * that was checked (no second lookup an attacker's DNS could answer differently). Redirects are
 * never followed. Signatures are the Standard Webhooks scheme, made by its reference library.
 */
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';
import { DossierError } from '../../dossier/errors.js';
import type { WebhookMessage, WebhookSender } from '../../dossier/ports/webhooks.js';

export interface WebhookSenderOptions {
  /** Lower-case host names or addresses that may be private, loopback or link-local. */
  readonly allowHosts: readonly string[];
  readonly timeoutMs: number;
  readonly userAgent?: string;
}

interface Checked {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

const refuse = (message: string) => new DossierError('webhook_target_refused', message);

/** Whether an address is an ordinary public one (not loopback, private, link-local, CGNAT, multicast, reserved…). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class HttpWebhookSender implements WebhookSender {
  private readonly allow: ReadonlySet<string>;

  constructor(private readonly options: WebhookSenderOptions) {
    this.allow = new Set(options.allowHosts.map((h) => h.toLowerCase()));
  }

  async checkTarget(url: string): Promise<void> {
    await this.resolve(url);
  }

  private async resolve(raw: string): Promise<Checked> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse('url: not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('url: only http and https targets');
    if (url.username || url.password) throw refuse('url: credentials in the URL are not allowed (the signature authenticates us)');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const literal = net.isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal as 4 | 6 }]
      : await dns.lookup(host, { all: true, verbatim: true }).catch(() => {
          throw refuse(`url: ${host} does not resolve`);
        });
    if (addresses.length === 0) throw refuse(`url: ${host} does not resolve`);
    const allowed = (a: string) => this.allow.has(host) || this.allow.has(ipaddr.isValid(a) ? ipaddr.process(a).toString() : a);
    // Every address, not just the first: a name with one public and one private address is refused.
    const bad = addresses.find((a) => !isPublicAddress(a.address) && !allowed(a.address));
    if (bad) throw refuse(`url: ${host} resolves to ${bad.address}, a private or loopback address not in WEBHOOK_ALLOW_HOSTS`);
    const first = addresses[0]!;
    return { url, address: first.address, family: first.family as 4 | 6 };
  }

  async send(target: { url: string; secret: string }, message: WebhookMessage): Promise<string | null> {
    const checked = await this.resolve(target.url);
    const timestamp = new Date();
    const signature = new Webhook(target.secret).sign(message.id, timestamp, message.body);
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent ?? 'dossier-gateway-webhooks',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const client = checked.url.protocol === 'https:' ? https : http;
    return new Promise<string | null>((resolve) => {
      const req = client.request(
        checked.url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(message.body) },
          timeout: this.options.timeoutMs,
          // The connection goes to the checked address; TLS still verifies the URL's host name.
          lookup: ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) =>
            opts.all ? callback(null, [{ address: checked.address, family: checked.family }]) : callback(null, checked.address, checked.family)) as never,
          agent: false,
        },
        (res) => {
          res.resume(); // the body is not ours to read
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(null);
          else if (status >= 300 && status < 400) resolve(`HTTP ${status}: redirects are not followed`);
          else resolve(`HTTP ${status}`);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', (err) => resolve(err.message || (err as NodeJS.ErrnoException).code || 'connection failed'));
      req.end(message.body);
    });
  }
}
