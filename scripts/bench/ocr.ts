/**
 * OCR benchmark (`npm run bench -- --only ocr [--ocr-synthetic N]`): pages per minute and
 * character error rate of the tesseract.js engine (whole pipeline: preparation, orientation,
 * recognition) with 1 and 2 workers, beside Debian's `tesseract` CLI run on the same images,
 * one single-threaded process per core, twice: with Debian's tessdata_fast and with the npm
 * best_int models tesseract.js uses (reported absent when /usr/bin/tesseract is missing;
 * nothing is installed here). Page sets: N synthetic A4 scans (known text), the corpus images
 * with `--corpus DIR` (linn.png against linn.txt; others timed only), and a rendered
 * Simplified Chinese page with chi_sim+eng. The engines start before the clock does.
 * Also: tesseract.js on Debian's tessdata_fast models and the native engine as the service runs
 * it (OCR_ENGINE=auto where installed: the same pipeline, one process a page), this process's peak
 * RSS while each engine runs (what the OCR slots add), and blank pages found and missed on the
 * generated duplex backs and near-empty pages (ocr/blank-page.ts) with the time each check costs.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pLimit from 'p-limit';
import { cer, normaliseForCer } from '../../ocr/cer.js';
import type { OcrEngine } from '../../ocr/engine.js';
import { blankVerdict } from '../../ocr/blank-page.js';
import { DEBIAN_TESSDATA, folderServes } from '../../ocr/model-source.js';
import { NATIVE_ENV, NATIVE_TESSERACT, NativeTesseractEngine } from '../../ocr/native-tesseract-engine.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { MODEL_DIR, traineddataFile } from '../../ocr/traineddata.js';
import { blankFixtures } from './fixtures/blank-pages.js';
import { chinesePage } from './fixtures/ocr-pages.js';
import { pageText, renderPage } from './fixtures/synthetic-pages.js';
import { fmt } from './measure.js';

interface BenchPage {
  readonly name: string;
  readonly image: Buffer;
  readonly file: string;
  /** Ground truth, when known. */
  readonly truth: string | null;
}

interface Row {
  engine: string;
  workers: number;
  set: string;
  pages: number;
  seconds: number;
  cer: number | null;
  /** This process's peak RSS while the engine read the set (tesseract.js slots live in it). */
  rssMb?: number;
}

/** Peak RSS of this process while `work` runs, sampled every 50 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ value: T; rssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
  try {
    const value = await work();
    return { value, rssMb: Math.max(peak, process.memoryUsage.rss()) / 1024 ** 2 };
  } finally {
    clearInterval(timer);
  }
}

/** CER over a set, weighted by each page's true length. */
function setCer(results: { text: string; truth: string | null }[]): number | null {
  let errors = 0, chars = 0;
  for (const r of results) {
    if (r.truth === null) continue;
    const len = normaliseForCer(r.truth, /\p{Script=Han}/u.test(r.truth)).length;
    errors += cer(r.text, r.truth) * len;
    chars += len;
  }
  return chars ? errors / chars : null;
}

async function timeEngine(engine: OcrEngine, pages: readonly BenchPage[], workers: number): Promise<{ seconds: number; cer: number | null }> {
  // Warm-up, untimed: every worker started and its models loaded.
  await Promise.all(Array.from({ length: workers }, () => engine.recognize(pages[0]!.image)));
  const t0 = performance.now();
  const results = await Promise.all(pages.map(async (p) => ({ text: (await engine.recognize(p.image)).text, truth: p.truth })));
  return { seconds: (performance.now() - t0) / 1000, cer: setCer(results) };
}

/**
 * The models tesseract.js reads (@tesseract.js-data, gunzipped) as a tessdata folder for the CLI,
 * so that one CLI row differs from tesseract.js by the engine only and the other (Debian's
 * tessdata_fast) by the model too.
 */
function npmTessdata(dir: string, langs: readonly string[]): string {
  const tessdata = path.join(dir, `tessdata-${langs.join('+')}`);
  fs.mkdirSync(tessdata, { recursive: true });
  for (const lang of langs) fs.writeFileSync(path.join(tessdata, `${lang}.traineddata`), zlib.gunzipSync(fs.readFileSync(traineddataFile(lang))));
  return tessdata;
}

