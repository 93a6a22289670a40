/**
 * The invisible text layer, as tesseract's PDF renderer and OCRmyPDF write it: each recognised
 * word drawn in text render mode 3 (neither filled nor stroked) over the spot of the page image
 * where it was seen, stretched (Tz) to its box, so that viewers select, search and copy it there.
 *
 * Font: a Type0 font, Identity-H encoding, over a CIDFontType2 with CIDToGIDMap Identity and no
 * font program: invisible glyphs are never drawn, so no outlines are needed. A BMP character is
 * written as its UTF-16 code unit (CID = code unit) and the ToUnicode CMap maps each such CID back
 * to itself, so text extraction yields exactly the recognised Unicode, Latin and Chinese alike.
 * Characters outside the BMP (CJK Extension B names, e.g. 𠮷) cannot be one 2-byte code: each
 * distinct one gets a CID from the surrogate range D800–DFFF (never a BMP character on its own),
 * and the ToUnicode CMap, written at the end of the file, maps it to its surrogate pair. Past
 * 2,048 distinct such characters in one file, further ones are dropped; so are control characters.
 */
import type { WordsDocument } from '../../ports/page-text.js';
import { num } from './pdf-file.js';

/** Advance width of every glyph in 1/1000 em; Tz then stretches each word to its box. */
const GLYPH_WIDTH = 500;
export const TEXT_FONT_NAME = 'OcrText';

/** The font's objects but the ToUnicode CMap (see CidEncoder), written once; pages refer to `font`. */
export function invisibleFontObjects(n: { font: number; cidFont: number; descriptor: number; toUnicode: number }): { num: number; body: string }[] {
  return [
    { num: n.font, body: `<</Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H /DescendantFonts [${n.cidFont} 0 R] /ToUnicode ${n.toUnicode} 0 R>>` },
    {
      num: n.cidFont,
      body:
        `<</Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>>` +
        ` /FontDescriptor ${n.descriptor} 0 R /DW ${GLYPH_WIDTH} /CIDToGIDMap /Identity>>`,
    },
    {
      num: n.descriptor,
      body: `<</Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 0 ${GLYPH_WIDTH} 1000] /ItalicAngle 0 /Ascent 1000 /Descent 0 /CapHeight 1000 /StemV 80>>`,
    },
  ];
}

const SURROGATES = { first: 0xd800, last: 0xdfff };
const hex4 = (v: number) => v.toString(16).toUpperCase().padStart(4, '0');

/** Text to CIDs for one file; remembers the CIDs given to characters outside the BMP. */
export class CidEncoder {
  private readonly astral = new Map<number, number>();

  /** The word as hex CIDs, or '' when nothing in it can be written. */
  encode(text: string): string {
    if (text.trim() === '') return '';
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= SURROGATES.first && cp <= SURROGATES.last)) continue;
      if (cp <= 0xffff) out += hex4(cp);
      else {
        let cid = this.astral.get(cp);
        if (cid === undefined && this.astral.size <= SURROGATES.last - SURROGATES.first) this.astral.set(cp, (cid = SURROGATES.first + this.astral.size));
        if (cid !== undefined) out += hex4(cid);
      }
    }
    return out;
  }

  /**
   * The ToUnicode CMap: every BMP CID to itself, one bfrange per high byte (a range may vary in
   * its last byte only, ISO 32000-1 §9.10.3; at most 100 entries a section), surrogate range
   * excepted; then the CIDs given to characters outside the BMP, to their surrogate pairs.
   */
  toUnicodeCMap(): string {
    const ranges: string[] = [];
    for (let hi = 0; hi < 256; hi++) {
      if (hi << 8 >= SURROGATES.first && hi << 8 <= SURROGATES.last) continue;
      ranges.push(`<${hex4(hi << 8)}> <${hex4((hi << 8) | 0xff)}> <${hex4(hi << 8)}>`);
    }
    const utf16be = (cp: number) => Buffer.from(String.fromCodePoint(cp), 'utf16le').swap16().toString('hex').toUpperCase();
    const chars = [...this.astral].map(([cp, cid]) => `<${hex4(cid)}> <${utf16be(cp)}>`);
    return cmap([...sections('bfrange', ranges), ...sections('bfchar', chars)]);
  }
}

function sections(kind: 'bfrange' | 'bfchar', entries: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < entries.length; i += 100) {
    const part = entries.slice(i, i + 100);
    out.push(`${part.length} begin${kind}\n${part.join('\n')}\nend${kind}`);
  }
  return out;
}

function cmap(mappings: string[]): string {
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange',
    ...mappings,
    'endcmap',
    'CMapName currentdict /CIDInit /ProcSet findresource /defineresource pop',
    'end',
    'end',
  ].join('\n');
}

/** Where the page's words go: the page rectangle in points (origin bottom-left, PDF's way). */
export interface TextArea {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Content-stream operators drawing the page's words invisibly, or '' when none is drawable.
 * Boxes are [left, top, width, height] in the words document's unit, origin top-left (the OCR
 * engine's OcrWord box); they are scaled to the area and flipped to PDF's bottom-up y.
 */
export function invisibleTextOperators(words: WordsDocument, area: TextArea, cids: CidEncoder): string {
  if (!(words.width > 0 && words.height > 0)) return '';
  const sx = area.width / words.width;
  const sy = area.height / words.height;
  const ops: string[] = [];
  for (const word of words.words) {
    const [left, top, width, height] = word.box;
    const hex = cids.encode(word.text);
    const size = height * sy;
    if (!hex || !(width > 0) || !(size > 0.1)) continue;
    const natural = (hex.length / 4) * (GLYPH_WIDTH / 1000) * size;
    const x = area.x + left * sx;
    const baseline = area.y + area.height - (top + height) * sy;
    ops.push(`/${TEXT_FONT_NAME} ${num(size)} Tf ${num((100 * width * sx) / natural)} Tz 1 0 0 1 ${num(x)} ${num(baseline)} Tm <${hex}> Tj`);
  }
  return ops.length === 0 ? '' : `BT\n3 Tr\n${ops.join('\n')}\nET\n`;
}
