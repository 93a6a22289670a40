/**
 * GET /api/stats from the rollups of migration 020: the whole UTC days of the window from their
 * segment-tree blocks (a few thousand rows whatever the number of transfers), the partial days at
 * either end from the transfers themselves, and overdue as pending minus the pending not yet due
 * (an index of its own). The figures are those of SqlSupervisionRepository.statsFromTransfers,
 * exactly: the same buckets, the same ranking, the same percentile rule.
 */
import type { Database } from './database.js';
import { ACCEPT_BUCKET, bucketSeconds, cutWindow } from './rollup-shape.js';
import type { Counts, Stats, StatsQuery } from './supervision-repository.js';

/** $1 agency (sent or received), $2 stage; the rollup's blocks $3 levels, $4 blocks; the raw ranges [$5, $6) and [$7, $8). */
const SCOPE = (a: string) => `($1::text IS NULL OR ${a}.from_agency = $1 OR ${a}.to_agency = $1) AND ($2::text IS NULL OR ${a}.stage = $2)`;
const BLOCKS = (a: string) => `JOIN unnest($3::int[], $4::int[]) AS k(lvl, block) ON ${a}.lvl = k.lvl AND ${a}.block = k.block`;
const RAW = `((t.sent_at >= $5 AND t.sent_at < $6) OR (t.sent_at >= $7 AND t.sent_at < $8))`;

const COUNTS = `SELECT grouping(to_agency, stage) <> 0 AS total, to_agency, stage, coalesce(sum(sent), 0)::int AS sent, coalesce(sum(accepted), 0)::int AS accepted,
       coalesce(sum(returned), 0)::int AS returned, coalesce(sum(pending), 0)::int AS pending, coalesce(sum(pages), 0)::bigint AS pages, coalesce(sum(bytes), 0)::bigint AS bytes
  FROM (SELECT r.to_agency, r.stage, r.sent, r.accepted, r.returned, r.pending, r.pages, r.bytes FROM transfer_rollup r ${BLOCKS('r')} WHERE ${SCOPE('r')}
        UNION ALL
        SELECT t.to_agency, t.stage, 1, (t.status = 'accepted')::int, (t.status = 'returned')::int, (t.status = 'pending')::int, coalesce(t.pages, 0), coalesce(t.bytes, 0)
          FROM transfers t WHERE ${RAW} AND ${SCOPE('t')}) x
 GROUP BY GROUPING SETS ((), (to_agency, stage))
HAVING grouping(to_agency, stage) <> 0 OR sum(sent) > 0
 ORDER BY to_agency, stage`;

// Pending and not past due (or with no deadline); of those, the ones in the last fifth of their time.
const NOT_DUE = `SELECT grouping(to_agency, stage) <> 0 AS total, to_agency, stage, count(*)::int AS not_due,
       count(*) FILTER (WHERE t.due_at >= now() AND now() >= t.due_at - (t.due_at - t.sent_at) * 0.2)::int AS due_soon
  FROM transfers t WHERE t.status = 'pending' AND (t.due_at >= now() OR t.due_at IS NULL) AND t.sent_at >= $3 AND t.sent_at < $4 AND ${SCOPE('t')}
 GROUP BY GROUPING SETS ((), (to_agency, stage))`;

// Every agency ($1 null) reads the histogram without the sender: the same sums in fewer rows.
const HISTOGRAM = `SELECT to_agency, stage, b, sum(n)::int AS n
  FROM (SELECT h.to_agency, h.stage, h.b, h.n FROM transfer_accept_hist h ${BLOCKS('h')} WHERE $1::text IS NOT NULL AND ${SCOPE('h')}
        UNION ALL
        SELECT g.to_agency, g.stage, g.b, g.n FROM transfer_accept_hist_to g ${BLOCKS('g')} WHERE $1::text IS NULL AND ($2::text IS NULL OR g.stage = $2)
        UNION ALL
        SELECT t.to_agency, t.stage, ${ACCEPT_BUCKET('t')}, 1 FROM transfers t WHERE t.status = 'accepted' AND ${RAW} AND ${SCOPE('t')}) x
 GROUP BY 1, 2, 3 HAVING sum(n) > 0 ORDER BY 1, 2, 3`;

const REASONS = `SELECT reason, sum(n)::int AS count
  FROM (SELECT x.reason, x.n FROM transfer_reason_rollup x ${BLOCKS('x')} WHERE ${SCOPE('x')}
        UNION ALL
        SELECT t.reason, 1 FROM transfers t WHERE t.status = 'returned' AND ${RAW} AND ${SCOPE('t')}) y
 GROUP BY reason HAVING sum(n) > 0 ORDER BY sum(n) DESC, reason LIMIT 20`;

