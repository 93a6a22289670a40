/**
 * Fuzzing the gateway's request bodies through one live gateway: seeded tus exchanges (headers,
 * offsets, metadata and the dossier bytes right or broken) and JSON bodies of every route that
 * takes one. No answer is a 5xx, every error is the JSON shape with a stable code, HEAD tells
 * exactly the bytes kept, every upload that got all its bytes ends sealed or rejected with a
 * rejection code and the SHA-256 of what was sent, nothing pollutes the process' prototypes, and
 * the audit chain still verifies. A failure prints fast-check's seed and path (FUZZ_SEED=<seed>);
 * it is not shrunk unless FUZZ_SHRINK=1 (each try is a round of HTTP requests).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import pLimit from 'p-limit';
import { ERROR_CODES, REJECTION_CODES, type ErrorCode } from '../../dossier/errors.js';
import { agenciesFile, send } from '../support/custody.js';
import { testEnv } from '../support/env.js';
import { eventually } from '../support/eventually.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { idFromUrl, tusUpload } from '../support/tus.js';
import { ExchangeFailure, runExchange, tusExchange } from './fuzz/tus-exchanges.js';
import { bodyText, JSON_ROUTES, jsonRequest, type JsonRequest, type Role } from './fuzz/json-requests.js';
import { JSON_REGRESSIONS, TUS_REGRESSIONS } from './fuzz/regressions.js';
import { mutate } from './fuzz/mutations.js';
import { seedDossiers, type SeedFormat } from './fuzz/seed-dossiers.js';
import { recordCase, recordFigures } from './results.js';

/** A tenth of the fuzz runs each: the files (fuzz-readers.test.ts) take the other four fifths. */
const TUS_RUNS = Math.max(1, Math.floor(testEnv.fuzzRuns / 10));
const JSON_RUNS = Math.max(1, Math.floor(testEnv.fuzzRuns / 10));

