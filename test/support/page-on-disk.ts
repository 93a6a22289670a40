/**
 * Where a page's bytes sit in a gateway's filesystem blob store: its own blob file, or (a stored
 * entry of its ZIP upload, kept as a range: storage/blobs/contained-blob-store.ts) its range of
 * the kept upload's file. Null when neither is a file here (another wiring). For tamper tests.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../storage/db/database.js';

export async function pageOnDisk(gw: { dataDir: string; gateway: { db: Database } }, sha256: string): Promise<{ file: string; start: number; size: number } | null> {
  const blobFile = (h: string) => path.join(gw.dataDir, 'blobs', 'sha256', h.slice(0, 2), h.slice(2, 4), h);
  const own = await fs.stat(blobFile(sha256)).catch(() => null);
  if (own?.isFile()) return { file: blobFile(sha256), start: 0, size: own.size };
  const [r] = await gw.gateway.db.query<{ container: string; start_at: string; size: string }>('SELECT container, start_at, size FROM blob_ranges WHERE sha256 = $1 ORDER BY container LIMIT 1', [sha256]);
  if (!r || !(await fs.stat(blobFile(r.container)).catch(() => null))?.isFile()) return null;
  return { file: blobFile(r.container), start: Number(r.start_at), size: Number(r.size) };
}
