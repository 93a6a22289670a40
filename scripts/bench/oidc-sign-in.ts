/**
 * Single sign-on's cost: N whole OpenID Connect journeys against oidc-provider on loopback
 * (gateway start route → provider login and consent → callback with code exchange, ID token and
 * userinfo checks, session), and the callback alone. Run: node --import tsx scripts/bench/oidc-sign-in.ts [N]
 * (it borrows the test suite's provider and cookie client: oidc-provider is a dev dependency).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startGateway } from '../../test/support/gateway.js';
import { startOidcProvider } from '../../test/support/oidc-provider.js';
import { CookieClient, formOf } from '../../test/support/cookie-client.js';

const n = Number(process.argv[2] ?? 20);
const idp = await startOidcProvider();
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-oidc-'));
await fs.writeFile(path.join(dir, 'agencies.json'), JSON.stringify([{ id: 'proc-1', name: 'P', kind: 'procuratorate' }]));
const gw = await startGateway({ WORKERS: 'none', AGENCIES_FILE: path.join(dir, 'agencies.json'), OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: 'gw', OIDC_CLIENT_SECRET: 's', OIDC_SCOPES: 'openid dossier' });
await idp.configure({ clientId: 'gw', clientSecret: 's', redirectUri: `${gw.url}/api/session/oidc/callback`, accounts: { u: { agency: 'proc-1', roles: ['judge'] } } });
const isCallback = (u: string) => u.startsWith(`${gw.url}/api/session/oidc/callback`);
const whole: number[] = [];
const callback: number[] = [];
for (let i = 0; i <= n; i++) {
  const c = new CookieClient();
  const t0 = performance.now();
  const start = await c.request(`${gw.url}/api/session/oidc`);
  let hops = await c.follow(start.location!, isCallback);
  while (!(hops.at(-1)!.location && isCallback(hops.at(-1)!.location!))) {
    const last = hops.at(-1)!;
    const form = formOf(last.body, last.url);
    hops = await c.follow(form.action, isCallback, { form: form.fields.prompt === 'login' ? { ...form.fields, login: 'u', password: 'x' } : form.fields });
  }
  const t1 = performance.now();
  const back = await c.request(hops.at(-1)!.location!);
  const t2 = performance.now();
  if (back.status !== 303) throw new Error(`callback answered ${back.status}: ${back.body}`);
  if (i === 0) continue; // warm-up: discovery, JWKS fetch, first connections
  whole.push(t2 - t0);
  callback.push(t2 - t1);
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
console.log(`| journeys | whole journey p50 / p95 (ms) | callback alone p50 / p95 (ms) |`);
console.log(`|---|---|---|`);
console.log(`| ${n} | ${q(whole, 0.5).toFixed(1)} / ${q(whole, 0.95).toFixed(1)} | ${q(callback, 0.5).toFixed(1)} / ${q(callback, 0.95).toFixed(1)} |`);
await gw.stop();
await idp.stop();
await fs.rm(dir, { recursive: true, force: true });
