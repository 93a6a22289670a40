/** Master key files for the at-rest suites, made as an operator would (32 random bytes, base64, mode 0600). */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export async function masterKeyFile(dir: string, name = 'master.key'): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return file;
}

/** Every file under `dir` (recursively) that contains `needle`. */
export async function filesContaining(dir: string, needle: Buffer): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await fs.readFile(file)).includes(needle)) hits.push(file);
  }
  return hits;
}

/** A scan-like JPEG of seeded noise (900 × 1200: about 1 MB): every 64 KiB segment of it is distinct. */
export async function noisyJpeg(seed: number, width = 900, height = 1200): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    pixels[i] = x & 0xff;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

/** A run of 48 varied bytes past the middle of `jpeg` (its entropy-coded data), which no unrelated file holds by chance. */
export function middleRun(jpeg: Buffer): Buffer {
  for (let i = jpeg.length >> 1; i + 48 <= jpeg.length; i++) if (new Set(jpeg.subarray(i, i + 48)).size >= 32) return jpeg.subarray(i, i + 48);
  throw new Error('the test JPEG has no run of 48 varied bytes past its middle');
}
