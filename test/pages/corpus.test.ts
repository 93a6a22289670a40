/**
 * Real scanner and PDF-tool output (see the corpus README), read when CORPUS_DIR points at it:
 * every file must either give pages or a rejection code, within 60 s, and never anything else.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { REJECTION_CODES, isDossierError } from '../../dossier/errors.js';
import { readPages } from '../../dossier/pages/read-pages.js';
import { DEFAULT_LIMITS } from '../../dossier/pages/types.js';

const BOUND_MS = 60_000;

type Outcome = { pages: number; mediaTypes: string[] } | { code: string; message: string };

async function outcome(file: string): Promise<Outcome> {
  let pages = 0;
  const mediaTypes = new Set<string>();
  try {
    for await (const page of readPages(file, DEFAULT_LIMITS)) {
      pages++;
      mediaTypes.add(page.mediaType);
    }
    return { pages, mediaTypes: [...mediaTypes] };
  } catch (err) {
    expect(isDossierError(err), `${path.basename(file)} threw ${String(err)}`).to.equal(true);
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
}

function within<T>(ms: number, work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

describe('real-world corpus (CORPUS_DIR)', function () {
  this.timeout(BOUND_MS + 10_000);
  const dir = process.env.CORPUS_DIR;

  it('every file gives pages or a rejection code, none hangs or throws anything else', async function () {
    if (!dir) {
      console.log('      (CORPUS_DIR is not set: the corpus test is skipped)');
      this.skip();
    }
    this.timeout(0); // each file has its own bound below
    const names = (await fs.readdir(dir)).filter((n) => n !== 'README.md' && !n.endsWith('.txt')).sort();
    expect(names).to.not.be.empty;
    for (const name of names) {
      const started = Date.now();
      const result = await within(BOUND_MS, outcome(path.join(dir, name)), name);
      const ms = Date.now() - started;
      if ('pages' in result) {
        expect(result.pages, name).to.be.above(0);
        console.log(`      ${name}: ${result.pages} page(s), ${result.mediaTypes.join(', ')} (${ms} ms)`);
      } else {
        expect(REJECTION_CODES.has(result.code as never), `${name}: ${result.code} ${result.message}`).to.equal(true);
        console.log(`      ${name}: rejected ${result.code}: ${result.message} (${ms} ms)`);
      }
    }
  });
});
