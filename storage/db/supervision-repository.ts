/**
 * Supervision in SQL: the scheduled overdue check's marking, the overdue list, transfer metadata
 * across agencies, and the statistics of GET /api/stats. Scope `null` is every agency (the
 * supervising committee); an agency id narrows to the transfers it sent or received.
 */
import type { Transfer } from '../../dossier/custody/model.js';
import type { Tx } from '../../dossier/ports/transactions.js';
import type { OverdueMarker, TransferMetadata } from '../../dossier/ports/supervision.js';
import { type Database, queryableIn } from './database.js';
import { ACCEPT_BUCKET, bucketSeconds } from './rollup-shape.js';
import { ocrBacklog, rollupStats } from './rollup-stats.js';


export interface StatsQuery {
  readonly from: Date;
  readonly to: Date;
  /** null: every agency; else transfers this agency sent or received. */
  readonly agency: string | null;
  readonly stage: string | null;
}

export interface Counts {
  readonly sent: number;
  readonly accepted: number;
  readonly returned: number;
  readonly pending: number;
  readonly overdue: number;
  readonly dueSoon: number;
  readonly pages: number;
  readonly bytes: number;
  readonly acceptSeconds: { readonly p50: number | null; readonly p90: number | null };
}

export interface Stats extends Counts {
  readonly byAgencyStage: readonly (Counts & { readonly agency: string; readonly stage: string })[];
  readonly returnReasons: readonly { readonly reason: string; readonly count: number }[];
  readonly ocrBacklog: number;
}

interface MetadataRow {
  id: string; case_id: string; case_number: string; dossier_id: string; from_agency: string; to_agency: string; stage: string;
  status: Transfer['status']; sent_at: Date; due_at: Date | null; answered_at: Date | null; overdue_at: Date | null;
  reason: string | null; page_count: number | null; bytes: number | string | null;
}
const date = (v: Date | null) => (v ? new Date(v) : null);
const toMetadata = (r: MetadataRow): TransferMetadata => ({
  transferId: r.id, caseId: r.case_id, caseNumber: r.case_number, dossierId: r.dossier_id, fromAgency: r.from_agency, toAgency: r.to_agency,
  stage: r.stage, status: r.status, sentAt: new Date(r.sent_at), dueAt: date(r.due_at), answeredAt: date(r.answered_at), overdueAt: date(r.overdue_at),
  reason: r.reason, pageCount: r.page_count, bytes: r.bytes === null ? null : Number(r.bytes),
});

const METADATA = `SELECT t.id, t.case_id, c.number AS case_number, t.dossier_id, t.from_agency, t.to_agency, t.stage, t.status, t.sent_at,
       t.due_at, t.answered_at, t.overdue_at, t.reason, d.page_count, d.bytes
  FROM transfers t JOIN cases c ON c.id = t.case_id JOIN dossiers d ON d.id = t.dossier_id`;

// Counts over transfers, as SQL select items: plain aggregates, so grouping sets hash instead of sorting.
const COUNTS = `count(*)::int AS sent,
  count(*) FILTER (WHERE status = 'accepted')::int AS accepted,
  count(*) FILTER (WHERE status = 'returned')::int AS returned,
  count(*) FILTER (WHERE status = 'pending')::int AS pending,
  count(*) FILTER (WHERE status = 'pending' AND due_at < now())::int AS overdue,
  count(*) FILTER (WHERE status = 'pending' AND due_at >= now() AND now() >= due_at - (due_at - sent_at) * 0.2)::int AS due_soon,
  coalesce(sum(pages), 0)::bigint AS pages,
  coalesce(sum(bytes), 0)::bigint AS bytes`;

/**
 * Time to accept, p50 and p90, from a histogram instead of a sort of every accepted transfer:
 * buckets of 1 % of ln(1 + seconds) (rollup-shape.ts), counted by hashing; the percentile is the
 * first bucket whose running count reaches the share, reported at its geometric middle, so within
 * 0.5 % (plus under a second) of the exact value.
 */
const ACCEPT_PERCENTILES = `WITH h AS (
    SELECT to_agency, stage, ${ACCEPT_BUCKET('transfers')} AS b, count(*) AS n
      FROM transfers WHERE status = 'accepted' AND %SCOPE%
     GROUP BY GROUPING SETS ((to_agency, stage, b), (b))),
  c AS (SELECT to_agency, stage, b, sum(n) OVER w AS running, sum(n) OVER (PARTITION BY to_agency, stage) AS total
          FROM h WINDOW w AS (PARTITION BY to_agency, stage ORDER BY b))
  SELECT to_agency IS NULL AS total, to_agency, stage,
         min(b) FILTER (WHERE running >= 0.5 * total) AS p50, min(b) FILTER (WHERE running >= 0.9 * total) AS p90
    FROM c GROUP BY to_agency, stage`;

/** The transfers of a stats query: $1 from, $2 to, $3 agency (sent or received), $4 stage. */
const IN_SCOPE = `sent_at >= $1 AND sent_at < $2 AND ($3::text IS NULL OR from_agency = $3 OR to_agency = $3) AND ($4::text IS NULL OR stage = $4)`;

interface CountsRow {
  sent: number; accepted: number; returned: number; pending: number; overdue: number; due_soon: number;
  pages: number | string; bytes: number | string;
}
interface PercentileRow {
  total: boolean; to_agency: string | null; stage: string | null; p50: number | null; p90: number | null;
}

