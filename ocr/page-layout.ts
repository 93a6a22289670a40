/**
 * Cheap layout measures on a small grayscale copy of a page: which way the text lines run and
 * how tall they are. Text lines show up as runs of inked rows in the row profile (columns, for a
 * page turned sideways) separated by blank gaps; the profile with the larger blank share is the
 * line axis and its median run length the line height (ascender to descender). A scan fed in
 * askew smears lines together in a straight profile (3 degrees over a page's width shift a line
 * by several line heights), so each profile is taken along the angle, within +-6 degrees, at which
 * it is sharpest (the largest sum of squared counts: lines and gaps apart). Some ms a page.
 */
export interface Layout {
  /** 'rows': lines run left to right (page upright or upside down); 'columns': sideways. */
  readonly axis: 'rows' | 'columns' | null;
  /** Median text-line height in the analysed image's pixels; null if no lines were found. */
  readonly lineHeight: number | null;
  readonly lines: number;
  /** Degrees the lines slope down to the right (a scan fed in askew, clockwise); 0 when straight. */
  readonly skew: number;
  /**
   * Share of the lines' ink in the middle half of their height (null without lines). Latin
   * letters put most of theirs between baseline and x-height, with thin ascenders and descenders
   * outside; Han characters fill their square evenly. script.ts reads the script from it.
   */
  readonly centralInk: number | null;
  /**
   * Median width of the inked runs along the lines (glyphs, or words where letters touch) over
   * the line height (null without lines). Han characters are square, ~0.9; Latin letters ~0.5;
   * touching letters and words are wider still.
   */
  readonly glyphWidth: number | null;
}

/** Otsu's threshold of an 8-bit histogram. */
function otsu(hist: Uint32Array, total: number): number {
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * (hist[i] as number);
  let sumB = 0, wB = 0, best = 0, threshold = 127;
  for (let t = 0; t < 256; t++) {
    wB += hist[t] as number;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * (hist[t] as number);
    const mB = sumB / wB, mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) { best = between; threshold = t; }
  }
  return threshold;
}

interface Profile {
  readonly runs: number[];
  /** Where each run starts, in step with `runs`. */
  readonly starts: number[];
  /** Share of blank positions between the first and the last inked one. */
  readonly blank: number;
}

