/**
 * The native CLI's reading queue. Pages prepared for recognition wait here; each of `workers`
 * slots runs one tesseract process at a time, over as many waiting pages read with the same
 * arguments (languages) as it fairly can. Why: a tesseract process spends ~0.2 CPU-s (eng) to
 * ~0.4 CPU-s (chi_sim+eng) loading its models before it reads a pixel, and one process over a
 * list of N pages pays that once (measured: three dense A4 pages 2.8–3.0 CPU-s in one process,
 * 3.5–3.6 in three). A slot takes at most its share of the queue (waiting ÷ workers, rounded up),
 * so the last pages of a dossier still spread over every core.
 *
 * One page goes through stdin as PNG; several: the PNGs in a temp folder, their list on stdin (the
 * CLI reads a non-image input as a list of files). The text and the TSV come back as files (the
 * text renderer's spacing, e.g. none between Han characters under chi_sim's preserved interword
 * spaces, is not in the TSV), cut per page by the form feed between pages' texts and by the
 * TSV's page number, accepted only if they hold exactly the pages and sizes sent.
 * A batch that fails is split and each page read alone, so a bad page fails only itself. A page
 * whose signal aborts while its batch runs ends the process; the others go back to the head of
 * the queue and are read again, alone.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { splitTsvPages } from './tsv.js';

export interface NativeRequest {
  /** The image handed to the CLI (a grayscale PNG). */
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** Arguments after `<input> <output base>`. */
  readonly args: readonly string[];
  /**
   * True: a reading whose args ask for the txt and tsv outputs (tessedit_create_txt/tsv), which
   * come back as `text` and `tsv`. False: the CLI's stdout is the answer (an orientation report),
   * in `text`.
   */
  readonly reading: boolean;
  /** Requests with the same key may share a process (their args are equal); null: always alone. */
  readonly batchKey: string | null;
  readonly signal?: AbortSignal;
  /** Called when a process starts on this image (each time, if it is read again). */
  readonly onStart?: () => void;
}

/** What the CLI gave for one image: its text (or report) and, for a reading, its TSV. */
export interface NativeOutput {
  readonly text: string;
  readonly tsv: string;
}

/** Runs the CLI with these arguments and stdin; resolves with its stdout. */
export type RunCli = (args: readonly string[], stdin: Buffer, signal: AbortSignal) => Promise<string>;

export interface NativeReaderOptions {
  readonly workers: number;
  /** Pages one process reads at most. */
  readonly maxBatch: number;
  readonly run: RunCli;
}

interface Pending {
  readonly req: NativeRequest;
  readonly resolve: (out: NativeOutput) => void;
  readonly reject: (err: unknown) => void;
  /** Set after its batch failed: read in a process of its own. */
  alone: boolean;
  onAbort?: () => void;
}

/** What a batch of one or more pages is told when one of them is aborted: the others go again. */
class Requeue extends Error {}

export class NativeReader {
  private readonly queue: Pending[] = [];
  private running = 0;
  /** Processes started and pages they read: for the benchmark and tests. */
  readonly stats = { processes: 0, pages: 0 };

  constructor(private readonly options: NativeReaderOptions) {}

