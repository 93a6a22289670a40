/**
 * The language a page is read with, when several are configured (`OCR_LANGS=chi_sim+eng`): each
 * model read on its own is both faster and more accurate on its own script than the combination
 * (tesseract tries words against every model: linn.png read 0.9 % CER with eng in 10 s, 3.6 %
 * with chi_sim+eng at up to twice the time). The page's script comes from its own pixels, at no
 * cost beyond the layout measure (page-layout.ts), from two shapes of its lines:
 *   glyph width (median inked run along a line over the line height): Han 0.93 on its own and
 *     0.74 with Latin case numbers in the lines; Latin 0.16-0.62 (book, fax, bilevel, 2400 dpi,
 *     and typewriter at 0.62, whose monospaced letters are the widest);
 *   central ink (share of the lines' ink in the middle half of their height): Han 0.48-0.59,
 *     Latin 0.61-0.84 (letters between baseline and x-height, thin ascenders and descenders).
 * A page is Han when its glyphs are square and its ink even, Latin when either says so clearly;
 * in between, or without lines, it is read with every configured language, as is a page whose
 * single-script reading comes out doubtful (read-upright.ts).
 */
export type Script = 'Han' | 'Latin';

export interface ScriptShape {
  readonly glyphWidth: number | null;
  readonly centralInk: number | null;
}

export const HAN_GLYPHS_FROM = 0.7;
export const HAN_INK_UNDER = 0.62;
export const LATIN_GLYPHS_UNDER = 0.66;
export const LATIN_INK_FROM = 0.66;

export function pageScript({ glyphWidth, centralInk }: ScriptShape): Script | null {
  if (glyphWidth === null || centralInk === null) return null;
  if (glyphWidth >= HAN_GLYPHS_FROM && centralInk <= HAN_INK_UNDER) return 'Han';
  if (glyphWidth <= LATIN_GLYPHS_UNDER || centralInk >= LATIN_INK_FROM) return 'Latin';
  return null;
}

const SCRIPT_OF: Readonly<Record<string, Script>> = Object.freeze({
  chi_sim: 'Han', chi_tra: 'Han',
  eng: 'Latin', fra: 'Latin', deu: 'Latin', spa: 'Latin', ita: 'Latin', por: 'Latin', nld: 'Latin',
  pol: 'Latin', ces: 'Latin', swe: 'Latin', dan: 'Latin', nor: 'Latin', fin: 'Latin', vie: 'Latin',
});

/** The configured languages of the page's script, in their configured order; all when none or unknown. */
export function languagesFor(script: Script | null, configured: readonly string[]): readonly string[] {
  if (script === null || configured.length < 2) return configured;
  const own = configured.filter((l) => SCRIPT_OF[l] === script);
  return own.length > 0 ? own : configured;
}
