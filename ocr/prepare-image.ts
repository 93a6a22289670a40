/**
 * Image preparation before recognition: grayscale, text scaled into the line-height band where
 * tesseract's LSTM reads well and fast, page turned upright. Word boxes found on the prepared
 * image map back to the input image's pixels through `toInputBox`.
 *
 * Why these numbers (tesseract.js 7, eng best_int, synthetic 150-dpi pages 1–3, lines ~25 px):
 * scale 0.8 → 2.29 s/page CER 0.31 %; 1.0 → 2.56 s 0.27 %; 1.5 → 3.36 s 0.29 %; 2.0 → 3.35 s
 * 0.29 %. Accuracy is flat from ~20 px lines up while time grows with the pixels, so large text
 * (300–600 dpi scans) is scaled down into the band and small text (< 18 px, fax/72-dpi scans)
 * is scaled up; pages already in the band are left alone.
 * The band's top, re-measured as paired CPU time per page (same process, pages alternated):
 * tesseract's own work grows with the pixels (thresholding, layout, per-line crops), not only the
 * LSTM, which sees every line at 36 px whatever the scan. Lines brought down to 20 px: synthetic
 * pages 2–13 (lines 19–24 px) −7.5 % at CER 0.26 % (0.29 % as they were); linn.png (300 dpi,
 * 35 px lines) −10 % at CER 0.94 % (unchanged). 18 px: no further gain; 16 px: −14 to −27 % but
 * CER 0.34 % and 1.16 % on linn; 14 px: CER +50 %. Small text still goes up to 26 px: brought
 * only to 20–23 px it read worse (CER 0.33–0.42 % against 0.30 % on pages shrunk to 60 %).
 * Han characters pack more strokes into a line: the rendered Chinese page (27 px lines) brought
 * to 20 px read at CER 0.83 % instead of 0.00 %, so pages read with a CJK language keep the
 * wider band.
 */
import sharp from 'sharp';
import { DossierError } from '../dossier/errors.js';
import { blankVerdictOfGray, type BlankVerdict, type GrayImage } from './blank-page.js';
import { measureLayout, type Layout } from './page-layout.js';
import { languagesFor, pageScript } from './script.js';

export type Rotation = 0 | 90 | 180 | 270;

/**
 * Line heights (ascender to descender, pixels) outside [min, max] are rescaled: small text up to
 * `up`, large text down to `down`.
 */
export interface LineBand { readonly min: number; readonly max: number; readonly up: number; readonly down: number }
export const LATIN_BAND: LineBand = { min: 18, max: 22, up: 26, down: 20 };
export const CJK_BAND: LineBand = { min: 18, max: 44, up: 26, down: 34 };

/** The band for a set of recognition languages: the wider one as soon as a CJK script is read. */
export const lineBand = (languages: readonly string[]): LineBand =>
  languages.some((l) => /^(chi|jpn|kor)/.test(l)) ? CJK_BAND : LATIN_BAND;
/** Pages whose lines cannot be measured are only brought under this long side (A4 at ~360 dpi). */
const MAX_SIDE_UNMEASURED = 4200;
const MAX_PIXELS = 40_000_000;
const ANALYSIS_SIDE = 1600;

export interface Orientation {
  /** Clockwise degrees that turn the page upright. */
  readonly rotate: Rotation;
  /** Tesseract OSD's orientation margin (higher is surer). */
  readonly confidence: number;
}
/** Orientation detection on an upright-or-not grayscale PNG (tesseract OSD); null when unsure. */
export type DetectOrientation = (png: Buffer) => Promise<Orientation | null>;

export interface PreparedImage {
  /** Grayscale PNG handed to the recogniser. */
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** Input size in pixels (first page of a multi-page input). */
  readonly input: { readonly width: number; readonly height: number };
  /** Prepared pixels per input pixel. */
  readonly scale: number;
  readonly rotated: Rotation;
  readonly lineHeight: number | null;
  /** Set when the scaled page was deskewed before the turn: the angle undone and the size before. */
  readonly deskew: Deskew | null;
  /** The languages to read it with: those of its script (script.ts), or all configured. */
  readonly languages: readonly string[];
  /** Every configured language: a doubtful reading with `languages` is tried again with these. */
  readonly configured: readonly string[];
}

