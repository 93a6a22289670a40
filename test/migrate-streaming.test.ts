/** `dossier migrate`'s bounded pipeline: items in flight capped by a window, report rows streamed in plan order. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { ItemOutcome } from '../scripts/support/migrate-journal.js';
import { ReportWriter } from '../scripts/support/migrate-report.js';
import { orderedWindow } from '../scripts/support/ordered-window.js';
import { tempDir } from './support/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('migrate streaming (ordered window, report writer)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('migrate-streaming-');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('emits in item order whatever order the work finishes in, never more than the window started and not emitted', async () => {
    let started = 0;
    let emitted = 0;
    let peak = 0;
    const out: number[] = [];
    // Items are never materialised as an array: a generator of 2,000.
    function* items() {
      for (let i = 0; i < 2000; i++) yield i;
    }
    await orderedWindow(
      items(),
      16,
      async (i) => {
        started++;
        peak = Math.max(peak, started - emitted);
        // The head is often the slowest: later items finish first.
        await sleep(i % 7 === 0 ? 3 : i % 3);
        return i * 2;
      },
      (r) => {
        emitted++;
        out.push(r);
      },
    );
    expect(out).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i * 2));
    expect(peak).to.equal(16);
  });

  it('stops at a failing emit, and lets the items still running finish without an unhandled rejection', async () => {
    let unhandled = 0;
    const onUnhandled = () => unhandled++;
    process.on('unhandledRejection', onUnhandled);
    try {
      const run = orderedWindow([1, 2, 3, 4, 5, 6], 3, async (i) => {
        await sleep(5);
        if (i > 1) throw new Error(`item ${i}`);
        return i;
      }, (r) => {
        if (r === 1) throw new Error('emit failed');
      });
      await run.then(() => expect.fail('should have failed'), (err: Error) => expect(err.message).to.equal('emit failed'));
      await sleep(30);
      expect(unhandled).to.equal(0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('writes the JSON and CSV reports row by row: valid JSON, CSV quoting, an empty run gives []', async () => {
    const row = (n: number, error: string | null = null): ItemOutcome => ({
      case: `C-${n}`, item: `C-${n}/a, "b".pdf`, caseId: 'c', dossierId: `d-${n}`, status: error ? 'failed' : 'sealed', pages: 2, bytes: 10, sha256: null, error,
    });
    const target = path.join(dir, 'report.json');
    const w = new ReportWriter(target, true, false);
    for (let n = 0; n < 500; n++) await w.row(row(n, n === 3 ? 'line1\nline2' : null));
    await w.close();
    const json = JSON.parse(await fs.readFile(target, 'utf8')) as ItemOutcome[];
    expect(json).to.have.length(500);
    expect(json[3]).to.deep.equal(row(3, 'line1\nline2'));
    const csv = await fs.readFile(path.join(dir, 'report.csv'), 'utf8');
    expect(csv.split('\n')[0]).to.equal('case,item,status,pages,bytes,dossierId,sha256,error');
    expect(csv).to.include('C-3,"C-3/a, ""b"".pdf",failed,2,10,d-3,,"line1\nline2"\n');

    const empty = new ReportWriter(path.join(dir, 'empty.json'), false, false);
    await empty.close();
    expect(JSON.parse(await fs.readFile(path.join(dir, 'empty.json'), 'utf8'))).to.deep.equal([]);
  });

  it('a report that cannot be written fails the writer, not the process', async () => {
    const w = new ReportWriter(path.join(dir, 'no-such-dir', 'report.csv'), false, false);
    await sleep(20);
    const err = await w.row({ case: 'C', item: 'C/x', caseId: null, dossierId: null, status: 'sealed', pages: 1, bytes: 1, sha256: null, error: null }).then(() => w.close()).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/ENOENT/);
  });
});
