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
  /** Share of blank positions between the first and the last inked one. */
  readonly blank: number;
}

/** Inked runs of a profile: a position is inked when it holds more than `min` ink pixels. */
function profile(counts: Uint32Array, min: number): Profile {
  const runs: number[] = [];
  let start = -1, first = -1, last = -1, inkedTotal = 0;
  for (let i = 0; i <= counts.length; i++) {
    const inked = i < counts.length && (counts[i] as number) > min;
    if (inked) { inkedTotal += 1; last = i; if (first < 0) first = i; }
    if (inked && start < 0) start = i;
    else if (!inked && start >= 0) { if (i - start >= 3) runs.push(i - start); start = -1; }
  }
  const span = last - first + 1;
  return { runs, blank: span > 0 ? 1 - inkedTotal / span : 0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const MAX_SKEW_DEG = 6;
const SKEW_STEP_DEG = 0.5;
/** Ink pixels sampled for the angle search: enough for a page's lines, bounded in time. */
const MAX_SAMPLES = 120_000;

/**
 * The profile of ink positions projected across `along` (0: rows, y; 1: columns, x), at the
 * sharpest angle. `xs`, `ys` are ink pixel coordinates; `n` is the profile's length.
 */
function sharpestProfile(xs: Float64Array, ys: Float64Array, count: number, n: number, along: 0 | 1): { bins: Uint32Array; deg: number } {
  let best: Uint32Array | null = null, bestScore = -1, bestDeg = 0;
  const step = Math.max(1, Math.floor(count / MAX_SAMPLES));
  for (let deg = -MAX_SKEW_DEG; deg <= MAX_SKEW_DEG + 1e-9; deg += SKEW_STEP_DEG) {
    const a = (deg * Math.PI) / 180, c = Math.cos(a), sn = Math.sin(a);
    const bins = new Uint32Array(n);
    for (let i = 0; i < count; i += step) {
      const v = along === 0 ? ys[i]! * c - xs[i]! * sn : xs[i]! * c + ys[i]! * sn;
      const b = Math.round(v);
      if (b >= 0 && b < n) bins[b]! += 1;
    }
    let score = 0;
    for (let b = 0; b < n; b++) score += bins[b]! * bins[b]!;
    // Ties keep the straighter angle: the loop meets 0 degrees before none of the others.
    if (score > bestScore * (1 + 1e-6) || (deg === 0 && score >= bestScore)) { bestScore = score; best = bins; bestDeg = deg; }
  }
  if (step > 1 && best) for (let b = 0; b < n; b++) best[b] = best[b]! * step;
  return { bins: best ?? new Uint32Array(n), deg: bestDeg };
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
  return { axis, lineHeight: lineRuns.length ? median(lineRuns) : null, lines: lineRuns.length, skew: axis === 'rows' ? rows.deg : 0 };
}
