/**
 * OcrEngine over tesseract.js 7: a pool of up to `workers` slots, each a child process
 * (tesseract-js-process.ts, handled through tesseract-js-slot.ts) holding one orientation worker
 * (legacy core + osd data; tesseract.js's `detect` needs the legacy core, asked only when
 * read-upright.ts needs it) and one recognition worker (LSTM-only core) per language set its
 * pages asked for: with one language configured that is one; with several, the page's script
 * picks its own (script.ts), so a slot holds up to one per script plus the combination. The page
 * images are prepared here (sharp); only tesseract runs in the slot. Slots start on demand and
 * stay warm; pages queue while every slot is busy. A page whose signal aborts, or whose slot
 * process dies, costs that slot: its process is killed and a fresh slot takes its place; so does
 * a slot that has read `pagesPerSlot` pages, and one left idle. A process, unlike the worker
 * threads the slots once were, gives all its memory back when it ends: its WASM heaps never
 * shrink, and the malloc arenas of terminated threads stayed in the gateway (RELIABILITY.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OcrEngine, OcrResult, WorkerMemory } from './engine.js';
import { isScaledPage, preparePage, scalePage, toInputBox, type DetectOrientation, type ImageInput, type ReadyPage, type ScaledPage } from './prepare-image.js';
import { readUpright, type ReadPrepared } from './read-upright.js';
import type { ModelSource } from './model-source.js';
import { traineddataFile } from './traineddata.js';
import { meanConfidence, wordsFromTsv } from './tsv.js';
import { SlotProcess } from './tesseract-js-slot.js';

export interface TesseractJsOptions {
  readonly languages: readonly string[];
  readonly workers: number;
  /** Read each page with the languages of its script (script.ts); default true. */
  readonly languagePerPage?: boolean;
  /**
   * A slot idle this long is ended: each holds two wasm heaps (~200 MB), which a gateway that has
   * finished its OCR should give back. The next page starts a slot again (~1 s). Default 60 s.
   */
  readonly idleMs?: number;
  /** Where the models come from (model-source.ts); default the npm packages. */
  readonly models?: ModelSource;
  /**
   * Pages a slot reads before it is replaced by a fresh one. A wasm heap grows to its high-water
   * mark and never shrinks, so a slot that met one huge page keeps that memory for good; a
   * recycled slot starts small again (~1 s to start, against ~2 s a page). Default 200.
   */
  readonly pagesPerSlot?: number;
  /**
   * The whole environment of a slot's process (e.g. MALLOC_ARENA_MAX, runtime/config.ts):
   * nothing of this process's own is inherited. Default empty.
   */
  readonly env?: Readonly<Record<string, string>>;
}

const linkDirs = new Set<string>();
let exitHook = false;

/**
 * tesseract.js reads every language from one `langPath`, but each npm package has its own folder;
 * a private temp folder of symlinks (no copies, nothing written into the project, removed at
 * close) presents them as one.
 */
function linkLanguages(langs: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dossier-tessdata-'));
  for (const lang of langs) fs.symlinkSync(traineddataFile(lang), path.join(dir, `${lang}.traineddata.gz`));
  // Also gone when the process ends without close() (tests, a stopped worker process).
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const d of linkDirs) fs.rmSync(d, { recursive: true, force: true }); });
  }
  linkDirs.add(dir);
  return dir;
}