export interface Deskew {
  /** Degrees the lines sloped down to the right; the page was turned back by as much. */
  readonly degrees: number;
  /** Scaled size before the deskew. */
  readonly width: number;
  readonly height: number;
}

/** Skews under this (degrees) are left: tesseract reads them as well and a resample costs. */
const MIN_DESKEW = 0.4;

/** OSD margins below this are guesses unless the line axis agrees (see decideRotation). */
const SURE_MARGIN = 5;
const AGREEING_MARGIN = 1.5;

/**
 * Trust OSD when it is sure, or fairly sure and consistent with the line axis we measured
 * (a page turned 90/270 has its lines in columns). Measured: wrong OSD answers on text too small
 * to read had margins up to 4.2; right answers at readable size had 6.5–11.
 */
export function decideRotation(osd: Orientation | null, axis: 'rows' | 'columns' | null): Rotation {
  if (!osd || osd.rotate === 0) return 0;
  const sideways = osd.rotate === 90 || osd.rotate === 270;
  const agrees = axis !== null && (axis === 'columns') === sideways;
  if (osd.confidence >= SURE_MARGIN && (axis === null || agrees)) return osd.rotate;
  return agrees && osd.confidence >= AGREEING_MARGIN ? osd.rotate : 0;
}

export function chooseScale(lineHeight: number | null, width: number, height: number, band: LineBand = LATIN_BAND): number {
  let s = 1;
  if (lineHeight === null) s = Math.min(1, MAX_SIDE_UNMEASURED / Math.max(width, height));
  else if (lineHeight < band.min) s = band.up / lineHeight;
  else if (lineHeight > band.max) s = band.down / lineHeight;
  s = Math.min(s, Math.sqrt(MAX_PIXELS / (width * height)));
  return Math.round(s * 1000) / 1000;
}

/** Raw pixels, as a PDF page's scan or the page renderer gives them. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
}

/** What the engines read: an encoded image file (JPEG, PNG, TIFF, WebP) or raw pixels. */
export type ImageInput = Uint8Array | RawImage;

const isRaw = (image: ImageInput): image is RawImage => !(image instanceof Uint8Array);

export type { GrayImage };

/**
 * The page as one-channel gray pixels at its own size: decoded once for the blank check, the
 * layout measure and the scaling (preparePage). Gray raw pixels (a renderer's) are taken as they are.
 */
export async function decodeGray(image: ImageInput): Promise<GrayImage> {
  if (isRaw(image) && image.channels === 1) return { data: image.data, width: image.width, height: image.height };
  try {
    // No .rotate(): EXIF orientation is ignored, so boxes stay in the stored raster's pixels;
    // a sideways raster is turned by orientation detection like any sideways scan.
    const input = isRaw(image)
      ? sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
      : sharp(image, { limitInputPixels: 30_000 * 30_000 });
    const { data, info } = await input
      .grayscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new DossierError('corrupt_image', `OCR cannot read the page image: ${(err as Error).message}`);
  }
}

// toColourspace('b-w'): without it sharp widens one-channel raw input to three channels.
const rawGray = (data: Uint8Array, width: number, height: number) => sharp(data, { raw: { width, height, channels: 1 } }).toColourspace('b-w');

/**
 * The resolution the prepared page amounts to, told to tesseract (which otherwise guesses from a
 * missing or bogus density and warns): body text is ~11 pt, and a line spans about one em.
 */
const impliedDpi = (lineHeight: number | null): number =>
  lineHeight === null ? 300 : Math.max(70, Math.min(1200, Math.round((lineHeight * 72) / 11)));