/** The queries, for the benchmark's breakdown. */
export const SQL = { COUNTS, NOT_DUE, HISTOGRAM, REASONS };

/** Pages whose text is not done yet, of the dossiers sealed in the window (owned in scope) not yet searchable. */
export async function ocrBacklog(db: Database, q: StatsQuery): Promise<number> {
  const [row] = await db.query<{ n: number | string }>(
    `SELECT coalesce(sum(d.page_count - (SELECT count(*) FROM page_text pt WHERE pt.dossier_id = d.id AND pt.status <> 'queued')), 0)::bigint AS n
       FROM dossiers d
      WHERE d.status = 'sealed' AND d.searchable_at IS NULL AND d.sealed_at >= $1 AND d.sealed_at < $2 AND ($3::text IS NULL OR d.agency_id = $3)`,
    [q.from, q.to, q.agency],
  );
  return Number(row?.n ?? 0);
}

/** p50 and p90 of a histogram ascending by bucket: the first bucket whose running count reaches the share. */
function percentiles(buckets: readonly { b: number; n: number }[]): Counts['acceptSeconds'] {
  const total = buckets.reduce((s, x) => s + x.n, 0);
  let running = 0;
  let p50: number | null = null;
  let p90: number | null = null;
  for (const { b, n } of buckets) {
    running += n;
    // Integers only: running ≥ share × total without a rounding error.
    if (p50 === null && running * 2 >= total) p50 = b;
    if (p90 === null && running * 10 >= total * 9) p90 = b;
  }
  return { p50: bucketSeconds(p50), p90: bucketSeconds(p90) };
}

interface CountsRow {
  total: boolean; to_agency: string | null; stage: string | null; sent: number; accepted: number; returned: number; pending: number; pages: string | number; bytes: string | number;
}
interface NotDueRow { total: boolean; to_agency: string | null; stage: string | null; not_due: number; due_soon: number }

export async function rollupStats(db: Database, q: StatsQuery): Promise<Stats> {
  const cut = cutWindow(q.from, q.to);
  const [a, b] = [cut.raw[0] ?? { from: q.from, to: q.from }, cut.raw[1] ?? { from: q.from, to: q.from }];
  const params = [q.agency, q.stage, cut.blocks.map((x) => x.lvl), cut.blocks.map((x) => x.block), a.from, a.to, b.from, b.to];
  const window = [q.agency, q.stage, q.from, q.to];
  const [counts, notDue, histogram, returnReasons, backlog] = await Promise.all([
    db.query<CountsRow>(COUNTS, params),
    db.query<NotDueRow>(NOT_DUE, window),
    db.query<{ to_agency: string; stage: string; b: number; n: number }>(HISTOGRAM, params),
    db.query<{ reason: string; count: number }>(REASONS, params),
    ocrBacklog(db, q),
  ]);
  const key = (agency: string | null, stage: string | null) => `${agency}\u0000${stage}`;
  const notDueOf = new Map(notDue.map((r) => [r.total ? 'total' : key(r.to_agency, r.stage), r]));
  const histOf = new Map<string, { b: number; n: number }[]>();
  const merged = new Map<number, number>();
  for (const h of histogram) {
    const k = key(h.to_agency, h.stage);
    if (!histOf.has(k)) histOf.set(k, []);
    histOf.get(k)!.push({ b: h.b, n: h.n });
    merged.set(h.b, (merged.get(h.b) ?? 0) + h.n);
  }
  const countsOf = (r: CountsRow, k: string, hist: readonly { b: number; n: number }[]): Counts => {
    const nd = notDueOf.get(k);
    return {
      sent: r.sent, accepted: r.accepted, returned: r.returned, pending: r.pending,
      overdue: r.pending - (nd?.not_due ?? 0), dueSoon: nd?.due_soon ?? 0,
      pages: Number(r.pages), bytes: Number(r.bytes), acceptSeconds: percentiles(hist),
    };
  };
  const total = counts.find((r) => r.total)!;
  const groups = counts.filter((r) => !r.total);
  return {
    ...countsOf(total, 'total', [...merged].sort((x, y) => x[0] - y[0]).map(([bucket, n]) => ({ b: bucket, n }))),
    byAgencyStage: groups.map((g) => ({ agency: g.to_agency!, stage: g.stage!, ...countsOf(g, key(g.to_agency, g.stage), histOf.get(key(g.to_agency, g.stage)) ?? []) })),
    returnReasons,
    ocrBacklog: backlog,
  };
}
