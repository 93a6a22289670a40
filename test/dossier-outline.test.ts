/**
 * A PDF's outline end to end: uploaded over tus, read at ingest (by offset, with the pages),
 * stored with the seal, served in GET /api/dossiers/:id in dossier page numbers, each bookmark
 * opening the page that its target is (the stored page shows that page's own text).
 */
import zlib from 'node:zlib';
import { expect } from 'chai';
import { PDFArray, PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import { startGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { idFromUrl, tusUpload } from './support/tus.js';
import { pdf, zip } from './pages/document-fixtures.js';
import { OUTLINED_ENTRIES, outlinedPdf } from './pages/pdf-shapes.js';

type Entry = { title: string; page: number | null; children: Entry[] };

/** The outline with every page moved by `by` (the pages before the PDF in the dossier). */
const shifted = (entries: readonly Entry[], by: number): Entry[] => entries.map((e) => ({ title: e.title, page: e.page === null ? null : e.page + by, children: shifted(e.children, by) }));
const flat = (entries: readonly Entry[]): Entry[] => entries.flatMap((e) => [e, ...flat(e.children)]);

/** The text a one-page PDF draws (pdf-lib writes standard-font text as hex strings, deflated). */
async function drawnText(bytes: Buffer): Promise<string> {
  const page = (await PDFDocument.load(bytes)).getPage(0);
  const contents = page.node.Contents();
  const streams = contents instanceof PDFArray ? contents.asArray().map((r) => page.doc.context.lookup(r)) : [contents];
  let text = '';
  for (const s of streams) {
    if (!(s instanceof PDFRawStream)) continue;
    const raw = s.dict.get(PDFName.of('Filter')) ? zlib.inflateSync(s.contents) : Buffer.from(s.contents);
    for (const [, hex] of raw.toString('latin1').matchAll(/<([0-9A-Fa-f]+)>\s*Tj/g)) text += Buffer.from(hex!, 'hex').toString('latin1');
  }
  return text;
}

describe('PDF outline through the API', function () {
  this.timeout(180_000);
  let gw: TestGateway;
  let clerk: string;
  let caseId: string;

  before(async () => {
    gw = await startGateway({ OCR_WORKERS: '1' });
    clerk = await gw.token('police-1', 'clerk');
    caseId = (await gw.api('POST', '/api/cases', clerk, { number: 'OUTLINE-1', title: 'outline' })).json.id;
  });
  after(async () => {
    await gw?.stop();
  });

  async function sealedDossier(bytes: Buffer, filename: string) {
    const id = idFromUrl(await tusUpload(gw.url, bytes, { token: clerk, metadata: { filename, caseId } }).done);
    return eventually(async () => {
      const r = await gw.api('GET', `/api/dossiers/${id}`, clerk);
      return r.json?.status === 'sealed' || r.json?.status === 'rejected' ? r.json : undefined;
    }, 120_000, `the seal of ${filename}`);
  }

  /** Every bookmark's page is the page its target was in the PDF (`before`: pages ahead of the PDF). */
  async function expectTargets(id: string, outline: readonly Entry[], before: number) {
    for (const e of flat(outline).filter((e) => e.page !== null)) {
      const res = await fetch(`${gw.url}/api/dossiers/${id}/pages/${e.page}`, { headers: { authorization: `Bearer ${clerk}` } });
      expect(res.status).to.equal(200);
      expect(await drawnText(Buffer.from(await res.arrayBuffer())), `${e.title} → page ${e.page}`).to.equal(`Page ${e.page! - before}`);
    }
  }

  it('a PDF: its bookmarks, nested, each with its page', async () => {
    const d = await sealedDossier(await outlinedPdf(), 'outlined.pdf');
    expect(d.status, JSON.stringify(d.error)).to.equal('sealed');
    expect(d.outline).to.deep.equal(OUTLINED_ENTRIES);
    await expectTargets(d.id, d.outline, 0);
  });

  it('a PDF inside a ZIP after another: the bookmarks in dossier page numbers', async () => {
    const d = await sealedDossier(await zip([{ name: '1-cover.pdf', data: await pdf(2) }, { name: '2-record.pdf', data: await outlinedPdf() }]), 'case.zip');
    expect(d.status, JSON.stringify(d.error)).to.equal('sealed');
    expect(d.pageCount).to.equal(8);
    expect(d.outline).to.deep.equal(shifted(OUTLINED_ENTRIES, 2));
    await expectTargets(d.id, d.outline, 2);
  });

  it('a dossier without bookmarks has an empty outline; listings carry none', async () => {
    const d = await sealedDossier(await pdf(2), 'plain.pdf');
    expect(d.outline).to.deep.equal([]);
    const c = (await gw.api('GET', `/api/cases/${caseId}`, clerk)).json;
    expect(c.dossiers.every((x: Record<string, unknown>) => !('outline' in x))).to.equal(true);
  });
});
