/**
 * OCR benchmark (`npm run bench -- --only ocr [--ocr-synthetic N]`): pages per minute and
 * character error rate of the tesseract.js engine (whole pipeline: preparation, orientation,
 * recognition) with 1 and 2 workers, beside Debian's `tesseract` CLI run on the same images,
 * one single-threaded process per core, twice: with Debian's tessdata_fast and with the npm
 * best_int models tesseract.js uses (reported absent when /usr/bin/tesseract is missing;
 * nothing is installed here). Page sets: N synthetic A4 scans (known text), the corpus images
 * with `--corpus DIR` (linn.png against linn.txt; others timed only), and a rendered
 * Simplified Chinese page with chi_sim+eng. The engines start before the clock does.
 * Also: tesseract.js on Debian's tessdata_fast models and the service pipeline as it runs with the
 * native engine (OCR_ENGINE=auto where installed: blank check, preparation, waiting pages sharing
 * a process; and again with a process a page), this process's peak RSS while each engine runs
 * (what the OCR slots add), and blank pages found and missed on the generated duplex backs and
 * near-empty pages (ocr/blank-page.ts) with the time each check costs.
 * Every row gives CPU-s per page (this process's threads + its ended children) beside the wall
 * time: on a shared machine the CPU a page costs moves far less than the pages a minute. A phase
 * table then splits the service pipeline's CPU per page: blank check, preparation, recognition
 * alone and shared, the model load, beside the bare CLI on the stored image.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { cer, normaliseForCer } from '../../ocr/cer.js';
import type { OcrEngine } from '../../ocr/engine.js';
import { blankVerdict, blankVerdictOfGray } from '../../ocr/blank-page.js';
import { DEBIAN_TESSDATA, folderServes } from '../../ocr/model-source.js';
import { NATIVE_ENV, NATIVE_MAX_BATCH, NATIVE_TESSERACT, NativeTesseractEngine, childNice } from '../../ocr/native-tesseract-engine.js';
import { NativeReader, runCli } from '../../ocr/native-reader.js';
import { TesseractJsEngine } from '../../ocr/tesseract-js-engine.js';
import { MODEL_DIR, traineddataFile } from '../../ocr/traineddata.js';
import { blankFixtures } from './fixtures/blank-pages.js';
import { chinesePage } from './fixtures/ocr-pages.js';
import { pageText, renderPage } from './fixtures/synthetic-pages.js';
import { fmt } from './measure.js';
import { cpuNow, cpuSince, total, type CpuTime } from './cpu-time.js';
import { decodeGray, scaleGray, turnPage } from '../../ocr/prepare-image.js';

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
  /** CPU time of the timed part: this process's threads and its reaped children (tesseract CLI). */
  cpu: CpuTime;
  /** This process's peak RSS while the engine read the set (tesseract.js slots live in it). */
  rssMb?: number;
  /** Native rows: tesseract processes started for the set's pages (batches share one). */
  processes?: number;
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

/**
 * Every page handed over at once (as the OCR jobs of a dossier do), timed and its CPU counted;
 * `blankCheck`: each page first through the blank-page check, as the service's index-page does.
 */