/** A page decoded once, measured and scaled, kept as raw gray pixels until a turn is chosen. */
export interface ScaledPage {
  /** Tells a scaled page from an image input (isScaledPage): engines read either. */
  readonly kind: 'scaled';
  readonly gray: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly input: { readonly width: number; readonly height: number };
  readonly scale: number;
  readonly dpi: number;
  /** Which way the lines run (page-layout.ts); null when no lines were found. */
  readonly axis: 'rows' | 'columns' | null;
  readonly lineHeight: number | null;
  readonly deskew: Deskew | null;
  readonly languages: readonly string[];
  readonly configured: readonly string[];
}

/**
 * Decodes, measures (line axis, height, skew, script), picks the languages of the page's script
 * and scales the text into their line band, straightening a page fed in askew.
 */
export async function scalePage(bytes: ImageInput, configured: readonly string[] = ['eng'], languagePerPage = true): Promise<ScaledPage> {
  return scaleGray(await decodeGray(bytes), configured, languagePerPage);
}

/** The layout measure (page-layout.ts) on a copy at most ANALYSIS_SIDE pixels long. */
export async function measurePage(page: GrayImage): Promise<Layout & { readonly factor: number }> {
  const f = Math.min(1, ANALYSIS_SIDE / Math.max(page.width, page.height));
  const small = f < 1
    ? await rawGray(page.data, page.width, page.height).resize(Math.max(1, Math.round(page.width * f)), Math.max(1, Math.round(page.height * f))).raw().toBuffer({ resolveWithObject: true })
    : { data: page.data, info: { width: page.width, height: page.height } };
  // Line heights are in the copy's pixels: `factor` brings them to the page's.
  return { ...measureLayout(small.data, small.info.width, small.info.height), factor: small.info.width / page.width };
}

/** scalePage on a page decoded already. */
export async function scaleGray(page: GrayImage, configured: readonly string[] = ['eng'], languagePerPage = true, measured?: Layout & { readonly factor: number }): Promise<ScaledPage> {
  const layout = measured ?? await measurePage(page);
  const lineHeight = layout.lineHeight === null ? null : layout.lineHeight / layout.factor;
  const languages = languagePerPage ? languagesFor(pageScript(layout), configured) : configured;
  const scale = chooseScale(lineHeight, page.width, page.height, lineBand(languages));
  const width = Math.max(1, Math.round(page.width * scale)), height = Math.max(1, Math.round(page.height * scale));
  let gray = scale === 1 ? page.data : await rawGray(page.data, page.width, page.height).resize(width, height).raw().toBuffer();
  // A page fed in askew is straightened (white corners): tesseract then finds its columns and
  // reads them in order, where the askew page read as one run of merged lines.
  let deskew: Deskew | null = null;
  let out = { width, height };
  if (Math.abs(layout.skew) >= MIN_DESKEW) {
    const turned = await rawGray(gray, width, height).rotate(-layout.skew, { background: { r: 255, g: 255, b: 255 } }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    gray = turned.data;
    deskew = { degrees: layout.skew, width, height };
    out = { width: turned.info.width, height: turned.info.height };
  }
  return {
    kind: 'scaled', gray, width: out.width, height: out.height, deskew, languages, configured,
    input: { width: page.width, height: page.height },
    scale: width / page.width,
    dpi: impliedDpi(lineHeight === null ? null : lineHeight * scale),
    axis: layout.axis,
    lineHeight: lineHeight === null ? null : Math.round(lineHeight * 10) / 10,
  };
}

/** A page made ready for the recogniser: blank (nothing to read), or scaled. */
export type ReadyPage =
  | { readonly blank: true; readonly verdict: BlankVerdict; readonly page: null }
  | { readonly blank: false; readonly verdict: BlankVerdict | null; readonly page: ScaledPage };

/**
 * The service's path (index-page.ts through an engine's `prepare`): one decode for the blank
 * check and the preparation, which used to decode the page each on its own; the scaling only for
 * a page that is not blank. A check that fails on pixels decoded already keeps the page for the
 * recogniser (`verdict` null), as a failed check always did.
 */
export async function preparePage(image: ImageInput, configured: readonly string[] = ['eng'], languagePerPage = true): Promise<ReadyPage> {
  const gray = await decodeGray(image);
  const verdict = await blankVerdictOfGray(gray).catch(() => null);
  if (verdict?.blank) return { blank: true, verdict, page: null };
  return { blank: false, verdict, page: await scaleGray(gray, configured, languagePerPage) };
}

export const isScaledPage = (image: ImageInput | ScaledPage): image is ScaledPage => 'kind' in image && image.kind === 'scaled';

/**
 * The scaled page turned `rotate` degrees clockwise, as the image handed to tesseract. PNG
 * without compression: leptonica reads it with the density (unlike PNM) at no inflate cost, and
 * the bytes only travel to a worker thread or a temp file.
 */
export async function turnPage(page: ScaledPage, rotate: Rotation): Promise<PreparedImage> {
  const img = rawGray(page.gray, page.width, page.height);
  const { data, info } = await (rotate === 0 ? img : img.rotate(rotate))
    .png({ compressionLevel: 0, adaptiveFiltering: false }).withDensity(page.dpi).toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height, input: page.input, scale: page.scale, rotated: rotate, lineHeight: page.lineHeight, deskew: page.deskew, languages: page.languages, configured: page.configured };
}

