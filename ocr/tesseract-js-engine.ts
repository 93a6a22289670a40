/**
 * OcrEngine over tesseract.js 7: a pool of up to `workers` slots, each one orientation worker
 * (legacy core + osd data; tesseract.js's `detect` needs the legacy core, asked only when
 * read-upright.ts needs it) and one recognition worker (LSTM-only core) per language set its
 * pages asked for: with one language configured that is one; with several, the page's script
 * picks its own (script.ts), so a slot holds up to one per script plus the combination. Slots
 * start on demand and stay warm; pages queue while every slot is busy. A page whose signal aborts,
 * or whose worker thread dies, costs that slot: its threads are terminated and a fresh slot takes
 * its place; so does a slot that has read `pagesPerSlot` pages (its wasm heaps never shrink).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type { OcrEngine, OcrResult } from './engine.js';
import { isScaledPage, preparePage, scalePage, toInputBox, type DetectOrientation, type ImageInput, type ReadyPage, type Rotation, type ScaledPage } from './prepare-image.js';
import { readUpright, type ReadPrepared } from './read-upright.js';
import type { ModelSource } from './model-source.js';
import { traineddataFile } from './traineddata.js';
import { meanConfidence, wordsFromTsv } from './tsv.js';

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
}

interface Slot {
  /** Recognition workers by language set ('eng', 'chi_sim', 'chi_sim+eng'), started as pages need them. */
  readonly ocr: Map<string, Promise<Worker>>;
  readonly osd: Worker;
  /** Rejects when either thread exits: a crashed wasm heap must not leave a page waiting forever. */
  readonly died: Promise<never>;
  dead: boolean;
  /** Marks the slot dead when any of its threads exits. */
  readonly markDead: (code: number) => void;
  /** Set while the slot waits in the idle list. */
  idleTimer?: NodeJS.Timeout;
  /** Pages read so far: at pagesPerSlot the slot is recycled. */
  pages: number;
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

const threadOf = (w: Worker): ThreadWorker => (w as unknown as { worker: ThreadWorker }).worker;