async function timeEngine(engine: OcrEngine, pages: readonly BenchPage[], workers: number, blankCheck = false): Promise<{ seconds: number; cer: number | null; cpu: CpuTime }> {
  // Warm-up, untimed: every worker started and its models loaded.
  await Promise.all(Array.from({ length: workers }, () => engine.recognize(pages[0]!.image)));
  const c0 = cpuNow();
  const t0 = performance.now();
  const results = await Promise.all(pages.map(async (p) => {
    if (!blankCheck) return { text: (await engine.recognize(p.image)).text, truth: p.truth };
    // As index-page.ts: one decode for the check and the preparation, the scaled page handed over.
    const ready = engine.prepare ? await engine.prepare(p.image) : null;
    if (ready ? ready.blank : (await blankVerdict(p.image)).blank) return { text: '', truth: p.truth };
    return { text: (await engine.recognize(ready?.page ?? p.image)).text, truth: p.truth };
  }));
  return { seconds: (performance.now() - t0) / 1000, cer: setCer(results), cpu: cpuSince(c0) };
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

async function timeNative(pages: readonly BenchPage[], langs: string, processes: number, tessdataDir: string | null): Promise<{ seconds: number; cer: number | null; cpu: CpuTime }> {
  const limit = pLimit(processes);
  const c0 = cpuNow();
  const t0 = performance.now();
  const results = await Promise.all(pages.map((p) => limit(async () => ({ text: await nativeText(p.file, langs, tessdataDir), truth: p.truth }))));
  return { seconds: (performance.now() - t0) / 1000, cer: setCer(results), cpu: cpuSince(c0) };
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

/** `skipJs`: leave the tesseract.js rows out (the slowest by far; the native rows alone). */
export async function ocrBench(options: { syntheticPages: number; corpusDir: string | undefined; runDir: string; skipJs?: boolean }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(options.runDir, 'ocr-'));
  const native = fs.existsSync(NATIVE_TESSERACT);
  const cores = os.availableParallelism();
  const rows: Row[] = [];
  const phases: string[] = [];
  const baseRss = process.memoryUsage.rss() / 1024 ** 2;
  try {
    for (const set of await pageSets(dir, options.syntheticPages, options.corpusDir)) {
      for (const workers of options.skipJs ? [] : [1, 2]) {
        const engine = new TesseractJsEngine({ languages: set.langs, workers });
        try {
          const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, workers));
          rows.push({ engine: 'tesseract.js', workers, set: set.name, pages: set.pages.length, ...r, rssMb });
        } finally {
          await engine.close();
        }
      }
      if (!options.skipJs && folderServes(DEBIAN_TESSDATA, set.langs)) {
        const engine = new TesseractJsEngine({ languages: set.langs, workers: cores, models: { kind: 'folder', dir: DEBIAN_TESSDATA } });
        try {
          const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, cores));
          rows.push({ engine: 'tesseract.js (Debian tessdata_fast)', workers: cores, set: set.name, pages: set.pages.length, ...r, rssMb });
        } finally {
          await engine.close();
        }
      }
      if (native && folderServes(DEBIAN_TESSDATA, set.langs)) {
        // As the service runs it (blank check, preparation, pages sharing processes), and with a
        // process a page (the batching's share of the difference).
        for (const maxBatch of [NATIVE_MAX_BATCH, 1]) {
          const engine = new NativeTesseractEngine({ languages: set.langs, workers: cores, tessdataDir: DEBIAN_TESSDATA, maxBatch });
          try {
            const { value: r, rssMb } = await peakRss(() => timeEngine(engine, set.pages, cores, true));
            const label = maxBatch > 1 ? `service pipeline: blank check + native engine (auto), ≤ ${maxBatch} pages a process` : 'service pipeline, a process a page';
            // The warm-up's processes are not the set's.
            rows.push({ engine: label, workers: cores, set: set.name, pages: set.pages.length, ...r, rssMb, processes: engine.reader.stats.processes - cores });
          } finally {
            await engine.close();
          }
        }
        phases.push(await servicePhases(set.name, set.pages, set.langs));
      }
      if (native) {
        const debian = await timeNative(set.pages, set.langs.join('+'), cores, null);
        rows.push({ engine: 'tesseract CLI (Debian, tessdata_fast)', workers: cores, set: set.name, pages: set.pages.length, ...debian });
        const same = await timeNative(set.pages, set.langs.join('+'), cores, npmTessdata(dir, set.langs));
        rows.push({ engine: `tesseract CLI (npm ${MODEL_DIR}, as tesseract.js)`, workers: cores, set: set.name, pages: set.pages.length, ...same });
      } else {
        rows.push({ engine: 'tesseract CLI (Debian): absent', workers: 0, set: set.name, pages: 0, seconds: 0, cer: null, cpu: { self: 0, children: 0 } });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => fmt(l, 2)).join(', ')} (${cores} cores)\n`);
  console.log(`| OCR engine | workers / processes | pages | page set | seconds | pages/min | CPU-s per page (own + children) | tesseract processes | scaling ×1 worker | CER | bench process peak RSS MB |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ppm = r.seconds ? (r.pages / r.seconds) * 60 : 0;
    const one = rows.find((o) => o.engine === 'tesseract.js' && o.workers === 1 && o.set === r.set);
    const scaling = r.engine === 'tesseract.js' && r.workers > 1 && one ? fmt(ppm / ((one.pages / one.seconds) * 60), 2) : '';
    const cerText = r.cer === null ? '—' : `${fmt(r.cer * 100, 2)} %`;
    const rss = r.rssMb === undefined ? '' : fmt(r.rssMb, 0);
    const cpu = r.pages ? `${fmt(total(r.cpu) / r.pages, 2)} (${fmt(r.cpu.self / r.pages, 2)} + ${fmt(r.cpu.children / r.pages, 2)})` : '';
    const procs = r.processes ?? (r.engine.startsWith('tesseract CLI') ? r.pages : '');
    console.log(r.pages ? `| ${r.engine} | ${r.workers} | ${r.pages} | ${r.set} | ${fmt(r.seconds)} | ${fmt(ppm)} | ${cpu} | ${procs} | ${scaling} | ${cerText} | ${rss} |` : `| ${r.engine} | | | ${r.set} | | | | | | | |`);
  }
  console.log('\nCER: Levenshtein over the true text after ocr/cer.ts normalisation. Both engines use automatic');
  console.log('layout (psm 3), which reads the synthetic register (table) pages column by column: that, not');
  console.log('misread characters, is most of the synthetic CER. tesseract.js times include preparation and');
  console.log('orientation detection (OSD only for pages whose lines run sideways or that read doubtfully);');
  console.log(`the CLI runs on the images as they are. The CLI rows: Debian's own data (tessdata_fast, a smaller`);
  console.log(`and faster network) and the very ${MODEL_DIR} files tesseract.js reads (gunzipped from`);
  console.log('@tesseract.js-data): the second row isolates the engine (native vs wasm), the first adds the model.');
  console.log(`Peak RSS: this bench process (${fmt(baseRss, 0)} MB before any engine), tesseract.js slots included.`);
  console.log('CPU-s per page: the timed part\'s CPU time over its pages, this process (threads included) + its ended');
  console.log('children (/proc/self/stat cutime, cstime): the load of a shared machine moves it far less than the wall time.\n');
  if (phases.length) {
    console.log('Where the service pipeline\'s CPU goes (native engine, mean CPU-s per page, one page at a time):\n');
    console.log('| page set | blank check (on the shared decode) | preparation (the one decode, measure, scale, PNG) | recognition, a process a page | recognition, pages sharing a process | tesseract model load (a blank 200×50 image) | bare CLI on the stored image |');
    console.log('|---|---|---|---|---|---|---|');
    for (const line of phases) console.log(line);
    console.log('');
  }
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

