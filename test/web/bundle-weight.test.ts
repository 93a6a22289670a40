/**
 * The web application's first load stays small: the script and style that index.html loads
 * (not the chunks loaded later, such as the uploader) gzip to at most 300 KB of script.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { defaultWebDir } from '../../server/web-app.js';

const BUDGET_BYTES = 300 * 1024;

describe('web application bundle', () => {
  it('loads at most 300 KB of gzipped script first, and no inline script', async () => {
    const dir = defaultWebDir();
    if (!dir) throw new Error('the web application is not built: npm run build:web');
    const html = await fs.readFile(path.join(dir, 'index.html'), 'utf8');
    expect(html).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file: the CSP allows no other
    const scripts = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\/([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).to.be.greaterThan(0);
    let gzipped = 0;
    for (const s of scripts) gzipped += gzipSync(await fs.readFile(path.join(dir, s)), { level: 9 }).length;
    console.log(`      first-load script: ${scripts.length} file(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).to.be.at.most(BUDGET_BYTES);
  });
});
