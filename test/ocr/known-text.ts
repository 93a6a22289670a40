/**
 * OCR test pages with known text and known word positions, rendered by code (sharp SVG text):
 * an English page in DejaVu Sans and a Simplified Chinese page in WenQuanYi Zen Hei (Debian's
 * fonts-wqy-zenhei). Small pages so that recognition stays quick.
 */
import sharp from 'sharp';
import { pageText } from '../../scripts/bench/fixtures/synthetic-pages.js';
import type { Rotation } from '../../ocr/prepare-image.js';

export type Box = [number, number, number, number];

const WIDTH = 1240;
const LEFT = 80;
const PITCH = 52;
const FONT_SIZE = 28;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function svg(lines: readonly string[], family: string, height: number): Buffer {
  const text = lines
    .map((l, i) => `<text x="${LEFT}" y="${90 + i * PITCH}" font-size="${FONT_SIZE}" font-family="${family}" fill="#111">${esc(l)}</text>`)
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}"><rect width="100%" height="100%" fill="#f4f4f0"/>${text}</svg>`);
}

async function render(lines: readonly string[], family: string): Promise<Buffer> {
  const height = 90 + lines.length * PITCH + 40;
  return sharp(svg(lines, family, height)).flatten({ background: '#ffffff' }).toColourspace('b-w').png().toBuffer();
}

/** Ink bounding box of `line`'s first word where the page draws it (line `i`, 0-based). */
async function firstWordBox(lines: readonly string[], i: number, family: string): Promise<Box> {
  const word = lines[i]!.split(' ')[0]!;
  const only = lines.map((_, k) => (k === i ? word : ''));
  const height = 90 + lines.length * PITCH + 40;
  const { info } = await sharp(svg(only, family, height)).flatten({ background: '#f4f4f0' }).trim({ threshold: 40 }).toBuffer({ resolveWithObject: true });
  return [-(info.trimOffsetLeft ?? 0), -(info.trimOffsetTop ?? 0), info.width, info.height];
}

export interface KnownPage {
  readonly image: Buffer;
  readonly text: string;
  readonly width: number;
  readonly height: number;
  /** The first word of line `wordLine` and its ink box in the page's pixels. */
  readonly word: string;
  readonly wordBox: Box;
}

/** Twelve lines of synthetic page 2's statement text; line 6 starts with a word we locate. */
export async function englishPage(): Promise<KnownPage> {
  const lines = pageText(2).filter((l) => l.trim()).slice(0, 12);
  // The located word leads line 6; the rest of the line is cut at a word so that it fits.
  const rest = lines[6]!.split(' ');
  while (`Harbourmaster ${rest.join(' ')}`.length > 64) rest.pop();
  lines[6] = `Harbourmaster ${rest.join(' ')}`;
  const family = 'DejaVu Sans';
  const image = await render(lines, family);
  const meta = await sharp(image).metadata();
  return { image, text: lines.join('\n'), width: meta.width!, height: meta.height!, word: 'Harbourmaster', wordBox: await firstWordBox(lines, 6, family) };
}

export const CHINESE_LINES = [
  '案件编号二零二六年第四一七号',
  '证人陈述：二零二五年三月十二日晚上八点，',
  '我在车站路看见一辆蓝色汽车停在银行门口。',
  '司机是一名中年男子，他把一个黑色包裹交给了另一个人。',
  '警察随后检查了车辆登记记录和付款收据。',
  '本页内容与原件核对无误，由书记员签名确认。',
];

export async function chinesePage(): Promise<KnownPage> {
  const family = 'WenQuanYi Zen Hei';
  const image = await render(CHINESE_LINES, family);
  const meta = await sharp(image).metadata();
  return { image, text: CHINESE_LINES.join('\n'), width: meta.width!, height: meta.height!, word: CHINESE_LINES[0]!, wordBox: await firstWordBox(CHINESE_LINES, 0, family) };
}

/** The page turned `r` degrees clockwise, as a JPEG scan would store it. */
export async function turned(page: KnownPage, r: Rotation): Promise<Buffer> {
  return sharp(page.image).rotate(r).jpeg({ quality: 90 }).toBuffer();
}

/** Where a box of the upright page lies after the page is turned `r` degrees clockwise. */
export function turnBox([x, y, w, h]: Box, r: Rotation, width: number, height: number): Box {
  switch (r) {
    case 90: return [height - (y + h), x, h, w];
    case 180: return [width - (x + w), height - (y + h), w, h];
    case 270: return [y, width - (x + w), h, w];
    default: return [x, y, w, h];
  }
}

/** Intersection over union of two boxes. */
export function iou(a: Box | readonly [number, number, number, number], b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}
