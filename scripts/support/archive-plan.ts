/**
 * What `dossier migrate` will send, read from an archive directory by convention: one case per top
 * folder (`<case number>[ <title>]`); inside it every dossier file (PDF, TIFF, ZIP, image, found
 * by content) is one dossier, and every sub-folder of page images is one dossier sent as a ZIP.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { detectFormat, readHead } from '../../dossier/pages/detect.js';

export interface PlannedDossier {
  /** Stable key of this item across runs: `<case folder>/<name>`. */
  readonly key: string;
  readonly kind: 'file' | 'folder';
  readonly path: string;
  /** The file name the gateway records (a folder becomes `<folder>.zip`). */
  readonly filename: string;
}

export interface PlannedCase {
  readonly number: string;
  readonly title: string;
  readonly folder: string;
  readonly dossiers: readonly PlannedDossier[];
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const hidden = (name: string) => name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db';

export async function planArchive(root: string): Promise<PlannedCase[]> {
  const cases: PlannedCase[] = [];
  for (const entry of (await fs.readdir(root, { withFileTypes: true })).sort((a, b) => collator.compare(a.name, b.name))) {
    if (!entry.isDirectory() || hidden(entry.name)) continue;
    const [number, ...rest] = entry.name.split(' ');
    const folder = path.join(root, entry.name);
    cases.push({ number: number!, title: rest.join(' ').trim(), folder, dossiers: await planCase(entry.name, folder) });
  }
  return cases;
}

async function planCase(caseName: string, folder: string): Promise<PlannedDossier[]> {
  const items: PlannedDossier[] = [];
  for (const e of (await fs.readdir(folder, { withFileTypes: true })).sort((a, b) => collator.compare(a.name, b.name))) {
    if (hidden(e.name)) continue;
    const full = path.join(folder, e.name);
    if (e.isDirectory()) {
      if ((await pageImages(full)).length > 0) items.push({ key: `${caseName}/${e.name}/`, kind: 'folder', path: full, filename: `${e.name}.zip` });
    } else if (e.isFile() && detectFormat(await readHead(full)) !== null) {
      items.push({ key: `${caseName}/${e.name}`, kind: 'file', path: full, filename: e.name });
    }
  }
  return items;
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
            ? { key: `${c.case}/${rel}/`, kind: 'folder', path: full, filename: `${name}.zip` }
            : { key: `${c.case}/${rel}`, kind: 'file', path: full, filename: name };
        }),
      ),
    })),
  );
}
