/** What `dossier migrate` has finished, per archive, written atomically after every change. */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface ItemOutcome {
  case: string;
  item: string;
  caseId: string | null;
  dossierId: string | null;
  status: 'sealed' | 'rejected' | 'failed' | 'skipped' | 'planned';
  pages: number | null;
  bytes: number;
  sha256: string | null;
  error: string | null;
}

export class MigrateState {
  private constructor(
    readonly file: string,
    private readonly items: Record<string, ItemOutcome>,
  ) {}

  static async open(stateDir: string, archiveRoot: string, server: string): Promise<MigrateState> {
    const id = createHash('sha256').update(`${path.resolve(archiveRoot)}\0${server}`).digest('hex').slice(0, 16);
    const file = path.join(stateDir, `migrate-${id}.json`);
    const items = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as Record<string, ItemOutcome>, () => ({}));
    return new MigrateState(file, items);
  }

  get(key: string): ItemOutcome | undefined {
    return this.items[key];
  }

  private writing: Promise<void> = Promise.resolve();

  /** Records an outcome; writes are serialised so concurrent uploads never interleave a file. */
  record(key: string, outcome: ItemOutcome): Promise<void> {
    this.items[key] = outcome;
    const snapshot = JSON.stringify(this.items, null, 1);
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.tmp`;
      await fs.writeFile(tmp, snapshot);
      await fs.rename(tmp, this.file);
    });
    return this.writing;
  }
}