const toCounts = (r: CountsRow, p?: PercentileRow): Counts => ({
  sent: r.sent, accepted: r.accepted, returned: r.returned, pending: r.pending, overdue: r.overdue, dueSoon: r.due_soon,
  pages: Number(r.pages), bytes: Number(r.bytes), acceptSeconds: { p50: bucketSeconds(p?.p50 ?? null), p90: bucketSeconds(p?.p90 ?? null) },
});

export class SqlSupervisionRepository implements OverdueMarker {
  constructor(private readonly db: Database) {}

  /**
   * Marks up to `limit` pending transfers past their due time overdue, in the caller's
   * transaction; each is returned exactly once in its life (overdue_at is set only while null).
   */
  async markOverdue(limit: number, within: Tx): Promise<TransferMetadata[]> {
    const rows = await queryableIn(this.db, within).query<MetadataRow>(
      `WITH marked AS (
         UPDATE transfers SET overdue_at = now()
          WHERE id IN (SELECT id FROM transfers WHERE status = 'pending' AND overdue_at IS NULL AND due_at < now()
                        ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING *)
       SELECT t.id, t.case_id, c.number AS case_number, t.dossier_id, t.from_agency, t.to_agency, t.stage, t.status, t.sent_at,
              t.due_at, t.answered_at, t.overdue_at, t.reason, d.page_count, d.bytes
         FROM marked t JOIN cases c ON c.id = t.case_id JOIN dossiers d ON d.id = t.dossier_id
        ORDER BY t.due_at, t.id`,
      [limit],
    );
    return rows.map(toMetadata);
  }

  /** Pending transfers past due (and, with dueSoon, those in the last fifth of their deadline), most late first. */
  async overdue(agency: string | null, o: { dueSoon: boolean; limit: number; offset: number }): Promise<TransferMetadata[]> {
    const rows = await this.db.query<MetadataRow>(
      `${METADATA}
        WHERE t.status = 'pending' AND t.due_at IS NOT NULL
          AND (t.due_at < now() OR ($2 AND now() >= t.due_at - (t.due_at - t.sent_at) * 0.2))
          AND ($1::text IS NULL OR t.from_agency = $1 OR t.to_agency = $1)
        ORDER BY t.due_at, t.id LIMIT $3 OFFSET $4`,
      [agency, o.dueSoon, o.limit, o.offset],
    );
    return rows.map(toMetadata);
  }

  /** Transfer metadata in a window of sending times, newest first. */
  async transfers(q: StatsQuery & { status: Transfer['status'] | null; limit: number; offset: number }): Promise<TransferMetadata[]> {
    const rows = await this.db.query<MetadataRow>(
      `${METADATA}
        WHERE t.sent_at >= $1 AND t.sent_at < $2
          AND ($3::text IS NULL OR t.from_agency = $3 OR t.to_agency = $3)
          AND ($4::text IS NULL OR t.stage = $4) AND ($5::text IS NULL OR t.status = $5)
        ORDER BY t.sent_at DESC, t.id LIMIT $6 OFFSET $7`,
      [q.from, q.to, q.agency, q.stage, q.status, q.limit, q.offset],
    );
    return rows.map(toMetadata);
  }

  /** The statistics of a window, from the rollups (migration 020): what GET /api/stats answers. */
  stats(q: StatsQuery): Promise<Stats> {
    return rollupStats(this.db, q);
  }

  /**
   * The same figures from the transfers themselves, one scan of every transfer in the window:
   * the reference the rollups are held to (test/stats-rollup.test.ts), and the benchmark's slow path.
   */
  async statsFromTransfers(q: StatsQuery): Promise<Stats> {
    const params = [q.from, q.to, q.agency, q.stage];
    const rows = await this.db.query<CountsRow & { total: boolean; to_agency: string | null; stage: string | null }>(
      `SELECT grouping(to_agency, stage) <> 0 AS total, to_agency, stage, ${COUNTS}
         FROM transfers WHERE ${IN_SCOPE}
        GROUP BY GROUPING SETS ((), (to_agency, stage)) ORDER BY to_agency, stage`,
      params,
    );
    const percentiles = await this.db.query<PercentileRow>(ACCEPT_PERCENTILES.replace('%SCOPE%', IN_SCOPE), params);
    const percentileOf = (agency: string | null, stage: string | null) => percentiles.find((p) => (agency === null ? p.total : p.to_agency === agency && p.stage === stage));
    const total = rows.find((r) => r.total);
    const groups = rows.filter((r) => !r.total);
    const reasons = await this.db.query<{ reason: string; count: number }>(
      `SELECT reason, count(*)::int AS count FROM transfers WHERE status = 'returned' AND ${IN_SCOPE}
        GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 20`,
      params,
    );
    const backlog = await ocrBacklog(this.db, q);
    const empty: CountsRow = { sent: 0, accepted: 0, returned: 0, pending: 0, overdue: 0, due_soon: 0, pages: 0, bytes: 0 };
    return {
      ...toCounts(total ?? empty, percentileOf(null, null)),
      byAgencyStage: groups.map((g) => ({ agency: g.to_agency!, stage: g.stage!, ...toCounts(g, percentileOf(g.to_agency, g.stage)) })),
      returnReasons: reasons,
      ocrBacklog: backlog,
    };
  }
}
