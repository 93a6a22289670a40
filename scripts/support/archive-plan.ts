/**
 * What `dossier migrate` will send, read from an archive directory by convention: one case per top
 * folder (`<case number>[ <title>]`); inside it every dossier file (PDF, TIFF, ZIP, image, found
 * by content) is one dossier, and every sub-folder of page images is one dossier sent as a ZIP.
 */
import { createHash } from 'node:crypto';
import { readdir as readdirCallback, stat as statCallback, type Dirent, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { z } from 'zod';
import { detectFormat, readHead } from '../../dossier/pages/detect.js';

export interface PlannedDossier {
  /** Stable key of this item across runs: `<case folder>/<name>`. */
  readonly key: string;
  readonly kind: 'file' | 'folder';
  readonly path: string;
  /** The file name the gateway records (a folder becomes `<folder>.zip`). */
  readonly filename: string;
  /** Size and modification time of the file (of every file, for a folder): unchanged means unchanged. */
  readonly stamp: string;
}

export interface PlanOptions {
  /** True when this item with this stamp is already done: its content need not be read again. */
  readonly known?: (key: string, stamp: string) => boolean;
}

export interface PlannedCase {
  readonly number: string;
  readonly title: string;
  readonly folder: string;
  readonly dossiers: readonly PlannedDossier[];
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const hidden = (name: string) => name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db';

/**
 * Case folders read at once: an archive of 100,000 cases is listed in seconds, not minutes. Enough
 * to keep a network share's latency hidden; on a local disk the listing is CPU-bound either way.
 */
const PLAN_CONCURRENCY = 64;

// The callback forms: for the many small calls of a listing, a promise from fs/promises costs about
// twice the main-thread CPU of the call itself (measured on a 10,000-case archive).
/** Entries of one case looked at once (a case of a thousand loose files opens no thousand files at once). */
const CASE_ENTRY_CONCURRENCY = 16;

const listDir = (dir: string) =>
  new Promise<Dirent[]>((resolve, reject) => readdirCallback(dir, { withFileTypes: true }, (err, entries) => (err ? reject(err) : resolve(entries))));
const statOf = (file: string) => new Promise<Stats>((resolve, reject) => statCallback(file, (err, st) => (err ? reject(err) : resolve(st))));

export async function planArchive(root: string, o: PlanOptions = {}): Promise<PlannedCase[]> {
  const entries = (await listDir(root))
    .filter((e) => e.isDirectory() && !hidden(e.name))
    .sort((a, b) => collator.compare(a.name, b.name));
  const limit = pLimit(PLAN_CONCURRENCY);
  return Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const [number, ...rest] = entry.name.split(' ');
        const folder = path.join(root, entry.name);
        return { number: number!, title: rest.join(' ').trim(), folder, dossiers: await planCase(entry.name, folder, o) };
      }),
    ),
  );
}

async function planCase(caseName: string, folder: string, o: PlanOptions): Promise<PlannedDossier[]> {
  const entries = (await listDir(folder)).filter((e) => !hidden(e.name) && (e.isDirectory() || e.isFile())).sort((a, b) => collator.compare(a.name, b.name));
  // One stat a file, all of a case's at once; a file whose key and stamp the journal knows as done is not opened.
  const limit: <T>(f: () => Promise<T>) => Promise<T> = entries.length > CASE_ENTRY_CONCURRENCY ? pLimit(CASE_ENTRY_CONCURRENCY) : (f) => f();
  const items = await Promise.all(
    entries.map((e) => limit(async (): Promise<PlannedDossier | null> => {
      const full = path.join(folder, e.name);
      if (e.isDirectory()) {
        const key = `${caseName}/${e.name}/`;
        const stamp = await folderStamp(full);
        return o.known?.(key, stamp) || (await pageImages(full)).length > 0 ? { key, kind: 'folder', path: full, filename: `${e.name}.zip`, stamp } : null;
      }
      const key = `${caseName}/${e.name}`;
      const stamp = fileStamp(await statOf(full));
      return o.known?.(key, stamp) || detectFormat(await readHead(full)) !== null ? { key, kind: 'file', path: full, filename: e.name, stamp } : null;
    })),
  );
  return items.filter((d): d is PlannedDossier => d !== null);
}

function fileStamp(st: { size: number; mtimeMs: number }): string {
  return `${st.size}:${Math.trunc(st.mtimeMs)}`;
}

/** The stamps of every file under a folder (names included), hashed: any change changes it. */
async function folderStamp(folder: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of (await listDir(dir)).sort((a, b) => collator.compare(a.name, b.name))) {
      if (hidden(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, `${rel}${e.name}/`);
      else if (e.isFile()) hash.update(`${rel}${e.name}\0${fileStamp(await statOf(full))}\n`);
    }
  };
  await walk(folder, '');
  return `dir:${hash.digest('hex').slice(0, 32)}`;
}

/** The image files of a page folder, recursively, in natural order (sub-folders as volumes). */
export async function pageImages(folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => collator.compare(a.name, b.name))) {
    if (hidden(e.name)) continue;
    const full = path.join(folder, e.name);
    if (e.isDirectory()) out.push(...(await pageImages(full)));
    else if (e.isFile()) {
      const format = detectFormat(await readHead(full));
      if (format && format !== 'zip' && format !== 'pdf') out.push(full);
    }
  }
  return out;
}

/**
 * For archives laid out otherwise: a JSON mapping
 * `[{ "case": "<number>", "title": "…", "paths": ["<file or page folder, relative to the root>", …] }]`.
 */
const mappingSchema = z.array(
  z.object({ case: z.string().trim().min(1).max(100), title: z.string().default(''), paths: z.array(z.string().min(1)).min(1) }),
);

export async function planFromMapping(root: string, mappingFile: string): Promise<PlannedCase[]> {
  const parsed = mappingSchema.safeParse(JSON.parse(await fs.readFile(mappingFile, 'utf8')));
  if (!parsed.success) throw new Error(`${mappingFile}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const base = path.resolve(root);
  return Promise.all(
    parsed.data.map(async (c) => ({
      number: c.case,
      title: c.title,
      folder: base,
      dossiers: await Promise.all(
        c.paths.map(async (rel): Promise<PlannedDossier> => {
          const full = path.resolve(base, rel);
          if (!full.startsWith(base + path.sep)) throw new Error(`${mappingFile}: ${rel} is outside ${root}`);
          const st = await fs.stat(full).catch(() => null);
          if (!st) throw new Error(`${mappingFile}: ${rel} does not exist`);
          const name = path.basename(full);
          return st.isDirectory()
            ? { key: `${c.case}/${rel}/`, kind: 'folder', path: full, filename: `${name}.zip`, stamp: await folderStamp(full) }
            : { key: `${c.case}/${rel}`, kind: 'file', path: full, filename: name, stamp: fileStamp(st) };
        }),
      ),
    })),
  );
}
