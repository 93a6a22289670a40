/**
 * The event feed (issue 15): an agency's system reads GET /api/events from its last cursor and
 * gets every event once, in order, across a gateway restart; each agency sees only its own;
 * events are the metadata of a transfer's life, derived from the audit chain in its transaction.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { agenciesFile, sealedDossier, send } from './support/custody.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/fixtures.js';
import { startGateway, type TestGateway } from './support/gateway.js';

interface FeedEvent {
  id: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

describe('event feed: GET /api/events', function () {
  this.timeout(180_000);
  let dir: string;
  let env: Record<string, string>;
  let gw: TestGateway;

  /** Reads the feed from `after` to its end, `limit` at a time, as an agency's system would. */
  const readAll = async (token: string, after: string, limit: number): Promise<{ events: FeedEvent[]; next: string }> => {
    const events: FeedEvent[] = [];
    let cursor = after;
    for (;;) {
      const r = await gw.api('GET', `/api/events?after=${cursor}&limit=${limit}`, token);
      expect(r.status, JSON.stringify(r.json)).to.equal(200);
      events.push(...r.json.events);
      if (r.json.events.length === 0) return { events, next: r.json.next };
      expect(Number(r.json.next)).to.be.greaterThan(Number(cursor));
      cursor = r.json.next;
    }
  };

  before(async () => {
    dir = await tempDir('event-feed-');
    env = { DATA_DIR: path.join(dir, 'data'), AGENCIES_FILE: await agenciesFile(dir) };
    gw = await startGateway(env);
  });
  after(async () => {
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads a transfer’s life from a cursor, before and after a restart, losing and repeating nothing', async () => {
    const police = await gw.token('police-1', 'clerk');
    const prosecutorOf = () => gw.token('procuratorate-1', 'prosecutor');
    const start = (await gw.api('GET', '/api/events', await prosecutorOf())).json.next as string;
    expect(start).to.equal('0');

    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'EV-1' })).json.id;
    const d = await sealedDossier(gw, police, caseId, 81, 2);
    const first = await send(gw, police, d.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${first}/return`, await prosecutorOf(), { reason: 'missing the victim’s statement' })).status).to.equal(200);

    const before = await readAll(await prosecutorOf(), start, 1);
    expect(before.events.map((e) => e.type)).to.deep.equal(['transfer.received', 'transfer.returned']);
    expect(before.events[0]!.data).to.deep.include({ transferId: first, dossierId: d.id, caseId, fromAgency: 'police-1', toAgency: 'procuratorate-1', stage: 'prosecution' });
    expect(before.events[1]!.data).to.include({ reason: 'missing the victim’s statement' });

    await gw.stop();
    gw = await startGateway(env);
    const second = await send(gw, await gw.token('police-1', 'clerk'), d.id, 'procuratorate-1', 'prosecution');
    expect((await gw.api('POST', `/api/transfers/${second}/accept`, await prosecutorOf(), {})).status).to.equal(200);

    const afterRestart = await readAll(await prosecutorOf(), before.next, 1);
    expect(afterRestart.events.map((e) => [e.type, e.data.transferId])).to.deep.equal([['transfer.received', second], ['transfer.accepted', second]]);
    // The same feed read whole, from the start: exactly the two reads, joined.
    const whole = await readAll(await prosecutorOf(), '0', 1000);
    expect(whole.events).to.deep.equal([...before.events, ...afterRestart.events]);
    expect(new Set(whole.events.map((e) => e.id)).size).to.equal(whole.events.length);
  });

  it('gives each agency its own events: the sender hears of sealing, answers and searchability; a third agency nothing', async () => {
    const police = await gw.token('police-1', 'clerk');
    const types = await eventually(async () => {
      const all = (await readAll(police, '0', 50)).events.map((e) => e.type);
      return all.includes('dossier.searchable') ? all : undefined;
    }, 120_000, 'dossier.searchable after OCR');
    expect(types.filter((t) => t === 'dossier.sealed')).to.have.length(1);
    expect(types.filter((t) => t === 'dossier.searchable')).to.have.length(1);
    expect(types).to.include.members(['transfer.returned', 'transfer.accepted']);
    expect(types).to.not.include('transfer.received');
    expect((await readAll(await gw.token('court-1', 'judge'), '0', 50)).events).to.deep.equal([]);
  });

  it('refuses a cursor that is not one', async () => {
    const r = await gw.api('GET', '/api/events?after=abc', await gw.token('police-1', 'clerk'));
    expect([r.status, r.json.error.code]).to.deep.equal([400, 'bad_request']);
  });
});
