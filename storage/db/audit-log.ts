/**
 * The audit chain in the database. Appends lock the one-row `audit_head` FOR UPDATE inside their
 * transaction: seq and prevHash come from the locked head, so concurrent appends, from this
 * process or any other sharing a PostgreSQL, form one unbroken chain (on PGlite the single
 * connection serialises them anyway). A checkpoint is signed in the same transaction as every
 * `checkpointEvery`-th event, and on demand (the interval timer) when events arrived since the last.
 *
 * On PGlite, a caller inside its own transaction must pass it as `within`: the embedded engine has
 * one connection, and an append outside the open transaction would wait for it forever.
 */
import { chainEvent, type AuditEvent } from '../../dossier/audit/event.js';
import { signCheckpoint, type AuditCheckpoint } from '../../dossier/audit/checkpoint.js';
import { verifyChain, type ChainReport } from '../../dossier/audit/verify-chain.js';
import type { AuditEntry, AuditLog } from '../../dossier/ports/audit-log.js';
import type { AuditListQuery, AuditTrail } from '../../dossier/ports/audit-trail.js';
import type { KeyRing } from '../../dossier/signing/signer.js';
import { type Database, type Queryable, txQueryable } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';
import { caseVisibleSql } from './visibility.js';
import { failpoint } from '../../dossier/failpoints.js';

interface EventRow {
  seq: number;
  time: Date;
  actor: string;
  agency: string;
  action: string;
  target_type: string;
  target_id: string;
  case_id: string | null;
  details: Record<string, unknown> | string;
  prev_hash: string;
  hash: string;
}

