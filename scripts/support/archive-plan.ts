/**
 * What `dossier migrate` will send, read from an archive directory by convention: one case per top
 * folder (`<case number>[ <title>]`); inside it every dossier file (PDF, TIFF, ZIP, image, found
 * by content) is one dossier, and every sub-folder of page images is one dossier sent as a ZIP.
 */
import { createHash } from 'node:crypto';
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

/** Case folders read at once: an archive of 100,000 cases is listed in seconds, not minutes. */
const PLAN_CONCURRENCY = 32;

export async function planArchive(root: string, o: PlanOptions = {}): Promise<PlannedCase[]> {
  const entries = (await fs.readdir(root, { withFileTypes: true }))
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
  const items: PlannedDossier[] = [];
  for (const e of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => collator.compare(a.name, b.name))) {
    if (hidden(e.name)) continue;
    const full = path.join(folder, e.name);
    if (e.isDirectory()) {
      const key = `${caseName}/${e.name}/`;
      const stamp = await folderStamp(full);
      if (o.known?.(key, stamp) || (await pageImages(full)).length > 0) items.push({ key, kind: 'folder', path: full, filename: `${e.name}.zip`, stamp });
    } else if (e.isFile()) {
      const key = `${caseName}/${e.name}`;
      const stamp = fileStamp(await fs.stat(full));
      if (o.known?.(key, stamp) || detectFormat(await readHead(full)) !== null) items.push({ key, kind: 'file', path: full, filename: e.name, stamp });
    }
  }
  return items;
}

function fileStamp(st: { size: number; mtimeMs: number }): string {
  return `${st.size}:${Math.trunc(st.mtimeMs)}`;
}

/** The stamps of every file under a folder (names included), hashed: any change changes it. */
async function folderStamp(folder: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => collator.compare(a.name, b.name))) {
      if (hidden(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, `${rel}${e.name}/`);
      else if (e.isFile()) hash.update(`${rel}${e.name}\0${fileStamp(await fs.stat(full))}\n`);
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
