/**
 * A short, highlighted excerpt of a page around the query's first match. Matching mirrors the
 * index (ocr/index-terms.ts): NFKC, lower case, words as units and CJK as single characters, so
 * what the index found is what gets marked. Output is HTML-safe text: the page's own characters
 * are escaped and matches wrapped in <mark>…</mark>.
 */
import { normalize, tokenize } from './index-terms.js';

interface Unit {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Words stay whole; a CJK run becomes one unit per character (code point). */
function units(normalized: string): Unit[] {
  const out: Unit[] = [];
  for (const t of tokenize(normalized)) {
    if (!t.cjk) {
      out.push({ text: t.text, start: t.start, end: t.end });
      continue;
    }
    let at = t.start;
    for (const ch of Array.from(normalized.slice(t.start, t.end))) {
      out.push({ text: ch.toLowerCase(), start: at, end: at + ch.length });
      at += ch.length;
    }
  }
  return out;
}

/** Spans [start, end) of the NFKC text where any of the query's phrases occurs. */
export function matchSpans(normalizedText: string, q: string): [number, number][] {
  const text = units(normalizedText);
  const phrases = normalize(q)
    .split(/\s+/)
    .map((chunk) => units(chunk).map((u) => u.text))
    .filter((p) => p.length > 0);
  const spans: [number, number][] = [];
  for (let i = 0; i < text.length; i++) {
    for (const p of phrases) {
      if (i + p.length <= text.length && p.every((w, k) => text[i + k]!.text === w)) {
        spans.push([text[i]!.start, text[i + p.length - 1]!.end]);
      }
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  // Drop overlaps: keep the earliest, longest span.
  const kept: [number, number][] = [];
  for (const s of spans) if (kept.length === 0 || s[0] >= kept[kept.length - 1]![1]) kept.push(s);
  return kept;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SnippetOptions {
  /** Characters of context before the first match. */
  readonly before?: number;
  /** Characters of the snippet in all (before escaping and marks). */
  readonly length?: number;
}

/** The excerpt: whitespace collapsed, cut at word edges where it can, "…" where text was cut. */
export function snippet(text: string, q: string, options: SnippetOptions = {}): string {
  const before = options.before ?? 40;
  const length = options.length ?? 160;
  const flat = normalize(text).replace(/\s+/g, ' ').trim();
  const spans = matchSpans(flat, q);
  const first = spans[0]?.[0] ?? 0;
  let from = Math.max(0, first - before);
  // Start at a word edge when one is near, never inside a surrogate pair.
  if (from > 0) {
    const space = flat.indexOf(' ', from);
    if (space !== -1 && space < first) from = space + 1;
    if (/[\uDC00-\uDFFF]/.test(flat[from] ?? '')) from--;
  }
  let to = Math.min(flat.length, from + length);
  const last = spans.find((s) => s[0] < to && s[1] > to);
  if (last) to = last[1]; // never cut a match in half
  else if (to < flat.length) {
    const space = flat.lastIndexOf(' ', to);
    if (space > first + 1) to = space;
    if (/[\uD800-\uDBFF]/.test(flat[to - 1] ?? '')) to++;
  }
  let out = from > 0 ? '…' : '';
  let at = from;
  for (const [s, e] of spans) {
    if (e <= from || s >= to) continue;
    out += escapeHtml(flat.slice(at, s)) + '<mark>' + escapeHtml(flat.slice(s, e)) + '</mark>';
    at = e;
  }
  out += escapeHtml(flat.slice(at, to)) + (to < flat.length ? '…' : '');
  return out;
}