/**
 * The service pipeline's CPU per page, phase by phase, one page at a time (so that each phase's
 * CPU is its own): the blank check, the preparation, the CLI on the prepared page alone and with
 * the set's pages in one process, the model load alone, and the bare CLI on the stored image.
 */
async function servicePhases(name: string, pages: readonly BenchPage[], langs: readonly string[]): Promise<string> {
  const measure = async (work: () => Promise<unknown>) => {
    const c0 = cpuNow();
    await work();
    return total(cpuSince(c0));
  };
  let blank = 0, prepare = 0;
  const prepared: { png: Buffer; width: number; height: number; languages: string }[] = [];
  for (const p of pages) {
    // One decode (prepare-image.ts preparePage): the decode and the check, then the rest.
    const gray = await decodeGray(p.image);
    blank += await measure(() => blankVerdictOfGray(gray));
    prepare += await measure(async () => {
      const page = await turnPage(await scaleGray(await decodeGray(p.image), langs), 0);
      prepared.push({ png: page.png, width: page.width, height: page.height, languages: page.languages.join('+') });
    });
  }
  const args = (l: string) => ['--tessdata-dir', DEBIAN_TESSDATA, '-l', l, '--psm', '3', '-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_tsv=1'];
  const reader = (maxBatch: number) => new NativeReader({ workers: 1, maxBatch, run: runCli(NATIVE_TESSERACT, NATIVE_ENV, childNice) });
  const alone = reader(1);
  let single = 0;
  for (const p of prepared) single += await measure(() => alone.read({ ...p, args: args(p.languages), reading: true, batchKey: p.languages }));
  const shared = reader(prepared.length);
  // One page first (it starts at once), the rest wait for it and share a process per languages.
  const sharedCpu = await measure(() => Promise.all(prepared.map((p) => shared.read({ ...p, args: args(p.languages), reading: true, batchKey: p.languages }))));
  const tiny = await sharp({ create: { width: 200, height: 50, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const load = await measure(() => alone.read({ png: tiny, width: 200, height: 50, args: args(langs.join('+')), reading: true, batchKey: null }).catch(() => ''));
  let bare = 0;
  for (const p of pages) bare += await measure(() => nativeText(p.file, langs.join('+'), null));
  const n = pages.length;
  return `| ${name} | ${fmt(blank / n, 3)} | ${fmt(prepare / n, 3)} | ${fmt(single / n, 2)} | ${fmt(sharedCpu / n, 2)} (${shared.stats.processes} processes) | ${fmt(load, 2)} | ${fmt(bare / n, 2)} |`;
}
