/**
 * One tesseract.js slot in a child process of its own (forked by tesseract-js-engine.ts): the
 * orientation worker (legacy core + osd data) and one recognition worker (LSTM-only core) per
 * language set its pages ask for. The parent prepares the page images (sharp) and sends PNGs over
 * IPC; this process only runs tesseract. It ends when the parent kills it (slot recycled, idle,
 * aborted, closed) or disconnects, or when one of its tesseract threads dies: a process that
 * exits gives all its memory back, which its WASM heaps and the allocator's arenas never do.
 */
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import type { Worker as ThreadWorker } from 'node:worker_threads';

/** What the slot starts with: the configured languages' recognizer and the osd worker. */
export interface SlotSetup {
  readonly languages: string;
  readonly langDir: string;
  readonly osdDir: string;
  /** npm models are .gz, a tessdata folder's plain. */
  readonly gzip: boolean;
}

export type SlotRequest =
  | ({ readonly type: 'start' } & SlotSetup)
  | { readonly type: 'detect'; readonly id: number; readonly png: Uint8Array }
  | { readonly type: 'recognize'; readonly id: number; readonly languages: string; readonly png: Uint8Array };

export type SlotAnswer =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'detected'; readonly id: number; readonly degrees: number | null; readonly confidence: number | null }
  | { readonly type: 'recognized'; readonly id: number; readonly text: string; readonly tsv: string }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

const threadOf = (w: Worker): ThreadWorker => (w as unknown as { worker: ThreadWorker }).worker;
const messageOf = (err: unknown): string => (typeof err === 'string' ? err : err instanceof Error ? err.message : String(err));
const asBuffer = (png: Uint8Array): Buffer => Buffer.from(png.buffer, png.byteOffset, png.byteLength);

/** A dead tesseract thread leaves the slot in an unknown state: end the process, the parent replaces it. */
const watch = (w: Worker): Worker => {
  threadOf(w).once('exit', (code) => process.exit(code === 0 ? 70 : code));
  return w;
};

function answer(a: SlotAnswer): void {
  process.send?.(a);
}

let setup: SlotSetup | null = null;
let osd: Promise<Worker> | null = null;
const recognizers = new Map<string, Promise<Worker>>();

/** A recognition worker for one language set; psm and inversion as the CLI reads dossiers. */
async function startRecognizer(s: SlotSetup, languages: string): Promise<Worker> {
  // cacheMethod 'none': read the model where it lies, write no cache file anywhere.
  // chi_sim's own config asks for the chi_sim_vert sublanguage, which no npm package ships:
  // tesseract prints "Failed loading language" (with a garbled name) and reads on without it.
  const worker = await createWorker(languages, OEM.LSTM_ONLY, { cacheMethod: 'none', gzip: s.gzip, errorHandler: () => {}, langPath: s.langDir });
  // TessBaseAPI defaults to one uniform block (psm 6), which reads across columns; the CLI's
  // automatic layout (psm 3) keeps multi-column pages in reading order.
  // tessedit_do_invert 0: tesseract 5 re-reads every doubtful line as white-on-black, doubling
  // its cost on poor scans; dossier scans are dark text on light paper.
  await worker.setParameters({ tessedit_pageseg_mode: PSM.AUTO, tessedit_do_invert: '0' });
  return watch(worker);
}

function recognizer(s: SlotSetup, languages: string): Promise<Worker> {
  let w = recognizers.get(languages);
  if (!w) {
    w = startRecognizer(s, languages);
    w.catch(() => recognizers.delete(languages));
    recognizers.set(languages, w);
  }
  return w;
}

async function start(s: SlotSetup): Promise<void> {
  setup = s;
  osd = createWorker('osd', OEM.TESSERACT_ONLY, { cacheMethod: 'none', gzip: s.gzip, errorHandler: () => {}, langPath: s.osdDir, legacyCore: true, legacyLang: true }).then(watch);
  const started = await Promise.allSettled([recognizer(s, s.languages), osd]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    answer({ type: 'failed', message: messageOf(failed.reason) });
    process.exit(1);
  }
  answer({ type: 'ready' });
}

async function serve(m: Exclude<SlotRequest, { type: 'start' }>): Promise<void> {
  try {
    if (!setup || !osd) throw new Error('slot not started');
    if (m.type === 'detect') {
      const { data } = await (await osd).detect(asBuffer(m.png));
      answer({ type: 'detected', id: m.id, degrees: data.orientation_degrees, confidence: data.orientation_confidence });
    } else {
      const { data } = await (await recognizer(setup, m.languages)).recognize(asBuffer(m.png), {}, { text: true, tsv: true });
      answer({ type: 'recognized', id: m.id, text: data.text, tsv: data.tsv ?? '' });
    }
  } catch (err) {
    answer({ type: 'error', id: m.id, message: messageOf(err) });
  }
}

process.on('message', (m: SlotRequest) => {
  if (m.type === 'start') void start(m);
  else void serve(m);
});
// The parent is gone (or let go of this slot): nothing may run on for nobody.
process.on('disconnect', () => process.exit(0));
