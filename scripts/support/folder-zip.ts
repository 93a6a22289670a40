/**
 * A folder of page images as a ZIP, deterministically: stored entries in natural order, fixed
 * timestamps and modes, the file's own mtime set from its sources. The same folder gives the same
 * bytes and the same fingerprint on every run, so an interrupted upload of it resumes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import yazl from 'yazl';
import { pageImages } from './archive-plan.js';

const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

export async function folderZip(folder: string, workDir: string): Promise<string> {
  const files = await pageImages(folder);
  const stats = await Promise.all(files.map((f) => fsp.stat(f)));
  const identity = createHash('sha256');
  files.forEach((f, i) => identity.update(`${path.relative(folder, f)}\0${stats[i]!.size}\0${stats[i]!.mtimeMs}\n`));
  const out = path.join(workDir, `folder-${identity.digest('hex').slice(0, 24)}.zip`);
  if (await fsp.stat(out).then(() => true, () => false)) return out;

  const zip = new yazl.ZipFile();
  for (const f of files) zip.addFile(f, path.relative(folder, f).split(path.sep).join('/'), { compress: false, mtime: FIXED_TIME, mode: 0o100644 });
  zip.end();
  const tmp = `${out}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(fs.createWriteStream(tmp)).on('close', resolve).on('error', reject);
  });
  const newest = new Date(Math.max(0, ...stats.map((s) => s.mtimeMs)));
  await fsp.utimes(tmp, newest, newest);
  await fsp.rename(tmp, out);
  return out;
}
