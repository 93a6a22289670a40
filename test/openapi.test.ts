/**
 * /openapi.json against the routes that exist: every route of the app's route table is in the
 * document with its method, and every operation of the document is a route of the app.
 */
import { expect } from 'chai';
import { openApiDocument } from '../server/openapi.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { routeTable } from './support/route-table.js';

/** Express path → OpenAPI path: `:id` → `{id}`; tus's catch-all is its documented `/files/{id}`. */
const toOpenApi = (path: string) => (path === '/files' ? '/files/' : path.replace(/\*\w+$/, '{id}').replace(/:(\w+)/g, '{$1}'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'];

describe('OpenAPI document against the route table', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw?.stop();
  });

  it('is served at /openapi.json as OpenAPI 3.1', async () => {
    const res = await gw.api('GET', '/openapi.json', null);
    expect(res.status).to.equal(200);
    expect(res.json.openapi).to.equal('3.1.0');
    expect(res.json.paths).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument.paths)));
  });

  const WEB_APP_PAGES = new Set(['/', '/index.html']);

  it('documents every route the app serves, and no route it does not', () => {
    const paths = openApiDocument.paths as Record<string, Record<string, unknown>>;
    const table = routeTable(gw.gateway.app);
    const served = new Set<string>();
    const missing: string[] = [];
    for (const r of table) {
      // The web application's own page (its index at / and /index.html) is no API route.
      if (WEB_APP_PAGES.has(r.path)) continue;
      const path = toOpenApi(r.path);
      if (!paths[path]) {
        missing.push(`${r.method} ${path}`);
        continue;
      }
      if (r.method === 'ALL') {
        // tus: the document lists the methods of the protocol it serves there.
        for (const m of Object.keys(paths[path]!)) served.add(`${m} ${path}`);
        continue;
      }
      if (!paths[path]![r.method.toLowerCase()]) missing.push(`${r.method} ${path}`);
      served.add(`${r.method.toLowerCase()} ${path}`);
    }
    expect(missing, 'routes missing from the document').to.deep.equal([]);
    const documented = Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m} ${p}`));
    expect(documented.filter((op) => !served.has(op))).to.deep.equal([]);
  });

  it('describes each request body of the supervision and integration routes from its validating schema', () => {
    const hooks = (openApiDocument.paths as any)['/api/webhooks'].post.requestBody.content['application/json'].schema;
    expect(hooks.required).to.deep.equal(['url', 'events']);
    expect(hooks.properties.events.items.enum).to.include('transfer.received');
    const stats = (openApiDocument.paths as any)['/api/stats'].get.parameters.map((p: { name: string }) => p.name);
    expect(stats).to.deep.equal(['from', 'to', 'agency', 'stage']);
  });
});