describe('fuzzing the request bodies of a live gateway @fuzz', function () {
  this.timeout(1_800_000);
  let gw: TestGateway;
  let seeds: Record<SeedFormat, Buffer>;
  const tokens = {} as Record<Role | 'auditor', string>;
  let caseId: string;
  let ids: { dossier: string; transfer: string };
  const completed: { id: string; sha256: string }[] = [];

  before(async () => {
    seeds = await seedDossiers();
    const dir = await tempDir('dossier-fuzz-http-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), OCR_WORKERS: '1' }, { limits: { maxPages: 1000, maxPixels: 16_000_000 }, allDecoders: false });
    tokens.clerk = await gw.token('police-1', 'clerk');
    tokens.prosecutor = await gw.token('procuratorate-1', 'prosecutor');
    tokens.admin = await gw.token('police-1', 'admin');
    tokens.auditor = await gw.token('police-1', 'auditor');
    caseId = (await gw.api('POST', '/api/cases', tokens.clerk, { number: 'FUZZ-1', title: 'fuzzing' })).json.id;
    // A sealed dossier (the seed ZIP: drawing pages with SVG is blocked here, as in production) and its pending transfer.
    const dossier = idFromUrl(await tusUpload(gw.url, seeds.zip, { token: tokens.clerk, metadata: { filename: 'seed.zip', caseId } }).done);
    await eventually(async () => ((await gw.api('GET', `/api/dossiers/${dossier}`, tokens.clerk)).json?.status === 'sealed' ? true : undefined), 120_000, 'the seed dossier sealed');
    ids = { dossier, transfer: await send(gw, tokens.clerk, dossier, 'procuratorate-1', 'arrest-review') };
    console.log(`      fuzz seed ${testEnv.fuzzSeed}: ${TUS_RUNS} tus exchanges, ${JSON_RUNS} JSON requests (FUZZ_SEED, FUZZ_RUNS to change)`);
  });
  after(async () => gw?.stop());

  /** Sends one fuzzed JSON request; its status and error code (when it is the JSON error shape). */
  async function sendJson(q: JsonRequest): Promise<{ status: number; code: unknown; text: string }> {
    const route = JSON_ROUTES[q.route]!;
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[route.role]}` };
    if (q.contentType !== null) headers['content-type'] = q.contentType;
    if (q.contentEncoding !== null) headers['content-encoding'] = q.contentEncoding;
    const res = await fetch(`${gw.url}${route.path(ids)}`, { method: route.method, headers, body: bodyText(route, q.body) });
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.status, code, text };
  }

  it(`${TUS_RUNS} fuzzed tus exchanges: no 5xx, stable codes, HEAD tells the bytes kept`, async () => {
    const started = performance.now();
    const statuses: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(tusExchange, async (x) => {
        try {
          const r = await runExchange(gw.url, tokens.clerk, caseId, seeds, x, mutate);
          for (const s of r.statuses) statuses[s] = (statuses[s] ?? 0) + 1;
          if (r.id && r.completedSha256) completed.push({ id: r.id, sha256: r.completedSha256 });
        } catch (err) {
          if (err instanceof ExchangeFailure) throw new Error(`${JSON.stringify(x)}: ${err.message}`);
          throw err;
        }
      }),
      { seed: testEnv.fuzzSeed + 100, numRuns: TUS_RUNS, endOnFailure: !testEnv.fuzzShrink },
    );
    recordCase('fuzz', `${TUS_RUNS} tus exchanges`, `statuses ${JSON.stringify(statuses)}, ${completed.length} complete`, performance.now() - started);
    recordFigures('fuzz', { tusStatuses: statuses, tusCompleted: completed.length });
    expect(completed.length, 'some exchanges delivered a whole dossier').to.be.greaterThan(0);
  });

  it('every upload that got all its bytes ends sealed or rejected with a rejection code, with the SHA-256 of what was sent', async () => {
    const outcomes: Record<string, number> = {};
    const limit = pLimit(4);
    await Promise.all(
      completed.map(({ id, sha256 }) =>
        limit(async () => {
          const d = await eventually(async () => {
            const r = await gw.api('GET', `/api/dossiers/${id}`, tokens.clerk);
            return r.json?.status === 'sealed' || r.json?.status === 'rejected' ? r.json : undefined;
          }, 300_000, `the end of upload ${id}`);
          expect(d.sha256, `the original's hash of ${id}`).to.equal(sha256);
          if (d.status === 'rejected') expect(REJECTION_CODES.has(d.error?.code as ErrorCode), `${id}: ${JSON.stringify(d.error)}`).to.equal(true);
          else expect(d.pageCount, id).to.be.greaterThan(0);
          const key = d.status === 'sealed' ? 'sealed' : d.error.code;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }),
      ),
    );
    recordCase('fuzz', `${completed.length} complete fuzzed uploads ingested`, JSON.stringify(outcomes), 0);
    recordFigures('fuzz', { tusIngestOutcomes: outcomes });
  });

  it(`${JSON_RUNS} fuzzed JSON bodies: no 5xx, stable codes, no prototype pollution`, async () => {
    const started = performance.now();
    const statuses: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(jsonRequest, async (q) => {
        const { status, code, text } = await sendJson(q);
        statuses[status] = (statuses[status] ?? 0) + 1;
        const route = JSON_ROUTES[q.route]!;
        const where = `${route.method} ${route.name} ${JSON.stringify(q).slice(0, 400)}`;
        if (status >= 500) throw new Error(`${where}: ${status} ${text.slice(0, 300)}`);
        if (status >= 400 && (typeof code !== 'string' || !(ERROR_CODES as readonly string[]).includes(code))) throw new Error(`${where}: ${status} without the JSON error shape and a stable code: ${text.slice(0, 200)}`);
        const probe = {} as Record<string, unknown>;
        if (probe.polluted !== undefined || probe.roles !== undefined) throw new Error(`${where}: Object.prototype was polluted`);
      }),
      { seed: testEnv.fuzzSeed + 200, numRuns: JSON_RUNS, endOnFailure: !testEnv.fuzzShrink },
    );
    recordCase('fuzz', `${JSON_RUNS} JSON bodies`, `statuses ${JSON.stringify(statuses)}`, performance.now() - started);
    recordFigures('fuzz', { jsonStatuses: statuses });
  });

  describe('regressions found by fuzzing', () => {
    for (const r of TUS_REGRESSIONS) {
      it(`tus: ${r.found} → ${r.expect} with the JSON error shape`, async () => {
        const result = await runExchange(gw.url, tokens.clerk, caseId, seeds, r.exchange, mutate);
        expect(result.statuses[0]).to.equal(r.expect);
        recordCase('fuzz', `regression tus: ${r.found}`, `${r.expect} JSON`, 0);
      });
    }
    for (const r of JSON_REGRESSIONS) {
      it(`JSON: ${JSON.stringify(r.request)}: ${r.found} → ${r.status} ${r.code}`, async () => {
        const { status, code } = await sendJson(r.request);
        expect([status, code]).to.deep.equal([r.status, r.code]);
        recordCase('fuzz', `regression JSON: ${r.found}`, `${r.status} ${r.code}`, 0);
      });
    }
  });

  it('afterwards the gateway is alive and the audit chain verifies', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
    const v = await gw.api('GET', '/api/audit/verify', tokens.auditor);
    expect(v.status, JSON.stringify(v.json)).to.equal(200);
    expect(v.json.ok, JSON.stringify(v.json)).to.equal(true);
    recordCase('fuzz', 'gateway alive, audit chain whole after fuzzing', `ok, ${v.json.checked} events`, 0);
  });
});