const toEvent = (r: EventRow): AuditEvent => ({
  seq: Number(r.seq),
  time: new Date(r.time).toISOString(),
  actor: r.actor,
  agency: r.agency,
  action: r.action,
  target: { type: r.target_type, id: r.target_id },
  caseId: r.case_id,
  details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

interface CheckpointRow {
  seq: number;
  time: Date;
  hash: string;
  jws: string;
}

const toCheckpoint = (r: CheckpointRow): AuditCheckpoint => ({ seq: Number(r.seq), time: new Date(r.time).toISOString(), hash: r.hash, jws: r.jws });

export interface SqlAuditLogOptions {
  /** A checkpoint is signed with every this-many-th event. */
  readonly checkpointEvery: number;
  /** Runs in each append's transaction with its events (the event feed is written here). */
  readonly onAppend?: (events: readonly AuditEvent[], tx: Queryable) => Promise<void>;
}

const VISIBLE_TO_P1 = caseVisibleSql('c', '$1');

function chainEvents(entries: readonly AuditEntry[], head: { seq: number; hash: string }, now: Date): AuditEvent[] {
  let tip = head;
  const events: AuditEvent[] = [];
  for (const entry of entries) {
    const e = chainEvent(entry, tip, now);
    events.push(e);
    tip = e;
  }
  return events;
}

const paramsOf = (events: readonly AuditEvent[]) =>
  events.flatMap((e) => [e.seq, e.time, e.actor, e.agency, e.action, e.target.type, e.target.id, e.caseId, JSON.stringify(e.details), e.prevHash, e.hash]);

/** Eleven parameters an event from `$<offset + 1>`; typed when the rows are a SELECT's VALUES (no target column to infer from). */
const COLUMN_TYPES = ['bigint', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'uuid', 'jsonb', 'text', 'text'];
function valuesOf(events: readonly AuditEvent[], offset: number, typed: boolean): string {
  return events
    .map((_, i) => `(${COLUMN_TYPES.map((t, k) => `$${offset + i * 11 + k + 1}${typed || k === 8 ? `::${t}` : ''}`).join(', ')})`)
    .join(', ');
}
/** Appends per group-committed transaction at most. */
const MAX_BATCH = 200;

export class SqlAuditLog implements AuditLog, AuditTrail {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyRing,
    private readonly options: SqlAuditLogOptions = { checkpointEvery: 1000 },
  ) {}

  /** Appends waiting for the next transaction of this process, with their callers' promises. */
  private pending: { entry: AuditEntry; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  /**
   * Appends inside `within` when given. Otherwise the entry joins the appends waiting in this
   * process and they go in together, in one transaction (group commit): appends serialise on the
   * head anyway, and one commit for many is what lets concurrent readers not queue behind each
   * other's commits. A failed batch is retried entry by entry, so one bad entry fails alone.
   */
  async record(entry: AuditEntry, within?: Tx): Promise<void> {
    if (within) {
      await this.append([entry], txQueryable(within));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async recordAll(entries: readonly AuditEntry[], within: Tx): Promise<void> {
    // Bounded statements: eleven parameters an event.
    for (let i = 0; i < entries.length; i += MAX_BATCH) await this.append(entries.slice(i, i + MAX_BATCH), txQueryable(within));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.db.transaction((tx) => this.append(batch.map((b) => b.entry), tx));
          for (const b of batch) b.resolve();
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else for (const b of batch) await this.db.transaction((tx) => this.append([b.entry], tx)).then(b.resolve, b.reject);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The chain head as this process last wrote or read it. An append first tries it in one statement:
   * the head is moved on only if it still is this tip (seq and hash, checked under the row's lock),
   * and the events are inserted only if it was. Anything else (another process appended, a
   * transaction rolled back after our append) inserts nothing, and the append falls back to
   * reading the head FOR UPDATE. Either way the same rows: one statement instead of three.
   */
  private tip: { seq: number; hash: string } | null = null;

  private async append(entries: readonly AuditEntry[], tx: Queryable): Promise<void> {
    const events = (this.tip && (await this.appendAtTip(entries, this.tip, tx))) || (await this.appendLocked(entries, tx));
    for (const e of events) if (e.seq % this.options.checkpointEvery === 0) await this.insertCheckpoint(tx, e);
    await this.options.onAppend?.(events, tx);
  }

  private async appendAtTip(entries: readonly AuditEntry[], tip: { seq: number; hash: string }, tx: Queryable): Promise<AuditEvent[] | null> {
    // The time is taken before the statement that takes the head's lock: a later event of another
    // transaction can only commit after this one's lock is released, with a later time.
    const events = chainEvents(entries, tip, new Date());
    const last = events[events.length - 1]!;
    failpoint('audit.append');
    const rows = await tx.query(
      `WITH head AS (UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1)
       INSERT INTO audit_events (seq, time, actor, agency, action, target_type, target_id, case_id, details, prev_hash, hash)
       SELECT v.* FROM (VALUES ${valuesOf(events, 4, true)}) AS v WHERE EXISTS (SELECT 1 FROM head) RETURNING seq`,
      [last.seq, last.hash, tip.seq, tip.hash, ...paramsOf(events)],
    );
    if (rows.length !== events.length) return null;
    this.tip = { seq: last.seq, hash: last.hash };
    return events;
  }

  private async appendLocked(entries: readonly AuditEntry[], tx: Queryable): Promise<AuditEvent[]> {
    const [head] = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
    if (!head) throw new Error('audit: the chain head is missing (migration 4 not applied?)');
    // The time is taken under the lock, so that time order follows seq order within one clock.
    const events = chainEvents(entries, { seq: Number(head.seq), hash: head.hash }, new Date());
    const last = events[events.length - 1]!;
    failpoint('audit.append');
    await tx.query(`INSERT INTO audit_events (seq, time, actor, agency, action, target_type, target_id, case_id, details, prev_hash, hash) VALUES ${valuesOf(events, 0, false)}`, paramsOf(events));
    await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash]);
    this.tip = { seq: last.seq, hash: last.hash };
    return events;
  }

  private async insertCheckpoint(tx: Queryable, tip: { seq: number; hash: string }): Promise<AuditCheckpoint> {
    const c = await signCheckpoint(this.keys.current(), tip, new Date());
    await tx.query('INSERT INTO audit_checkpoints (seq, time, hash, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING', [c.seq, c.time, c.hash, c.jws]);
    return c;
  }

  /** Signs a checkpoint of the current tip unless there is nothing new since the last one. */
  async checkpoint(): Promise<AuditCheckpoint | null> {
    return this.db.transaction(async (tx) => {
      const [head] = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
      if (!head || Number(head.seq) === 0) return null;
      const done = await tx.query('SELECT 1 FROM audit_checkpoints WHERE seq = $1', [head.seq]);
      if (done.length > 0) return null;
      return this.insertCheckpoint(tx, { seq: Number(head.seq), hash: head.hash });
    });
  }

  /** One page of the events the agency may read, in seq order. */
  async list(q: AuditListQuery): Promise<AuditEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT e.* FROM audit_events e LEFT JOIN cases c ON c.id = e.case_id
        WHERE e.seq > $2
          AND ($4::uuid IS NULL OR e.case_id = $4::uuid)
          AND ((e.case_id IS NULL AND e.agency = $1) OR (e.case_id IS NOT NULL AND ${VISIBLE_TO_P1}))
        ORDER BY e.seq LIMIT $3`,
      [q.agency, q.after, q.limit, q.caseId ?? null],
    );
    return rows.map(toEvent);
  }

  /** Every event in seq order, `batch` rows per query (keyset paging: bounded memory). */
  async *stream(batch = 2000): AsyncGenerator<AuditEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.db.query<EventRow>('SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, batch]);
      for (const r of rows) yield toEvent(r);
      if (rows.length < batch) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    return (await this.db.query<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY seq')).map(toCheckpoint);
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | null> {
    const [row] = await this.db.query<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1');
    return row ? toCheckpoint(row) : null;
  }

  /** Recomputes the whole chain against the checkpoints (and anchors) and the recorded head. */
  async verify(anchors: readonly AuditCheckpoint[] = []): Promise<ChainReport> {
    // Checkpoints and head first: appends made while the events stream cannot then look like a cut.
    const checkpoints = [...(await this.checkpoints()), ...anchors];
    const [head] = await this.db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
    return verifyChain(this.stream(), {
      checkpoints,
      jwks: this.keys.publicJwks(),
      head: head ? { seq: Number(head.seq), hash: head.hash } : undefined,
    });
  }

  /** Signs a checkpoint every `ms` when events arrived since; the returned stop awaits one in flight. */
  checkpointEveryInterval(ms: number, onError: (err: unknown) => void): () => Promise<void> {
    let running: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      running = running.then(() => this.checkpoint()).catch(onError);
    }, ms);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }
}
