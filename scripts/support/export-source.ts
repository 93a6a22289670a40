/** An export to verify, as a ZIP file (read with yauzl) or an unpacked directory. */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { streamDigests } from '../../dossier/digest.js';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { ExportSource } from '../../dossier/evidence/verify-export.js';
import type { StreamedDigest } from './zip-stream-digest.js';

const SMALL_FILE_LIMIT = 256 * 1024 * 1024;

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
    digest: async (p, o) => ((await exists(p)) ? streamDigests(createReadStream(inside(p), { highWaterMark: 1 << 20 }), o?.sm3) : null),
    close: async () => {},
  };
}

/** What the central directory says of an entry: enough to check a digest taken while the ZIP arrived. */
export interface ZipEntryInfo {
  readonly offset: number;
  readonly size: number;
  readonly crc: number;
}

export async function zipSource(file: string): Promise<ExportSource & { close(): Promise<void>; info(path: string): ZipEntryInfo | null }> {
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
    info: (p) => {
      const e = entries.get(p);
      return e && e.compressionMethod === 0 ? { offset: e.relativeOffsetOfLocalHeader, size: e.uncompressedSize, crc: e.crc32 } : null;
    },
    read: async (p) => (entries.has(p) ? collect(await open(entries.get(p)!)) : null),
    digest: async (p, o) => (entries.has(p) ? streamDigests(await open(entries.get(p)!), o?.sm3) : null),
    close: async () => zip.close(),
  };
}

/**
 * A downloaded export whose entries were hashed while it arrived (zip-stream-digest.ts): a digest
 * is used only where the central directory names that entry at the same offset with the same size
 * and CRC-32, and a page of a national-suite manifest has its SM3; everything else is hashed
 * from the file (`rehashed` counts them).
 */
export async function streamedZipSource(file: string, streamed: ReadonlyMap<string, StreamedDigest>): Promise<ExportSource & { close(): Promise<void>; readonly rehashed: number }> {
  const zip = await zipSource(file);
  let rehashed = 0;
  return {
    list: () => zip.list(),
    read: (p) => zip.read(p),
    async digest(p, o) {
      const s = streamed.get(p);
      const info = zip.info(p);
      if (s && info && s.offset === info.offset && s.size === info.size && s.crc === info.crc && (!o?.sm3 || s.sm3 !== undefined)) {
        return { sha256: s.sha256, ...(o?.sm3 ? { sm3: s.sm3 } : {}), size: s.size };
      }
      const d = await zip.digest(p, o);
      if (d) rehashed++;
      return d;
    },
    close: () => zip.close(),
    get rehashed() {
      return rehashed;
    },
  };
}