export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  readonly languages: readonly string[];
  readonly models: ModelSource;
  private readonly languagePerPage: boolean;
  private readonly max: number;
  private readonly idleMs: number;
  private readonly pagesPerSlot: number;
  private readonly env: Readonly<Record<string, string>>;
  private readonly langDir: string;
  private readonly osdDir: string;
  /** Folder models are plain files; the npm ones gzipped. */
  private readonly gzip: boolean;
  /** The temp folder of symlinks to remove at close (npm models only). */
  private readonly linkDir: string | null;
  private recycledSlots = 0;
  /** Every slot process not yet exited (busy or idle), for its memory. */
  private readonly running = new Set<SlotProcess>();
  /** Exits of the slot processes being ended. */
  private readonly ending = new Set<Promise<void>>();
  private readonly idle: SlotProcess[] = [];
  private readonly waiting: { resolve: (s: SlotProcess) => void; reject: (e: unknown) => void }[] = [];
  private starting = 0;
  private live = 0;
  private closed = false;

  constructor(options: TesseractJsOptions) {
    if (options.languages.length === 0) throw new Error('tesseract.js engine: no languages');
    this.languages = [...options.languages];
    this.languagePerPage = options.languagePerPage ?? true;
    this.max = Math.max(1, Math.floor(options.workers));
    this.idleMs = options.idleMs ?? 60_000;
    this.pagesPerSlot = Math.max(1, Math.floor(options.pagesPerSlot ?? 200));
    this.env = options.env ?? {};
    const models = options.models ?? { kind: 'npm' };
    if (models.kind === 'folder') {
      this.langDir = models.dir;
      this.osdDir = models.dir;
      this.gzip = false;
      this.linkDir = null;
    } else {
      this.langDir = linkLanguages(this.languages);
      this.osdDir = path.dirname(traineddataFile('osd'));
      this.gzip = true;
      this.linkDir = this.langDir;
    }
    this.models = models;
  }

  private async startSlot(): Promise<SlotProcess> {
    const slot = await SlotProcess.start({ languages: this.languages.join('+'), langDir: this.langDir, osdDir: this.osdDir, gzip: this.gzip }, this.env);
    this.running.add(slot);
    void slot.died.catch(() => this.running.delete(slot));
    return slot;
  }

  private async acquire(signal?: AbortSignal): Promise<SlotProcess> {
    for (let s = this.idle.pop(); s; s = this.idle.pop()) {
      clearTimeout(s.idleTimer);
      if (!s.dead) return s;
      this.live -= 1;
    }
    if (this.live + this.starting < this.max) {
      this.starting += 1;
      try {
        const slot = await this.startSlot();
        this.live += 1;
        return slot;
      } finally {
        this.starting -= 1;
      }
    }
    return new Promise<SlotProcess>((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) { this.waiting.splice(i, 1); reject(signal.reason); }
      }, { once: true });
    });
  }

  private release(slot: SlotProcess): void {
    if (this.closed || slot.dead) return this.discard(slot);
    if (slot.pages >= this.pagesPerSlot) {
      this.recycledSlots += 1;
      return this.discard(slot);
    }
    const next = this.waiting.shift();
    if (next) return next.resolve(slot);
    this.idle.push(slot);
    slot.idleTimer = setTimeout(() => this.retire(slot), this.idleMs);
    slot.idleTimer.unref();
  }

  /** Ends a slot that stayed idle: its memory goes back, the next page starts a fresh one. */
  private retire(slot: SlotProcess): void {
    const i = this.idle.indexOf(slot);
    if (i < 0) return;
    this.idle.splice(i, 1);
    this.live -= 1;
    this.end(slot);
  }

  /** Kills a slot's process; close() waits for its exit. */
  private end(slot: SlotProcess): void {
    const ended = slot.end().finally(() => this.ending.delete(ended));
    this.ending.add(ended);
  }

  /** Slots running now (busy or idle): for tests and metrics. */
  get slots(): number {
    return this.live;
  }

  /** Slots replaced after pagesPerSlot pages: for tests and metrics. */
  get recycled(): number {
    return this.recycledSlots;
  }

  /** Each slot process's resident memory now and its peak: for tests and metrics. */
  workerMemory(): WorkerMemory[] {
    return [...this.running].flatMap((s) => s.memory() ?? []);
  }

  /** Ends a slot's process; a queued page (if any) gets a fresh slot in its place. */
  private discard(slot: SlotProcess): void {
    this.live -= 1;
    this.end(slot);
    const next = this.waiting.shift();
    if (next && !this.closed) {
      this.starting += 1;
      this.startSlot()
        .then((s) => { this.live += 1; next.resolve(s); }, next.reject)
        .finally(() => { this.starting -= 1; });
    }
  }

  /** Decode, blank check and preparation on this thread, before a slot is taken. */
  prepare(image: ImageInput): Promise<ReadyPage> {
    return preparePage(image, this.languages, this.languagePerPage);
  }

  async recognize(image: ImageInput | ScaledPage, signal?: AbortSignal, started?: () => void): Promise<OcrResult> {
    if (this.closed) throw new Error('tesseract.js engine is closed');
    signal?.throwIfAborted();
    const slot = await this.acquire(signal);
    if (signal?.aborted) {
      this.release(slot);
      throw signal.reason;
    }
    started?.();
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      const result = await Promise.race([this.run(slot, image), aborted, slot.died]);
      slot.pages += 1;
      this.release(slot);
      return result;
    } catch (err) {
      // Aborted (hung page) or a dead process: the slot's state is unknown, replace it. A page
      // the engine rejected cleanly (unreadable image) leaves the slot healthy.
      if (signal?.aborted) this.discard(slot);
      else this.release(slot);
      throw typeof err === 'string' ? new Error(`tesseract.js: ${err}`) : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(slot: SlotProcess, image: ImageInput | ScaledPage): Promise<OcrResult> {
    const detect: DetectOrientation = (png) => slot.detect(png);
    const read: ReadPrepared = async (prepared) => {
      const { text, tsv } = await slot.recognize(prepared.languages.join('+'), prepared.png);
      const words = wordsFromTsv(tsv);
      return { prepared, text, words, confidence: meanConfidence(words) };
    };
    const page = isScaledPage(image) ? image : await scalePage(image, this.languages, this.languagePerPage);
    const r = await readUpright(page, read, detect);
    const words = r.words.map((w) => ({ ...w, box: toInputBox(w.box, r.prepared) }));
    return { text: r.text.trim(), confidence: r.confidence, words, rotated: r.prepared.rotated, languages: r.prepared.languages };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('tesseract.js engine is closed'));
    for (const s of this.idle) clearTimeout(s.idleTimer);
    for (const s of this.idle.splice(0)) this.end(s);
    await Promise.all(this.ending);
    if (this.linkDir) {
      fs.rmSync(this.linkDir, { recursive: true, force: true });
      linkDirs.delete(this.linkDir);
    }
  }
}
