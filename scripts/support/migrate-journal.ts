/**
 * What `dossier migrate` knows about an archive, kept as an append-only journal of JSON lines:
 * every change is one line appended (constant cost per item, whatever the archive's size), lines
 * written close together share one write and one fdatasync, and a crash loses at most the lines
 * not yet written: the items in flight, which the server's SHA-256 check makes safe to redo. At
 * open the journal is folded into memory (a torn last line is ignored) and rewritten compactly,
 * once per run. This object is the only writer of the file in a process, and it also keeps the
 * tus upload URLs (tus-js-client's file storage takes a lock file per call and fails with ELOCKED
 * under concurrent uploads).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { UrlStorage } from './resumable-upload.js';
type PreviousUpload = Awaited<ReturnType<UrlStorage['findAllUploads']>>[number];

export type ItemStatus = 'sealed' | 'rejected' | 'failed' | 'skipped' | 'uploaded';

export interface ItemOutcome {
  case: string;
  item: string;
  caseId: string | null;
  dossierId: string | null;
  status: ItemStatus;
  pages: number | null;
  bytes: number;
  sha256: string | null;
  error: string | null;
}

/** An item's outcome plus the stamp (size and mtime) of the files it was made from. */
export interface ItemRecord extends ItemOutcome {
  stamp: string;
}

type Line =
  | { t: 'item'; v: ItemRecord }
  | { t: 'case'; number: string; id: string }
  | { t: 'upload'; key: string; fingerprint: string; v: PreviousUpload }
  | { t: 'upload-done'; key: string };

export class MigrateJournal {
  private queue: { text: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private writing = false;
  private uploadCounter = 0;

  private constructor(
    readonly file: string,
    private readonly handle: fs.FileHandle,
    private readonly items: Map<string, ItemRecord>,
    private readonly cases: Map<string, string>,
    private readonly uploads: Map<string, { fingerprint: string; v: PreviousUpload }>,
    readonly bytesAtOpen: number,
  ) {}

  /** One journal per archive root and server, under the state directory. */
  static async open(stateDir: string, archiveRoot: string, server: string): Promise<MigrateJournal> {
    const id = createHash('sha256').update(`${path.resolve(archiveRoot)}\0${server}`).digest('hex').slice(0, 16);
    const file = path.join(stateDir, `migrate-${id}.jsonl`);
    const items = new Map<string, ItemRecord>();
    const cases = new Map<string, string>();
    const uploads = new Map<string, { fingerprint: string; v: PreviousUpload }>();
    const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // Lines that a rewrite would drop: superseded, finished uploads, a torn tail.
    let superseded = 0;
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        superseded++;
        continue; // the torn tail of a write a crash interrupted
      }
      if (line.t === 'item' ? items.has(line.v.item) : line.t === 'case' ? cases.has(line.number) : true) superseded++;
      if (line.t === 'item') items.set(line.v.item, line.v);
      else if (line.t === 'case') cases.set(line.number, line.id);
      else if (line.t === 'upload') uploads.set(line.key, { fingerprint: line.fingerprint, v: line.v });
      else if (line.t === 'upload-done') uploads.delete(line.key);
    }
    // (A last line without its newline is a torn write too: the next append would run into it.)
    if (text === '' || (superseded === 0 && text.endsWith('\n'))) {
      // Nothing to compact (a re-run after a clean run): no rewrite of the whole journal.
      const handle = await fs.open(file, 'a');
      return new MigrateJournal(file, handle, items, cases, uploads, Buffer.byteLength(text));
    }
    // Compact: what is live now, written beside and renamed over the old journal.
    const tmp = `${file}.tmp`;
    const lines: string[] = [];
    for (const [number, caseId] of cases) lines.push(JSON.stringify({ t: 'case', number, id: caseId } satisfies Line));
    for (const v of items.values()) lines.push(JSON.stringify({ t: 'item', v } satisfies Line));
    for (const [key, u] of uploads) lines.push(JSON.stringify({ t: 'upload', key, fingerprint: u.fingerprint, v: u.v } satisfies Line));
    const compacted = lines.length ? `${lines.join('\n')}\n` : '';
    const out = await fs.open(tmp, 'w');
    await out.writeFile(compacted);
    await out.datasync();
    await out.close();
    await fs.rename(tmp, file);
    const handle = await fs.open(file, 'a');
    return new MigrateJournal(file, handle, items, cases, uploads, Buffer.byteLength(compacted));
  }

  get(key: string): ItemRecord | undefined {
    return this.items.get(key);
  }

  caseId(number: string): string | undefined {
    return this.cases.get(number);
  }

  get size(): number {
    return this.items.size;
  }

  record(v: ItemRecord): Promise<void> {
    this.items.set(v.item, v);
    return this.append({ t: 'item', v });
  }

  recordCase(number: string, id: string): Promise<void> {
    this.cases.set(number, id);
    return this.append({ t: 'case', number, id });
  }

  /** The tus URL storage for this run's uploads, kept in this journal. */
  urlStorage(): UrlStorage {
    return {
      findAllUploads: async () => [...this.uploads.values()].map((u) => u.v),
      findUploadsByFingerprint: async (fingerprint) => [...this.uploads.values()].filter((u) => u.fingerprint === fingerprint).map((u) => u.v),
      removeUpload: async (key) => {
        if (!this.uploads.delete(key)) return;
        await this.append({ t: 'upload-done', key });
      },
      addUpload: async (fingerprint, upload) => {
        const key = `tus::${fingerprint}::${Date.now()}-${++this.uploadCounter}`;
        const v = { ...upload, urlStorageKey: key };
        this.uploads.set(key, { fingerprint, v });
        await this.append({ t: 'upload', key, fingerprint, v });
        return key;
      },
    };
  }

  /** Waits for every line so far to be on disk, then closes the file. */
  async close(): Promise<void> {
    await this.append(null);
    await this.handle.close();
  }

  /** Resolves once the line is on disk; lines appended while a write is under way share the next one. */
  private append(line: Line | null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text: line ? `${JSON.stringify(line)}\n` : '', resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    // Let the lines of this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      try {
        const text = batch.map((b) => b.text).join('');
        if (text) {
          await this.handle.write(text);
          await this.handle.datasync();
        }
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.writing = false;
  }
}