/** Scale, ask `detect` about every page with measurable lines, turn (the native engine's path). */
export async function prepareImage(bytes: ImageInput, detect: DetectOrientation, languages: readonly string[] = ['eng']): Promise<PreparedImage> {
  const page = await scalePage(bytes, languages);
  const upright = await turnPage(page, 0);
  const rotated = page.axis === null ? 0 : decideRotation(await detect(upright.png), page.axis);
  return rotated === 0 ? upright : turnPage(page, rotated);
}

/**
 * A box on the prepared image back in the input image's pixels: undo the turn (clockwise
 * `rotated` degrees of the scaled page), then the scale.
 */
export function toInputBox(box: readonly [number, number, number, number], p: PreparedImage): [number, number, number, number] {
  const [u, v, w, h] = box;
  // Scaled, unrotated page size.
  const W = p.rotated % 180 === 0 ? p.width : p.height, H = p.rotated % 180 === 0 ? p.height : p.width;
  let x0: number, y0: number, x1: number, y1: number;
  switch (p.rotated) {
    case 90: [x0, y0, x1, y1] = [v, H - (u + w), v + h, H - u]; break;
    case 180: [x0, y0, x1, y1] = [W - (u + w), H - (v + h), W - u, H - v]; break;
    case 270: [x0, y0, x1, y1] = [W - (v + h), u, W - v, u + w]; break;
    default: [x0, y0, x1, y1] = [u, v, u + w, v + h];
  }
  if (p.deskew) [x0, y0, x1, y1] = unskew([x0, y0, x1, y1], W, H, p.deskew);
  const s = p.scale;
  const left = Math.max(0, Math.floor(x0 / s)), top = Math.max(0, Math.floor(y0 / s));
  const right = Math.min(p.input.width, Math.ceil(x1 / s)), bottom = Math.min(p.input.height, Math.ceil(y1 / s));
  return [left, top, Math.max(0, right - left), Math.max(0, bottom - top)];
}

/**
 * A box on the deskewed page back on the scaled page before the deskew: its corners turned
 * clockwise by the skew about the centres (sharp's rotate keeps the centre), then their bounds.
 */
function unskew(b: [number, number, number, number], W: number, H: number, d: Deskew): [number, number, number, number] {
  const a = (d.degrees * Math.PI) / 180, c = Math.cos(a), sn = Math.sin(a);
  const xs: number[] = [], ys: number[] = [];
  for (const [u, v] of [[b[0], b[1]], [b[2], b[1]], [b[0], b[3]], [b[2], b[3]]] as const) {
    const dx = u - W / 2, dy = v - H / 2;
    xs.push(d.width / 2 + dx * c - dy * sn);
    ys.push(d.height / 2 + dx * sn + dy * c);
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
