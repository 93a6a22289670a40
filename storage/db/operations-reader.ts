import type { OperationsReader, OperationsSnapshot } from '../../dossier/ports/operations.js';
import type { Database } from './database.js';
import type { PgJobQueue } from '../queue/pg-job-queue.js';

/** A worker is counted live while its last heartbeat is this recent. */
const LIVE_SECONDS = 10;

/** One scrape's figures: a handful of aggregate queries on indexed columns. */
export class SqlOperationsReader implements OperationsReader {
  constructor(private readonly db: Database, private readonly queue: PgJobQueue) {}

  async snapshot(): Promise<OperationsSnapshot> {
    const [byStatus, [sealed], [backlog], [lastMinute], [head], jobs, workers] = await Promise.all([
      this.db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM dossiers GROUP BY status`),
      this.db.query<{ n: string | number }>(`SELECT coalesce(sum(page_count), 0)::bigint AS n FROM dossiers WHERE status = 'sealed'`),
      this.db.query<{ n: string | number }>(
        `SELECT coalesce(sum(d.page_count - (SELECT count(*) FROM page_text pt WHERE pt.dossier_id = d.id AND pt.status <> 'queued')), 0)::bigint AS n
           FROM dossiers d WHERE d.status = 'sealed' AND d.searchable_at IS NULL`,
      ),
      this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM page_text WHERE status <> 'queued' AND updated_at > now() - interval '1 minute'`),
      this.db.query<{ seq: string | number }>(`SELECT seq FROM audit_head WHERE id = 1`),
      this.queue.depth(),
      this.queue.liveWorkers(LIVE_SECONDS),
    ]);
    return {
      dossiersByStatus: Object.fromEntries(byStatus.map((r) => [r.status, r.n])),
      sealedPages: Number(sealed?.n ?? 0),
      ocrBacklogPages: Number(backlog?.n ?? 0),
      ocrPagesLastMinute: lastMinute?.n ?? 0,
      auditChainLength: Number(head?.seq ?? 0),
      jobs,
      liveWorkers: workers.map((w) => ({ id: w.id, kinds: w.kinds })),
    };
  }
}
