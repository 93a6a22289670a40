/**
 * Supervision and integration: the supervising committee as an agency kind; each transfer's clock
 * (due when sent, marked overdue once by the scheduled check); the per-agency event feed, written
 * with the audit event it mirrors and sharing its seq; webhook subscriptions with their cursors;
 * jobs that can be woken again after they are done (a subscription's delivery pump); the
 * answers of creating POSTs by Idempotency-Key.
 */
export default /* sql */ `
ALTER TABLE agencies DROP CONSTRAINT agencies_kind_check;
ALTER TABLE agencies ADD CONSTRAINT agencies_kind_check CHECK (kind IN ('police', 'procuratorate', 'court', 'committee', 'other'));

-- The deadline in force when the transfer was sent (calendar time: P1M is a month from sent_at).
ALTER TABLE transfers ADD COLUMN due_at timestamptz;
ALTER TABLE transfers ADD COLUMN overdue_at timestamptz;
UPDATE transfers t SET due_at = t.sent_at + s.deadline::interval FROM stages s WHERE s.name = t.stage;
CREATE INDEX transfers_due_idx ON transfers (due_at) WHERE status = 'pending' AND overdue_at IS NULL;
CREATE INDEX transfers_sent_idx ON transfers (sent_at);
CREATE INDEX transfers_returned_idx ON transfers (sent_at) WHERE status = 'returned';
-- What the transfer moved (a sealed dossier never changes): statistics read one table, no join.
ALTER TABLE transfers ADD COLUMN pages integer;
ALTER TABLE transfers ADD COLUMN bytes bigint;
UPDATE transfers t SET pages = d.page_count, bytes = d.bytes FROM dossiers d WHERE d.id = t.dossier_id;

-- When every page's text ended (done or failed): dossier.searchable is recorded once, then.
-- Dossiers sealed before are taken as searchable if their pages' texts have all ended.
ALTER TABLE dossiers ADD COLUMN searchable_at timestamptz;
UPDATE dossiers d SET searchable_at = now() WHERE d.status = 'sealed'
   AND (SELECT count(*) FROM page_text pt WHERE pt.dossier_id = d.id AND pt.status <> 'queued') >= d.page_count;
CREATE INDEX dossiers_ocr_backlog_idx ON dossiers (sealed_at) WHERE status = 'sealed' AND searchable_at IS NULL;

-- seq is the audit event's: assigned under the chain head's lock, so a seq is visible only after
-- every smaller one has committed, and a cursor over it never skips a late commit.
CREATE TABLE agency_events (
  agency  text NOT NULL,
  seq     bigint NOT NULL,
  type    text NOT NULL,
  time    timestamptz NOT NULL,
  data    jsonb NOT NULL,
  PRIMARY KEY (agency, seq)
);

CREATE TABLE webhooks (
  id              uuid PRIMARY KEY,
  agency          text NOT NULL,
  url             text NOT NULL,
  events          text[] NOT NULL,
  secret          text NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
  delivered_seq   bigint NOT NULL,
  failures        integer NOT NULL DEFAULT 0,
  failing_since   timestamptz,
  retry_at        timestamptz,
  last_error      text,
  last_errors     jsonb NOT NULL DEFAULT '[]'::jsonb,
  delivered_count bigint NOT NULL DEFAULT 0,
  last_delivered_at timestamptz,
  disabled_at     timestamptz,
  idempotency_key text,
  UNIQUE (agency, idempotency_key)
);
CREATE INDEX webhooks_agency_idx ON webhooks (agency) WHERE status = 'active';

-- Idempotency-Key of the POSTs that create something and keep no key of their own (cases, links,
-- agencies): the first answer, stored in the transaction that created it, replayed for 24 hours.
CREATE TABLE idempotency_keys (
  agency      text NOT NULL,
  key         text NOT NULL,
  fingerprint text NOT NULL,
  status      integer NOT NULL,
  response    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agency, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- A job woken while it runs is run once more after it finishes (no wake-up lost in between).
ALTER TABLE jobs ADD COLUMN rerun boolean NOT NULL DEFAULT false;
`;
