/**
 * OcrEngine over Debian's `tesseract` CLI (OCR_ENGINE=tesseract): one process per page reading
 * (and one for orientation when read-upright.ts asks), at most `workers` pages at a time, each
 * process single-threaded (OMP_THREAD_LIMIT=1) so that N processes use N cores without
 * oversubscription. The same image preparation as the tesseract.js engine; the CLI's own data in
 * /usr/share/tesseract-ocr.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import type { OcrEngine, OcrResult } from './engine.js';
import { scalePage, toInputBox, type DetectOrientation, type ImageInput, type Rotation } from './prepare-image.js';
import { readUpright, type ReadPrepared } from './read-upright.js';
import { meanConfidence, wordsFromTsv } from './tsv.js';

export const NATIVE_TESSERACT = '/usr/bin/tesseract';
/** The child's whole environment: nothing of ours leaks in, OpenMP stays on one thread. */
export const NATIVE_ENV: Readonly<Record<string, string>> = Object.freeze({ OMP_THREAD_LIMIT: '1', LC_ALL: 'C.UTF-8' });

export interface NativeTesseractOptions {
  readonly languages: readonly string[];
  readonly workers: number;
  /** Read each page with the languages of its script (script.ts); default true. */
  readonly languagePerPage?: boolean;
  readonly binary?: string;
  /** The models' folder (--tessdata-dir); default the CLI's own. */
  readonly tessdataDir?: string | null;
}

/**
 * How much nicer than the gateway each tesseract process runs: background work, so the gateway's
 * own thread (a download, an API call) wins the core when both want it; on an idle machine it
 * changes nothing.
 */
export const NATIVE_NICE = 10;

/** Relative to the gateway's own (a gateway started under `nice` keeps the difference); 19 at most. */
export const childNice = (): number => Math.min(19, os.getPriority() + NATIVE_NICE);

function run(binary: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, { env: NATIVE_ENV, signal, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        if (signal?.aborted) reject(signal.reason);
        else reject(new Error(`tesseract ${args.slice(2).join(' ')}: ${stderr.trim() || err.message}`));
      } else resolve(stdout);
    });
    try {
      if (child.pid !== undefined) os.setPriority(child.pid, childNice());
    } catch {
      // Gone already (a page read in no time): nothing to lower.
    }
  });
}

/** `--psm 0` output: "Rotate: 90" (clockwise turn to upright) and "Orientation confidence: 9.8". */
export function parseOsd(out: string): { rotate: Rotation; confidence: number } | null {
  const rotate = /Rotate:\s*(\d+)/.exec(out)?.[1];
  const confidence = /Orientation confidence:\s*([\d.]+)/.exec(out)?.[1];
  if (rotate === undefined || confidence === undefined) return null;
  return { rotate: Number(rotate) as Rotation, confidence: Number(confidence) };
}

export class NativeTesseractEngine implements OcrEngine {
  readonly name = 'tesseract';
  readonly languages: readonly string[];
  private readonly languagePerPage: boolean;
  private readonly binary: string;
  /** `--tessdata-dir <dir>` when a folder is configured, else nothing (the CLI's default). */
  private readonly dataArgs: readonly string[];
  private readonly limit: LimitFunction;

  constructor(options: NativeTesseractOptions) {
    this.languages = [...options.languages];
    this.languagePerPage = options.languagePerPage ?? true;
    this.binary = options.binary ?? NATIVE_TESSERACT;
    this.dataArgs = options.tessdataDir ? ['--tessdata-dir', options.tessdataDir] : [];
    this.limit = pLimit(Math.max(1, Math.floor(options.workers)));
  }

  recognize(image: ImageInput, signal?: AbortSignal): Promise<OcrResult> {
    return this.limit(() => this.page(image, signal));
  }

  private async page(image: ImageInput, signal?: AbortSignal): Promise<OcrResult> {
    signal?.throwIfAborted();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dossier-ocr-'));
    try {
      const detect: DetectOrientation = async (png) => {
        const file = path.join(dir, 'osd.png');
        await fs.writeFile(file, png);
        // Too little text makes the CLI fail; that only means "orientation unknown".
        return run(this.binary, [file, 'stdout', ...this.dataArgs, '--psm', '0', '-l', 'osd'], signal).then(parseOsd, () => {
          signal?.throwIfAborted();
          return null;
        });
      };
      const read: ReadPrepared = async (prepared) => {
        const input = path.join(dir, `page-${prepared.rotated}-${prepared.languages.join('+')}.png`);
        await fs.writeFile(input, prepared.png);
        const base = path.join(dir, `out-${prepared.rotated}-${prepared.languages.join('+')}`);
        // -c rather than the `txt tsv` config files: those live in <tessdata>/configs, which a
        // folder of models alone (OCR_TESSDATA_DIR) need not have.
        const outputs = ['-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_tsv=1'];
        await run(this.binary, [input, base, ...this.dataArgs, '-l', prepared.languages.join('+'), '--psm', '3', ...outputs], signal);
        const [text, tsv] = await Promise.all([fs.readFile(`${base}.txt`, 'utf8'), fs.readFile(`${base}.tsv`, 'utf8')]);
        const words = wordsFromTsv(tsv);
        return { prepared, text: text.replace(/\f/g, ''), words, confidence: meanConfidence(words) };
      };
      const r = await readUpright(await scalePage(image, this.languages, this.languagePerPage), read, detect);
      const words = r.words.map((w) => ({ ...w, box: toInputBox(w.box, r.prepared) }));
      return { text: r.text.trim(), confidence: r.confidence, words, rotated: r.prepared.rotated, languages: r.prepared.languages };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.limit.clearQueue();
  }
}
