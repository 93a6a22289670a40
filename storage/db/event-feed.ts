/**
 * The per-agency event feed (GET /api/events, webhooks). Rows are written by the audit log's
 * append, in its transaction, with the audit event's seq: seqs are handed out under the chain
 * head's lock, so no smaller seq can commit after a larger one is visible, and reading "after the
 * last seq seen" neither loses nor repeats an event, across restarts and processes.
 */
import type { AuditEvent } from '../../dossier/audit/event.js';
import { feedEventOf, type EventType, type FeedEvent } from '../../dossier/events/feed-event.js';
import type { Database, Queryable } from './database.js';

export interface StoredEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly time: string;
  readonly data: Record<string, unknown>;
}

interface EventRow {
  seq: number | string;
  type: EventType;
  time: Date;
  data: Record<string, unknown> | string;
}

const toEvent = (r: EventRow): StoredEvent => ({
  seq: Number(r.seq),
  type: r.type,
  time: new Date(r.time).toISOString(),
  data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
});

export class SqlEventFeed {
  private readonly listeners: ((events: readonly FeedEvent[], tx: Queryable) => Promise<void>)[] = [];

  constructor(private readonly db: Database) {}

  /** Called with the feed events of each append, inside its transaction (webhook wake-ups). */
  onEvents(listener: (events: readonly FeedEvent[], tx: Queryable) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** The audit log's append hook: the feed rows of these audit events, in the same transaction. */
  readonly append = async (audited: readonly AuditEvent[], tx: Queryable): Promise<void> => {
    const events = audited.map(feedEventOf).filter((e): e is FeedEvent => e !== null);
    if (events.length === 0) return;
    const rows = events.flatMap((e) => [...new Set(e.agencies)].map((agency) => ({ agency, e })));
    await tx.query(
      `INSERT INTO agency_events (agency, seq, type, time, data)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::jsonb[])`,
      [rows.map((r) => r.agency), rows.map((r) => String(r.e.seq)), rows.map((r) => r.e.type), rows.map((r) => r.e.time), rows.map((r) => JSON.stringify(r.e.data))],
    );
    for (const listener of this.listeners) await listener(events, tx);
  };

  /** The agency's events after `after`, oldest first; `types` narrows them (a subscription). */
  async list(agency: string, after: number, limit: number, types?: readonly string[], within?: Queryable): Promise<StoredEvent[]> {
    const rows = await (within ?? this.db).query<EventRow>(
      `SELECT seq, type, time, data FROM agency_events
        WHERE agency = $1 AND seq > $2 AND ($4::text[] IS NULL OR type = ANY($4::text[]))
        ORDER BY seq LIMIT $3`,
      [agency, after, limit, types ? [...types] : null],
    );
    return rows.map(toEvent);
  }

  /** The newest seq of the whole chain: where a new subscription's cursor starts. */
  async headSeq(within?: Queryable): Promise<number> {
    const [row] = await (within ?? this.db).query<{ seq: number | string }>('SELECT seq FROM audit_head WHERE id = 1');
    return Number(row?.seq ?? 0);
  }
}
