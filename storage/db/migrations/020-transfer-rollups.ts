/**
 * Rollups of the transfers for GET /api/stats (issue 15), kept by statement-level triggers in the
 * transaction of every change to `transfers`, so they are never behind what is committed.
 *
 * Time is a segment tree over UTC days: a transfer counts in 17 aligned blocks, one per level
 * (level l: 2^l days, block = day >> l), so any run of whole days is a union of at most ~32 blocks,
 * the largest of which hold most of the data. Each block keeps, per sender, receiver and stage:
 * the counts (sent, accepted, returned, pending), pages and bytes; the time-to-accept histogram in
 * the buckets of the exact path (1 % of ln(1 + seconds)), also without the sender for questions
 * about every agency; the return reasons. A query reads the
 * blocks of its whole days and the raw transfers of its two partial days.
 */
import { ACCEPT_BUCKET, ROLLUP_LEVELS } from '../rollup-shape.js';

/** The contribution of each row of `source` (sign +1 or -1) to the rollups: one per level. */
const contributions = (source: string) => `SELECT d.sign, lvl::smallint AS lvl, d.day >> lvl AS block, d.from_agency, d.to_agency, d.stage, d.status, d.reason, d.pages, d.bytes, d.b
  FROM (${source}) d CROSS JOIN generate_series(0, ${ROLLUP_LEVELS - 1}) lvl`;

/** The rollup columns of a transfer row `t`. */
const ROW = (sign: string, alias: string) => `SELECT ${sign} AS sign, floor(extract(epoch FROM ${alias}.sent_at) / 86400)::int AS day, ${alias}.from_agency, ${alias}.to_agency, ${alias}.stage,
  ${alias}.status, ${alias}.reason, coalesce(${alias}.pages, 0)::bigint AS pages, coalesce(${alias}.bytes, 0)::bigint AS bytes, ${ACCEPT_BUCKET(alias)} AS b`;

/** Upserts a delta (rows of contributions) into the three rollups, keys in order so concurrent writers lock rows in the same order. */
const apply = (delta: string) => `WITH c AS (${contributions(delta)}),
  counts AS (INSERT INTO transfer_rollup AS r (lvl, block, from_agency, to_agency, stage, sent, accepted, returned, pending, pages, bytes)
    SELECT lvl, block, from_agency, to_agency, stage, sum(sign), coalesce(sum(sign) FILTER (WHERE status = 'accepted'), 0), coalesce(sum(sign) FILTER (WHERE status = 'returned'), 0),
           coalesce(sum(sign) FILTER (WHERE status = 'pending'), 0), sum(sign * pages), sum(sign * bytes)
      FROM c GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (lvl, block, from_agency, to_agency, stage) DO UPDATE SET sent = r.sent + excluded.sent, accepted = r.accepted + excluded.accepted,
       returned = r.returned + excluded.returned, pending = r.pending + excluded.pending, pages = r.pages + excluded.pages, bytes = r.bytes + excluded.bytes),
  hist AS (INSERT INTO transfer_accept_hist AS h (lvl, block, from_agency, to_agency, stage, b, n)
    SELECT lvl, block, from_agency, to_agency, stage, b, sum(sign) FROM c WHERE status = 'accepted' AND b IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (lvl, block, from_agency, to_agency, stage, b) DO UPDATE SET n = h.n + excluded.n),
  hist_to AS (INSERT INTO transfer_accept_hist_to AS g (lvl, block, to_agency, stage, b, n)
    SELECT lvl, block, to_agency, stage, b, sum(sign) FROM c WHERE status = 'accepted' AND b IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (lvl, block, to_agency, stage, b) DO UPDATE SET n = g.n + excluded.n)
  INSERT INTO transfer_reason_rollup AS x (lvl, block, from_agency, to_agency, stage, reason, n)
    SELECT lvl, block, from_agency, to_agency, stage, reason, sum(sign) FROM c WHERE status = 'returned' AND reason IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (lvl, block, from_agency, to_agency, stage, reason) DO UPDATE SET n = x.n + excluded.n`;

// What an update changes in the rollups; an update of nothing they count (overdue_at, receipt) costs one join.
const COUNTED = (a: string) => `(${a}.sent_at, ${a}.from_agency, ${a}.to_agency, ${a}.stage, ${a}.status, ${a}.reason, ${a}.pages, ${a}.bytes, ${a}.answered_at)`;
const CHANGED = `SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE ${COUNTED('n')} IS DISTINCT FROM ${COUNTED('o')}`;

/** A trigger function on one line per statement: the migration runner splits statements at `;` + newline. */
const fn = (name: string, delta: string) => `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${apply(delta).replace(/\n\s*/g, ' ')}; RETURN NULL; END $$`;

export default /* sql */ `
CREATE TABLE transfer_rollup (
  lvl smallint NOT NULL, block integer NOT NULL, from_agency text NOT NULL, to_agency text NOT NULL, stage text NOT NULL,
  sent integer NOT NULL, accepted integer NOT NULL, returned integer NOT NULL, pending integer NOT NULL, pages bigint NOT NULL, bytes bigint NOT NULL,
  PRIMARY KEY (lvl, block, from_agency, to_agency, stage)
);
CREATE TABLE transfer_accept_hist (
  lvl smallint NOT NULL, block integer NOT NULL, from_agency text NOT NULL, to_agency text NOT NULL, stage text NOT NULL, b integer NOT NULL, n integer NOT NULL,
  PRIMARY KEY (lvl, block, from_agency, to_agency, stage, b)
);
-- The same without the sender: what a question about every agency reads (fewer rows per block).
CREATE TABLE transfer_accept_hist_to (
  lvl smallint NOT NULL, block integer NOT NULL, to_agency text NOT NULL, stage text NOT NULL, b integer NOT NULL, n integer NOT NULL,
  PRIMARY KEY (lvl, block, to_agency, stage, b)
);
CREATE TABLE transfer_reason_rollup (
  lvl smallint NOT NULL, block integer NOT NULL, from_agency text NOT NULL, to_agency text NOT NULL, stage text NOT NULL, reason text NOT NULL, n integer NOT NULL,
  PRIMARY KEY (lvl, block, from_agency, to_agency, stage, reason)
);

${fn('transfers_rollup_insert', ROW('1', 't') + ' FROM new_rows t')};
${fn('transfers_rollup_update', `${ROW('1', 't')} FROM new_rows t WHERE t.id IN (${CHANGED}) UNION ALL ${ROW('-1', 't')} FROM old_rows t WHERE t.id IN (${CHANGED})`)};
${fn('transfers_rollup_delete', ROW('-1', 't') + ' FROM old_rows t')};
CREATE TRIGGER transfers_rollup_insert AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transfers_rollup_insert();
CREATE TRIGGER transfers_rollup_update AFTER UPDATE ON transfers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transfers_rollup_update();
CREATE TRIGGER transfers_rollup_delete AFTER DELETE ON transfers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION transfers_rollup_delete();

${apply(ROW('1', 't') + ' FROM transfers t')};

-- Pending transfers not yet due (or without a deadline): overdue = pending − these, counted without reading the overdue ones.
CREATE INDEX transfers_pending_not_due_idx ON transfers (due_at) INCLUDE (sent_at, from_agency, to_agency, stage) WHERE status = 'pending';
`;
