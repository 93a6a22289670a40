/**
 * The browser's folder ZIP (web/src/folder-zip.ts, run here on Node's File and Blob, which are
 * the web platform's) against `dossier migrate`'s (scripts/support/folder-zip.ts) for the same
 * folder: the same entries in the same natural order with the same bytes, junk left out; and
 * the same folder gives the same bytes every time, which is what lets a closed browser's upload
 * be found again by its fingerprint.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { jpegPage } from '../../scripts/bench/fixtures/small-dossiers.js';
import { folderZip as migrateZip } from '../../scripts/support/folder-zip.js';
import { folderZip, isPageImage, type FolderFile } from '../../web/src/folder-zip.js';
import { tempDir } from '../support/fixtures.js';
import { pythonZipTest, yauzlEntries } from '../support/zip-readers.js';

const LAYOUT = ['vol2/page-1.jpg', 'vol10/page-1.jpg', 'vol1/page-10.jpg', 'vol1/page-2.jpg', 'vol1/page-1.jpg', 'cover.jpg'];
const JUNK = ['.DS_Store', 'vol1/Thumbs.db', '__MACOSX/vol1/._page-1.jpg'];

describe('folder ZIP in the browser, as migrate makes it', function () {
  this.timeout(60_000);
  let dir: string;
  let folder: string;
  let files: FolderFile[];

  before(async () => {
    dir = await tempDir('folder-zip-');
    folder = path.join(dir, 'scans');
    files = [];
    for (const [i, rel] of LAYOUT.entries()) {
      const data = await jpegPage(900 + i);
      await fs.mkdir(path.dirname(path.join(folder, rel)), { recursive: true });
      await fs.writeFile(path.join(folder, rel), data);
      files.push({ path: rel, file: new File([data], path.basename(rel), { type: 'image/jpeg', lastModified: 1_700_000_000_000 + i }) });
    }
    for (const rel of JUNK) {
      await fs.mkdir(path.dirname(path.join(folder, rel)), { recursive: true });
      await fs.writeFile(path.join(folder, rel), 'junk');
    }
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('leaves out what migrate leaves out', () => {
    for (const rel of JUNK) expect(isPageImage(new File(['junk'], path.basename(rel), { type: rel.endsWith('.jpg') ? 'image/jpeg' : '' }), rel), rel).to.equal(false);
    expect(isPageImage(new File(['x'], 'page.TIF'), 'vol1/page.TIF')).to.equal(true); // no type from the browser: by name
    expect(isPageImage(new File(['x'], 'notes.txt', { type: 'text/plain' }), 'notes.txt')).to.equal(false);
  });

  it('holds the same entries in the same natural order with the same bytes as migrate’s ZIP', async () => {
    const browser = Buffer.from(await (await folderZip('scans', files)).arrayBuffer());
    await fs.writeFile(path.join(dir, 'browser.zip'), browser);
    const migrate = await migrateZip(folder, dir);
    const ours = await yauzlEntries(browser);
    const theirs = await yauzlEntries(migrate);
    const digest = (b?: Buffer) => createHash('sha256').update(b!).digest('hex');
    expect(ours.map((e) => e.name)).to.deep.equal(['cover.jpg', 'vol1/page-1.jpg', 'vol1/page-2.jpg', 'vol1/page-10.jpg', 'vol2/page-1.jpg', 'vol10/page-1.jpg']);
    expect(ours.map((e) => e.name)).to.deep.equal(theirs.map((e) => e.name));
    expect(ours.map((e) => digest(e.bytes))).to.deep.equal(theirs.map((e) => digest(e.bytes)));
    await pythonZipTest(path.join(dir, 'browser.zip')); // every CRC-32 checked by another reader
  });

  it('gives the same bytes, name and time for the same folder, whatever order the files came in', async () => {
    const a = await folderZip('scans', files);
    const b = await folderZip('scans', [...files].reverse());
    expect(a.name).to.equal('scans.zip');
    expect(a.type).to.equal('application/zip');
    expect(b.lastModified).to.equal(a.lastModified);
    expect(a.lastModified).to.equal(1_700_000_000_000 + LAYOUT.length - 1); // the newest source's time
    expect(Buffer.from(await b.arrayBuffer()).equals(Buffer.from(await a.arrayBuffer()))).to.equal(true);
  });
});
