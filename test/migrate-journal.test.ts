/** The migrate journal: concurrent use in one process, a torn tail after a kill, compaction. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { MigrateJournal, type ItemRecord } from '../scripts/support/migrate-journal.js';
import { tempDir } from './support/fixtures.js';

const item = (n: number, status: ItemRecord['status'] = 'sealed'): ItemRecord => ({
  case: `C-${n}`, item: `C-${n}/cover.jpg`, caseId: `case-${n}`, dossierId: `d-${n}`, status, pages: 1, bytes: 10, sha256: 'ab'.repeat(32), error: null, stamp: `10:${n}`,
});

describe('migrate journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('migrate-journal-');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes 64 uploads’ URL storage calls at once (no lock to contend for) and keeps what is unfinished', async () => {
    const journal = await MigrateJournal.open(dir, '/archive', 'http://server');
    const storage = journal.urlStorage();
    const previous = (i: number) => ({ size: i, metadata: {}, creationTime: new Date(0).toISOString(), urlStorageKey: '', uploadUrl: `http://server/files/${i}`, parallelUploadUrls: null });
    const keys = await Promise.all(Array.from({ length: 64 }, (_, i) => storage.addUpload(`fp-${i}`, previous(i))));
    expect(new Set(keys).size).to.equal(64);
    await Promise.all(keys.slice(0, 60).map((k) => storage.removeUpload(k)));
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.record(item(i))));
    await journal.close();

    const again = await MigrateJournal.open(dir, '/archive', 'http://server');
    const left = again.urlStorage();
    expect((await left.findAllUploads()).map((u) => u.uploadUrl).sort()).to.deep.equal([60, 61, 62, 63].map((i) => `http://server/files/${i}`));
    expect((await left.findUploadsByFingerprint('fp-61'))[0]?.urlStorageKey).to.equal(keys[61]);
    expect(again.size).to.equal(50);
    expect(again.get('C-7/cover.jpg')).to.deep.equal(item(7));
    await again.close();
  });

  it('ignores the torn last line a kill leaves, and compacts on open: one line per live item', async () => {
    const journal = await MigrateJournal.open(dir, '/archive', 'http://server');
    await journal.recordCase('C-1', 'case-1');
    for (let i = 0; i < 5; i++) await journal.record(item(1, i < 4 ? 'uploaded' : 'sealed'));
    await journal.record(item(2));
    await journal.close();
    await fs.appendFile(journal.file, '{"t":"item","v":{"case":"C-3","it');

    const again = await MigrateJournal.open(dir, '/archive', 'http://server');
    expect(again.get('C-1/cover.jpg')?.status).to.equal('sealed');
    expect(again.get('C-3/cover.jpg')).to.equal(undefined);
    expect(again.caseId('C-1')).to.equal('case-1');
    const lines = (await fs.readFile(again.file, 'utf8')).trim().split('\n');
    expect(lines).to.have.length(3); // the case and two items
    await again.close();
    // Another archive or server is another journal.
    const other = await MigrateJournal.open(dir, '/archive', 'http://other');
    expect(other.size).to.equal(0);
    expect(path.dirname(other.file)).to.equal(dir);
    await other.close();
  });

  it('is not rewritten on open when there is nothing to compact (a re-run after a clean run), and is when a line lacks its newline', async () => {
    const journal = await MigrateJournal.open(dir, '/archive', 'http://server');
    await journal.recordCase('C-1', 'case-1');
    for (let i = 0; i < 20; i++) await journal.record(item(i));
    await journal.close();
    const before = await fs.stat(journal.file);

    const again = await MigrateJournal.open(dir, '/archive', 'http://server');
    expect(again.size).to.equal(20);
    await again.close();
    const after = await fs.stat(journal.file);
    expect({ ino: after.ino, size: after.size, mtimeMs: after.mtimeMs }).to.deep.equal({ ino: before.ino, size: before.size, mtimeMs: before.mtimeMs });

    // Whole JSON but no newline (a write torn just before it): rewritten, so the next line starts clean.
    await fs.writeFile(journal.file, (await fs.readFile(journal.file, 'utf8')).trimEnd());
    const third = await MigrateJournal.open(dir, '/archive', 'http://server');
    await third.record(item(99));
    await third.close();
    const fourth = await MigrateJournal.open(dir, '/archive', 'http://server');
    expect(fourth.size).to.equal(21);
    expect(fourth.get('C-19/cover.jpg')).to.deep.equal(item(19));
    await fourth.close();
  });
});
