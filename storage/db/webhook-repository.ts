/** Webhook subscriptions and their delivery cursors (dossier/integration/webhook-delivery.ts). */
import type { EventType, FeedEvent } from '../../dossier/events/feed-event.js';
import type { Tx } from '../../dossier/ports/transactions.js';
import type { NewSubscription, Subscription, SubscriptionRepository } from '../../dossier/ports/webhooks.js';
import { isUuid } from './case-repository.js';
import { type Database, type Queryable, queryableIn } from './database.js';

interface SubscriptionRow {
  id: string; agency: string; url: string; events: EventType[] | string; secret: string; created_by: string; created_at: Date;
  status: Subscription['status']; delivered_seq: number | string; failures: number; failing_since: Date | null; retry_at: Date | null;
  last_errors: { time: string; error: string }[] | string; delivered_count: number | string; last_delivered_at: Date | null; disabled_at: Date | null;
}

const date = (v: Date | null) => (v ? new Date(v) : null);
const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id, agency: r.agency, url: r.url, events: typeof r.events === 'string' ? parseTextArray(r.events) as EventType[] : r.events,
  secret: r.secret, createdBy: r.created_by, createdAt: new Date(r.created_at), status: r.status, deliveredSeq: Number(r.delivered_seq),
  failures: r.failures, failingSince: date(r.failing_since), retryAt: date(r.retry_at),
  lastErrors: typeof r.last_errors === 'string' ? JSON.parse(r.last_errors) : r.last_errors,
  deliveredCount: Number(r.delivered_count), lastDeliveredAt: date(r.last_delivered_at), disabledAt: date(r.disabled_at),
});

/** `{a,b}` as a driver without array parsing returns it; event names hold no commas or quotes. */
const parseTextArray = (s: string) => s.replace(/^\{|\}$/g, '').split(',').filter((x) => x.length > 0);

/** Errors kept per subscription for its admin. */
const KEEP_ERRORS = 10;

export class SqlSubscriptionRepository implements SubscriptionRepository {
  constructor(private readonly db: Database) {}

  async create(s: NewSubscription, within?: Tx): Promise<{ subscription: Subscription; created: boolean }> {
    const q = queryableIn(this.db, within);
    const rows = await q.query<SubscriptionRow>(
      `INSERT INTO webhooks (id, agency, url, events, secret, created_by, idempotency_key, delivered_seq)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7, (SELECT seq FROM audit_head WHERE id = 1))
       ON CONFLICT (agency, idempotency_key) DO NOTHING RETURNING *`,
      [s.id, s.agency, s.url, [...s.events], s.secret, s.createdBy, s.idempotencyKey],
    );
    if (rows[0]) return { subscription: toSubscription(rows[0]), created: true };
    const first = await q.query<SubscriptionRow>(`SELECT * FROM webhooks WHERE agency = $1 AND idempotency_key = $2`, [s.agency, s.idempotencyKey]);
    return { subscription: toSubscription(first[0]!), created: false };
  }

  async get(id: string): Promise<Subscription | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query<SubscriptionRow>(`SELECT * FROM webhooks WHERE id = $1`, [id]);
    return row ? toSubscription(row) : null;
  }

  async findOwned(id: string, agency: string): Promise<Subscription | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query<SubscriptionRow>(`SELECT * FROM webhooks WHERE id = $1 AND agency = $2 AND status <> 'deleted'`, [id, agency]);
    return row ? toSubscription(row) : null;
  }

  async list(agency: string): Promise<Subscription[]> {
    const rows = await this.db.query<SubscriptionRow>(`SELECT * FROM webhooks WHERE agency = $1 AND status <> 'deleted' ORDER BY created_at, id`, [agency]);
    return rows.map(toSubscription);
  }

  async delete(id: string, agency: string, within?: Tx): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await queryableIn(this.db, within).query(`UPDATE webhooks SET status = 'deleted' WHERE id = $1 AND agency = $2 AND status <> 'deleted' RETURNING id`, [id, agency]);
    return rows.length > 0;
  }

  async advance(id: string, from: number, to: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE webhooks SET delivered_seq = $3, failures = 0, failing_since = NULL, retry_at = NULL,
              delivered_count = delivered_count + 1, last_delivered_at = now()
        WHERE id = $1 AND delivered_seq = $2 AND status = 'active' RETURNING id`,
      [id, from, to],
    );
    return rows.length > 0;
  }

  async recordFailure(id: string, error: string, o: { retryAt: Date | null; disable: boolean }): Promise<Subscription | null> {
    const entry = JSON.stringify([{ time: new Date().toISOString(), error: error.slice(0, 500) }]);
    const [row] = await this.db.query<SubscriptionRow>(
      `UPDATE webhooks SET failures = failures + 1, failing_since = coalesce(failing_since, now()), retry_at = $2,
              last_error = $3, last_errors = (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
                SELECT e, n FROM jsonb_array_elements($4::jsonb || last_errors) WITH ORDINALITY AS x(e, n) ORDER BY n LIMIT ${KEEP_ERRORS}) kept),
              status = CASE WHEN $5 THEN 'disabled' ELSE status END, disabled_at = CASE WHEN $5 THEN now() ELSE disabled_at END
        WHERE id = $1 AND status = 'active' RETURNING *`,
      [id, o.retryAt, error.slice(0, 500), entry, o.disable],
    );
    return row ? toSubscription(row) : null;
  }

  async redeliver(id: string, agency: string, fromSeq: number | null, within?: Tx): Promise<Subscription | null> {
    if (!isUuid(id)) return null;
    const [row] = await queryableIn(this.db, within).query<SubscriptionRow>(
      `UPDATE webhooks SET status = 'active', failures = 0, failing_since = NULL, retry_at = NULL, disabled_at = NULL,
              delivered_seq = CASE WHEN $3::bigint IS NULL THEN delivered_seq ELSE least(delivered_seq, $3::bigint - 1) END
        WHERE id = $1 AND agency = $2 AND status <> 'deleted' RETURNING *`,
      [id, agency, fromSeq],
    );
    return row ? toSubscription(row) : null;
  }

  /** The active subscriptions that want some of these events, with when to wake each (in the events' transaction). */
  async wanting(events: readonly FeedEvent[], tx: Queryable): Promise<{ id: string; retryAt: Date | null }[]> {
    const agencies = [...new Set(events.flatMap((e) => e.agencies))];
    const types = [...new Set(events.map((e) => e.type))];
    const rows = await tx.query<{ id: string; agency: string; events: EventType[] | string; retry_at: Date | null }>(
      `SELECT id, agency, events, retry_at FROM webhooks WHERE status = 'active' AND agency = ANY($1::text[]) AND events && $2::text[]`,
      [agencies, types],
    );
    return rows
      .filter((r) => {
        const wanted = typeof r.events === 'string' ? parseTextArray(r.events) : r.events;
        return events.some((e) => e.agencies.includes(r.agency) && wanted.includes(e.type));
      })
      .map((r) => ({ id: r.id, retryAt: date(r.retry_at) }));
  }
}