  /** The CLI's answer for this image: text and TSV for a reading, the report for an orientation check. */
  read(req: NativeRequest): Promise<NativeOutput> {
    req.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const item: Pending = { req, resolve, reject, alone: req.batchKey === null || !req.reading };
      this.listen(item);
      this.queue.push(item);
      this.pump();
    });
  }

  /** Drops every waiting page (the engine is closing): each rejects. */
  clear(reason: unknown): void {
    for (const item of this.queue.splice(0)) this.settle(item, () => item.reject(reason));
  }

  private listen(item: Pending): void {
    const signal = item.req.signal;
    if (!signal) return;
    item.onAbort = () => {
      const i = this.queue.indexOf(item);
      if (i >= 0) {
        this.queue.splice(i, 1);
        this.settle(item, () => item.reject(signal.reason));
      }
    };
    signal.addEventListener('abort', item.onAbort, { once: true });
  }

  private settle(item: Pending, done: () => void): void {
    if (item.onAbort) item.req.signal?.removeEventListener('abort', item.onAbort);
    done();
  }

  private pump(): void {
    while (this.running < Math.max(1, this.options.workers) && this.queue.length > 0) {
      const batch = this.take();
      this.running += 1;
      void this.runBatch(batch).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  /** The head of the queue and, if it may share, more of its kind up to a fair share. */
  private take(): Pending[] {
    const head = this.queue.shift()!;
    if (head.alone) return [head];
    const share = Math.min(this.options.maxBatch, Math.ceil((this.queue.length + 1) / Math.max(1, this.options.workers)));
    const batch = [head];
    for (let i = 0; i < this.queue.length && batch.length < share; ) {
      const next = this.queue[i]!;
      if (!next.alone && next.req.batchKey === head.req.batchKey) batch.push(...this.queue.splice(i, 1));
      else i += 1;
    }
    return batch;
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort(new Requeue());
    for (const item of batch) item.req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (const item of batch) item.req.onStart?.();
      this.stats.processes += 1;
      this.stats.pages += batch.length;
      const outputs = batch[0]!.req.reading ? await this.readPages(batch, stop.signal) : [{ text: await this.options.run(['stdin', 'stdout', ...batch[0]!.req.args], batch[0]!.req.png, stop.signal), tsv: '' }];
      for (const [i, item] of batch.entries()) this.settle(item, () => item.resolve(outputs[i]!));
    } catch (err) {
      const requeue: Pending[] = [];
      for (const item of batch) {
        if (item.req.signal?.aborted) this.settle(item, () => item.reject(item.req.signal!.reason));
        else if (batch.length === 1 && !(err instanceof Requeue)) this.settle(item, () => item.reject(err));
        else {
          // Read again, alone: one of its batch's pages may be the cause, or its batch was ended
          // for a page out of time, and this one's time runs already.
          item.alone = true;
          requeue.push(item);
        }
      }
      this.queue.unshift(...requeue);
    } finally {
      for (const item of batch) item.req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * One process over the batch's PNGs (one through stdin, several listed there); each page's text
   * and TSV, checked against what was sent.
   */
  private async readPages(batch: Pending[], signal: AbortSignal): Promise<NativeOutput[]> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-ocr-'));
    try {
      let stdin: Buffer;
      if (batch.length === 1) stdin = batch[0]!.req.png;
      else {
        const files = await Promise.all(batch.map(async (item, i) => {
          const file = path.join(dir, `${i + 1}.png`);
          await fs.writeFile(file, item.req.png);
          return file;
        }));
        stdin = Buffer.from(`${files.join('\n')}\n`);
      }
      const base = path.join(dir, 'out');
      await this.options.run(['stdin', base, ...batch[0]!.req.args], stdin, signal);
      const [txt, tsv] = await Promise.all([fs.readFile(`${base}.txt`, 'utf8'), fs.readFile(`${base}.tsv`, 'utf8')]);
      // The text renderer puts a form feed between pages (5.3; older versions after each page too).
      const texts = txt.split('\f');
      if (texts.length === batch.length + 1 && texts.at(-1)!.trim() === '') texts.pop();
      if (texts.length !== batch.length) throw new Error(`tesseract's text output holds ${texts.length} pages, not ${batch.length}`);
      const tsvs = splitTsvPages(tsv, batch.length);
      return tsvs.map((pageTsv, i) => {
        // The page row: "1 <page> 0 0 0 0 0 0 <width> <height> ...": the page read is the one sent.
        const row = pageTsv.split('\n').find((r) => r.startsWith('1\t'))?.split('\t');
        const { width, height } = batch[i]!.req;
        if (!row || Number(row[8]) !== width || Number(row[9]) !== height) throw new Error(`tesseract's output lacks page ${i + 1} (${width}×${height})`);
        return { text: texts[i]!, tsv: pageTsv };
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The CLI run as a child `nice` steps below this process, with `env` as its whole environment and
 * stdin written from a buffer.
 */
export function runCli(binary: string, env: Readonly<Record<string, string>>, nice: () => number): RunCli {
  return (args, stdin, signal) =>
    new Promise((resolve, reject) => {
      const child = execFile(binary, [...args], { env, signal, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) {
          if (signal.aborted) reject(signal.reason);
          else reject(new Error(`tesseract ${args.slice(2).join(' ')}: ${stderr.trim() || err.message}`));
        } else resolve(stdout);
      });
      try {
        if (child.pid !== undefined) os.setPriority(child.pid, nice());
      } catch {
        // Gone already (a page read in no time): nothing to lower.
      }
      // A child that ends before reading all of stdin (an error) closes the pipe: its exit says why.
      child.stdin?.on('error', () => {});
      child.stdin?.end(stdin);
    });
}
