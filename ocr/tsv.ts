/**
 * Tesseract's TSV output (tesseract.js `tsv: true`, the CLI's `tsv` config) into words.
 * Columns: level page block par line word left top width height conf text; level 5 is a word.
 */
import type { OcrWord } from './engine.js';

export function wordsFromTsv(tsv: string): OcrWord[] {
  const words: OcrWord[] = [];
  for (const line of tsv.split('\n')) {
    const cols = line.split('\t');
    if (cols.length < 12 || cols[0] !== '5') continue;
    const text = cols.slice(11).join('\t').trim();
    const conf = Number(cols[10]);
    if (!text || !(conf >= 0)) continue;
    const [left, top, width, height] = cols.slice(6, 10).map(Number) as [number, number, number, number];
    words.push({ text, confidence: Math.round(conf * 100) / 100, box: [left, top, width, height] });
  }
  return words;
}

/**
 * A TSV over several pages (one CLI process reading a list of images) cut into each page's rows,
 * by the page_num column (1-based, in list order). Pages without a row get an empty TSV.
 */
export function splitTsvPages(tsv: string, pages: number): string[] {
  const out: string[][] = Array.from({ length: pages }, () => []);
  for (const row of tsv.split('\n')) {
    const n = Number(row.split('\t', 2)[1]);
    if (Number.isInteger(n) && n >= 1 && n <= pages) out[n - 1]!.push(row);
  }
  return out.map((rows) => rows.join('\n'));
}

/** Mean word confidence 0–100; 0 for a page without words. */
export function meanConfidence(words: readonly OcrWord[]): number {
  if (words.length === 0) return 0;
  return Math.round((words.reduce((s, w) => s + w.confidence, 0) / words.length) * 100) / 100;
}
