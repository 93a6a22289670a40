/**
 * Is a page image blank: the empty back of a duplex-scanned sheet? Asked before the recogniser,
 * because a blank page costs it as much as a written one (layout analysis over the whole page) and
 * duplex scans carry many. Cheap (one decode at most 1,300 pixels wide, one pass; tens of
 * milliseconds) and cautious: only a page with (almost) no ink is blank, so a few faint words, a
 * signature or a stamp keep the page for OCR.
 *
 * Ink is what is darker than the paper around it by more than INK_CONTRAST gray levels; a mark
 * is a connected patch of ink of at least MIN_MARK pixels (a letter's stroke; lone pixels and
 * specks are sensor noise, JPEG ringing and dust). A page is blank with fewer than MIN_MARKS
 * marks covering under MAX_MARK_AREA pixels: three letters, or one signature, are content. The
 * paper's own level is measured locally (a heavily blurred small copy), so uneven
 * lighting and tinted paper are not ink, and bleed-through from the sheet's other side (soft,
 * 10–30 levels under the paper) stays under the contrast. A band along each edge is left out: the
 * scanner's edge shadows and the sheet's border are not content. A page whose paper is itself
 * dark somewhere (a photograph, a black page) is never blank.
 */
import sharp from 'sharp';
import type { ImageInput } from './prepare-image.js';

/** Working width at most; A4 at this width is ~160 dpi, where an 8-pt stroke is still 1–2 pixels. */
const WIDTH = 1300;
/** Gray levels under the local paper for a pixel to count as ink. */
export const INK_CONTRAST = 40;
/** Share of each side left out for edge shadows and the sheet's border. */
const EDGE = 0.05;
/** Pixels a mark needs at the working width: a 3×3 speck of dust is not one, a letter is (~30–60). */
export const MIN_MARK = 12;
/** Three marks (letters, digits) make a page written. */
export const MIN_MARKS = 3;
/** Nor is a page blank whose marks cover this many pixels: one signature or stamp. */
export const MAX_MARK_AREA = 300;
/** The paper must be at least this light everywhere (2nd percentile of the local level). */
const MIN_PAPER = 120;

export interface BlankVerdict {
  readonly blank: boolean;
  /**
   * Marks found inside the edge band, and the pixels they cover (at the working width), counted
   * until the page is sure to be written (MIN_MARKS marks or MAX_MARK_AREA pixels): a dense page
   * stops after its first few letters instead of tracing thousands.
   */
  readonly marks: number;
  readonly markPixels: number;
}

const isRaw = (i: ImageInput): i is Exclude<ImageInput, Uint8Array> => !(i instanceof Uint8Array);

/** Throws (sharp's error) on bytes that are no image: the caller's recogniser path reports those. */
export async function blankVerdict(image: ImageInput): Promise<BlankVerdict> {
  const input = isRaw(image)
    ? sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    : sharp(image, { limitInputPixels: 30_000 * 30_000 });
  const { data: page, info } = await input
    .grayscale()
    .resize({ width: WIDTH, withoutEnlargement: true, kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  // The paper's level: a small copy (block averages), its lightest nearby block (dilate: text does
  // not darken the paper), smoothed and brought back to size. Two pipelines: sharp keeps one resize each.
  const small = Math.max(8, Math.round(width / 24));
  const raw = { raw: { width, height, channels: info.channels } } as const;
  const blocks = await sharp(page, raw).resize({ width: small }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  const paper = await sharp(blocks.data, { raw: { width: blocks.info.width, height: blocks.info.height, channels: 1 } })
    .dilate(1)
    .blur(1)
    .resize({ width, height, fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const ch = info.channels;
  const x0 = Math.floor(width * EDGE), x1 = Math.ceil(width * (1 - EDGE));
  const y0 = Math.floor(height * EDGE), y1 = Math.ceil(height * (1 - EDGE));
  const dark = new Uint8Array(width * height);
  const levels = new Uint32Array(256);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x;
      const p = paper[i]!;
      levels[p]! += 1;
      if (p - page[i * ch]! > INK_CONTRAST) dark[i] = 1;
    }
  }
  const { marks, markPixels } = countMarks(dark, width, x0, x1, y0, y1);
  const area = Math.max(1, (x1 - x0) * (y1 - y0));
  let below = 0;
  let darkest = 0;
  for (; darkest < 256 && below + levels[darkest]! <= area * 0.02; darkest++) below += levels[darkest]!;
  return { blank: marks < MIN_MARKS && markPixels < MAX_MARK_AREA && darkest >= MIN_PAPER, marks, markPixels };
}

/**
 * Connected patches (8-neighbours) of the dark mask inside the box; those of MIN_MARK pixels or
 * more, until there are enough of them to call the page written.
 */
function countMarks(dark: Uint8Array, width: number, x0: number, x1: number, y0: number, y1: number): { marks: number; markPixels: number } {
  const stack = new Int32Array((x1 - x0) * (y1 - y0));
  let marks = 0;
  let markPixels = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (dark[y * width + x] !== 1) continue;
      let top = 0;
      let size = 0;
      stack[top++] = y * width + x;
      dark[y * width + x] = 2;
      while (top > 0) {
        const i = stack[--top]!;
        size += 1;
        const cy = Math.floor(i / width), cx = i - cy * width;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = cy + dy;
          if (ny < y0 || ny >= y1) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = cx + dx;
            if (nx < x0 || nx >= x1) continue;
            const n = ny * width + nx;
            if (dark[n] === 1) { dark[n] = 2; stack[top++] = n; }
          }
        }
      }
      if (size >= MIN_MARK) { marks += 1; markPixels += size; }
      if (marks >= MIN_MARKS || markPixels >= MAX_MARK_AREA) return { marks, markPixels };
    }
  }
  return { marks, markPixels };
}