/** Inked runs of a profile: a position is inked when it holds more than `min` ink pixels. */
function profile(counts: Uint32Array, min: number): Profile {
  const runs: number[] = [], starts: number[] = [];
  let start = -1, first = -1, last = -1, inkedTotal = 0;
  for (let i = 0; i <= counts.length; i++) {
    const inked = i < counts.length && (counts[i] as number) > min;
    if (inked) { inkedTotal += 1; last = i; if (first < 0) first = i; }
    if (inked && start < 0) start = i;
    else if (!inked && start >= 0) { if (i - start >= 3) { runs.push(i - start); starts.push(start); } start = -1; }
  }
  const span = last - first + 1;
  return { runs, starts, blank: span > 0 ? 1 - inkedTotal / span : 0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const MAX_SKEW_DEG = 6;
const COARSE_STEP_DEG = 1;
const SKEW_STEP_DEG = 0.25;
/** Ink pixels sampled for the angle search: enough for a page's lines, bounded in time. */
const MAX_SAMPLES = 40_000;

/**
 * The profile of ink positions projected across `along` (0: rows, y; 1: columns, x), at the
 * sharpest angle. `xs`, `ys` are ink pixel coordinates; `n` is the profile's length.
 */
/** Projection of an ink pixel across the lines (v) or along them (u), at `deg`. */
const across = (x: number, y: number, c: number, s: number, along: 0 | 1) => (along === 0 ? y * c - x * s : x * c + y * s);
const alongLine = (x: number, y: number, c: number, s: number, along: 0 | 1) => (along === 0 ? x * c + y * s : y * c - x * s);

function sharpestProfile(xs: Float64Array, ys: Float64Array, count: number, n: number, along: 0 | 1): { bins: Uint32Array; deg: number } {
  const step = Math.max(1, Math.floor(count / MAX_SAMPLES));
  const bins = new Uint32Array(n);
  const project = (deg: number): number => {
    const a = (deg * Math.PI) / 180, c = Math.cos(a), sn = Math.sin(a);
    bins.fill(0);
    for (let i = 0; i < count; i += step) {
      const b = Math.round(across(xs[i]!, ys[i]!, c, sn, along));
      if (b >= 0 && b < n) bins[b]! += 1;
    }
    let score = 0;
    for (let b = 0; b < n; b++) score += bins[b]! * bins[b]!;
    return score;
  };
  // Coarse, then fine around the best: the score is smooth in the angle near its peak.
  let best = 0, bestScore = project(0);
  const consider = (deg: number) => {
    const score = project(deg);
    // Ties keep the straighter angle.
    if (score > bestScore * (1 + 1e-6)) { bestScore = score; best = deg; }
  };
  for (let deg = -MAX_SKEW_DEG; deg <= MAX_SKEW_DEG; deg += COARSE_STEP_DEG) if (deg !== 0) consider(deg);
  const centre = best;
  for (let d = -COARSE_STEP_DEG + SKEW_STEP_DEG; d < COARSE_STEP_DEG; d += SKEW_STEP_DEG) if (d !== 0) consider(centre + d);
  project(best);
  if (step > 1) for (let b = 0; b < n; b++) bins[b] = bins[b]! * step;
  return { bins: bins.slice(), deg: best };
}

/** Layout of a one-channel image (row-major bytes, 0 = black). */
export function measureLayout(gray: Uint8Array, width: number, height: number): Layout {
  const hist = new Uint32Array(256);
  for (let i = 0; i < gray.length; i++) hist[gray[i] as number]! += 1;
  const t = otsu(hist, gray.length);
  // Scanner edges and punch holes sit in the outer margins; leave 4 % on every side out.
  const mx = Math.floor(width * 0.04), my = Math.floor(height * 0.04);
  let count = 0;
  for (let y = my; y < height - my; y++) {
    const o = y * width;
    for (let x = mx; x < width - mx; x++) if ((gray[o + x] as number) <= t) count += 1;
  }
  const xs = new Float64Array(count), ys = new Float64Array(count);
  let k = 0;
  for (let y = my; y < height - my; y++) {
    const o = y * width;
    for (let x = mx; x < width - mx; x++) if ((gray[o + x] as number) <= t) { xs[k] = x; ys[k] = y; k += 1; }
  }
  const rows = sharpestProfile(xs, ys, count, height, 0);
  const cols = sharpestProfile(xs, ys, count, width, 1);
  // A row (column) counts as inked past 0.3 % of the page's span: skips dust and lone specks.
  const byRow = profile(rows.bins, Math.max(1, width * 0.003));
  const byCol = profile(cols.bins, Math.max(1, height * 0.003));
  // Across the lines the gaps between lines are blank (~40 % of the span); along them only
  // word and letter gaps are, which few columns hit on every line (CJK's character grid does,
  // hence the blank share rather than the run count decides).
  const rowsWin = byRow.blank >= byCol.blank;
  const lines = rowsWin ? byRow : byCol;
  const axis = lines.runs.length >= 3 ? (rowsWin ? 'rows' : 'columns') : null;
  const lineRuns = axis ? lines.runs : [];
  const along = rowsWin ? rows.bins : cols.bins;
  const glyphWidth = axis ? medianGlyphWidth(xs, ys, count, lines, rowsWin ? 0 : 1, rowsWin ? rows.deg : cols.deg, rowsWin ? width : height) : null;
  let central = 0, total = 0;
  if (axis) lines.runs.forEach((len, i) => {
    const start = lines.starts[i]!;
    for (let k = 0; k < len; k++) {
      const ink = along[start + k]!;
      total += ink;
      if (k >= len / 4 && k < (3 * len) / 4) central += ink;
    }
  });
  return { axis, lineHeight: lineRuns.length ? median(lineRuns) : null, lines: lineRuns.length, skew: axis === 'rows' ? rows.deg : 0, centralInk: total > 0 ? central / total : null, glyphWidth };
}

/**
 * Each line's profile along itself (ink pixels whose cross position falls in the line's run), its
 * inked runs, and their median width over the line's height. A run holds at least one ink pixel
 * per position, so letters apart are runs of their own.
 */
function medianGlyphWidth(xs: Float64Array, ys: Float64Array, count: number, lines: Profile, along: 0 | 1, deg: number, length: number): number | null {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), sn = Math.sin(a);
  const lineOf = new Int32Array(Math.max(...lines.starts.map((st, i) => st + lines.runs[i]!), 0) + 1).fill(-1);
  lines.starts.forEach((st, i) => lineOf.fill(i, st, st + lines.runs[i]!));
  const size = Math.ceil(length * 1.2) + 2;
  const profiles = lines.runs.map(() => new Uint8Array(size));
  for (let i = 0; i < count; i++) {
    const v = Math.round(across(xs[i]!, ys[i]!, c, sn, along));
    const line = v >= 0 && v < lineOf.length ? lineOf[v]! : -1;
    if (line < 0) continue;
    const u = Math.round(alongLine(xs[i]!, ys[i]!, c, sn, along)) + Math.ceil(length * 0.1);
    if (u >= 0 && u < size) profiles[line]![u] = 1;
  }
  const widths: number[] = [];
  profiles.forEach((prof, i) => {
    const h = lines.runs[i]!;
    let start = -1;
    for (let u = 0; u <= size; u++) {
      const inked = u < size && prof[u] === 1;
      if (inked && start < 0) start = u;
      else if (!inked && start >= 0) { widths.push((u - start) / h); start = -1; }
    }
  });
  return widths.length ? median(widths) : null;
}
