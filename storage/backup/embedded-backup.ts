/**
 * Backup and restore of the embedded default (PGlite and the filesystem blob store in DATA_DIR).
 *
 * A backup is a directory: `database.tar.gz` (the database's consistent snapshot), `keys/` (the
 * signing key rings), `blobs/sha256/…` and, written last, `backup.json`, so a backup cut short is
 * never taken for a whole one. The database is copied first and the blobs after it: a row is
 * committed only once its blob is stored and blobs are never deleted (content-addressed,
 * immutable), so every blob the snapshot names is there when the copy reaches it. Blobs stored
 * after the snapshot come along unused, which costs bytes, never correctness.
 *
 * What a backup does not hold: uploads in flight (their clients resume or start again) and the
 * master key of encryption at rest (MASTER_KEY_FILE), which is kept apart from the data it opens.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { restorePglite } from '../db/pglite-database.js';
import type { Database } from '../db/database.js';

export const BACKUP_FORMAT = 'dossier-backup/1';
const MANIFEST = 'backup.json';
const DATABASE_FILE = 'database.tar.gz';
const HASH = /^[0-9a-f]{64}$/;
/** Blob copies at once: enough to keep a disk busy, few enough to leave the gateway its descriptors. */
const COPY_CONCURRENCY = 8;

export interface EmbeddedLayout {
  readonly blobsDir: string;
  readonly keysDir: string;
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly createdAt: string;
  readonly database: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly blobs: { readonly count: number; readonly bytes: number };
  readonly keys: readonly string[];
  /** Blobs sealed with data keys wrapped by a master key: the restore needs the same MASTER_KEY_FILE. */
  readonly encryptedAtRest: boolean;
}

export type BackupProgress = { phase: 'database'; bytes: number } | { phase: 'keys'; files: number } | { phase: 'blobs'; count: number; bytes: number };

export class BackupError extends Error {
  constructor(readonly code: 'backup_target_not_empty' | 'backup_unsupported' | 'backup_invalid' | 'restore_target_not_empty', message: string) {
    super(message);
  }
}

export async function writeBackup(
  source: { db: Database; layout: EmbeddedLayout; encryptedAtRest: boolean },
  out: string,
  onProgress: (p: BackupProgress) => void = () => {},
): Promise<BackupManifest> {
  if (!source.db.snapshot) throw new BackupError('backup_unsupported', 'this database is not the embedded one: back it up with its own tools (README, "Backup and restore")');
  await emptyDirectory(out, 'backup_target_not_empty');
  const snapshot = await source.db.snapshot();
  const dbBytes = Buffer.from(await snapshot.arrayBuffer());
  await writeDurably(path.join(out, DATABASE_FILE), dbBytes);
  onProgress({ phase: 'database', bytes: dbBytes.length });

  const keys = await copyTree(source.layout.keysDir, path.join(out, 'keys'), () => true);
  onProgress({ phase: 'keys', files: keys.count });
  const blobs = await copyTree(path.join(source.layout.blobsDir, 'sha256'), path.join(out, 'blobs', 'sha256'), (name) => HASH.test(name), (count, bytes) =>
    onProgress({ phase: 'blobs', count, bytes }),
  );
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: new Date().toISOString(),
    database: { file: DATABASE_FILE, bytes: dbBytes.length, sha256: createHash('sha256').update(dbBytes).digest('hex') },
    blobs: { count: blobs.count, bytes: blobs.bytes },
    keys: keys.files,
    encryptedAtRest: source.encryptedAtRest,
  };
  await writeDurably(path.join(out, MANIFEST), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

/** Reads and checks a backup's manifest and database file before anything is written anywhere. */
export async function readBackup(dir: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch {
    throw new BackupError('backup_invalid', `${dir} holds no ${MANIFEST}: not a backup, or one that did not finish`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupError('backup_invalid', `${dir}: unknown backup format ${String(manifest.format)}`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path.join(dir, DATABASE_FILE))) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== manifest.database.sha256) throw new BackupError('backup_invalid', `${dir}: ${DATABASE_FILE} is not the file the backup wrote`);
  return manifest;
}

/** Restores into an absent or empty data directory laid out as `layout` (database in `dbDir`). */
export async function restoreBackup(
  dir: string,
  target: { dataDir: string; dbDir: string; layout: EmbeddedLayout },
  onProgress: (p: BackupProgress) => void = () => {},
): Promise<BackupManifest> {
  const manifest = await readBackup(dir);
  await emptyDirectory(target.dataDir, 'restore_target_not_empty');
  await restorePglite(target.dbDir, await openAsBlob(path.join(dir, DATABASE_FILE)));
  onProgress({ phase: 'database', bytes: manifest.database.bytes });
  const keys = await copyTree(path.join(dir, 'keys'), target.layout.keysDir, () => true);
  onProgress({ phase: 'keys', files: keys.count });
  const blobs = await copyTree(path.join(dir, 'blobs', 'sha256'), path.join(target.layout.blobsDir, 'sha256'), (name) => HASH.test(name), (count, bytes) =>
    onProgress({ phase: 'blobs', count, bytes }),
  );
  if (blobs.count < manifest.blobs.count) throw new BackupError('backup_invalid', `${dir}: ${manifest.blobs.count} blobs backed up, ${blobs.count} found`);
  return manifest;
}

async function emptyDirectory(dir: string, code: 'backup_target_not_empty' | 'restore_target_not_empty'): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  if ((await fs.readdir(dir)).length > 0) throw new BackupError(code, `${dir} is not empty`);
}

async function writeDurably(file: string, bytes: Buffer): Promise<void> {
  const tmp = `${file}.partial`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

/**
 * Copies every file under `from` whose name passes `keep` to the same place under `to` (a
 * copy-on-write clone where the filesystem has it), `COPY_CONCURRENCY` at a time, each fsynced.
 */
async function copyTree(
  from: string,
  to: string,
  keep: (name: string) => boolean,
  onFile: (count: number, bytes: number) => void = () => {},
): Promise<{ count: number; bytes: number; files: string[] }> {
  const entries = await fs.readdir(from, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const files = entries.filter((e) => e.isFile() && keep(e.name)).map((e) => path.relative(from, path.join(e.parentPath, e.name)));
  let count = 0;
  let bytes = 0;
  const made = new Set<string>();
  let next = 0;
  const copyOne = async (rel: string) => {
    const dest = path.join(to, rel);
    const parent = path.dirname(dest);
    if (!made.has(parent)) {
      await fs.mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await fs.copyFile(path.join(from, rel), dest, constants.COPYFILE_FICLONE);
    const fh = await fs.open(dest, 'r');
    try {
      await fh.datasync();
      bytes += (await fh.stat()).size;
    } finally {
      await fh.close();
    }
    count++;
    if (count % 500 === 0 || count === files.length) onFile(count, bytes);
  };
  await Promise.all(
    Array.from({ length: Math.min(COPY_CONCURRENCY, files.length) }, async () => {
      while (next < files.length) await copyOne(files[next++]!);
    }),
  );
  return { count, bytes, files: files.map((f) => f.split(path.sep).join('/')).sort() };
}