function nativeText(file: string, langs: string, tessdataDir: string | null): Promise<string> {
  const data = tessdataDir ? ['--tessdata-dir', tessdataDir] : [];
  return new Promise((resolve, reject) => {
    execFile(NATIVE_TESSERACT, [file, 'stdout', ...data, '-l', langs], { env: NATIVE_ENV, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`tesseract ${file}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

async function timeNative(pages: readonly BenchPage[], langs: string, processes: number, tessdataDir: string | null): Promise<{ seconds: number; cer: number | null }> {
  const limit = pLimit(processes);
  const t0 = performance.now();
  const results = await Promise.all(pages.map((p) => limit(async () => ({ text: await nativeText(p.file, langs, tessdataDir), truth: p.truth }))));
  return { seconds: (performance.now() - t0) / 1000, cer: setCer(results) };
}

async function pageSets(dir: string, synthetic: number, corpusDir: string | undefined) {
  const write = (name: string, image: Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, image);
    return file;
  };
  const sets: { name: string; langs: string[]; pages: BenchPage[] }[] = [];
  const syn: BenchPage[] = [];
  for (let i = 1; i <= synthetic; i++) {
    const image = await renderPage(i);
    syn.push({ name: `synthetic-${i}`, image, file: write(`synthetic-${i}.jpg`, image), truth: pageText(i).join('\n') });
  }
  sets.push({ name: `synthetic A4 150 dpi ×${synthetic}`, langs: ['eng'], pages: syn });
  if (corpusDir) {
    const corpus: BenchPage[] = [];
    for (const name of ['linn.png', 'typewriter.png', 'baiona.png']) {
      const src = path.join(corpusDir, name);
      if (!fs.existsSync(src)) continue;
      const image = fs.readFileSync(src);
      const truthFile = src.replace(/\.png$/, '.txt');
      corpus.push({ name, image, file: src, truth: fs.existsSync(truthFile) ? fs.readFileSync(truthFile, 'utf8') : null });
    }
    sets.push({ name: `corpus (${corpus.map((p) => p.name).join(', ')}; CER: linn)`, langs: ['eng'], pages: corpus });
  }
  const zh = await chinesePage();
  sets.push({ name: 'rendered Simplified Chinese ×2', langs: ['chi_sim', 'eng'], pages: [1, 2].map((k) => ({ name: `zh-${k}`, image: zh.image, file: write(`zh-${k}.png`, zh.image), truth: zh.text })) });
  return sets;
}

export async function ocrBench(options: { syntheticPages: number; corpusDir: string | undefined; runDir: string }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(options.runDir, 'ocr-'));
  const native = fs.existsSync(NATIVE_TESSERACT);
  const cores = os.availableParallelism();
  const rows: Row[] = [];
  const baseRss = process.memoryUsage.rss() / 1024 ** 2;
  try {
    for (const set of await pageSets(dir, options.syntheticPages, options.corpusDir)) {
      for (const workers of [1, 2]) {
        const engine = new TesseractJsEngine({ languages: set.langs, workers });
        try {
          const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, workers));
          rows.push({ engine: 'tesseract.js', workers, set: set.name, pages: set.pages.length, ...r, rssMb });
        } finally {
          await engine.close();
        }
      }
      if (folderServes(DEBIAN_TESSDATA, set.langs)) {
        const engine = new TesseractJsEngine({ languages: set.langs, workers: cores, models: { kind: 'folder', dir: DEBIAN_TESSDATA } });
        try {
          const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, cores));
          rows.push({ engine: 'tesseract.js (Debian tessdata_fast)', workers: cores, set: set.name, pages: set.pages.length, ...r, rssMb });
        } finally {
          await engine.close();
        }
      }
      if (native && folderServes(DEBIAN_TESSDATA, set.langs)) {
        const engine = new NativeTesseractEngine({ languages: set.langs, workers: cores, tessdataDir: DEBIAN_TESSDATA });
        try {
          const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, cores));
          rows.push({ engine: 'service native engine (auto; whole pipeline)', workers: cores, set: set.name, pages: set.pages.length, ...r, rssMb });
        } finally {
          await engine.close();
        }
      }
      if (native) {
        const debian = await timeNative(set.pages, set.langs.join('+'), cores, null);
        rows.push({ engine: 'tesseract CLI (Debian, tessdata_fast)', workers: cores, set: set.name, pages: set.pages.length, ...debian });
        const same = await timeNative(set.pages, set.langs.join('+'), cores, npmTessdata(dir, set.langs));
        rows.push({ engine: `tesseract CLI (npm ${MODEL_DIR}, as tesseract.js)`, workers: cores, set: set.name, pages: set.pages.length, ...same });
      } else {
        rows.push({ engine: 'tesseract CLI (Debian): absent', workers: 0, set: set.name, pages: 0, seconds: 0, cer: null });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`| OCR engine | workers / processes | pages | page set | seconds | pages/min | scaling ×1 worker | CER | bench process peak RSS MB |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ppm = r.seconds ? (r.pages / r.seconds) * 60 : 0;
    const one = rows.find((o) => o.engine === 'tesseract.js' && o.workers === 1 && o.set === r.set);
    const scaling = r.engine === 'tesseract.js' && r.workers > 1 && one ? fmt(ppm / ((one.pages / one.seconds) * 60), 2) : '';
    const cerText = r.cer === null ? '—' : `${fmt(r.cer * 100, 2)} %`;
    const rss = r.rssMb === undefined ? '' : fmt(r.rssMb, 0);
    console.log(r.pages ? `| ${r.engine} | ${r.workers} | ${r.pages} | ${r.set} | ${fmt(r.seconds)} | ${fmt(ppm)} | ${scaling} | ${cerText} | ${rss} |` : `| ${r.engine} | | | ${r.set} | | | | | |`);
  }
  console.log('\nCER: Levenshtein over the true text after ocr/cer.ts normalisation. Both engines use automatic');
  console.log('layout (psm 3), which reads the synthetic register (table) pages column by column: that, not');
  console.log('misread characters, is most of the synthetic CER. tesseract.js times include preparation and');
  console.log('orientation detection (OSD only for pages whose lines run sideways or that read doubtfully);');
  console.log(`the CLI runs on the images as they are. The CLI rows: Debian's own data (tessdata_fast, a smaller`);
  console.log(`and faster network) and the very ${MODEL_DIR} files tesseract.js reads (gunzipped from`);
  console.log('@tesseract.js-data): the second row isolates the engine (native vs wasm), the first adds the model.');
  console.log(`Peak RSS: this bench process (${fmt(baseRss, 0)} MB before any engine), tesseract.js slots included.\n`);
  await blankBench(native);
}

/** Blank pages found and missed, the check's cost, and what a blank back costs the recogniser instead. */
async function blankBench(native: boolean): Promise<void> {
  const fixtures = await blankFixtures();
  const backs = fixtures.filter((f) => f.blank);
  const near = fixtures.filter((f) => !f.blank);
  let found = 0, missed = 0, kept = 0, lost = 0, ms = 0;
  for (const f of fixtures) {
    const t0 = performance.now();
    const v = await blankVerdict(f.jpeg);
    ms += performance.now() - t0;
    if (f.blank) v.blank ? found++ : missed++;
    else v.blank ? lost++ : kept++;
  }
  let recogniser = '';
  if (native && folderServes(DEBIAN_TESSDATA, ['eng'])) {
    const engine = new NativeTesseractEngine({ languages: ['eng'], workers: 1, tessdataDir: DEBIAN_TESSDATA });
    const t0 = performance.now();
    for (const f of backs) await engine.recognize(f.jpeg);
    recogniser = fmt((performance.now() - t0) / backs.length, 0);
    await engine.close();
  }
  console.log('| blank-page check (ocr/blank-page.ts) | empty backs found | backs missed (sent to OCR) | near-empty pages kept for OCR | near-empty pages lost as blank | ms per check | ms per blank back through the native recogniser instead |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| generated A4 150 dpi: ${backs.length} backs, ${near.length} near-empty | ${found} | ${missed} | ${kept} | ${lost} | ${fmt(ms / fixtures.length, 0)} | ${recogniser} |\n`);
}
