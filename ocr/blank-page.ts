/**
 * Is a page image blank: the empty back of a duplex-scanned sheet? Asked before the recogniser,
 * because a blank page costs it as much as a written one (layout analysis over the whole page) and
 * duplex scans carry many. Cheap (on the decode the preparation shares, prepare-image.ts
 * preparePage, at most 1,300 pixels wide; a written page is decided in its first lines, a blank
 * one in one pass: milliseconds) and cautious: only a page with (almost) no ink is blank, so a few faint words, a
 * signature or a stamp keep the page for OCR.
 *
 * Ink is what is darker than the paper around it by more than INK_CONTRAST gray levels; a mark
 * is a connected patch of ink of at least MIN_MARK pixels (a letter's stroke; lone pixels and
 * specks are sensor noise, JPEG ringing and dust). A page is blank with fewer than MIN_MARKS
 * marks covering under MAX_MARK_AREA pixels: three letters, or one signature, are content. The
 * paper's own level is measured locally (a small copy of block averages), so uneven
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

/** A decoded one-channel page (prepare-image.ts decodeGray): what the check and the layout measure share. */
export interface GrayImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Throws (sharp's error) on bytes that are no image: the caller's recogniser path reports those. */
export async function blankVerdict(image: ImageInput): Promise<BlankVerdict> {
  const { data, info } = await (image instanceof Uint8Array
    ? sharp(image, { limitInputPixels: 30_000 * 30_000 })
    : sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }))
    .grayscale()
    .resize({ width: WIDTH, withoutEnlargement: true, kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return blankVerdictOfGray({ data, width: info.width, height: info.height });
}

/**
 * The verdict on a page already decoded to gray (one decode for the check and the preparation,
 * prepare-image.ts preparePage): brought to the working width, unless it is no wider already.
 */
export async function blankVerdictOfGray(gray: GrayImage): Promise<BlankVerdict> {
  const raw = (g: GrayImage) => sharp(g.data, { raw: { width: g.width, height: g.height, channels: 1 } });
  const page = gray.width <= WIDTH
    ? gray
    : await raw(gray).resize({ width: WIDTH, kernel: 'linear' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true }).then(({ data, info }) => ({ data, width: info.width, height: info.height }));
  const { width, height } = page;
  // The paper's level: a small copy (block averages: text does not darken a block by much),
  // brought back to size row by row, only where the check looks (paperRows). A dilate(1) and
  // blur(1) used to follow, which sharp applies after the resize, at full size: 55 of a dense
  // page's 86 CPU-ms, for a few gray levels of paper; without them the verdicts stayed the same on
  // every generated back, near-empty and dense page and corpus scan.
  const small = Math.max(8, Math.round(width / 24));
  const blocks = await raw(page).resize({ width: small }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  const grid = blocks.data;
  const x0 = Math.floor(width * EDGE), x1 = Math.ceil(width * (1 - EDGE));
  const y0 = Math.floor(height * EDGE), y1 = Math.ceil(height * (1 - EDGE));
  const levels = new Uint32Array(256);
  // 0: not looked at yet, 1: ink not yet traced, 2: traced or paper.
  const dark = new Uint8Array(width * height);
  const seen = new Uint8Array(height);
  const paperRow = paperRows(grid, blocks.info.width, blocks.info.height, width, height);
  const row = (y: number): void => {
    if (seen[y] === 1) return;
    seen[y] = 1;
    const paper = paperRow(y);
    const o = y * width;
    for (let x = x0; x < x1; x++) {
      const p = paper[x]!;
      levels[p]! += 1;
      dark[o + x] = p - page.data[o + x]! > INK_CONTRAST ? 1 : 2;
    }
  };
  const { marks, markPixels, done } = countMarks(dark, row, width, x0, x1, y0, y1);
  // Written: sure without the paper's darkest level (which needs every row).
  if (done) return { blank: false, marks, markPixels };
  const area = Math.max(1, (x1 - x0) * (y1 - y0));
  let below = 0;
  let darkest = 0;
  for (; darkest < 256 && below + levels[darkest]! <= area * 0.02; darkest++) below += levels[darkest]!;
  return { blank: marks < MIN_MARKS && markPixels < MAX_MARK_AREA && darkest >= MIN_PAPER, marks, markPixels };
}

/**
 * The paper level grid brought to width × height, one row at a time, as sharp's linear resize
 * brings it (libvips 8.18: output pixel x samples the grid at x × gw / width − 0.5, bilinear, the
 * edge blocks held beyond; measured equal to ±1 level on 3 % of pixels), without the full-size
 * image: a written page is decided in its first lines.
 */
function paperRows(grid: Uint8Array, gw: number, gh: number, width: number, height: number): (y: number) => Uint8Array {
  const out = new Uint8Array(width);
  const sx = gw / width, sy = gh / height;
  const xa = new Int32Array(width), xb = new Int32Array(width), xf = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(gw - 1, Math.max(0, x * sx - 0.5));
    xa[x] = Math.floor(fx);
    xb[x] = Math.min(gw - 1, xa[x]! + 1);
    xf[x] = fx - xa[x]!;
  }
  return (y) => {
    const fy = Math.min(gh - 1, Math.max(0, y * sy - 0.5));
    const ya = Math.floor(fy), yb = Math.min(gh - 1, ya + 1), wy = fy - ya;
    const ra = ya * gw, rb = yb * gw;
    for (let x = 0; x < width; x++) {
      const a = xa[x]!, b = xb[x]!, wx = xf[x]!;
      const top = grid[ra + a]! + (grid[ra + b]! - grid[ra + a]!) * wx;
      const bottom = grid[rb + a]! + (grid[rb + b]! - grid[rb + a]!) * wx;
      out[x] = Math.round(top + (bottom - top) * wy);
    }
    return out;
  };
}

/**
 * Connected patches (8-neighbours) of the dark mask inside the box; those of MIN_MARK pixels or
 * more, until there are enough of them to call the page written (`done`). Rows of the mask are
 * made (`row`) as the scan or a patch reaches them.
 */
function countMarks(dark: Uint8Array, row: (y: number) => void, width: number, x0: number, x1: number, y0: number, y1: number): { marks: number; markPixels: number; done: boolean } {
  const stack = new Int32Array((x1 - x0) * (y1 - y0));
  let marks = 0;
  let markPixels = 0;
  for (let y = y0; y < y1; y++) {
    row(y);
    if (y + 1 < y1) row(y + 1);
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
          row(ny);
          for (let dx = -1; dx <= 1; dx++) {
            const nx = cx + dx;
            if (nx < x0 || nx >= x1) continue;
            const n = ny * width + nx;
            if (dark[n] === 1) { dark[n] = 2; stack[top++] = n; }
          }
        }
      }
      if (size >= MIN_MARK) { marks += 1; markPixels += size; }
      if (marks >= MIN_MARKS || markPixels >= MAX_MARK_AREA) return { marks, markPixels, done: true };
    }
  }
  return { marks, markPixels, done: false };
}
