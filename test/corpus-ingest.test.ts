/**
 * Real scanner and PDF-tool output (shared/corpus, outside the repository), uploaded as a clerk
 * would: each file ends sealed or rejected with a stable code; none hangs or takes the server down.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { REJECTION_CODES } from '../dossier/errors.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { testEnv } from './support/env.js';
import { idFromUrl, tusUpload } from './support/tus.js';

describe('corpus through the gateway', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;
  const outcomes: string[] = [];

  before(async function () {
    if (!testEnv.corpusDir) {
      console.warn('    ⚠ skipped: CORPUS_DIR is not set (point it at shared/corpus)');
      this.skip();
    }
    gw = await startGateway();
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'CORPUS' })).json.id;
  });
  after(async () => {
    if (outcomes.length) console.log(`      ${outcomes.join('\n      ')}`);
    await gw?.stop();
  });

  it('seals or rejects every file with a code', async () => {
    const files = (await fs.readdir(testEnv.corpusDir!)).filter((f) => !/\.(md|txt)$/i.test(f)).sort();
    expect(files.length).to.be.greaterThan(10);
    for (const name of files) {
      const url = await tusUpload(gw.url, path.join(testEnv.corpusDir!, name), { token: clerk, metadata: { filename: name, caseId } }).done;
      const d = await eventually(async () => {
        const r = (await gw.api('GET', `/api/dossiers/${idFromUrl(url)}`, clerk)).json;
        return r.status === 'sealed' || r.status === 'rejected' ? r : undefined;
      }, 120_000, name);
      outcomes.push(`${name}: ${d.status === 'sealed' ? `sealed, ${d.pageCount} page(s)` : `rejected ${d.error.code}`}`);
      if (d.status === 'rejected') expect(REJECTION_CODES.has(d.error.code), `${name}: ${d.error.code}`).to.equal(true);
      expect((await fetch(`${gw.url}/healthz`)).status).to.equal(200);
    }
  });
});
