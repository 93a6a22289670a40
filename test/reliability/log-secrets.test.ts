/**
 * No token, password, cookie or key in any log line: a gateway logging at debug level into a
 * captured stream serves bearer requests (good and forged), sign-ins (right and wrong password,
 * until the lock), session requests, link downloads and an upload; then every line is searched for
 * each secret, and the same search on the lines of a planted secret proves the grep can fail.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { hashPassword } from '../../dossier/access/passwords.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { eventually } from '../support/eventually.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { jpeg } from '../pages/fixtures.js';
import { recordCase } from './results.js';

const PASSWORD = 'Tr0ub4dor&3-not-in-logs';

describe('no secret in any log line @attacks', function () {
  this.timeout(180_000);
  const lines: string[] = [];
  let gw: TestGateway;

  before(async () => {
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
    // The gateway's own logger and redaction, at its most talkative level, into the sink.
    gw = await startGateway({ OCR_WORKERS: '1', LOG_LEVEL: 'debug' }, { logDestination: sink });
    await gw.gateway.accounts.create({ userId: 'clerk-log', agency: 'police-1', roles: ['clerk'], passwordHash: await hashPassword(PASSWORD) }, new Date());
  });
  after(() => gw?.stop());

  it('bearer tokens, link tokens, passwords, cookies, CSRF tokens and private keys never reach the log', async () => {
    const secrets: string[] = [];
    const clerk = await gw.token('police-1', ['clerk', 'judge']);
    secrets.push(clerk, clerk.split('.')[2]!);
    const caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'LOG-1' })).json.id;
    const id = idFromUrl(await tusUpload(gw.url, await jpeg(1), { token: clerk, metadata: { filename: 'a.jpg', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${id}`, clerk)).json.status === 'sealed' ? true : undefined), 60_000, 'sealed');
    const link = (await gw.api('POST', `/api/dossiers/${id}/links`, clerk, {})).json;
    const linkToken = new URL(link.url).pathname.split('/')[2]!;
    secrets.push(linkToken);
    expect((await fetch(link.url)).status).to.equal(200);
    await fetch(`${link.url}x`); // a broken link token is logged as a refusal, not as itself
    const forged = `${clerk.slice(0, -4)}AAAA`;
    secrets.push(forged);
    expect((await gw.api('GET', '/api/cases', forged)).status).to.equal(401);
    // Sign-ins: wrong passwords until the lock, then the right one on a fresh account.
    for (let i = 0; i < 3; i++) {
      const wrong = `${PASSWORD}-wrong-${i}`;
      secrets.push(wrong);
      await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'clerk-log', password: wrong }) });
    }
    const signIn = await fetch(`${gw.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'clerk-log', password: PASSWORD }) });
    expect(signIn.status).to.equal(201);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const csrf = ((await signIn.json()) as { csrfToken: string }).csrfToken;
    secrets.push(PASSWORD, cookie.split('=')[1]!, csrf);
    await fetch(`${gw.url}/api/cases`, { headers: { cookie } });
    await fetch(`${gw.url}/api/cases`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ number: 'LOG-2' }) });
    await fetch(`${gw.url}/api/cases`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' }); // csrf_failed
    const pair = gw.gateway.issuerKeys.currentPair();
    secrets.push(String(pair.privateKey.export({ format: 'jwk' }).d));

    expect(lines.length, 'the logger captured the requests').to.be.greaterThan(20);
    const found = secrets.filter((s) => lines.some((l) => l.includes(s)));
    expect(found.map((s) => `${s.slice(0, 12)}…`), 'secrets found in the log').to.deep.equal([]);
    // The search itself works: a line that does carry one is found.
    expect([`{"msg":"x","h":"${clerk}"}`].some((l) => l.includes(secrets[0]!))).to.equal(true);
    recordCase('attacks', `no secret in ${lines.length} log lines (${secrets.length} secrets searched)`, 'none found', 0);
  });
});
