/**
 * Text → search terms, the same function for pages and queries (pure; no database).
 *
 * PostgreSQL's text-search parsers do not segment Chinese, so we make the terms ourselves:
 * - text is NFKC-normalised (full-width Latin and digits become ASCII, compatibility ideographs
 *   their unified form) and lower-cased;
 * - a run of Latin letters/digits (any non-CJK script) is one term;
 * - a run of CJK characters (Han, kana, Hangul; whitespace inside a run is dropped, as OCR
 *   puts spaces between Han characters) becomes its overlapping character bigrams,
 *   followed by the run's last character alone (so a run of one is that character).
 *   The trailing single character lets a one-character query, and a query whose CJK run ends
 *   where the text's run ends, match exactly.
 *
 * Terms carry positions (1, 2, 3 …), so a query's bigram chain or hyphenated word sequence is
 * matched as a phrase (`<->`). Both sides are written as tsvector / tsquery *literals*, never
 * re-parsed by PostgreSQL, so PGlite and PostgreSQL (any locale) index exactly the same lexemes.
 */

const CJK_CLASS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const IS_CJK = new RegExp(`[${CJK_CLASS}]`, 'u');
/** A CJK run, or a run of other letters, digits and combining marks. */
const TOKEN = new RegExp(`([${CJK_CLASS}]+)|((?:(?![${CJK_CLASS}])[\\p{L}\\p{N}\\p{M}])+)`, 'gu');

/** PostgreSQL caps positions at 16,383 and lexemes at 2 KB; page text stays far below both. */
const MAX_POSITION = 16_383;
const MAX_TERM_CHARS = 64;

export interface Token {
  /** Normalised, lower-cased text of the token. */
  readonly text: string;
  /** Offsets in the NFKC-normalised input (see `normalize`). */
  readonly start: number;
  readonly end: number;
  readonly cjk: boolean;
}

export function normalize(text: string): string {
  return text.normalize('NFKC');
}

/** Tokens of already-normalised text: CJK runs and word runs, with their offsets. */
export function tokenize(normalized: string): Token[] {
  const out: Token[] = [];
  for (const m of normalized.matchAll(TOKEN)) {
    out.push({ text: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length, cjk: m[1] !== undefined });
  }
  return out;
}

const clip = (term: string): string => {
  const chars = Array.from(term);
  return chars.length > MAX_TERM_CHARS ? chars.slice(0, MAX_TERM_CHARS).join('') : term;
};

/** The CJK run's bigrams, then its last character. */
function cjkTerms(run: string): string[] {
  const chars = Array.from(run);
  const terms: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i]! + chars[i + 1]!);
  terms.push(chars[chars.length - 1]!);
  return terms;
}

/**
 * Tokens with CJK runs joined across whitespace: tesseract's chi_sim output puts spaces between
 * Han characters ("北京 市 朝阳 区"), and Chinese text carries no meaning in such spaces.
 */
function joinCjkRuns(normalized: string): Token[] {
  const out: Token[] = [];
  for (const t of tokenize(normalized)) {
    const prev = out[out.length - 1];
    if (prev?.cjk && t.cjk && /^\s*$/.test(normalized.slice(prev.end, t.start))) {
      out[out.length - 1] = { text: prev.text + t.text, start: prev.start, end: t.end, cjk: true };
    } else out.push(t);
  }
  return out;
}

/** The page's terms in reading order (position i + 1 each). */
export function indexTerms(text: string): string[] {
  const terms: string[] = [];
  for (const t of joinCjkRuns(normalize(text))) {
    if (t.cjk) terms.push(...cjkTerms(t.text));
    else terms.push(clip(t.text));
  }
  return terms;
}

/** Quotes a lexeme for tsvector/tsquery input syntax. */
const lexeme = (term: string): string => `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** A tsvector literal (`'a':1 'b':2,5`) for `$1::tsvector`; empty text gives ''. */
export function tsvectorLiteral(text: string): string {
  const positions = new Map<string, number[]>();
  indexTerms(text).forEach((term, i) => {
    const list = positions.get(term) ?? [];
    if (list.length < 256) list.push(Math.min(i + 1, MAX_POSITION)); // 256: PostgreSQL's per-lexeme limit
    positions.set(term, list);
  });
  return [...positions].map(([term, pos]) => `${lexeme(term)}:${[...new Set(pos)].join(',')}`).join(' ');
}

/** One query term: a lexeme, matched as a prefix when `prefix` (a lone trailing CJK character). */
export interface QueryTerm {
  readonly lexeme: string;
  readonly prefix: boolean;
}

/** Most terms a query may carry: enough for a sentence, bounded work for the database. */
export const MAX_QUERY_TERMS = 32;

/**
 * A query's phrases: each whitespace-separated chunk is a sequence of terms that must appear in
 * that order, adjacent (e.g. `EXHIBIT-00042-AB`, `人民法院`); chunks are ANDed.
 */
export function queryPhrases(q: string): QueryTerm[][] {
  const phrases: QueryTerm[][] = [];
  for (const chunk of normalize(q).split(/\s+/)) {
    const tokens = tokenize(chunk);
    const phrase: QueryTerm[] = [];
    tokens.forEach((t, i) => {
      if (!t.cjk) {
        phrase.push({ lexeme: clip(t.text), prefix: false });
        return;
      }
      const chars = Array.from(t.text);
      const last = i === tokens.length - 1;
      for (let k = 0; k + 1 < chars.length; k++) phrase.push({ lexeme: chars[k]! + chars[k + 1]!, prefix: false });
      // Followed by more of the chunk, the text's run ended here too: its trailing single
      // character is indexed. At the chunk's end the text's run may go on: only a lone
      // character needs a term then, as a prefix of the bigram (or the single character) there.
      if (!last) phrase.push({ lexeme: chars[chars.length - 1]!, prefix: false });
      else if (chars.length === 1) phrase.push({ lexeme: chars[0]!, prefix: true });
    });
    if (phrase.length > 0) phrases.push(phrase);
  }
  return phrases;
}

/** The tsquery literal for `$1::tsquery`, or null when the query has no searchable term. */
export function tsqueryLiteral(q: string): string | null {
  let budget = MAX_QUERY_TERMS;
  const parts: string[] = [];
  for (const phrase of queryPhrases(q)) {
    const terms = phrase.slice(0, budget);
    budget -= terms.length;
    if (terms.length === 0) break;
    const chain = terms.map((t) => `${lexeme(t.lexeme)}${t.prefix ? ':*' : ''}`).join(' <-> ');
    parts.push(terms.length > 1 ? `(${chain})` : chain);
  }
  return parts.length > 0 ? parts.join(' & ') : null;
}

export const isCjk = (ch: string): boolean => IS_CJK.test(ch);
