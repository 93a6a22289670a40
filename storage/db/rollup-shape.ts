/**
 * The shape shared by the transfer rollups (migration 020) and the queries that read them: the
 * time-to-accept bucket and the segment tree of UTC days. Changing either means a new migration
 * that rebuilds the rollups.
 */

/** Buckets per e-fold of (1 + seconds): 1 % wide, so a percentile is within 0.5 % (plus under a second). */
export const BUCKETS_PER_E = 100;

/** The time-to-accept bucket of transfer row `alias`, in SQL (null while not answered). */
export const ACCEPT_BUCKET = (alias: string) =>
  `floor(ln(1 + greatest(0, extract(epoch FROM ${alias}.answered_at - ${alias}.sent_at))) * ${BUCKETS_PER_E})::int`;

/** A bucket's seconds: its geometric middle. */
export const bucketSeconds = (b: number | null) => (b === null ? null : Math.round((Math.exp((b + 0.5) / BUCKETS_PER_E) - 1) * 1000) / 1000);

/** Levels of the tree: level l blocks are 2^l days; 2^16 days reach past the year 2149. */
export const ROLLUP_LEVELS = 17;

const DAY_MS = 86_400_000;

export interface DayBlock {
  readonly lvl: number;
  readonly block: number;
}

/** A window cut for the rollups: its whole UTC days as blocks, and the partial days on either side as instants. */
export interface WindowCut {
  readonly blocks: readonly DayBlock[];
  /** [from, to) ranges of sending times read from the transfers themselves. */
  readonly raw: readonly { readonly from: Date; readonly to: Date }[];
}

/** Cuts [from, to) into the fewest aligned blocks of whole days, greedily from the left, and the partial days left over. */
export function cutWindow(from: Date, to: Date): WindowCut {
  if (!(from < to)) return { blocks: [], raw: [] };
  const firstDay = Math.ceil(from.getTime() / DAY_MS);
  const endDay = Math.floor(to.getTime() / DAY_MS);
  if (firstDay >= endDay) return { blocks: [], raw: [{ from, to }] };
  const blocks: DayBlock[] = [];
  for (let day = firstDay; day < endDay; ) {
    let lvl = 0;
    while (lvl + 1 < ROLLUP_LEVELS && day % 2 ** (lvl + 1) === 0 && day + 2 ** (lvl + 1) <= endDay) lvl++;
    blocks.push({ lvl, block: Math.floor(day / 2 ** lvl) });
    day += 2 ** lvl;
  }
  const raw = [
    { from, to: new Date(firstDay * DAY_MS) },
    { from: new Date(endDay * DAY_MS), to },
  ].filter((r) => r.from < r.to);
  return { blocks, raw };
}
