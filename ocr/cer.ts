/**
 * Character error rate: Levenshtein distance between recognised and true text over the true
 * text's length, after one normalisation applied to both:
 *   - Unicode NFKC (full-width forms, ligatures such as "ﬁ" become their plain letters);
 *   - whitespace runs collapse to one space and the ends are trimmed, because line breaks and
 *     spacing are layout, not characters read;
 *   - for CJK text (any Han, kana or Hangul in the truth) all whitespace is removed: these
 *     scripts put no spaces between words and tesseract inserts them unevenly.
 * Capitalisation and punctuation count: they are what was read.
 */
import { distance } from 'fastest-levenshtein';

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export function normaliseForCer(text: string, cjk: boolean): string {
  const t = text.normalize('NFKC');
  return cjk ? t.replace(/\s+/g, '') : t.replace(/\s+/g, ' ').trim();
}

/** CER of `recognised` against `truth`, 0 = perfect; can exceed 1 when much extra text is read. */
export function cer(recognised: string, truth: string): number {
  const cjk = CJK.test(truth);
  const t = normaliseForCer(truth, cjk), r = normaliseForCer(recognised, cjk);
  if (t.length === 0) return r.length === 0 ? 0 : 1;
  return distance(r, t) / t.length;
}
