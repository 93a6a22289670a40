/** The tus staging directory seen as the ingest's StagingArea. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StagingArea } from '../../dossier/ports/staging.js';

const UPLOAD_ID = /^[0-9a-f-]{36}$/;

export class TusStaging implements StagingArea {
  constructor(
    private readonly uploadsDir: string,
    private readonly quarantineDir: string,
  ) {}

  private file(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`not an upload id: ${id.slice(0, 80)}`);
    return path.join(this.uploadsDir, id);
  }

  async path(id: string): Promise<string | null> {
    const file = this.file(id);
    try {
      await fs.access(file);
      return file;
    } catch {
      return null;
    }
  }

  async flush(id: string): Promise<void> {
    const fh = await fs.open(this.file(id), 'r');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async quarantine(id: string): Promise<void> {
    await fs.mkdir(this.quarantineDir, { recursive: true });
    await fs.rename(this.file(id), path.join(this.quarantineDir, id)).catch(ignoreMissing);
    await this.forget(id);
  }

  async forget(id: string): Promise<void> {
    await fs.rm(`${this.file(id)}.json`, { force: true });
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
