import { randomFillSync } from 'node:crypto';
import fs from 'node:fs/promises';

/** A file of random bytes, made once and reused across runs. */
export async function randomFileOnce(file: string, size: number): Promise<string> {
  const st = await fs.stat(file).catch(() => null);
  if (st?.size === size) return file;
  const fh = await fs.open(`${file}.tmp`, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < size; written += chunk.length) await fh.write(randomFillSync(chunk), 0, Math.min(chunk.length, size - written));
  await fh.close();
  await fs.rename(`${file}.tmp`, file);
  return file;
}
