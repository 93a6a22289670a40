/** An export to verify, as a ZIP file (read with yauzl) or an unpacked directory. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { ExportSource } from '../../dossier/evidence/verify-export.js';

const SMALL_FILE_LIMIT = 256 * 1024 * 1024;

/** SHA-256 and size in one pass; SM3 too when asked (pages of a national-suite manifest). */
async function digestStream(stream: Readable, sm3?: boolean): Promise<{ sha256: string; sm3?: string; size: number }> {
  const hash = createHash('sha256');
  const sm = sm3 ? createHash('sm3') : null;
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    sm?.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), ...(sm ? { sm3: sm.digest('hex') } : {}), size };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > SMALL_FILE_LIMIT) throw new Error('file too large to read whole');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function openExport(file: string): Promise<ExportSource & { close(): Promise<void> }> {
  const st = await fs.stat(file);
  return st.isDirectory() ? directorySource(file) : zipSource(file);
}

async function directorySource(root: string): Promise<ExportSource & { close(): Promise<void> }> {
  const inside = (p: string) => {
    const full = path.resolve(root, p);
    if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`path outside the export: ${p}`);
    return full;
  };
  const exists = (p: string) => fs.stat(inside(p)).then((s) => s.isFile(), () => false);
  return {
    async list() {
      const files = await fs.readdir(root, { recursive: true, withFileTypes: true });
      return files.filter((f) => f.isFile()).map((f) => path.relative(root, path.join(f.parentPath ?? f.path, f.name)).split(path.sep).join('/'));
    },
    read: async (p) => ((await exists(p)) ? fs.readFile(inside(p)) : null),
    digest: async (p, o) => ((await exists(p)) ? digestStream(createReadStream(inside(p), { highWaterMark: 1 << 20 }), o?.sm3) : null),
    close: async () => {},
  };
}

async function zipSource(file: string): Promise<ExportSource & { close(): Promise<void> }> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z!))),
  );
  const entries = new Map<string, Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: Entry) => {
      entries.set(e.fileName, e);
      zip.readEntry();
    });
    zip.once('end', resolve);
    zip.once('error', reject);
    zip.readEntry();
  });
  const open = (e: Entry) =>
    new Promise<Readable>((resolve, reject) => zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s!))));
  return {
    list: async () => [...entries.keys()],
    read: async (p) => (entries.has(p) ? collect(await open(entries.get(p)!)) : null),
    digest: async (p, o) => (entries.has(p) ? digestStream(await open(entries.get(p)!), o?.sm3) : null),
    close: async () => zip.close(),
  };
}