export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  readonly languages: readonly string[];
  readonly models: ModelSource;
  private readonly languagePerPage: boolean;
  private readonly max: number;
  private readonly idleMs: number;
  private readonly pagesPerSlot: number;
  private readonly langDir: string;
  private readonly osdDir: string;
  /** Folder models are plain files; the npm ones gzipped. */
  private readonly gzip: boolean;
  /** The temp folder of symlinks to remove at close (npm models only). */
  private readonly linkDir: string | null;
  private recycledSlots = 0;
  private readonly idle: Slot[] = [];
  private readonly waiting: { resolve: (s: Slot) => void; reject: (e: unknown) => void }[] = [];
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

  /** A recognition worker for one language set; psm and inversion as the CLI reads dossiers. */
  private async startRecognizer(languages: string): Promise<Worker> {
    // cacheMethod 'none': read the model where it lies, write no cache file anywhere; gzip: the
    // npm files are .gz, a tessdata folder's are plain.
    // chi_sim's own config asks for the chi_sim_vert sublanguage, which no npm package ships:
    // tesseract prints "Failed loading language" (with a garbled name) and reads on without it.
    const worker = await createWorker(languages, OEM.LSTM_ONLY, { cacheMethod: 'none', gzip: this.gzip, errorHandler: () => {}, langPath: this.langDir });
    // TessBaseAPI defaults to one uniform block (psm 6), which reads across columns; the CLI's
    // automatic layout (psm 3) keeps multi-column pages in reading order.
    // tessedit_do_invert 0: tesseract 5 re-reads every doubtful line as white-on-black, doubling
    // its cost on poor scans; dossier scans are dark text on light paper.
    await worker.setParameters({ tessedit_pageseg_mode: PSM.AUTO, tessedit_do_invert: '0' });
    return worker;
  }

  private async startSlot(): Promise<Slot> {
    const first = this.languages.join('+');
    const started = await Promise.allSettled([
      this.startRecognizer(first),
      createWorker('osd', OEM.TESSERACT_ONLY, { cacheMethod: 'none', gzip: this.gzip, errorHandler: () => {}, langPath: this.osdDir, legacyCore: true, legacyLang: true }),
    ]);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      // Do not leave the other half of the slot running.
      for (const r of started) if (r.status === 'fulfilled') void r.value.terminate();
      throw new Error(`tesseract.js worker did not start: ${String(failed.reason)}`);
    }
    const [ocr, osd] = started.map((r) => (r as PromiseFulfilledResult<Worker>).value) as [Worker, Worker];
    let dead!: (code: number) => void;
    const died = new Promise<never>((_, reject) => {
      dead = (code) => { slot.dead = true; reject(new Error(`tesseract.js worker thread exited (${code})`)); };
    });
    died.catch(() => {});
    const slot: Slot = { ocr: new Map([[first, Promise.resolve(ocr)]]), osd, died, dead: false, markDead: dead, pages: 0 };
    for (const w of [ocr, osd]) threadOf(w).once('exit', dead);
    return slot;
  }

  /** The slot's worker for a language set, started (and watched) on first use. */
  private recognizer(slot: Slot, languages: string): Promise<Worker> {
    let w = slot.ocr.get(languages);
    if (!w) {
      w = this.startRecognizer(languages).then((worker) => {
        threadOf(worker).once('exit', slot.markDead);
        return worker;
      });
      w.catch(() => slot.ocr.delete(languages));
      slot.ocr.set(languages, w);
    }
    return w;
  }

  private static terminateAll(slot: Slot): void {
    for (const w of slot.ocr.values()) void w.then((x) => x.terminate(), () => {});
    void slot.osd.terminate();
  }

  private async acquire(signal?: AbortSignal): Promise<Slot> {
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
    return new Promise<Slot>((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) { this.waiting.splice(i, 1); reject(signal.reason); }
      }, { once: true });
    });
  }

  private release(slot: Slot): void {
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
  private retire(slot: Slot): void {
    const i = this.idle.indexOf(slot);
    if (i < 0) return;
    this.idle.splice(i, 1);
    this.live -= 1;
    TesseractJsEngine.terminateAll(slot);
  }

  /** Slots running now (busy or idle): for tests and metrics. */
  get slots(): number {
    return this.live;
  }

  /** Slots replaced after pagesPerSlot pages: for tests and metrics. */
  get recycled(): number {
    return this.recycledSlots;
  }

  /** Ends a slot's threads; a queued page (if any) gets a fresh slot in its place. */
  private discard(slot: Slot): void {
    this.live -= 1;
    TesseractJsEngine.terminateAll(slot);
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
      // Aborted (hung page) or a dead thread: the slot's state is unknown, replace it. A page
      // the engine rejected cleanly (unreadable image) leaves the slot healthy.
      if (signal?.aborted) this.discard(slot);
      else this.release(slot);
      throw typeof err === 'string' ? new Error(`tesseract.js: ${err}`) : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(slot: Slot, image: ImageInput | ScaledPage): Promise<OcrResult> {
    const detect: DetectOrientation = async (png) => {
      const { data } = await slot.osd.detect(png);
      if (data.orientation_degrees === null || data.orientation_confidence === null) return null;
      return { rotate: data.orientation_degrees as Rotation, confidence: data.orientation_confidence };
    };
    const read: ReadPrepared = async (prepared) => {
      const worker = await this.recognizer(slot, prepared.languages.join('+'));
      const { data } = await worker.recognize(prepared.png, {}, { text: true, tsv: true });
      const words = wordsFromTsv(data.tsv ?? '');
      return { prepared, text: data.text, words, confidence: meanConfidence(words) };
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
    await Promise.all(this.idle.splice(0).flatMap((s) => [...[...s.ocr.values()].map((w) => w.then((x) => x.terminate(), () => {})), s.osd.terminate()]));
    if (this.linkDir) {
      fs.rmSync(this.linkDir, { recursive: true, force: true });
      linkDirs.delete(this.linkDir);
    }
  }
}
